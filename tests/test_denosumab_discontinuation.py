"""Stopping denosumab: the model's course after the last injection against DEFEND's off-treatment phase.

Bone et al. 2011 (J Clin Endocrinol Metab 96:972; ``data/measurements/defend_off_bone2011.csv``) gave
denosumab 60 mg every 6 months for 24 months to postmenopausal women with low bone mass (mean age 59), then
followed them 24 months off treatment. Held out from every fit. The scenario here: natural menopause eight
years before the first injection (the trial's age), four injections, then nothing, against placebo.

What the abstract reports and what these checks hold the model to:

* end of treatment, vs placebo: CTX -63 %, P1NP -47 %, spine BMD +6.4 %, hip +3.6 %;
* month 48 (24 months off): BMD still above the former placebo group (P <= 0.05);
* after stopping, CTX above baseline within 3 months (the rebound). The model has no rebound: its
  osteoclast precursors do not accumulate under RANKL blockade, so resorption returns to the placebo
  level from below (documented known failure, docs/calibration.md "Stopping denosumab"; strict xfail, so
  a mechanism that produces the rebound turns it into a pass that must be acknowledged).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pybrainbone.measurements import load_datasets
from pybrainbone.simulator import Simulator

MONTH = 365.25 / 12
START = 8 * 365.25  # first injection, days after menopause onset
SELECTIONS = ["spine_BMD", "hip_BMD", "core_CTX_rel", "core_P1NP_rel"]
COLUMN = {"BMD_lumbar_spine": "spine_BMD", "BMD_total_hip": "hip_BMD"}


@pytest.fixture(scope="module")
def vs_placebo() -> pd.DataFrame:
    """Percent difference denosumab-then-off vs placebo, indexed by months since the first injection."""
    sim = Simulator("brain_bone_axis")
    end, points = START + 48 * MONTH, (96 + 48) * 4 + 1  # output every quarter month

    def run(changes: dict[str, float]) -> pd.DataFrame:
        return sim.simulate(end, points, changes={"HPG_menopause": 1, **changes}, selections=SELECTIONS)

    placebo = run({})
    treated = run({"Dmab_dose_dmab": 60, "Dmab_t_dmab": START, "Dmab_n_dmab": 4})
    frame = 100 * (treated / placebo - 1)
    frame.index = (frame.index - START) / MONTH
    return frame


def _at(frame: pd.DataFrame, month: float) -> pd.Series:
    return frame.iloc[int(np.argmin(np.abs(frame.index.to_numpy() - month)))]


def test_end_of_treatment_resorption_marker_is_defends(vs_placebo: pd.DataFrame) -> None:
    """CTX at month 24 within 15 points of DEFEND's -63 % (model -70 %)."""
    frame = vs_placebo
    row = load_datasets()["defend_off_bone2011"].select("CTX", "dmab60_24m_then_off")[0]
    assert abs(_at(frame, 24)["core_CTX_rel"] - row.mean) < 15


def test_end_of_treatment_bmd_gain_is_at_most_twice_defends(vs_placebo: pd.DataFrame) -> None:
    """Spine and hip above placebo at month 24, by no more than twice DEFEND's gain.

    Measured: spine +12.8 % vs +6.4 %, hip +5.7 % vs +3.6 % (the model's gain is FREEDOM's, fitted on
    older women with osteoporosis; DEFEND's women had low bone mass and were younger).
    """
    frame = vs_placebo
    dataset = load_datasets()["defend_off_bone2011"]
    for observable in ("BMD_lumbar_spine", "BMD_total_hip"):
        reported = dataset.select(observable, "dmab60_24m_then_off")[0].mean
        model = _at(frame, 24)[COLUMN[observable]]
        assert 0 < model <= 2.05 * reported, (observable, model, reported)


def test_formation_marker_suppression_is_stronger_than_defends(vs_placebo: pd.DataFrame) -> None:
    """Known misfit, pinned: P1NP -84 % in the model vs -47 % in DEFEND at month 24."""
    frame = vs_placebo
    row = load_datasets()["defend_off_bone2011"].select("P1NP", "dmab60_24m_then_off")[0]
    assert _at(frame, 24)["core_P1NP_rel"] < row.mean - 25


def test_gain_is_lost_within_two_years_but_bmd_stays_above_placebo(vs_placebo: pd.DataFrame) -> None:
    """Month 48: BMD above the former placebo group (DEFEND, P <= 0.05), but most of the gain gone."""
    frame = vs_placebo
    for column in ("spine_BMD", "hip_BMD"):
        at_24, at_48 = _at(frame, 24)[column], _at(frame, 48)[column]
        assert 0 < at_48 < 0.25 * at_24, (column, at_24, at_48)


@pytest.mark.xfail(strict=True, reason="no rebound: precursors do not accumulate under RANKL blockade")
def test_resorption_rebounds_above_placebo_after_stopping(vs_placebo: pd.DataFrame) -> None:
    """DEFEND: CTX above baseline within 3 months of the missed dose; the model's stays below placebo."""
    frame = vs_placebo
    off = frame.loc[(frame.index > 24) & (frame.index <= 36), "core_CTX_rel"]
    assert off.max() > 0
