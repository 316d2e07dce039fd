"""Held-back rows as predictions: the model against measurements that no fit has seen (validation split).

A spec's measurement link (``held_back: true``) or a whole study (``held_back: true`` in
``data/studies.yaml``) keeps rows out of every fit (:mod:`pybrainbone.calibration.likelihood` puts them in
:attr:`~pybrainbone.calibration.likelihood.Likelihood.predictions`, never in the NLL). Here they are
compared with the model at given parameter values: the normalised residual (model - mean) / sigma, whether the
model lies inside the data's 95 % interval (mean ± 1.96 sigma, sigma the row's standard error or the link's
``sigma``), and per dataset χ² with its p-value on as many degrees of freedom as rows (nothing was fitted
to them).

>>> table = pd.DataFrame({"experiment": ["e", "e"], "dataset": ["a", "a"], "residual": [0.5, -3.0],
...                       "inside_ci": [True, False]})
>>> prediction_summary(table)[["n", "chi2", "inside_ci"]].to_dict("records")
[{'n': 2, 'chi2': 9.25, 'inside_ci': 1}]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pybrainbone.calibration.likelihood import Likelihood
from pybrainbone.measurements import Z95
from pybrainbone.simulator import Simulator

__all__ = ["prediction_summary", "prediction_table"]

COLUMNS = [
    "experiment", "dataset", "observable", "condition", "unit", "time_day", "mean", "sigma", "ci_low",
    "ci_high", "model", "residual", "inside_ci", "source",
]  # fmt: skip


def prediction_table(
    likelihood: Likelihood, simulator: Simulator, x: np.ndarray | None = None
) -> pd.DataFrame:
    """One row per held-back measurement: data, its 95 % interval, the model at ``x`` (default nominal),
    the normalised residual and whether the model is inside the interval.

    Examples
    --------
    >>> import tempfile
    >>> from pybrainbone.calibration import build_likelihood, write_synthetic_problem
    >>> from pybrainbone.experiments.spec import load_experiment
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     problem = write_synthetic_problem(folder)
    ...     spec = load_experiment(problem.spec)
    ...     bmd = spec.measurements[1].model_copy(update={"held_back": True})
    ...     spec = spec.model_copy(update={"measurements": [spec.measurements[0], bmd]})
    ...     likelihood = build_likelihood([spec], data=problem.data)
    >>> table = prediction_table(likelihood, Simulator("bone_remodeling"))
    >>> len(table), sorted(set(table["observable"])), table["inside_ci"].dtype.name
    (12, ['BMD_lumbar_spine'], 'bool')
    """
    if not likelihood.predictions:
        return pd.DataFrame(columns=COLUMNS)
    x = likelihood.nominal() if x is None else x
    model = likelihood.predict_held_back(simulator, x)
    rows = []
    for o, m in zip(likelihood.predictions, model, strict=True):
        low, high = o.mean - Z95 * o.sigma, o.mean + Z95 * o.sigma
        rows.append(
            {"experiment": o.experiment, "dataset": o.dataset, "observable": o.observable,
             "condition": o.condition, "unit": o.unit, "time_day": o.time, "mean": o.mean, "sigma": o.sigma,
             "ci_low": low, "ci_high": high, "model": float(m), "residual": float((m - o.mean) / o.sigma),
             "inside_ci": bool(low <= m <= high), "source": o.where}
        )  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)


def prediction_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per dataset: rows, χ², χ² per row, its p-value (χ² on n degrees of freedom) and rows inside the CI.

    Examples
    --------
    >>> table = pd.DataFrame({"experiment": ["e", "e", "e"], "dataset": ["a", "a", "b"],
    ...                       "residual": [1.0, -1.0, 4.0], "inside_ci": [True, True, False]})
    >>> summary = prediction_summary(table)
    >>> summary[["dataset", "n", "chi2", "inside_ci"]].values.tolist()
    [['a', 2, 2.0, 2], ['b', 1, 16.0, 0]]
    >>> [round(p, 4) for p in summary["p_value"]]
    [0.3679, 0.0001]
    """
    from scipy.stats import chi2

    columns = ["experiment", "dataset", "n", "chi2", "chi2_per_point", "p_value", "inside_ci"]
    if table.empty:
        return pd.DataFrame(columns=columns)
    grouped = table.assign(r2=table["residual"] ** 2).groupby(["experiment", "dataset"], sort=False)
    out = grouped.agg(n=("r2", "size"), chi2=("r2", "sum"), inside_ci=("inside_ci", "sum")).reset_index()
    out["chi2_per_point"] = out["chi2"] / out["n"]
    out["p_value"] = [float(chi2.sf(c, n)) for c, n in zip(out["chi2"], out["n"], strict=True)]
    out["inside_ci"] = out["inside_ci"].astype(int)
    return out[columns]
