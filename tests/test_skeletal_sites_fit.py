"""The skeletal sites' calibrated turnover and modelling-based formation (docs/calibration.md).

``spine.rho`` and ``hip.rho`` in ``models/brain_bone_axis.ant`` were estimated from denosumab (FREEDOM and its
extension) and zoledronate (Grey 2017) BMD, ``spine.f_MBF`` (modelling-based formation) from teriparatide
(Neer 2001) spine BMD, and written back with their profile intervals. These checks fail when the model
drifts from that calibration:

* the shipped values are each one's optimum: 20 % lower or higher turnover fits that site's antiresorptive
  rows worse, and 20 % less or more modelling-based formation the teriparatide rows (the sites are
  read-outs, so the spine rows depend on ``spine_*`` only and the hip rows on ``hip_*`` only: one
  simulation per step moves both; modelling-based formation is 0 on antiresorptives, so those rows do
  not depend on ``f_MBF``);
* every fitted and held-back model value equals the recorded one (seeded regression, rel 1e-6;
  ``tests/data/skeletal_sites_fit.json``, re-recorded by ``tests/tools/record_skeletal_sites_fit.py``
  after a re-calibration), and the documented predictions keep their sign and size.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pybrainbone.calibration import build_likelihood
from pybrainbone.calibration.likelihood import Likelihood
from pybrainbone.experiments.spec import load_experiment
from pybrainbone.simulator import Simulator

REPO = Path(__file__).resolve().parents[1]
RECORDED = json.loads((REPO / "tests" / "data" / "skeletal_sites_fit.json").read_text(encoding="utf-8"))
FITTED = ["denosumab_freedom_sites_fit", "zoledronate_sites_fit"]
ANABOLIC = ["teriparatide_neer_sites_fit"]
HELD_BACK = ["menopause_swan_fit", "romosozumab_mcclung_sites_fit", "data_switch_sites_fit"]
ESTIMATED = ["spine_rho", "hip_rho", "spine_f_MBF"]


@pytest.fixture(scope="module")
def likelihood() -> Likelihood:
    specs = [load_experiment(REPO / "experiments" / f"{name}.yaml") for name in FITTED + ANABOLIC + HELD_BACK]
    return build_likelihood(specs, ESTIMATED)


@pytest.fixture(scope="module")
def simulator() -> Simulator:
    return Simulator("brain_bone_axis")


def _moved(likelihood: Likelihood, names: list[str], factor: float) -> np.ndarray:
    """The nominal vector (log10) with the parameters ``names`` multiplied by ``factor``."""
    x = likelihood.nominal().copy()
    x[[likelihood.names.index(name) for name in names]] += np.log10(factor)
    return x


def _anabolic_chi2(table: pd.DataFrame) -> float:
    return float((table[table["experiment"].isin(ANABOLIC)]["residual"] ** 2).sum())


def _site_chi2(table: pd.DataFrame) -> dict[str, float]:
    """chi2 of the antiresorptive site rows, by site (the SWAN rows of the core's read-outs left out)."""
    sites = table[table["experiment"].isin(FITTED)]
    spine = sites["observable"] == "BMD_lumbar_spine"
    return {"spine": float((sites[spine]["residual"] ** 2).sum()),
            "hip": float((sites[~spine]["residual"] ** 2).sum())}  # fmt: skip


def test_the_shipped_turnover_is_each_sites_optimum(likelihood: Likelihood, simulator: Simulator) -> None:
    assert likelihood.sample(likelihood.nominal()) == pytest.approx(RECORDED["estimates"], rel=1e-12)
    shipped = _site_chi2(likelihood.fit_table(simulator))
    for factor in (0.8, 1.2):  # outside both profile intervals (spine -3 % .. +3 %, hip -6 % .. +6 %)
        moved = _site_chi2(
            likelihood.fit_table(simulator, _moved(likelihood, ["spine_rho", "hip_rho"], factor))
        )
        for site in ("spine", "hip"):
            assert moved[site] > shipped[site] + 3.84, (site, factor, moved, shipped)  # outside the 95 % CI


def test_the_shipped_modelling_based_formation_is_the_teriparatide_optimum(
    likelihood: Likelihood, simulator: Simulator
) -> None:
    table = likelihood.fit_table(simulator)
    shipped = _anabolic_chi2(table)
    assert shipped < 2.0  # one fraction gives both doses' gains (model 8.1 and 13.5 vs 9 and 13 points)
    for factor in (0.8, 1.2):  # outside the profile interval (-12 % .. +12 %)
        moved = _anabolic_chi2(likelihood.fit_table(simulator, _moved(likelihood, ["spine_f_MBF"], factor)))
        assert moved > shipped + 3.84, (factor, moved, shipped)
    # Under antiresorptives the osteoblasts have almost nothing left beyond the refilling: halving the
    # fraction moves those rows by less than 0.1 points (0.07 at the spine after 8 years of denosumab,
    # when formation lags the suppressed resorption near the end of a dosing interval).
    off = likelihood.fit_table(simulator, _moved(likelihood, ["spine_f_MBF"], 0.5))
    sites = table["experiment"].isin(FITTED)
    np.testing.assert_allclose(off[sites]["model"], table[sites]["model"], rtol=0, atol=0.1)


def test_fitted_and_held_back_values_are_the_recorded_ones(
    likelihood: Likelihood, simulator: Simulator
) -> None:
    table = likelihood.fit_table(simulator)
    assert len(table) == len(RECORDED["fitted"])
    for row, recorded in zip(table.itertuples(), RECORDED["fitted"], strict=True):
        assert (row.dataset, row.condition, row.time_day) == (
            recorded["dataset"], recorded["condition"], recorded["time_day"]
        )  # fmt: skip
        assert row.model == pytest.approx(recorded["model"], rel=1e-6, abs=1e-9)
    predicted = likelihood.predict_held_back(simulator, likelihood.nominal())
    assert len(predicted) == len(RECORDED["held_back"])
    for value, recorded in zip(predicted, RECORDED["held_back"], strict=True):
        assert value == pytest.approx(recorded["model"], rel=1e-6, abs=1e-9)
    # What docs/calibration.md says of them: with denosumab's accessibility estimated from the label's CTX
    # (Dmab_chi_dmab 1.5) the sites turn over more slowly, and SWAN's losses are under-predicted by them
    # (the core's menopausal resorption rise is about twice Garnero's, the turnover set by the drugs); the
    # femoral neck on teriparatide (hip site) is predicted within about 1 sigma; romosozumab's and
    # McClung's 12-month teriparatide spine gains are under-predicted (the site's gain comes later).
    by = {(r["experiment"], r["observable"], r["condition"]): r["model"] for r in RECORDED["held_back"]}
    assert -10 < by["menopause_swan_fit", "BMD_lumbar_spine", "window_fmp_m5_p5"] < -5
    # The same cohort's urinary NTX is ~20 % above its pre-transition level at FMP+2..6 (Sowers 2013); the
    # core's resorption marker is ~+158 % there: the documented inconsistency ("The SWAN cohort's own
    # resorption marker"). A calibration that closes it will land outside this range and must update them.
    assert 120 < by["menopause_swan_fit", "urine_NTX", "post_fmp_2_6y"] < 200
    assert 2.5 < by["teriparatide_neer_sites_fit", "BMD_femoral_neck", "tptd20"] < 4.5
    assert 5 < by["teriparatide_neer_sites_fit", "BMD_femoral_neck", "tptd40"] < 7
    assert 3 < by["romosozumab_mcclung_sites_fit", "BMD_lumbar_spine", "romo210_qm"] < 7
    assert 2 < by["romosozumab_mcclung_sites_fit", "BMD_lumbar_spine", "teriparatide"] < 5.5
    # DATA-Switch (48 months): teriparatide then denosumab gains more at the spine than the reverse, as
    # in the trial (model +23.6 vs +10.2 %, data +18.3 vs +14.0).
    switch = {k[2]: v for k, v in by.items() if k[:2] == ("data_switch_sites_fit", "BMD_lumbar_spine")}
    assert switch["tptd_to_dmab"] > switch["dmab_to_tptd"] + 5
