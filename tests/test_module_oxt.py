"""Oxytocin/vasopressin module (models/oxt.ant): steady state, ranges, knock-outs, E2 link, bone."""

from __future__ import annotations

import pytest

from pybrainbone import Simulator
from tests.conftest import load_data

RANGES = load_data("hormone_reference_ranges.yaml")["ranges"]
FACTORS = ["F_OB_diff", "F_OC_diff", "F_resorption"]
OUT = ["OXT", "AVP", *FACTORS]


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator("oxt")


def final(sim: Simulator, changes: dict, end: float = 5.0) -> dict:
    return sim.simulate(end=end, points=2, changes=changes, selections=OUT).iloc[-1].to_dict()


@pytest.mark.parametrize("knockout", ["OXT_KO", "OXTR_KO"])
def test_oxytocin_signalling_loss_is_catabolic_low_turnover(sim: Simulator, knockout: str) -> None:
    row = final(sim, {knockout: 1})
    assert row["F_OB_diff"] < 0.8, "less osteoblast differentiation (low formation)"
    assert row["F_OC_diff"] < 1, "OT also supports osteoclast formation (dual effect): low turnover"
    assert row["F_resorption"] > 1, "mature osteoclasts no longer restrained"


def test_receptor_knockout_leaves_plasma_oxytocin(sim: Simulator) -> None:
    assert final(sim, {"OXTR_KO": 1})["OXT"] == pytest.approx(5.0, rel=1e-9)
    assert final(sim, {"OXT_KO": 1})["OXT"] == pytest.approx(0.0, abs=1e-9)


def test_estradiol_raises_marrow_oxytocin(sim: Simulator) -> None:
    low = final(sim, {"E2_in": 0.1})
    assert low["F_OB_diff"] < 1 and low["F_resorption"] > 1
    high = final(sim, {"E2_in": 2})
    assert high["F_OB_diff"] > 1
    off = final(sim, {"E2_in": 0.1, "w_e2_oxt": 0})
    assert off["F_OB_diff"] == pytest.approx(1.0, rel=1e-12)


def test_oxytocin_therapy_is_anabolic(sim: Simulator) -> None:
    row = final(sim, {"OXT_exo": 10})
    assert row["F_OB_diff"] > 1 and row["F_resorption"] < 1
    rescued = final(sim, {"OXT_KO": 1, "OXT_exo": 5})
    assert rescued["F_OB_diff"] == pytest.approx(1.0, rel=1e-9), "exogenous OT replaces the missing hormone"


def test_vasopressin_is_catabolic(sim: Simulator) -> None:
    for switch in ("AVP_KO", "AVPR1A_KO"):
        row = final(sim, {switch: 1})
        assert row["F_OB_diff"] > 1 and row["F_OC_diff"] < 1, switch
    excess = final(sim, {"AVP_secretion": 3})
    assert excess["AVP"] == pytest.approx(6.0, rel=1e-6)
    assert excess["F_OB_diff"] < 1 and excess["F_OC_diff"] > 1
