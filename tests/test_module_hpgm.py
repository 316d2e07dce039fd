"""Male HPG axis (models/hpgm.ant) on its own: reference levels, orchidectomy, GnRH-agonist ADT, add-back.

Numbers and their sources: tests/data/hpgm_reference.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pybrainbone import Simulator

REF = json.loads((Path(__file__).parent / "data" / "hpgm_reference.json").read_text(encoding="utf-8"))
FACTORS = ["F_RANKL", "F_OPG", "F_OC_apop", "F_OB_apop", "F_OB_diff", "F_formation"]


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator("hpgm")


def final(sim: Simulator, changes: dict, end: float = 180.0) -> dict:
    names = ["T_rel", "E2_rel", "LH_rel", "T_ng_per_dL", "LH", *FACTORS]
    return sim.simulate(end=end, points=2, changes=changes, selections=names).iloc[-1].to_dict()


def test_reference_levels_are_inside_the_male_ranges(sim: Simulator) -> None:
    base = sim.initial_values()
    t = REF["reference_levels"]["testosterone_ng_per_dL"]
    e2 = REF["reference_levels"]["estradiol_pg_per_mL"]
    assert base["T_ng_per_dL"] == pytest.approx(t["median"], rel=0.01)
    assert t["low"] <= base["T_ng_per_dL"] <= t["high"]
    assert e2["low"] <= base["E2_pg_per_mL"] <= e2["high"]
    assert base["LH"] == pytest.approx(REF["reference_levels"]["LH_IU_per_L"]["value"], rel=1e-9)


def test_orchidectomy_castrates_within_a_day_and_raises_lh_fourfold(sim: Simulator) -> None:
    orx = REF["orchidectomy"]
    course = sim.simulate(
        end=120,
        points=241,
        changes={"orchidectomy": 1, "t_orchidectomy": 5},
        selections=["T_ng_per_dL", "LH_rel", "E2_rel"],
    )
    assert course.loc[4.5, "T_ng_per_dL"] == pytest.approx(sim.initial_values()["T_ng_per_dL"], rel=1e-9)
    base = sim.initial_values()["T_ng_per_dL"]
    assert course.loc[6.0, "T_ng_per_dL"] < 0.05 * base, "about 5 % of normal within a day (ACNP Fig 14)"
    assert course.loc[7.0, "T_ng_per_dL"] < orx["T_castrate_ng_per_dL_max"], (
        "below the surgical castration level"
    )
    end = final(sim, {"orchidectomy": 1}, end=16 * 7)
    assert end["LH_rel"] == pytest.approx(orx["LH_fold_16_weeks"], rel=0.1)
    assert end["E2_rel"] < 0.3, "estradiol falls with its testosterone substrate and testicular share"


def test_orchidectomy_moves_both_steroid_routes_to_bone(sim: Simulator) -> None:
    row = final(sim, {"orchidectomy": 1})
    assert row["F_RANKL"] > 1.5 and row["F_OPG"] < 0.8 and row["F_OC_apop"] < 0.8, "resorption side up"
    assert row["F_OB_apop"] > 1.1
    assert row["F_OB_diff"] < 1.0 and row["F_formation"] < 1.0, "formation side down"


def test_gnrh_agonist_flare_then_castration(sim: Simulator) -> None:
    adt = REF["ADT_GnRH_agonist"]
    course = sim.simulate(
        end=60, points=121, changes={"ADT": 1}, selections=["T_rel", "T_ng_per_dL", "LH_rel"]
    )
    first_week = course[course.index <= 7]
    low, high = adt["flare_peak_fold_range"]
    assert low <= first_week["T_rel"].max() <= high, "testosterone flare in the first week"
    below = course.index[course["T_ng_per_dL"] < adt["castrate_ng_per_dL"]]
    first, last = adt["castrate_within_days"]
    assert first <= below.min() <= last, "castrate (< 50 ng/dL) within 2-4 weeks"
    assert course["LH_rel"].iloc[-1] < 0.01, "pituitary desensitised"


def test_long_term_adt_testosterone_matches_leuprolide_data(sim: Simulator) -> None:
    row = final(sim, {"ADT": 1}, end=48 * 7)
    assert row["T_rel"] == pytest.approx(REF["ADT_GnRH_agonist"]["long_term_T_fraction"], rel=0.2)
    assert row["F_RANKL"] > 1.5 and row["F_formation"] < 1.0 and row["E2_rel"] < 0.3


def test_testosterone_recovers_after_adt_stops(sim: Simulator) -> None:
    weeks = REF["ADT_GnRH_agonist"]["recovery_weeks_max"]
    stop = 120.0
    course = sim.simulate(
        end=stop + weeks * 7, points=301, changes={"ADT": 1, "t_ADT_end": stop}, selections=["T_rel"]
    )
    assert course.loc[course.index < stop, "T_rel"].iloc[-1] < 0.05
    assert course["T_rel"].iloc[-1] > 0.9, "hormonal function returns within 4-12 weeks"


def test_partial_withdrawal_reproduces_the_estradiol_share(sim: Simulator) -> None:
    # Cyproterone ADT: testosterone -81 %, estradiol -71 % (the adrenal estradiol share is derived from it);
    # find the GnRH restraint that lowers testosterone by 81 % and check the estradiol fall
    from scipy.optimize import brentq

    data = REF["partial_withdrawal_cyproterone"]
    t_target = 1 - data["T_fall_percent"] / 100
    g = brentq(lambda x: sim.steady_state({"gnrh_in": x})["T_rel"] - t_target, 1e-4, 1.0)
    e2 = sim.steady_state({"gnrh_in": g})["E2_rel"]
    assert e2 == pytest.approx(1 - data["E2_fall_percent"] / 100, abs=0.03)


def test_estradiol_dominates_resorption_both_steroids_maintain_formation(sim: Simulator) -> None:
    # Falahati-Nini 2000 factorial: GnRH agonist + aromatase inhibitor, then T and/or E add-back
    none = final(sim, {"ADT": 1, "AI_frac": 1})
    t_only = final(sim, {"ADT": 1, "AI_frac": 1, "T_addback": 1})
    e_only = final(sim, {"ADT": 1, "AI_frac": 1, "E2_addback": 1})
    both = final(sim, {"ADT": 1, "AI_frac": 1, "T_addback": 1, "E2_addback": 1})
    assert none["F_RANKL"] > 1.5
    rise = np.log(none["F_RANKL"])
    assert np.log(e_only["F_RANKL"]) < 0.4 * rise, "estradiol prevents most of the resorption rise"
    assert np.log(t_only["F_RANKL"]) > np.log(e_only["F_RANKL"]), "testosterone does less than estradiol"
    for row in (t_only, e_only):
        assert none["F_formation"] < row["F_formation"] < both["F_formation"], (
            "each steroid maintains formation"
        )
    for name in FACTORS:
        assert both[name] == pytest.approx(1.0, abs=1e-6), name


def test_feedback_and_modulators(sim: Simulator) -> None:
    # estradiol treatment lowers LH (orchidectomy/estrogen/cyproterone abstract); testosterone add-back too
    assert sim.steady_state({"E2_addback": 1})["LH_rel"] < 1.0
    assert sim.steady_state({"T_addback": 1})["LH_rel"] < 1.0
    # glucocorticoids and leptin deficiency suppress GnRH as in the female module
    assert sim.steady_state({"cortisol_in": 2})["T_rel"] < 0.95
    assert sim.steady_state({"leptin_in": 0.01})["T_rel"] < 0.5
    assert sim.steady_state({"cortisol_in": 2, "w_cortisol_hpg": 0})["T_rel"] == pytest.approx(1.0, abs=1e-9)


def test_aromatase_inhibition_lowers_estradiol_and_raises_resorption_factor(sim: Simulator) -> None:
    ai = final(sim, {"AI_frac": 0.7})
    assert ai["E2_rel"] < 1.0 and ai["T_rel"] > 1.0, "less estradiol feedback, more LH and testosterone"
    assert ai["F_RANKL"] > 1.0 and ai["F_OPG"] < 1.0
