"""HPT module (models/hpt.ant): steady state, ranges, T4 dose, thyroid disease, TSHR, bone factors."""

from __future__ import annotations

import pytest

from pybrainbone import Simulator
from tests.conftest import load_data

RANGES = load_data("hormone_reference_ranges.yaml")["ranges"]
FACTORS = ["F_OC_diff", "F_resorption", "F_OB_diff", "F_formation"]
OUT = ["TSH", "FT4", "FT3", "T3_rel", *FACTORS]


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator("hpt")


def final(sim: Simulator, changes: dict, end: float = 180.0) -> dict:
    return sim.simulate(end=end, points=2, changes=changes, selections=OUT).iloc[-1].to_dict()


def test_levothyroxine_suppresses_tsh(sim: Simulator) -> None:
    base = sim.initial_values()
    row = final(sim, {"T4_dose": 150})
    assert row["TSH"] < RANGES["TSH"]["low"], "suppressed below the reference range"
    assert row["FT4"] > base["FT4"]
    assert row["T3_rel"] > 1
    higher = final(sim, {"T4_dose": 200})
    assert higher["TSH"] < row["TSH"]


def test_t4_excess_raises_turnover_factors(sim: Simulator) -> None:
    row = final(sim, {"T4_dose": 150})
    for name in FACTORS:
        assert row[name] > 1, name
    assert row["F_resorption"] - 1 > row["F_formation"] - 1, "resorption gain exceeds formation gain"


def test_hyperthyroidism(sim: Simulator) -> None:
    row = final(sim, {"thyroid_auto": 2})
    assert row["TSH"] < 0.1
    assert row["FT4"] > RANGES["FT4"]["high"]
    assert row["F_OC_diff"] > 1 and row["F_resorption"] > 1


def test_hypothyroidism(sim: Simulator) -> None:
    row = final(sim, {"thyroid_cap": 0.25})
    assert row["TSH"] > RANGES["TSH"]["high"]
    assert row["FT4"] < RANGES["FT4"]["low"]
    for name in FACTORS:
        assert row[name] < 1, name


def test_disease_onset_time(sim: Simulator) -> None:
    course = sim.simulate(
        end=100, points=101, changes={"thyroid_cap": 0.25, "t_thyroid": 50}, selections=["TSH"]
    )
    assert course.loc[49.0, "TSH"] == pytest.approx(1.8, rel=1e-9)
    assert course.loc[100.0, "TSH"] > 4


def test_tshr_haploinsufficiency_raises_osteoclastogenesis_only(sim: Simulator) -> None:
    base = sim.initial_values()
    row = final(sim, {"TSHR_expr": 0.5})
    assert row["F_OC_diff"] > 1.05, "less TSH signalling -> more osteoclast differentiation"
    assert row["FT4"] == pytest.approx(base["FT4"], rel=1e-9), "Tshr+/- mice are euthyroid"
    assert row["F_resorption"] == pytest.approx(1.0, rel=1e-9)
    off = final(sim, {"TSHR_expr": 0.5, "TSH_bone_on": 0})
    assert off["F_OC_diff"] == pytest.approx(1.0, rel=1e-9)
