"""The mineral module (MIN: calcium, PTH, calcitriol) wired to the bone core in the composed model.

Bone resorption and formation move calcium in and out of bone; the parathyroid gland answers plasma
calcium; the core's osteoblastic RANKL and OPG answer systemic PTH through the port ``f_PTH``.
"""

from __future__ import annotations

import numpy as np
import pytest

from pybrainbone.simulator import Simulator


@pytest.fixture(scope="module")
def axis() -> Simulator:
    return Simulator("brain_bone_axis")


def test_core_pth_follows_the_parathyroid_gland(axis: Simulator) -> None:
    course = axis.simulate(
        end=365.25,
        points=5,
        changes={"MINERAL_PT_gland": 3.0},
        selections=["core_f_PTH", "MINERAL_PTH_rel", "core_PTH"],
    )
    np.testing.assert_allclose(course["core_f_PTH"], course["MINERAL_PTH_rel"], rtol=1e-12)
    reference = axis.baseline()
    np.testing.assert_allclose(
        course["core_PTH"], reference["core_PTH"] * course["MINERAL_PTH_rel"], rtol=1e-9
    )


def test_hyperparathyroidism_raises_resorption(axis: Simulator) -> None:
    state = axis.steady_state(
        {"MINERAL_PT_gland": 3.0}, selections=["MINERAL_PTH_rel", "core_RANKL", "core_CTX_rel"]
    )
    reference = axis.baseline()
    assert state["MINERAL_PTH_rel"] > 1.5
    assert state["core_RANKL"] > reference["core_RANKL"]
    assert state["core_CTX_rel"] > 1.0


def test_formation_takes_up_calcium_and_the_gland_answers(axis: Simulator) -> None:
    # Teriparatide's osteoblast rise (TPTD module) deposits mineral: plasma calcium falls, PTH rises, and
    # with it osteoblastic RANKL, so resorption rises after formation (Bilezikian 2019; McClung 2005).
    changes = {"HPG_menopause": 1, "TPTD_dose_tptd": 20, "TPTD_t_tptd": 0}
    on = axis.simulate(
        end=182.625,
        points=2,
        changes=changes,
        selections=["MINERAL_Ca_rel", "MINERAL_PTH_rel", "core_CTX_rel"],
    )
    off = axis.simulate(
        end=182.625, points=2, changes={**changes, "on_mineral": 0}, selections=["core_CTX_rel"]
    )
    end = on.iloc[-1]
    assert end["MINERAL_Ca_rel"] < 1.0 and end["MINERAL_PTH_rel"] > 1.0
    assert end["core_CTX_rel"] > off["core_CTX_rel"].iloc[-1]


def test_rodent_presets_switch_the_human_calcium_kinetics_off() -> None:
    rat = Simulator("brain_bone_axis", organism="rat")
    assert rat.parameters()["value"]["on_mineral"] == 0.0
    course = rat.simulate(end=365.25, points=2, changes={"HPG_OVX": 1}, selections=["core_f_PTH"])
    np.testing.assert_allclose(course["core_f_PTH"], 1.0, rtol=1e-12)
