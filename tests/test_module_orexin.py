"""Orexin (models/orexin.ant) on its own: central OX2R -> leptin, peripheral OX1R -> ghrelin (Wei 2014).

Findings and their sources: tests/data/orexin_reference.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pybrainbone import Simulator

REF = json.loads((Path(__file__).parent / "data" / "orexin_reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator("orexin")


def test_reference_orexin_is_normal_and_narcolepsy_is_low(sim: Simulator) -> None:
    levels = REF["levels"]
    base = sim.initial_values()["OXA"]
    assert base > levels["csf_hcrt1_normal_min_pg_per_mL"]
    assert levels["csf_hcrt1_low_cutoff_pg_per_mL"] / base == pytest.approx(
        levels["low_fraction_of_normal_mean"], rel=0.01
    )
    narcolepsy = sim.steady_state({"orexin_neuron_loss": 0.9})
    assert narcolepsy["OXA"] < levels["csf_hcrt1_low_cutoff_pg_per_mL"]


def test_central_ox2r_restrains_leptin_and_favours_bone(sim: Simulator) -> None:
    ko = sim.steady_state({"OX2R_KO": 1})
    assert ko["leptin_out"] > 1.2
    assert ko["F_OB_diff"] < 1.0 and ko["F_RANKL"] > 1.0
    agonist = sim.steady_state({"OX2R_agonist": 2})
    assert agonist["leptin_out"] < 1.0
    assert agonist["F_OB_diff"] > 1.0 and agonist["F_RANKL"] < 1.0


def test_peripheral_ox1r_suppresses_osteoblasts_through_ghrelin(sim: Simulator) -> None:
    ko = sim.steady_state({"OX1R_KO": 1})
    assert ko["ghrelin_bone_rel"] > 1.2
    assert ko["F_OB_diff"] > 1.0
    assert ko["leptin_out"] == pytest.approx(1.0, abs=1e-12) and ko["F_RANKL"] == pytest.approx(
        1.0, abs=1e-12
    )


def test_central_action_dominates(sim: Simulator) -> None:
    for changes in ({"orexin_neuron_loss": 1}, {"OX1R_KO": 1, "OX2R_KO": 1}, {"DORA": 0.8}):
        row = sim.steady_state(changes)
        assert row["F_OB_diff"] < 1.0 and row["F_RANKL"] > 1.0, changes
    over = sim.steady_state({"orexin_expr": 2})
    assert over["F_OB_diff"] > 1.0 and over["F_RANKL"] < 1.0


def test_central_surrogate_can_be_switched_off(sim: Simulator) -> None:
    # in the composition leptin_out reaches the SNS module instead (w_central_local = 0)
    row = sim.steady_state({"orexin_neuron_loss": 1, "w_central_local": 0})
    assert row["leptin_out"] > 1.2
    assert row["F_RANKL"] == pytest.approx(1.0, abs=1e-12)
    assert row["F_OB_diff"] > 1.0, "only the peripheral OX1R route is left"


def test_neuron_loss_onset_is_respected(sim: Simulator) -> None:
    course = sim.simulate(
        end=30, points=31, changes={"orexin_neuron_loss": 1, "t_orexin_loss": 10}, selections=["orexin_rel"]
    )
    assert course.loc[9.0, "orexin_rel"] == pytest.approx(1.0, abs=1e-12)
    assert course.loc[20.0, "orexin_rel"] < 0.01
