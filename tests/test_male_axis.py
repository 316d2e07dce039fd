"""The male axis in the composed model: on_hpgm = 1 with on_hpg = 0 replaces the female axis."""

from __future__ import annotations

import numpy as np
import pytest

from pybrainbone.simulator import Simulator

MALE = {"on_hpg": 0.0, "on_hpgm": 1.0}
ESTRADIOL_READERS = ("IMMUNE_E2_in", "OXT_E2_in", "SNS_E2_in", "MINERAL_estrogen_in")


@pytest.fixture(scope="module")
def axis() -> Simulator:
    return Simulator("brain_bone_axis")


def test_a_male_run_rests_at_the_reference(axis: Simulator) -> None:
    rates = axis.rates(MALE).abs()
    scale = axis.initial_values()[axis.state_ids].abs().clip(lower=1e-12)
    assert float((rates / scale).max()) < 1e-11  # the mineral module rests to ~1.5e-12 (stiff PTH kinetics)


def test_every_estradiol_reader_sees_the_male_estradiol(axis: Simulator) -> None:
    course = axis.simulate(
        end=365.25,
        points=5,
        changes={**MALE, "HPGm_orchidectomy": 1},
        selections=["HPGm_E2_rel", "HPG_E2_rel", *ESTRADIOL_READERS],
    )
    assert course["HPGm_E2_rel"].iloc[-1] < 0.5  # aromatisation falls with testosterone
    for reader in ESTRADIOL_READERS:
        np.testing.assert_allclose(course[reader], course["HPGm_E2_rel"], rtol=1e-9, err_msg=reader)
    female = axis.simulate(
        end=30, points=2, changes={"HPG_OVX": 1}, selections=["HPG_E2_rel", "IMMUNE_E2_in"]
    )
    np.testing.assert_allclose(female["IMMUNE_E2_in"], female["HPG_E2_rel"], rtol=1e-9)


def test_orchidectomy_raises_resorption_and_loses_bone(axis: Simulator) -> None:
    course = axis.simulate(
        end=365.25,
        points=2,
        changes={**MALE, "HPGm_orchidectomy": 1},
        selections=["core_CTX_rel", "core_BMD"],
    )
    end = course.iloc[-1]
    assert end["core_CTX_rel"] > 1.2 and end["core_BMD"] < 99.0
