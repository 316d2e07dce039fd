"""NPY module (hypothalamic NPY -> Y2; osteoblast Y1) on its own."""

from __future__ import annotations

import pytest

from pybrainbone import Simulator

PORTS = ["F_formation", "F_OB_diff"]


@pytest.fixture(scope="module")
def npy() -> Simulator:
    return Simulator("npy")


def test_hypothalamic_y2_loss_raises_formation_not_cell_numbers(npy: Simulator) -> None:
    ko = npy.steady_state({"Y2_hyp_KO": 1})
    assert ko["F_formation"] > 1.3  # Baldock 2002: MAR/BFR up
    # osteoblast (and, as the module has no resorption port, osteoclast) numbers unchanged
    assert ko["F_OB_diff"] == pytest.approx(1.0, abs=1e-12)
    assert set(npy.output_ids).isdisjoint({"F_RANKL", "F_OC_diff", "F_OC_apop", "F_resorption"})


def test_adult_conditional_y2_deletion_acts_from_its_time(npy: Simulator) -> None:
    course = npy.simulate(
        end=70, points=71, changes={"Y2_hyp_KO": 1, "t_Y2_hyp_KO": 35}, selections=["F_formation"]
    )
    assert course.loc[30.0, "F_formation"] == pytest.approx(1.0, abs=1e-12)
    assert course.loc[40.0, "F_formation"] > 1.3


def test_leptin_suppresses_npy(npy: Simulator) -> None:
    ob = npy.steady_state({"leptin_in": 0})
    high = npy.steady_state({"leptin_in": 3})
    assert ob["NPY_hyp_rel"] > 1.5 and high["NPY_hyp_rel"] < 1.0
    assert ob["F_formation"] < 1.0 < high["F_formation"]
    assert npy.steady_state({"leptin_in": 0, "w_leptin_npy": 0})["NPY_hyp_rel"] == pytest.approx(
        1.0, abs=1e-9
    )
    course = npy.simulate(end=5, points=6, changes={"leptin_in": 0}, selections=["NPY_hyp_rel"])
    assert 1.2 < course.loc[1.0, "NPY_hyp_rel"] < 1.9  # adapts over about a day


def test_y1_loss_raises_differentiation_and_activity(npy: Simulator) -> None:
    ko = npy.steady_state({"Y1_KO": 1})
    assert ko["F_OB_diff"] > 1.1 and ko["F_formation"] > 1.05
    assert ko["Y2_signal"] == pytest.approx(1.0, abs=1e-9)


def test_npy_knockout_combines_both_receptors(npy: Simulator) -> None:
    ko = npy.steady_state({"NPY_KO": 1})
    assert ko["F_formation"] > npy.steady_state({"Y2_hyp_KO": 1})["F_formation"]
    assert ko["F_OB_diff"] == pytest.approx(npy.steady_state({"Y1_KO": 1})["F_OB_diff"], rel=1e-9)


def test_sympathetic_co_release_of_npy(npy: Simulator) -> None:
    assert npy.steady_state({"SNS_in": 2})["Y1_signal"] > 1.0
    assert npy.steady_state({"SNS_in": 2, "w_sns_npy": 0})["Y1_signal"] == pytest.approx(1.0, abs=1e-12)
