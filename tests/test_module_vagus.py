"""Parasympathetic / cholinergic module on its own."""

from __future__ import annotations

import pytest

from pybrainbone import Simulator


@pytest.fixture(scope="module")
def vag() -> Simulator:
    return Simulator("vagus")


def test_vagotomy_lowers_ach_and_osteoclast_apoptosis(vag: Simulator) -> None:
    r = vag.steady_state({"vagotomy": 1})
    assert r["vagal_rel"] == pytest.approx(0.0, abs=1e-9)
    assert r["ACh_rel"] == pytest.approx(0.0, abs=1e-9)
    assert r["F_OC_apop"] < 0.8
    assert r["ach_central_rel"] == pytest.approx(1.0, abs=1e-12)  # central M3 tone is not vagal


def test_vagotomy_time_and_fast_tone(vag: Simulator) -> None:
    course = vag.simulate(
        end=2, points=21, changes={"vagotomy": 1, "t_vagotomy": 1}, selections=["vagal_rel"]
    )
    assert course.loc[0.9, "vagal_rel"] == pytest.approx(1.0, abs=1e-9)
    assert course["vagal_rel"].iloc[-1] < 1e-3


def test_more_ach_raises_osteoclast_apoptosis(vag: Simulator) -> None:
    vns = vag.steady_state({"VNS": 1})
    ache = vag.steady_state({"AChEI": 0.5})
    assert vns["vagal_rel"] == pytest.approx(2.0, rel=1e-9) and vns["F_OC_apop"] > 1.0
    assert ache["ACh_rel"] > 1.5 and ache["F_OC_apop"] > 1.0
    assert ache["vagal_rel"] == pytest.approx(1.0, abs=1e-12)


def test_brain_il1_signalling_sustains_outflow(vag: Simulator) -> None:
    r = vag.steady_state({"IL1R_brain_KO": 1})
    assert r["vagal_rel"] < 1.0 and r["F_OC_apop"] < 1.0  # Bajayo 2005/2012: more osteoclasts


def test_central_cholinergic_output(vag: Simulator) -> None:
    assert vag.steady_state({"M3_KO": 1})["ach_central_rel"] == pytest.approx(0.0, abs=1e-12)
    assert vag.steady_state({"AChEI_central": 0.5})["ach_central_rel"] > 1.0
    assert vag.steady_state({"M3_KO": 1})["F_OC_apop"] == pytest.approx(1.0, abs=1e-9)


def test_osteoclast_receptor_and_sign_switch(vag: Simulator) -> None:
    assert vag.steady_state({"nAChR_KO": 1})["F_OC_apop"] < 1.0
    flipped = vag.steady_state({"vagotomy": 1, "sign_ACh_OC": -1})
    assert flipped["F_OC_apop"] > 1.0
    assert vag.steady_state({"sign_ACh_OC": -1})["F_OC_apop"] == pytest.approx(1.0, abs=1e-12)
