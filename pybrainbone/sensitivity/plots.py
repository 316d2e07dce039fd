"""Figures for sensitivity results: Morris mu*-sigma, Sobol/eFAST bars with CIs, local heatmaps over time."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from pybrainbone.plotting import new_figure
from pybrainbone.sensitivity.results import GlobalResult, LocalSensitivities

#: Most parameters labelled or shown in one figure.
TOP = 20


def plot_global(result: GlobalResult) -> Figure:
    """Morris: mu* against sigma (top parameters labelled); Sobol/eFAST: S1 and ST bars with 95 % CIs.

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> exp = Experiment.model_validate({
    ...     "id": "pth", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
    ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"},
    ...                         {"id": "same", "expression": "treated.OCa / treated.OCa"}]})
    >>> from pybrainbone.sensitivity.objective import make_objective
    >>> from pybrainbone.sensitivity.problem import derive_problem
    >>> from pybrainbone.sensitivity.executors import SerialEngine
    >>> objective = make_objective(exp, "dCTX@365", ["D_OCp", "A_OCa"])
    >>> problem = derive_problem(objective.nominal, objective.names, relative=0.2)
    >>> from pybrainbone.sensitivity.global_ import morris
    >>> result = morris(objective, problem, n=4, engine=SerialEngine(), seed=1)
    >>> fig = plot_global(result)
    >>> fig.axes[0].get_xlabel()
    'mu* (mean |elementary effect|)'
    >>> fig.axes[0].get_title()
    'morris: pth:dCTX@365 (n=12 runs, seed 1)'
    """
    table = result.indices
    if result.method == "morris":
        fig = new_figure(figsize=(7, 5.5))
        ax = fig.subplots()
        ax.errorbar(
            table["mu_star"],
            table["sigma"],
            xerr=table["mu_star_conf"],
            fmt="o",
            ms=4,
            color="tab:blue",
            ecolor="0.7",
            lw=0.8,
        )
        for _, row in table.head(12).iterrows():
            ax.annotate(
                str(row["parameter"]),
                (row["mu_star"], row["sigma"]),
                fontsize=7,
                xytext=(3, 3),
                textcoords="offset points",
            )
        top = float(max(table["mu_star"].max(), table["sigma"].max(), 1e-300))
        ax.plot([0, top], [0, top], ls=":", color="0.5", lw=0.8, label="sigma = mu*")
        ax.set_xlabel("mu* (mean |elementary effect|)")
        ax.set_ylabel("sigma (spread: non-linearity / interactions)")
        ax.legend(loc="upper left", fontsize=8)
    else:
        shown = table.head(TOP)
        x = np.arange(len(shown))
        fig = new_figure(figsize=(max(6.0, 0.45 * len(shown) + 2), 4.5))
        ax = fig.subplots()
        ax.bar(x - 0.2, shown["S1"], 0.4, yerr=shown["S1_conf"], capsize=2, label="first order S1")
        ax.bar(x + 0.2, shown["ST"], 0.4, yerr=shown["ST_conf"], capsize=2, label="total ST")
        ax.set_xticks(x, list(shown["parameter"]), rotation=60, ha="right", fontsize=8)
        ax.set_ylabel("index (95 % CI)")
        ax.axhline(0, color="0.5", lw=0.6)
        ax.legend(fontsize=8)
    failed = f", {len(result.failures)} failed" if result.failures else ""
    ax.set_title(
        f"{result.method}: {result.output} (n={len(result.samples)} runs{failed}, seed {result.seed})",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def plot_local(result: LocalSensitivities, scaling: str | None = None) -> Figure:
    """Heatmap per output: parameters (rows) x time (columns), colour = sensitivity (symmetric scale).

    ``scaling`` defaults to ``scaled`` (d ln y / d ln p) when that is finite everywhere after t=0, else
    ``semi_scaled`` (p dy/dp).

    Examples
    --------
    >>> from pybrainbone.simulator import Simulator
    >>> from pybrainbone.sensitivity.local import time_sensitivities
    >>> local = time_sensitivities(Simulator("bone_remodeling"), ["D_OCp", "A_OCa"], ["OCa", "CTX_rel"],
    ...                            end=365, points=3, changes={"P_PTH_ext": 100.0})
    >>> fig = plot_local(local)
    >>> [ax.get_title() for ax in fig.axes if ax.get_title()]
    ['OCa: d ln y / d ln p', 'CTX_rel: d ln y / d ln p']
    """
    if scaling is None:
        scaled = result.scaled[1:] if len(result.times) > 1 else result.scaled
        scaling = "scaled" if np.all(np.isfinite(scaled)) else "semi_scaled"
    data = getattr(result, scaling)
    n_out = len(result.outputs)
    fig = new_figure(figsize=(8, max(2.5, 0.28 * len(result.parameters) + 1.5) * n_out))
    axes = fig.subplots(n_out, 1, squeeze=False)
    years = result.times.max() > 730
    t = result.times / 365.25 if years else result.times
    for k, output in enumerate(result.outputs):
        ax = axes[k, 0]
        values = data[:, :, k].T
        limit = float(np.nanmax(np.abs(values))) if np.any(np.isfinite(values)) else 1.0
        limit = limit or 1.0
        mesh = ax.pcolormesh(
            t,
            np.arange(len(result.parameters)),
            values,
            cmap="RdBu_r",
            vmin=-limit,
            vmax=limit,
            shading="nearest",
        )
        ax.set_yticks(np.arange(len(result.parameters)), result.parameters, fontsize=7)
        ax.set_xlabel("time (years)" if years else "time (days)")
        label = {"scaled": "d ln y / d ln p", "semi_scaled": "p dy/dp", "unscaled": "dy/dp"}[scaling]
        ax.set_title(f"{output}: {label}", fontsize=9)
        fig.colorbar(mesh, ax=ax, label=label)
    fig.tight_layout()
    return fig
