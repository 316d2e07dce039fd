"""Teriparatide module (models/tptd.ant): drug-free rest, daily-exposure PK, anabolic PD."""

from __future__ import annotations

import pytest

from pybrainbone import Simulator

OUT = ["Tptd", "E_tptd", "PTHtot_rel", "F_OB_diff", "F_RANKL"]


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator("tptd")


def test_no_drug_by_default(sim: Simulator) -> None:
    assert sim.parameters()["value"]["dose_tptd"] == 0.0
    course = sim.simulate(end=50 * 365.25, points=11, selections=OUT)
    assert (course["Tptd"] == 0.0).all()
    assert (course[["PTHtot_rel", "F_OB_diff", "F_RANKL"]] == 1.0).all().all()


def test_daily_exposure_of_20_ug_is_auc_over_24_h(sim: Simulator) -> None:
    # AUC = F*D/CL: 0.95 x 20 ug / 62.2 L/h = 0.3055 ug.h/L (~ 305 pg.h/mL; Forteo label AUC ~ 290-300
    # pg.h/mL); daily mean = AUC/24 h = 12.7 pg/mL = 3.09 pmol/L at 4117.8 g/mol.
    row = sim.simulate(end=5.0, points=6, changes={"dose_tptd": 20.0}, selections=OUT).iloc[-1]
    auc_ug_h_per_L = 0.95 * 20 / 62.2
    expected_pM = auc_ug_h_per_L / 24 / 4117.8 * 1e6
    assert row["Tptd"] == pytest.approx(expected_pM, rel=1e-6)
    assert row["Tptd"] == pytest.approx(3.09, abs=0.01)


def test_exposure_follows_the_dose_within_hours(sim: Simulator) -> None:
    # k = CL/V = 62.2/94.4 /h (t1/2 ~ 1.05 h, the label's ~1 h after SC dosing).
    params = sim.parameters()["value"]
    half_life_h = 0.6931471805599453 / (params["CL_tptd"] / params["V_tptd"]) * 24
    assert half_life_h == pytest.approx(1.05, abs=0.02)
    course = sim.simulate(
        end=20.0, points=41, changes={"dose_tptd": 20.0, "t_tptd": 5.0, "t_tptd_end": 15.0}, selections=OUT
    )
    assert course.loc[:4.5, "Tptd"].abs().max() == 0.0
    assert course.loc[6.0, "Tptd"] == pytest.approx(3.09, abs=0.01)
    assert course.loc[16.0, "Tptd"] < 1e-6


def test_pd_is_anabolic_with_smaller_rankl_effect_and_dose_ordered(sim: Simulator) -> None:
    low = sim.simulate(end=3.0, points=2, changes={"dose_tptd": 20.0}, selections=OUT).iloc[-1]
    high = sim.simulate(end=3.0, points=2, changes={"dose_tptd": 40.0}, selections=OUT).iloc[-1]
    assert low["F_OB_diff"] == pytest.approx(2.9, abs=0.01)
    assert 1.0 < low["F_RANKL"] - 0.0 < low["F_OB_diff"]
    assert low["F_RANKL"] - 1 < 0.3 * (low["F_OB_diff"] - 1), "RANKL effect is the smaller one"
    assert high["F_OB_diff"] > low["F_OB_diff"] and high["F_RANKL"] > low["F_RANKL"]


def test_anabolic_in_the_composed_model() -> None:
    axis = Simulator("brain_bone_axis")
    course = axis.simulate(
        end=365.25,
        points=13,
        changes={"TPTD_dose_tptd": 20.0},
        selections=["core_P1NP_rel", "core_BMD", "core_PTH"],
    )
    assert course["core_P1NP_rel"].iloc[-1] > 2.0, "formation marker more than doubles"
    assert course["core_BMD"].iloc[-1] > 105.0
    # The drug's own exposure does not enter the core's (catabolic, continuous) PTH; the parathyroid
    # gland's answer to the calcium that new bone takes up does (mineral module, port f_PTH).
    assert course["core_PTH"].iloc[-1] > axis.baseline()["core_PTH"]
    no_gland = axis.simulate(
        end=365.25, points=2, changes={"TPTD_dose_tptd": 20.0, "on_mineral": 0.0}, selections=["core_PTH"]
    )
    # rel 1e-9: the baseline is a Newton steady state (residual ~1e-12 relative), the run an exact constant.
    assert no_gland["core_PTH"].iloc[-1] == pytest.approx(axis.baseline()["core_PTH"], rel=1e-9)
    off = axis.simulate(
        end=365.25, points=2, changes={"TPTD_dose_tptd": 20.0, "on_tptd": 0.0}, selections=["core_BMD"]
    )
    assert off["core_BMD"].iloc[-1] == pytest.approx(100.0, rel=1e-9)
