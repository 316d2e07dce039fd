"""Global sensitivity analysis with SALib: Morris screening, Sobol indices and eFAST.

Each method samples the problem with a fixed, recorded seed, evaluates every sample through
:func:`~pybrainbone.sensitivity.executors.evaluate` (serial, processes or Dask: same numbers) and
analyses the outputs with the same seed for the bootstrap confidence intervals.

Failed samples are never dropped silently. Morris drops every trajectory and Sobol every Saltelli block
that contains a failed sample (both estimators stay valid on the rest); eFAST's frequency design cannot
lose points, so failed outputs are replaced by the mean of the successful ones. The result says how many
failed, which (with parameters and reason) and how they were handled.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from pybrainbone.atomic import atomic_open
from pybrainbone.errors import InvalidValueError, PyBrainBoneError, SimulationError
from pybrainbone.experiments.spec import Solver
from pybrainbone.options import SolverOptions
from pybrainbone.sensitivity.executors import Evaluation, Failure, evaluate
from pybrainbone.sensitivity.objective import Objective
from pybrainbone.sensitivity.problem import Problem, positive_int
from pybrainbone.simulator import Simulator

Method = Literal["morris", "sobol", "efast"]
DEFAULT_SEED = 20261124


@dataclass(frozen=True)
class GlobalResult:
    """Indices of one global analysis, with everything needed to reproduce and audit it."""

    method: Method
    output: str
    problem: Problem
    indices: pd.DataFrame
    samples: np.ndarray  # model units, one row per sample
    values: np.ndarray  # output per sample (NaN where it failed)
    failures: list[Failure]
    handling: str
    seed: int
    settings: dict[str, Any]
    evaluation: Evaluation
    second_order: pd.DataFrame | None = None

    def summary(self) -> dict[str, Any]:
        ev = self.evaluation
        return {
            "method": self.method,
            "output": self.output,
            "seed": self.seed,
            "settings": self.settings,
            "parameters": self.problem.table(),
            "samples": len(self.samples),
            "failed": len(self.failures),
            "failure_handling": self.handling,
            "engine": ev.engine,
            "workers": ev.workers,
            "chunk_size": ev.chunk_size,
            "seconds": round(ev.seconds, 3),
            "samples_per_second": round(ev.samples_per_second, 2),
            "tolerance_check": ev.tolerance_check,
        }

    def write(self, out_dir: str | os.PathLike[str], stem: str, figure: bool = True) -> list[Path]:
        """Write ``<stem>.csv`` (indices), ``<stem>.json`` (seed, settings, failures), optional figure,
        ``<stem>.failures.csv`` when samples failed and ``<stem>.S2.csv`` for second-order indices."""
        out = Path(out_dir)
        paths = [out / f"{stem}.csv", out / f"{stem}.json"]
        with atomic_open(paths[0]) as handle:
            self.indices.to_csv(handle, index=False, float_format="%.6g")
        with atomic_open(paths[1]) as handle:
            json.dump(self.summary(), handle, indent=2, allow_nan=True)
            handle.write("\n")
        if self.failures:
            paths.append(out / f"{stem}.failures.csv")
            with atomic_open(paths[-1]) as handle:
                pd.DataFrame([f.as_dict() for f in self.failures]).to_csv(handle, index=False)
        if self.second_order is not None:
            paths.append(out / f"{stem}.S2.csv")
            with atomic_open(paths[-1]) as handle:
                self.second_order.to_csv(handle, index=False, float_format="%.6g")
        if figure:
            from pybrainbone.sensitivity.plots import plot_global

            paths.append(out / f"{stem}.png")
            plot_global(self, paths[-1])
        return paths


def _check_output(problem: Problem, objective: Objective) -> None:
    if list(objective.names) != problem.names:
        raise InvalidValueError("the objective's parameters must be the problem's, in the same order")


def _run(
    objective: Objective, problem: Problem, unit_samples: np.ndarray, label: str, **engine: Any
) -> tuple[np.ndarray, np.ndarray, Evaluation]:
    samples = problem.to_model_space(unit_samples)
    evaluation = evaluate(objective, samples, label=label, **engine)
    check = tolerance_check(objective, samples, evaluation.values)
    if check is not None:
        evaluation = replace(evaluation, tolerance_check=check)
    return samples, evaluation.values[:, 0], evaluation


def tolerance_check(
    objective: Objective, samples: np.ndarray, values: np.ndarray, count: int = 3
) -> dict[str, float] | None:
    """With solver tolerances looser than the defaults, re-run ``count`` samples at the defaults.

    Returns the largest absolute and relative difference of the output (None at default tolerances),
    so a loose, fast analysis states the error it bought its speed with.
    """
    if objective.experiment.solver.options() == SolverOptions():
        return None
    rows = [i for i in range(len(samples)) if np.all(np.isfinite(values[i]))][:count]
    if not rows:
        return None
    tight = replace(objective, experiment=objective.experiment.model_copy(update={"solver": Solver()}))
    simulator = Simulator(objective.model)
    absolute, relative = 0.0, 0.0
    for i in rows:
        reference = tight.evaluate(simulator, samples[i])
        difference = np.abs(values[i] - reference)
        absolute = max(absolute, float(np.max(difference)))
        relative = max(relative, float(np.max(difference / np.maximum(np.abs(reference), 1e-300))))
    return {"samples": float(len(rows)), "max_abs_difference": absolute, "max_rel_difference": relative}


def _require_variation(y: np.ndarray, output: str) -> None:
    finite = y[np.isfinite(y)]
    if finite.size == 0:
        raise SimulationError(f"every sample of {output} failed; see the failures table")
    if np.ptp(finite) == 0:
        raise PyBrainBoneError(f"{output} does not vary over the sampled ranges; no sensitivity to analyse")


def _drop_blocks(y: np.ndarray, block: int, what: str) -> tuple[np.ndarray, str]:
    """Keep whole blocks (``what``, plural) without failures; returns (keep mask, description)."""
    blocks = y.reshape(-1, block)
    good = np.all(np.isfinite(blocks), axis=1)
    dropped = int((~good).sum())
    if not good.any():
        raise SimulationError(f"all {what} contain a failed sample; nothing left to analyse")
    text = f"dropped {dropped} of {len(good)} {what} containing a failed sample" if dropped else "no failures"
    return np.repeat(good, block), text


def _ranked(problem: Problem, res: Any, columns: tuple[str, ...], by: str) -> pd.DataFrame:
    """One row per parameter with SALib's ``columns``, ranked by ``by`` (1 = most influential)."""
    table = pd.DataFrame({"parameter": problem.names, **{c: res[c] for c in columns}})
    table["rank"] = table[by].rank(ascending=False, method="min").astype(int)
    return table.sort_values(["rank", "parameter"]).reset_index(drop=True)


def morris(
    objective: Objective,
    problem: Problem,
    n: int = 10,
    *,
    num_levels: int = 4,
    seed: int = DEFAULT_SEED,
    num_resamples: int = 1000,
    **engine: Any,
) -> GlobalResult:
    """Morris elementary effects: ``n`` trajectories of D+1 runs; mu*, sigma, mu* CI and rank."""
    from SALib.analyze import morris as analyze
    from SALib.sample import morris as sample

    _check_output(problem, objective)
    n = positive_int("n (trajectories)", n, 2)
    spec = problem.salib()
    unit = sample.sample(spec, n, num_levels=num_levels, seed=seed)
    samples, y, ev = _run(objective, problem, unit, "morris", **engine)
    keep, handling = _drop_blocks(y, len(problem) + 1, "trajectories")
    _require_variation(y[keep], objective.label)
    res = analyze.analyze(
        spec, unit[keep], y[keep], num_resamples=num_resamples, num_levels=num_levels, seed=seed
    )
    table = _ranked(problem, res, ("mu", "mu_star", "sigma", "mu_star_conf"), by="mu_star")
    settings = {
        "trajectories": n,
        "num_levels": num_levels,
        "num_resamples": num_resamples,
        "conf_level": 0.95,
    }
    return GlobalResult(
        "morris", objective.label, problem, table, samples, y, ev.failures, handling, seed, settings, ev
    )


def sobol(
    objective: Objective,
    problem: Problem,
    n: int = 256,
    *,
    second_order: bool = False,
    seed: int = DEFAULT_SEED,
    num_resamples: int = 1000,
    **engine: Any,
) -> GlobalResult:
    """Sobol first-order and total indices (Saltelli/Jansen), optionally second order, with 95 % CIs."""
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    _check_output(problem, objective)
    n = positive_int("n (base samples)", n, 2)
    if n & (n - 1):
        raise InvalidValueError(f"Sobol needs n a power of 2 (Sobol' sequence balance), got {n}")
    spec = problem.salib()
    unit = sample.sample(spec, n, calc_second_order=second_order, seed=seed)
    samples, y, ev = _run(objective, problem, unit, "sobol", **engine)
    d = len(problem)
    keep, handling = _drop_blocks(y, 2 * d + 2 if second_order else d + 2, "Saltelli blocks")
    _require_variation(y[keep], objective.label)
    res = analyze.analyze(
        spec, y[keep], calc_second_order=second_order, num_resamples=num_resamples, seed=seed
    )
    table = _ranked(problem, res, ("S1", "S1_conf", "ST", "ST_conf"), by="ST")
    s2 = None
    if second_order:
        rows = [
            {
                "parameter_i": problem.names[i],
                "parameter_j": problem.names[j],
                "S2": res["S2"][i, j],
                "S2_conf": res["S2_conf"][i, j],
            }
            for i in range(d)
            for j in range(i + 1, d)
        ]
        s2 = pd.DataFrame(rows)
    settings = {
        "base_samples": n,
        "second_order": second_order,
        "num_resamples": num_resamples,
        "conf_level": 0.95,
        "scramble": True,
    }
    return GlobalResult(
        "sobol",
        objective.label,
        problem,
        table,
        samples,
        y,
        ev.failures,
        handling,
        seed,
        settings,
        ev,
        second_order=s2,
    )


def efast(
    objective: Objective,
    problem: Problem,
    n: int = 256,
    *,
    m: int = 4,
    seed: int = DEFAULT_SEED,
    num_resamples: int = 1000,
    **engine: Any,
) -> GlobalResult:
    """Extended FAST first-order and total indices (``n`` runs per parameter, interference factor ``m``)."""
    from SALib.analyze import fast as analyze
    from SALib.sample import fast_sampler as sample

    _check_output(problem, objective)
    n = positive_int("n (runs per parameter)", n, 4 * m * m + 1)
    spec = problem.salib()
    unit = sample.sample(spec, n, M=m, seed=seed)
    samples, y, ev = _run(objective, problem, unit, "efast", **engine)
    bad = ~np.isfinite(y)
    _require_variation(y, objective.label)
    analysed = y.copy()
    handling = "no failures"
    if bad.any():
        analysed[bad] = float(np.mean(y[~bad]))
        handling = (
            f"replaced {int(bad.sum())} failed output(s) of {len(y)} by the mean of the others "
            "(the eFAST design cannot drop points; indices are biased towards 0 by that share)"
        )
    with warnings.catch_warnings():
        # SALib 1.6 warns on every call that bootstrap CIs are unreliable for FAST (SALib#649); the
        # caveat is recorded in the result's settings instead.
        warnings.filterwarnings("ignore", message="FAST confidence intervals", category=UserWarning)
        res = analyze.analyze(spec, analysed, M=m, num_resamples=num_resamples, seed=seed)
    table = _ranked(problem, res, ("S1", "S1_conf", "ST", "ST_conf"), by="ST")
    settings = {
        "runs_per_parameter": n,
        "M": m,
        "num_resamples": num_resamples,
        "conf_level": 0.95,
        "ci_note": "bootstrap CIs are indicative only for eFAST (SALib#649)",
    }
    return GlobalResult(
        "efast", objective.label, problem, table, samples, y, ev.failures, handling, seed, settings, ev
    )


def run_global(
    method: Method, objective: Objective, problem: Problem, n: int | None = None, **kwargs: Any
) -> GlobalResult:
    """Dispatch by method name (``n``: trajectories for Morris, base samples for Sobol, runs per
    parameter for eFAST; defaults 10, 256, 256)."""
    if method == "morris":
        return morris(objective, problem, 10 if n is None else n, **kwargs)
    if method == "sobol":
        return sobol(objective, problem, 256 if n is None else n, **kwargs)
    if method == "efast":
        return efast(objective, problem, 256 if n is None else n, **kwargs)
    raise InvalidValueError(f"unknown method {method!r}; use morris, sobol or efast")
