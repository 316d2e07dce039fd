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

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from pybrainbone.errors import InvalidValueError, PyBrainBoneError, SimulationError
from pybrainbone.experiments.spec import Solver
from pybrainbone.options import SolverOptions
from pybrainbone.sensitivity.checkpoint import Checkpoint, fingerprint
from pybrainbone.sensitivity.executors import Engine, Evaluation, evaluate
from pybrainbone.sensitivity.objective import Objective
from pybrainbone.sensitivity.problem import Problem, positive_int
from pybrainbone.sensitivity.results import GlobalResult
from pybrainbone.simulator import Simulator

MethodName = Literal["morris", "sobol", "efast"]
DEFAULT_SEED = 20261124


class AnalysisFailed(SimulationError):
    """Nothing (or too little) to analyse, e.g. every sample failed; ``evaluation`` has the failures."""

    def __init__(self, message: str, evaluation: Evaluation) -> None:
        super().__init__(message)
        self.evaluation = evaluation


def check_seed(seed: object) -> int:
    """``seed`` as an int SALib and numpy accept (0 to 2**32 - 1), or a clear error."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**32:
        raise InvalidValueError(f"seed must be an integer from 0 to {2**32 - 1}, got {seed!r}")
    return int(seed)


def _check_output(problem: Problem, objective: Objective) -> None:
    if list(objective.names) != problem.names:
        raise InvalidValueError("the objective's parameters must be the problem's, in the same order")


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
    tight = objective.with_solver(Solver())
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
        raise SimulationError(f"every sample of {output} failed")
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


Options = Mapping[str, Any]


@dataclass(frozen=True)
class Analysis:
    """What a method's SALib analysis produced from the usable outputs."""

    indices: pd.DataFrame
    handling: str
    second_order: pd.DataFrame | None = None


@dataclass(frozen=True)
class AnalysisInput:
    """What a method's analysis reads: the SALib problem, unit samples, outputs (NaN where a sample
    failed), the method's options, the seed, the bootstrap size and the output's label."""

    spec: dict[str, Any]
    problem: Problem
    unit: np.ndarray
    y: np.ndarray
    options: Options
    seed: int
    num_resamples: int
    label: str


@dataclass(frozen=True)
class Method:
    """A global method as a value: its sample size rule, SALib sampler, failure handling and analysis.

    ``sample(spec, n, options, seed)`` gives unit samples; ``analyse`` turns an :class:`AnalysisInput`
    into an :class:`Analysis`.
    """

    name: MethodName
    n_meaning: str
    default_n: int
    defaults: Options
    check_n: Callable[[int, Options], int]
    sample: Callable[[dict[str, Any], int, Options, int], np.ndarray]
    analyse: Callable[[AnalysisInput], Analysis]
    settings: Callable[[int, Options], dict[str, Any]]


# ---- Morris ----------------------------------------------------------------------------------------
def _morris_sample(spec: dict[str, Any], n: int, options: Options, seed: int) -> np.ndarray:
    from SALib.sample import morris as sample

    return np.asarray(sample.sample(spec, n, num_levels=options["num_levels"], seed=seed))


def _morris_analyse(a: AnalysisInput) -> Analysis:
    from SALib.analyze import morris as analyze

    keep, handling = _drop_blocks(a.y, len(a.problem) + 1, "trajectories")
    _require_variation(a.y[keep], a.label)
    res = analyze.analyze(
        a.spec,
        a.unit[keep],
        a.y[keep],
        num_resamples=a.num_resamples,
        num_levels=a.options["num_levels"],
        seed=a.seed,
    )
    return Analysis(
        _ranked(a.problem, res, ("mu", "mu_star", "sigma", "mu_star_conf"), by="mu_star"), handling
    )


MORRIS = Method(
    name="morris",
    n_meaning="trajectories",
    default_n=10,
    defaults={"num_levels": 4},
    check_n=lambda n, _: positive_int("n (trajectories)", n, 2),
    sample=_morris_sample,
    analyse=_morris_analyse,
    settings=lambda n, o: {"trajectories": n, "num_levels": o["num_levels"]},
)


# ---- Sobol -----------------------------------------------------------------------------------------
def _sobol_n(n: int, _: Options) -> int:
    n = positive_int("n (base samples)", n, 2)
    if n & (n - 1):
        raise InvalidValueError(f"Sobol needs n a power of 2 (Sobol' sequence balance), got {n}")
    return n


def _sobol_sample(spec: dict[str, Any], n: int, options: Options, seed: int) -> np.ndarray:
    from SALib.sample import sobol as sample

    return np.asarray(sample.sample(spec, n, calc_second_order=options["second_order"], seed=seed))


def _sobol_analyse(a: AnalysisInput) -> Analysis:
    from SALib.analyze import sobol as analyze

    d, second = len(a.problem), bool(a.options["second_order"])
    keep, handling = _drop_blocks(a.y, 2 * d + 2 if second else d + 2, "Saltelli blocks")
    _require_variation(a.y[keep], a.label)
    res = analyze.analyze(
        a.spec, a.y[keep], calc_second_order=second, num_resamples=a.num_resamples, seed=a.seed
    )
    table = _ranked(a.problem, res, ("S1", "S1_conf", "ST", "ST_conf"), by="ST")
    if not second:
        return Analysis(table, handling)
    pairs = [
        {
            "parameter_i": a.problem.names[i],
            "parameter_j": a.problem.names[j],
            "S2": res["S2"][i, j],
            "S2_conf": res["S2_conf"][i, j],
        }
        for i in range(d)
        for j in range(i + 1, d)
    ]
    return Analysis(table, handling, pd.DataFrame(pairs))


SOBOL = Method(
    name="sobol",
    n_meaning="base samples",
    default_n=256,
    defaults={"second_order": False},
    check_n=_sobol_n,
    sample=_sobol_sample,
    analyse=_sobol_analyse,
    settings=lambda n, o: {"base_samples": n, "second_order": o["second_order"], "scramble": True},
)


# ---- eFAST -----------------------------------------------------------------------------------------
def _efast_sample(spec: dict[str, Any], n: int, options: Options, seed: int) -> np.ndarray:
    from SALib.sample import fast_sampler as sample

    return np.asarray(sample.sample(spec, n, M=options["m"], seed=seed))


def _efast_analyse(a: AnalysisInput) -> Analysis:
    from SALib.analyze import fast as analyze

    bad = ~np.isfinite(a.y)
    _require_variation(a.y, a.label)
    analysed = a.y.copy()
    handling = "no failures"
    if bad.any():
        # The eFAST frequency design cannot lose points: failed outputs become the mean of the others.
        analysed[bad] = float(np.mean(a.y[~bad]))
        handling = (
            f"replaced {int(bad.sum())} failed output(s) of {len(a.y)} by the mean of the others "
            "(the eFAST design cannot drop points; indices are biased towards 0 by that share)"
        )
    with warnings.catch_warnings():
        # SALib 1.6 warns on every call that bootstrap CIs are unreliable for FAST (SALib#649); the
        # caveat is recorded in the result's settings instead.
        warnings.filterwarnings("ignore", message="FAST confidence intervals", category=UserWarning)
        res = analyze.analyze(a.spec, analysed, M=a.options["m"], num_resamples=a.num_resamples, seed=a.seed)
    return Analysis(_ranked(a.problem, res, ("S1", "S1_conf", "ST", "ST_conf"), by="ST"), handling)


EFAST = Method(
    name="efast",
    n_meaning="runs per parameter",
    default_n=256,
    defaults={"m": 4},
    check_n=lambda n, o: positive_int("n (runs per parameter)", n, 4 * o["m"] * o["m"] + 1),
    sample=_efast_sample,
    analyse=_efast_analyse,
    settings=lambda n, o: {
        "runs_per_parameter": n,
        "M": o["m"],
        "ci_note": "bootstrap CIs are indicative only for eFAST (SALib#649)",
    },
)

METHODS: Mapping[str, Method] = {m.name: m for m in (MORRIS, SOBOL, EFAST)}


def _evaluate_with_checkpoint(
    objective: Objective,
    samples: np.ndarray,
    checkpoint: Checkpoint | None,
    settings: tuple[Any, ...],
    seed: int,
    **kwargs: Any,
) -> Evaluation:
    """:func:`evaluate`, recording finished samples in ``checkpoint`` (and skipping those it holds)."""
    if checkpoint is None:
        return evaluate(objective, samples, **kwargs)
    key = fingerprint(
        *settings,
        objective.label,
        list(objective.names),
        objective.experiment.model_dump(mode="json"),
        objective.model.digest,
    )
    done = checkpoint.begin(seed, key, samples)

    def record(start: int, values: np.ndarray, failed: list[tuple[int, str]]) -> None:
        checkpoint.record(start, values, failed, samples)

    try:
        return evaluate(objective, samples, done=done, record=record, **kwargs)
    finally:
        checkpoint.close()


def run_method(
    method: Method,
    objective: Objective,
    problem: Problem,
    n: int | None = None,
    *,
    seed: int = DEFAULT_SEED,
    num_resamples: int = 1000,
    engine: Engine | None = None,
    chunk_size: int | None = None,
    progress: bool = False,
    checkpoint: Checkpoint | None = None,
    **options: Any,
) -> GlobalResult:
    """Sample, evaluate on ``engine`` (results in sample order, failures recorded) and analyse.

    With a ``checkpoint``, finished samples are appended to its file as they arrive, and (when it
    resumes) samples it already holds are not run again. If every sample fails, or too few are left to
    analyse, :class:`AnalysisFailed` carries the evaluation (so its failures can still be written).
    """
    unknown = sorted(set(options) - set(method.defaults))
    if unknown:
        raise InvalidValueError(f"{method.name} has no option(s) {unknown}; known: {sorted(method.defaults)}")
    chosen = {**method.defaults, **options}
    _check_output(problem, objective)
    n = method.check_n(method.default_n if n is None else n, chosen)
    seed = check_seed(seed)
    num_resamples = positive_int("num_resamples", num_resamples, 1)
    spec = problem.salib()
    unit = method.sample(spec, n, chosen, seed)
    samples = problem.to_model_space(unit)
    settings = (method.name, n, chosen, problem.table())
    engine_options = {"engine": engine, "chunk_size": chunk_size, "progress": progress, "label": method.name}
    ev = _evaluate_with_checkpoint(objective, samples, checkpoint, settings, seed, **engine_options)
    check = tolerance_check(objective, samples, ev.values)
    if check is not None:
        ev = replace(ev, tolerance_check=check)
    y = ev.values[:, 0]
    try:
        analysis = method.analyse(
            AnalysisInput(spec, problem, unit, y, chosen, seed, num_resamples, objective.label)
        )
    except PyBrainBoneError as exc:
        raise AnalysisFailed(str(exc), ev) from None
    recorded = {**method.settings(n, chosen), "num_resamples": num_resamples, "conf_level": 0.95}
    return GlobalResult(
        method.name,
        objective.label,
        problem,
        analysis.indices,
        samples,
        y,
        ev.failures,
        analysis.handling,
        seed,
        recorded,
        ev,
        second_order=analysis.second_order,
    )


def morris(
    objective: Objective, problem: Problem, n: int = 10, *, num_levels: int = 4, **kwargs: Any
) -> GlobalResult:
    """Morris elementary effects: ``n`` trajectories of D+1 runs; mu*, sigma, mu* CI and rank."""
    return run_method(MORRIS, objective, problem, n, num_levels=num_levels, **kwargs)


def sobol(
    objective: Objective, problem: Problem, n: int = 256, *, second_order: bool = False, **kwargs: Any
) -> GlobalResult:
    """Sobol first-order and total indices (Saltelli/Jansen), optionally second order, with 95 % CIs."""
    return run_method(SOBOL, objective, problem, n, second_order=second_order, **kwargs)


def efast(objective: Objective, problem: Problem, n: int = 256, *, m: int = 4, **kwargs: Any) -> GlobalResult:
    """Extended FAST first-order and total indices (``n`` runs per parameter, interference factor ``m``)."""
    return run_method(EFAST, objective, problem, n, m=m, **kwargs)


def run_global(
    method: MethodName, objective: Objective, problem: Problem, n: int | None = None, **kwargs: Any
) -> GlobalResult:
    """Run the method called ``method`` (``n``: trajectories for Morris, base samples for Sobol, runs per
    parameter for eFAST; defaults 10, 256, 256)."""
    if method not in METHODS:
        raise InvalidValueError(f"unknown method {method!r}; use morris, sobol or efast")
    return run_method(METHODS[method], objective, problem, n, **kwargs)
