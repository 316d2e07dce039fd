"""Sensory nerves of bone (models/sensory.ant) alone: PGE2-EP4 interoception, CGRP, substance P, Sema3A.

The findings and their sources are listed in tests/data/sensory_reference.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pybrainbone import Simulator

REFERENCE = json.loads(
    (Path(__file__).parent / "data" / "sensory_reference.json").read_text(encoding="utf-8")
)


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator("sensory")


def test_reference_file_names_a_source_for_every_finding() -> None:
    for name, finding in REFERENCE["findings"].items():
        assert finding["source"] and finding["assert"], name


def test_sensory_denervation_raises_sympathetic_drive_and_lowers_formation(sim: Simulator) -> None:
    # Chen 2019: sympathetic tone rises after sensory denervation; Offley 2005: more osteoclasts
    den = sim.steady_state({"denervation": 1})
    assert den["SNS_drive_out"] > 1.2
    assert den["CGRP_rel"] == pytest.approx(0.0, abs=1e-9) and den["SP_rel"] == pytest.approx(0.0, abs=1e-9)
    assert den["F_formation"] < 0.9 and den["F_OB_diff"] < 0.9
    assert den["F_OC_diff"] > 1.1 and den["F_RANKL"] > 1.0


def test_capsaicin_depletes_peptides_within_four_weeks(sim: Simulator) -> None:
    # Offley 2005: neuropeptides depleted in nerve and bone four weeks after capsaicin (given at day 10 here)
    course = sim.simulate(
        end=40,
        points=41,
        changes={"denervation": 1, "t_denervation": 10},
        selections=["CGRP_rel", "SNS_drive_out"],
    )
    assert course.loc[9.0, "CGRP_rel"] == pytest.approx(1.0, abs=1e-12), "nothing happens before denervation"
    assert course.loc[38.0, "CGRP_rel"] < 0.05
    assert course.loc[38.0, "SNS_drive_out"] > 1.4


def test_ep4_and_cox2_knockouts_raise_sympathetic_drive(sim: Simulator) -> None:
    # Chen 2019: sensory-neuron EP4 KO and osteoblast COX2 KO reduce bone volume
    ep4 = sim.steady_state({"EP4_KO": 1})
    cox2 = sim.steady_state({"COX2_OB_KO": 1})
    for row in (ep4, cox2):
        assert row["SNS_drive_out"] > 1.1
        assert row["F_OB_diff"] < 1.0 and row["F_formation"] < 1.0 and row["F_RANKL"] > 1.0
    assert ep4["afferent_rel"] == pytest.approx(0.0, abs=1e-12)
    assert cox2["PGE2_rel"] < 0.3, "osteoblastic cells make most bone PGE2"
    # EP4 KO removes the afferent signal, not the fibres: peptides fall only by their evoked share
    assert ep4["innervation_rel"] == pytest.approx(1.0, abs=1e-9) and 0.0 < ep4["CGRP_rel"] < 1.0


def test_local_pge2_raise_acts_through_sensory_ep4(sim: Simulator) -> None:
    # Chen 2019: SW033291 boosts bone formation; the effect is obstructed in EP4 knockout mice
    boost = sim.steady_state({"PGE2_boost": 2})
    assert boost["PGE2_rel"] == pytest.approx(2.0, rel=1e-9)
    assert boost["SNS_drive_out"] < 1.0 and boost["F_OB_diff"] > 1.0 and boost["F_formation"] > 1.0
    ko = sim.steady_state({"EP4_KO": 1})
    ko_boost = sim.steady_state({"EP4_KO": 1, "PGE2_boost": 2})
    for name in ("SNS_drive_out", "F_OB_diff", "F_formation", "F_RANKL", "F_OC_diff"):
        assert ko_boost[name] == pytest.approx(ko[name], rel=1e-9), name


def test_pge2_follows_osteoblast_activity(sim: Simulator) -> None:
    # Chen 2019: osteoblast PGE2 rises in osteoporotic (high-turnover) models and lowers sympathetic tone
    high = sim.steady_state({"formation_in": 1.5})
    assert high["PGE2_rel"] > 1.2 and high["SNS_drive_out"] < 1.0
    off = sim.steady_state({"formation_in": 1.5, "w_formation_pge2": 0})
    assert off["PGE2_rel"] == pytest.approx(1.0, abs=1e-12)


def test_bone_pge2_is_proportional_to_weight_bearing(sim: Simulator) -> None:
    # Gao 2024: bone PGE2 in proportion to weight bearing; tail suspension lowers it; loading lowers PVN TH
    value = REFERENCE["findings"]["pge2_proportional_to_weight_bearing"]["value"]
    basal = sim.parameters()["value"]["f_PGE2_basal"]
    for load in (0.5, 2.0):
        row = sim.steady_state({"loading_in": load})
        osteoblast_share = (row["PGE2_rel"] - basal) / (1 - basal)
        assert osteoblast_share == pytest.approx(load**value, rel=1e-9)
    assert sim.steady_state({"loading_in": 0.5})["SNS_drive_out"] > 1.0
    assert sim.steady_state({"loading_in": 2.0})["SNS_drive_out"] < 1.0


def test_cgrp_knockout_lowers_formation_without_touching_the_loop(sim: Simulator) -> None:
    # Schinke 2004: alpha-CGRP-/- osteopenia from reduced bone formation rate
    ko = sim.steady_state({"CGRP_KO": 1})
    assert ko["F_formation"] < 0.9 and ko["F_OB_diff"] < 0.9
    assert ko["SNS_drive_out"] == pytest.approx(1.0, abs=1e-12)


def test_substance_p_knockout_lowers_formation_and_raises_osteoclasts(sim: Simulator) -> None:
    # Wang 2021: Tac1-/- mice, less formation, more osteoclasts and resorption
    ko = sim.steady_state({"SP_KO": 1})
    assert ko["F_OB_diff"] < 0.95
    assert ko["F_OC_diff"] > 1.05
    assert ko["SNS_drive_out"] == pytest.approx(1.0, abs=1e-12)


def test_neuronal_sema3a_acts_through_sensory_innervation(sim: Simulator) -> None:
    # Fukuda 2013: fewer trabecular sensory fibres, low bone mass; ablation adds little in Sema3a-nestin-/-
    sema = sim.steady_state({"Sema3A_KO": 1})
    assert sema["innervation_rel"] < 0.5
    assert sema["F_OB_diff"] < 0.9 and sema["F_formation"] < 1.0
    wild_den = sim.steady_state({"denervation": 1})
    both = sim.steady_state({"Sema3A_KO": 1, "denervation": 1})
    effect_wild = 1.0 - wild_den["F_OB_diff"]
    effect_added = sema["F_OB_diff"] - both["F_OB_diff"]
    assert 0.0 <= effect_added < effect_wild / 3


def test_local_sympathetic_surrogate_can_be_switched_off(sim: Simulator) -> None:
    # In the composition w_sns_local = 0 and SNS_drive_out reaches the SNS module instead
    den = sim.steady_state({"denervation": 1, "w_sns_local": 0})
    assert den["SNS_drive_out"] > 1.2
    assert den["F_RANKL"] == pytest.approx(1.0, abs=1e-12)
    assert den["F_OB_diff"] > sim.steady_state({"denervation": 1})["F_OB_diff"]
