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
    """Nothing (or too little) to analyse, e.g. every sample failed; ``evaluation`` has the failures.

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
    >>> objective = make_objective(exp, "same", ["D_OCp", "A_OCa"])
    >>> problem = derive_problem(objective.nominal, objective.names, relative=0.2)
    >>> try:
    ...     morris(objective, problem, n=2, engine=SerialEngine())
    ... except AnalysisFailed as exc:
    ...     print(exc, len(exc.evaluation.values))
    pth:same does not vary over the sampled ranges; no sensitivity to analyse 6
    """

    def __init__(self, message: str, evaluation: Evaluation) -> None:
        super().__init__(message)
        self.evaluation = evaluation


def check_seed(seed: object) -> int:
    """``seed`` as an int SALib and numpy accept (0 to 2**32 - 1), or a clear error.

    Examples
    --------
    >>> check_seed(20261124)
    20261124
    >>> check_seed(-1)
    Traceback (most recent call last):
    ...
    pybrainbone.errors.InvalidValueError: seed must be an integer from 0 to 4294967295, got -1
    """
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
    >>> objective = make_objective(exp, "dCTX@365", ["D_OCp", "A_OCa"])
    >>> from pybrainbone.experiments.spec import Solver
    >>> from pybrainbone.sensitivity.executors import SerialEngine, evaluate
    >>> loose = objective.with_solver(Solver(relative_tolerance=1e-5))
    >>> samples = np.array([[0.0021, 0.7], [0.0042, 0.7]])
    >>> check = tolerance_check(loose, samples, evaluate(loose, samples, SerialEngine()).values)
    >>> check["samples"], check["max_rel_difference"] < 1e-3
    (2.0, True)
    >>> tolerance_check(objective, samples, evaluate(objective, samples, SerialEngine()).values) is None
    True
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
    """What a method's SALib analysis produced from the usable outputs.

    Examples
    --------
    >>> from pybrainbone.sensitivity.problem import derive_problem
    >>> problem = derive_problem({"a": 1.0, "b": 1.0}, relative=0.5)
    >>> spec = problem.salib()
    >>> unit = MORRIS.sample(spec, 4, MORRIS.defaults, 1)  # 4 trajectories of 3 points
    >>> y = 3 * unit[:, 0] + 0.1 * unit[:, 1]  # a closed-form output: a matters, b barely
    >>> analysis = MORRIS.analyse(AnalysisInput(spec, problem, unit, y, MORRIS.defaults, 1, 100, "y"))
    >>> analysis.indices[["parameter", "mu_star", "rank"]].round(2).values.tolist(), analysis.handling
    ([['a', 3.0, 1], ['b', 0.1, 2]], 'no failures')
    """

    indices: pd.DataFrame
    handling: str
    second_order: pd.DataFrame | None = None


@dataclass(frozen=True)
class AnalysisInput:
    """What a method's analysis reads: the SALib problem, unit samples, outputs (NaN where a sample
    failed), the method's options, the seed, the bootstrap size and the output's label.

    Examples
    --------
    >>> from pybrainbone.sensitivity.problem import derive_problem
    >>> problem = derive_problem({"a": 1.0, "b": 1.0}, relative=0.5)
    >>> spec = problem.salib()
    >>> unit = MORRIS.sample(spec, 4, MORRIS.defaults, 1)  # 4 trajectories of 3 points
    >>> y = 3 * unit[:, 0] + 0.1 * unit[:, 1]  # a closed-form output: a matters, b barely
    >>> y[0] = np.nan  # one failed sample: Morris drops its trajectory
    >>> analysis = MORRIS.analyse(AnalysisInput(spec, problem, unit, y, MORRIS.defaults, 1, 100, "y"))
    >>> analysis.handling
    'dropped 1 of 4 trajectories containing a failed sample'
    """

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

    Examples
    --------
    >>> from pybrainbone.sensitivity.problem import derive_problem
    >>> [(m.name, m.default_n, m.n_meaning) for m in METHODS.values()]
    [('morris', 10, 'trajectories'), ('sobol', 256, 'base samples'), ('efast', 256, 'runs per parameter')]
    >>> SOBOL.check_n(100, SOBOL.defaults)
    Traceback (most recent call last):
    ...
    pybrainbone.errors.InvalidValueError: Sobol needs n a power of 2 (Sobol' sequence balance), got 100
    >>> problem = derive_problem({"a": 1.0, "b": 1.0}, relative=0.5)
    >>> SOBOL.sample(problem.salib(), 8, SOBOL.defaults, 1).shape  # 8 x (2 + 2) runs
    (32, 2)
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
    >>> result = run_method(MORRIS, objective, problem, 4, engine=SerialEngine(), seed=1)
    >>> result.indices[["parameter", "rank"]].values.tolist()
    [['A_OCa', 1], ['D_OCp', 2]]
    >>> run_method(MORRIS, objective, problem, 4, engine=SerialEngine(), levels=6)
    Traceback (most recent call last):
    ...
    pybrainbone.errors.InvalidValueError: morris has no option(s) ['levels']; known: ['num_levels']
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
    """Morris elementary effects: ``n`` trajectories of D+1 runs; mu*, sigma, mu* CI and rank.

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
    >>> result = morris(objective, problem, n=4, engine=SerialEngine(), seed=1)
    >>> result.indices.round(3)
      parameter     mu  mu_star  sigma  mu_star_conf  rank
    0     A_OCa  0.619    0.619  0.075         0.061     1
    1     D_OCp -0.581    0.581  0.119         0.100     2
    """
    return run_method(MORRIS, objective, problem, n, num_levels=num_levels, **kwargs)


def sobol(
    objective: Objective, problem: Problem, n: int = 256, *, second_order: bool = False, **kwargs: Any
) -> GlobalResult:
    """Sobol first-order and total indices (Saltelli/Jansen), optionally second order, with 95 % CIs.

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
    >>> result = sobol(objective, problem, n=8, engine=SerialEngine(), seed=1)
    >>> len(result.samples), list(result.indices.columns)
    (32, ['parameter', 'S1', 'S1_conf', 'ST', 'ST_conf', 'rank'])
    >>> result.indices[["parameter", "rank"]].values.tolist()
    [['D_OCp', 1], ['A_OCa', 2]]
    """
    return run_method(SOBOL, objective, problem, n, second_order=second_order, **kwargs)


def efast(objective: Objective, problem: Problem, n: int = 256, *, m: int = 4, **kwargs: Any) -> GlobalResult:
    """Extended FAST first-order and total indices (``n`` runs per parameter, interference factor ``m``).

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
    >>> result = efast(objective, problem, n=65, engine=SerialEngine(), seed=1)
    >>> len(result.samples), result.settings["M"]
    (130, 4)
    >>> result.indices[["parameter", "rank"]].values.tolist()
    [['D_OCp', 1], ['A_OCa', 2]]
    """
    return run_method(EFAST, objective, problem, n, m=m, **kwargs)


def run_global(
    method: MethodName, objective: Objective, problem: Problem, n: int | None = None, **kwargs: Any
) -> GlobalResult:
    """Run the method called ``method`` (``n``: trajectories for Morris, base samples for Sobol, runs per
    parameter for eFAST; defaults 10, 256, 256).

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
    >>> result = run_global("morris", objective, problem, 4, engine=SerialEngine(), seed=1)
    >>> result.method, len(result.samples)
    ('morris', 12)
    >>> run_global("fast", objective, problem)
    Traceback (most recent call last):
    ...
    pybrainbone.errors.InvalidValueError: unknown method 'fast'; use morris, sobol or efast
    """
    if method not in METHODS:
        raise InvalidValueError(f"unknown method {method!r}; use morris, sobol or efast")
    return run_method(METHODS[method], objective, problem, n, **kwargs)
