"""Prolactin module (models/prl.ant) on its own: dopamine restraint, hyperprolactinaemia, bone routes.

Numbers and their sources: tests/data/prl_reference.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pybrainbone import Simulator

REF = json.loads((Path(__file__).parent / "data" / "prl_reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator("prl")


def test_reference_level_and_half_life(sim: Simulator) -> None:
    levels = REF["levels"]
    assert sim.initial_values()["PRL"] == pytest.approx(levels["basal_women_ng_per_mL"], rel=1e-9)
    assert sim.initial_values()["PRL"] < levels["upper_normal_ng_per_mL"]
    k = sim.parameters()["value"]["k_PRL"]
    half_life_min = 0.6931471805599453 / k * 24 * 60
    low, high = levels["half_life_min_range"]
    assert low <= half_life_min <= high


def test_d2_blockade_causes_hyperprolactinaemic_hypogonadism(sim: Simulator) -> None:
    row = sim.steady_state({"D2_block": 0.9})
    assert row["PRL"] > REF["levels"]["upper_normal_ng_per_mL"]
    assert row["GnRH_factor_out"] < 0.5 and row["E2_suppression_out"] < 0.5
    assert row["F_RANKL"] > 1.3 and row["F_OPG"] < 0.9 and row["F_OC_apop"] < 0.9 and row["F_OB_apop"] > 1.0
    assert row["F_OB_diff"] < 1.0


def test_prolactinoma_and_dopamine_agonist(sim: Simulator) -> None:
    tumour = sim.steady_state({"prolactinoma": 10})
    assert tumour["PRL"] > REF["levels"]["prolactinoma_usual_ng_per_mL_min"]
    treated = sim.steady_state({"prolactinoma": 10, "DA_agonist": 3})
    assert treated["PRL"] < tumour["PRL"] / 2
    assert tumour["E2_suppression_out"] < treated["E2_suppression_out"] < 1.0
    assert 1.0 < treated["F_RANKL"] < tumour["F_RANKL"]


def test_direct_osteoblast_action_survives_estradiol_replacement(sim: Simulator) -> None:
    # Seriwatanachai 2008: estradiol did not reverse the hyperprolactinaemic changes; PRLR on osteoblasts
    direct = sim.steady_state({"prolactinoma": 10, "w_e2_local": 0})
    assert direct["F_RANKL"] > 1.1 and direct["F_OPG"] < 0.95 and direct["F_OB_diff"] < 0.95
    assert direct["F_OC_apop"] == pytest.approx(1.0, abs=1e-12), (
        "osteoclast apoptosis is an estradiol route only"
    )
    no_prlr = sim.steady_state({"prolactinoma": 10, "w_e2_local": 0, "PRLR_expr": 0})
    assert no_prlr["F_OB_diff"] >= 1.0 and no_prlr["F_RANKL"] <= 1.0


def test_mild_elevation_is_nearly_silent(sim: Simulator) -> None:
    # prolactin at the upper normal limit (20 ng/mL): hypogonadism and bone effects are a sustained
    # hyperprolactinaemia phenomenon
    mild = sim.steady_state({"D2_block": 0.39})
    assert 18 < mild["PRL"] < 22
    assert mild["E2_suppression_out"] > 0.85
    assert abs(mild["F_RANKL"] - 1.0) < 0.1


def test_drug_start_time_is_respected(sim: Simulator) -> None:
    course = sim.simulate(end=12, points=25, changes={"D2_block": 0.9, "t_D2_block": 5}, selections=["PRL"])
    assert course.loc[4.5, "PRL"] == pytest.approx(13.0, rel=1e-9)
    assert course.loc[6.5, "PRL"] > 60, "new level within hours (t1/2 25-50 min)"
