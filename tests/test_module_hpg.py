"""HPG module (models/hpg.ant): reference steady state, ranges, OVX, menopause, cortisol link, E2 and FSH."""

from __future__ import annotations

import numpy as np
import pytest

from pybrainbone import Simulator
from tests.conftest import load_data

RANGES = load_data("hormone_reference_ranges.yaml")["ranges"]
FACTORS = ["F_RANKL", "F_OPG", "F_OC_apop", "F_OB_apop", "F_OC_diff"]


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator("hpg")


def final(sim: Simulator, changes: dict, end: float = 365.0, names: list[str] | None = None) -> dict:
    names = names or ["E2", "FSH", "LH", *FACTORS]
    row = sim.simulate(end=end, points=2, changes=changes, selections=names).iloc[-1]
    return row.to_dict()


def test_ovx_raises_gonadotropins_and_drops_estradiol(sim: Simulator) -> None:
    base = sim.initial_values()
    row = final(sim, {"OVX": 1})
    assert row["FSH"] >= 2 * base["FSH"]
    assert row["FSH"] >= 8 * base["FSH"], "postmenopausal FSH is ~10-15-fold the premenopausal level"
    assert RANGES["FSH_postmenopausal"]["low"] <= row["FSH"] <= RANGES["FSH_postmenopausal"]["high"]
    assert 2.5 * base["LH"] <= row["LH"] <= 6 * base["LH"], "LH rises ~3-5-fold"
    assert row["FSH"] / base["FSH"] > row["LH"] / base["LH"], "FSH rises more than LH (inhibin loss)"
    assert row["E2"] < RANGES["estradiol_postmenopausal"]["high"]


def test_ovx_time_course(sim: Simulator) -> None:
    course = sim.simulate(end=60, points=61, changes={"OVX": 1, "t_OVX": 10}, selections=["E2", "FSH"])
    assert course.loc[9.0, "E2"] == pytest.approx(350.0, rel=1e-9), "nothing happens before t_OVX"
    assert course.loc[13.0, "E2"] < 70, "E2 at postmenopausal level within days of oophorectomy"
    assert course.loc[10.0 + 42, "FSH"] > 25, "FSH in the postmenopausal range within ~6 weeks"


def test_ovx_moves_bone_factors_in_documented_directions(sim: Simulator) -> None:
    row = final(sim, {"OVX": 1})
    assert row["F_RANKL"] > 1.5
    assert row["F_OPG"] < 0.8
    assert row["F_OC_apop"] < 0.8
    assert row["F_OB_apop"] > 1.1
    assert row["F_OC_diff"] == pytest.approx(1.0), "FSH -> osteoclast hypothesis is off by default"
    with_fsh = final(sim, {"OVX": 1, "FSH_bone_on": 1})
    assert with_fsh["F_OC_diff"] > 1.2


def test_natural_menopause(sim: Simulator) -> None:
    onset = 2 * 365.25
    changes = {"menopause": 1, "t_menopause": onset}
    course = sim.simulate(end=onset + 8 * 365.25, points=2001, changes=changes, selections=["E2", "FSH"])
    before = course[course.index < onset]
    assert np.allclose(before["E2"], 350.0, rtol=1e-9)
    half = course.iloc[np.argmin(np.abs(course.index - (onset + 365.25)))]
    assert 100 < half["E2"] < 300, "transition: E2 partly fallen one year after onset"
    end = course.iloc[-1]
    assert end["E2"] < 70
    assert end["FSH"] > 25
    assert np.all(np.diff(course["E2"].to_numpy()) <= 1e-9), "monotone decline"


def test_cortisol_suppresses_the_axis(sim: Simulator) -> None:
    base = sim.initial_values()
    stressed = final(sim, {"cortisol_in": 2})
    assert stressed["E2"] < 0.95 * base["E2"]
    assert stressed["LH"] < base["LH"]
    assert stressed["F_RANKL"] > 1
    off = final(sim, {"cortisol_in": 2, "w_cortisol_hpg": 0})
    assert off["E2"] == pytest.approx(base["E2"], rel=1e-9)


def test_estradiol_therapy_after_ovx(sim: Simulator) -> None:
    ovx = final(sim, {"OVX": 1})
    treated = final(sim, {"OVX": 1, "E2_dose": 2})
    assert treated["E2"] > 200
    assert treated["FSH"] < 0.3 * ovx["FSH"], "estradiol feedback suppresses FSH"
    assert treated["F_RANKL"] < ovx["F_RANKL"]
    assert treated["F_OC_apop"] > ovx["F_OC_apop"]


def test_fsh_antibody_and_receptor_loss(sim: Simulator) -> None:
    ovx = final(sim, {"OVX": 1, "FSH_bone_on": 1})
    antibody = final(sim, {"OVX": 1, "FSH_bone_on": 1, "FSH_ab": 0.9})
    assert antibody["F_OC_diff"] < ovx["F_OC_diff"]
    assert antibody["E2"] == pytest.approx(ovx["E2"], rel=1e-6), (
        "after OVX the antibody has no ovarian effect"
    )
    fshr_ko = final(sim, {"FSHR_expr": 0, "FSH_bone_on": 1})
    assert fshr_ko["E2"] < 70, "FSHR-/- is hypogonadal"
    assert fshr_ko["F_OC_diff"] < 1, "but the osteoclast FSH signal is gone"


def test_leptin_loss_is_hypogonadotropic(sim: Simulator) -> None:
    # ob/ob: gonadotropins fall with estradiol (Chehab 1996), unlike ovariectomy where they rise.
    end = sim.simulate(end=120.0, points=2, changes={"leptin_in": 0.0}).iloc[-1]
    assert end["LH"] < 0.05 and end["FSH"] < 0.05
    assert end["E2"] == pytest.approx(sim.parameters()["value"]["E2_floor"], rel=1e-3)
    fasting = sim.simulate(end=120.0, points=2, changes={"leptin_in": 0.25}).iloc[-1]
    assert 0.5 < fasting["LH"] / 5.0 < 0.95  # lowered, not abolished (Ahima 1996)


def test_beta2_atf4_signal_gates_the_osteoclast_side_of_estradiol_loss(sim: Simulator) -> None:
    # Elefteriou 2005: ovariectomy cannot raise resorption without beta2 signalling; the osteoblast
    # apoptosis factor is not part of that gate.
    intact = final(sim, {"OVX": 1})
    no_beta2 = final(sim, {"OVX": 1, "atf4_in": 0.0})
    for factor in ("F_RANKL", "F_OPG", "F_OC_apop"):
        assert intact[factor] != pytest.approx(1.0, abs=0.05)
        assert no_beta2[factor] == pytest.approx(1.0, abs=1e-12)
    assert no_beta2["F_OB_apop"] == pytest.approx(intact["F_OB_apop"], rel=1e-9)
    half = final(sim, {"OVX": 1, "atf4_in": 0.5})
    # the gate scales the exponent: half the signal leaves the square root of the full effect
    assert half["F_RANKL"] == pytest.approx(intact["F_RANKL"] ** 0.5, rel=1e-6)
