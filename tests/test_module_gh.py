"""GH/IGF-1 module (models/gh.ant): reference steady state, ranges, cortisol, GHD, GH dose, age."""

from __future__ import annotations

import numpy as np
import pytest

from pybrainbone import Simulator
from tests.conftest import load_data

RANGES = load_data("hormone_reference_ranges.yaml")["ranges"]
FACTORS = ["F_OB_diff", "F_formation"]
OUT = ["GH", "IGF1", *FACTORS]


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator("gh")


def final(sim: Simulator, changes: dict, end: float = 60.0) -> dict:
    return sim.simulate(end=end, points=2, changes=changes, selections=OUT).iloc[-1].to_dict()


def test_cortisol_excess_lowers_igf1(sim: Simulator) -> None:
    base = sim.initial_values()
    row = final(sim, {"cortisol_in": 2})
    assert row["IGF1"] < 0.9 * base["IGF1"]
    assert row["GH"] < base["GH"], "somatostatin tone raised"
    for name in FACTORS:
        assert row[name] < 1, name
    stronger = final(sim, {"cortisol_in": 3})
    assert stronger["IGF1"] < row["IGF1"]
    off = final(sim, {"cortisol_in": 2, "w_cortisol_gh": 0})
    assert off["IGF1"] == pytest.approx(base["IGF1"], rel=1e-9)


def test_gh_deficiency_and_replacement(sim: Simulator) -> None:
    ghd = final(sim, {"GHD": 0.9})
    assert ghd["IGF1"] < RANGES["IGF1"]["low"]
    for name in FACTORS:
        assert ghd[name] < 1, name
    treated = final(sim, {"GHD": 0.9, "GH_dose": 300})
    assert ghd["IGF1"] < treated["IGF1"] < 200
    assert treated["F_OB_diff"] > ghd["F_OB_diff"]


def test_gh_excess_is_anabolic(sim: Simulator) -> None:
    row = final(sim, {"GH_dose": 1000})
    assert row["IGF1"] > 1.2 * 200
    for name in FACTORS:
        assert row[name] > 1, name


def test_age_decline(sim: Simulator) -> None:
    course = sim.simulate(end=30 * 365.25, points=4, changes={"age_decline": 1}, selections=["IGF1"])
    values = course["IGF1"].to_numpy()
    assert np.all(np.diff(values) < 0)
    assert 130 < values[-1] < 180, "IGF-1 ~1 %/yr lower three decades on (sheet: 100-150 ng/mL at 70)"
