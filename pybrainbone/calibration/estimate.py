"""Multi-start maximum-likelihood estimation with pyPESTO, run through the project's engines.

Each start is one local optimisation (pyPESTO's ``ScipyOptimizer`` with L-BFGS-B, or fides with
finite-difference gradients and BFGS updates) of the :class:`~pybrainbone.calibration.likelihood.Likelihood`
on the log10 scale within the bounds. Starts are the samples of an ensemble: the serial, process and Dask
engines of :mod:`pybrainbone.sensitivity.executors` evaluate them (each worker builds its simulator once),
with the same progress bar, interruption handling and resumable partial-results file
(:class:`~pybrainbone.sensitivity.checkpoint.Checkpoint`) as the sensitivity analyses. The first start is
the nominal parameter vector, the others are drawn uniformly on the log10 scale within the bounds.

>>> import tempfile
>>> from pybrainbone.calibration import build_likelihood, write_synthetic_problem
>>> from pybrainbone.experiments.spec import load_experiment
>>> tmp = tempfile.TemporaryDirectory()
>>> problem = write_synthetic_problem(tmp.name)
>>> likelihood = build_likelihood([load_experiment(problem.spec)], ["D_OCp", "kout_BMD"], data=problem.data)
>>> fit = estimate(likelihood, starts=2, seed=1)
>>> {k: round(v, 4) for k, v in fit.estimates().items()}
{'D_OCp': 0.0032, 'kout_BMD': 0.0047}
>>> tmp.cleanup()
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from pybrainbone.build import CompiledModel
from pybrainbone.calibration.likelihood import CalibrationError, Likelihood
from pybrainbone.errors import InvalidValueError
from pybrainbone.sensitivity.checkpoint import Checkpoint, fingerprint
from pybrainbone.sensitivity.executors import Engine, Failure, SerialEngine, evaluate
from pybrainbone.sensitivity.objective import Objective
from pybrainbone.simulator import Simulator

__all__ = ["OPTIMIZERS", "Estimate", "MultiStart", "estimate", "pypesto_problem", "start_points"]

#: Local optimisers a start can use.
OPTIMIZERS = ("lbfgsb", "fides")
DEFAULT_SEED = 20261201


def pypesto_problem(likelihood: Likelihood, simulator: Simulator) -> Any:
    """The likelihood as a ``pypesto.Problem`` on the log10 scale (objective evaluated on ``simulator``).

    Examples
    --------
    >>> import tempfile
    >>> from pybrainbone.calibration import build_likelihood, write_synthetic_problem
    >>> from pybrainbone.experiments.spec import load_experiment
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     problem = write_synthetic_problem(folder)
    ...     likelihood = build_likelihood([load_experiment(problem.spec)], ["D_OCp"], data=problem.data)
    >>> problem = pypesto_problem(likelihood, Simulator("bone_remodeling"))
    >>> problem.x_names, problem.lb.round(3).tolist()
    (['D_OCp'], [-3.678])
    """
    import pypesto

    lower, upper = likelihood.bounds()
    objective = pypesto.Objective(fun=lambda x: likelihood.nll(simulator, np.asarray(x)))
    return pypesto.Problem(objective, lower, upper, x_names=list(likelihood.names))


def _optimizer(name: str, max_evaluations: int) -> Any:
    import pypesto.optimize

    if name == "fides":
        import fides

        return pypesto.optimize.FidesOptimizer(
            hessian_update=fides.BFGS(), options={"maxiter": max_evaluations}, verbose=0
        )
    return pypesto.optimize.ScipyOptimizer(method="L-BFGS-B", options={"maxfun": max_evaluations})


@dataclass(frozen=True)
class MultiStart:
    """One local optimisation per start, as an engine objective: a start's row is
    ``[nll, evaluations, converged, *x]`` (x on the log10 scale).

    Examples
    --------
    >>> import tempfile
    >>> from pybrainbone.calibration import build_likelihood, write_synthetic_problem
    >>> from pybrainbone.experiments.spec import load_experiment
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     problem = write_synthetic_problem(folder)
    ...     likelihood = build_likelihood([load_experiment(problem.spec)], ["D_OCp"], data=problem.data)
    >>> runner = MultiStart(likelihood)
    >>> runner.width, runner.names
    (4, ('D_OCp',))
    """

    likelihood: Likelihood
    optimizer: str = "lbfgsb"
    max_evaluations: int = 500

    @property
    def model(self) -> CompiledModel:
        """The compiled model every worker loads.

        Examples
        --------
        >>> MultiStart.model.__doc__.split()[0]
        'The'
        """
        return self.likelihood.model

    @property
    def names(self) -> tuple[str, ...]:
        """The estimated parameters (the columns of a start).

        Examples
        --------
        >>> MultiStart.names.__doc__.split()[:2]
        ['The', 'estimated']
        """
        return self.likelihood.names

    @property
    def width(self) -> int:
        """Numbers per start: NLL, evaluations, converged flag and the optimum.

        Examples
        --------
        >>> MultiStart.width.__doc__.split()[0]
        'Numbers'
        """
        return 3 + len(self.likelihood.parameters)

    def evaluate(self, simulator: Simulator, values: np.ndarray) -> np.ndarray:
        """Optimise from the start ``values`` (log10) and return its row.

        Examples
        --------
        >>> import tempfile
        >>> from pybrainbone.calibration import build_likelihood, write_synthetic_problem
        >>> from pybrainbone.experiments.spec import load_experiment
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     problem = write_synthetic_problem(folder)
        ...     likelihood = build_likelihood([load_experiment(problem.spec)], ["D_OCp"], data=problem.data)
        >>> row = MultiStart(likelihood).evaluate(Simulator("bone_remodeling"), likelihood.nominal())
        >>> round(float(10 ** row[3]), 4), bool(row[2])
        (0.0031, True)
        """
        problem = pypesto_problem(self.likelihood, simulator)
        result = _optimizer(self.optimizer, self.max_evaluations).minimize(
            problem, x0=np.asarray(values, dtype=float), id="0"
        )
        fval = float(result.fval) if result.fval is not None else math.inf
        x = np.asarray(result.x if result.x is not None else values, dtype=float)
        ok = bool(result.exitflag is not None and result.exitflag >= 0 and math.isfinite(fval))
        return np.array([fval, float(result.n_fval or 0), float(ok), *x])


def start_points(
    likelihood: Likelihood, starts: int, seed: int = DEFAULT_SEED, first: np.ndarray | None = None
) -> np.ndarray:
    """``starts`` start vectors (log10): ``first`` (default: nominal), then uniform within the bounds.

    Examples
    --------
    >>> import tempfile
    >>> from pybrainbone.calibration import build_likelihood, write_synthetic_problem
    >>> from pybrainbone.experiments.spec import load_experiment
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     problem = write_synthetic_problem(folder)
    ...     likelihood = build_likelihood([load_experiment(problem.spec)], ["D_OCp"], data=problem.data)
    >>> points = start_points(likelihood, 3, seed=1)
    >>> points.shape, bool(points[0, 0] == likelihood.nominal()[0])
    ((3, 1), True)
    >>> start_points(likelihood, 1, first=np.array([-2.5]))
    array([[-2.5]])
    """
    if isinstance(starts, bool) or not isinstance(starts, int) or starts < 1:
        raise InvalidValueError(f"the number of starts must be an integer >= 1, got {starts!r}")
    lower, upper = likelihood.bounds()
    if first is None:
        first = likelihood.nominal()
    first = np.asarray(first, dtype=float)
    if first.shape != lower.shape or not np.all((lower <= first) & (first <= upper)):
        raise InvalidValueError(f"the first start {first.tolist()} is not a log10 vector within the bounds")
    rng = np.random.default_rng(seed)
    drawn = lower + (upper - lower) * rng.random((starts - 1, len(lower)))
    return np.vstack([first[None, :], drawn])


@dataclass(frozen=True)
class Estimate:
    """Every start's result; the best one is the estimate.

    Examples
    --------
    >>> fit = Estimate(("k",), np.zeros((2, 1)), np.array([[3.0, 10, 1, 0.5], [2.0, 12, 1, 0.1]]), [],
    ...                "serial", 1, 0.5, 1, "lbfgsb")
    >>> fit.best, fit.estimates()
    (1, {'k': 1.2589254117941673})
    """

    names: tuple[str, ...]
    starts: np.ndarray
    rows: np.ndarray
    failures: list[Failure]
    engine: str
    workers: int
    seconds: float
    seed: int
    optimizer: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def fvals(self) -> np.ndarray:
        """The NLL reached by every start (NaN where a start failed).

        Examples
        --------
        >>> Estimate(("k",), np.zeros((1, 1)), np.array([[3.0, 10, 1, 0.5]]), [], "serial", 1, 0.5, 1,
        ...          "lbfgsb").fvals.tolist()
        [3.0]
        """
        return np.asarray(self.rows[:, 0], dtype=float)

    @property
    def best(self) -> int:
        """Index of the start with the lowest NLL.

        Examples
        --------
        >>> Estimate(("k",), np.zeros((2, 1)), np.array([[3.0, 1, 1, 0.5], [np.nan, 0, 0, 0]]), [],
        ...          "serial", 1, 0.5, 1, "lbfgsb").best
        0
        """
        finite = np.where(np.isfinite(self.fvals), self.fvals, np.inf)
        if not np.isfinite(finite).any():
            raise CalibrationError("every start failed; see the failures for why")
        return int(np.argmin(finite))

    @property
    def x(self) -> np.ndarray:
        """The best start's optimum (log10).

        Examples
        --------
        >>> Estimate(("k",), np.zeros((1, 1)), np.array([[3.0, 10, 1, 0.5]]), [], "serial", 1, 0.5, 1,
        ...          "lbfgsb").x.tolist()
        [0.5]
        """
        return np.asarray(self.rows[self.best, 3:], dtype=float)

    def estimates(self) -> dict[str, float]:
        """The estimated values (model units).

        Examples
        --------
        >>> Estimate(("k",), np.zeros((1, 1)), np.array([[3.0, 10, 1, 1.0]]), [], "serial", 1, 0.5, 1,
        ...          "lbfgsb").estimates()
        {'k': 10.0}
        """
        return {n: float(10.0**v) for n, v in zip(self.names, self.x, strict=True)}

    def table(self) -> pd.DataFrame:
        """One row per start, best first: NLL, evaluations, converged, start and optimum (log10).

        Examples
        --------
        >>> fit = Estimate(("k",), np.array([[0.0], [1.0]]), np.array([[3.0, 10, 1, 0.5], [2.0, 12, 1, 0.1]]),
        ...                [], "serial", 1, 0.5, 1, "lbfgsb")
        >>> fit.table()[["start", "nll", "log10_k"]].values.tolist()
        [[1.0, 2.0, 0.1], [0.0, 3.0, 0.5]]
        """
        frame = pd.DataFrame({"start": np.arange(len(self.rows)), "nll": self.fvals})
        frame["evaluations"] = self.rows[:, 1].astype(int)
        frame["converged"] = self.rows[:, 2] > 0
        for k, name in enumerate(self.names):
            frame[f"start_log10_{name}"] = self.starts[:, k]
            frame[f"log10_{name}"] = self.rows[:, 3 + k]
        return frame.sort_values("nll", na_position="last").reset_index(drop=True)

    def summary(self) -> dict[str, Any]:
        """JSON-ready: estimates, best NLL, starts, engine, seconds and failures.

        Examples
        --------
        >>> fit = Estimate(("k",), np.zeros((1, 1)), np.array([[3.0, 10, 1, 1.0]]), [], "serial", 1, 0.5,
        ...                1, "lbfgsb")
        >>> fit.summary()["estimates"], fit.summary()["nll"]
        ({'k': 10.0}, 3.0)
        """
        return {
            "estimates": self.estimates(),
            "log10_estimates": dict(zip(self.names, map(float, self.x), strict=True)),
            "nll": float(self.fvals[self.best]),
            "starts": len(self.rows),
            "converged": int((self.rows[:, 2] > 0).sum()),
            "optimizer": self.optimizer,
            "engine": self.engine,
            "workers": self.workers,
            "seconds": round(self.seconds, 3),
            "seed": self.seed,
            "failures": [f.as_dict() for f in self.failures],
            **self.extra,
        }


def estimate(  # long: arguments checked, then one resumable ensemble and its result
    likelihood: Likelihood,
    starts: int = 10,
    *,
    engine: Engine | None = None,
    optimizer: str = "lbfgsb",
    max_evaluations: int = 500,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
    checkpoint: Checkpoint | None = None,
    first: np.ndarray | None = None,
) -> Estimate:
    """Optimise from ``starts`` start points on ``engine`` (default serial) and return every result.

    The first start is ``first`` (log10; e.g. the best point of a likelihood grid) or the nominal values.

    With a ``checkpoint``, finished starts are appended to its file as they arrive and starts it already
    holds (from an interrupted run of the same problem, seed and settings) are not run again.

    Examples
    --------
    >>> import tempfile
    >>> from pybrainbone.calibration import build_likelihood, write_synthetic_problem
    >>> from pybrainbone.experiments.spec import load_experiment
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     problem = write_synthetic_problem(folder)
    ...     likelihood = build_likelihood([load_experiment(problem.spec)], ["D_OCp"], data=problem.data)
    >>> fit = estimate(likelihood, starts=2, seed=1)
    >>> round(fit.estimates()["D_OCp"], 4), fit.engine, len(fit.table())
    (0.0031, 'serial', 2)
    >>> estimate(likelihood, optimizer="nelder-mead")
    Traceback (most recent call last):
    ...
    pybrainbone.errors.InvalidValueError: unknown optimizer 'nelder-mead'; choose lbfgsb or fides
    """
    if optimizer not in OPTIMIZERS:
        raise InvalidValueError(f"unknown optimizer {optimizer!r}; choose {' or '.join(OPTIMIZERS)}")
    if not likelihood.parameters:
        raise CalibrationError("no parameters to estimate; name them with --parameters")
    if not likelihood.observations:
        raise CalibrationError("no measurements to fit: every linked row is held back")
    if isinstance(max_evaluations, bool) or not isinstance(max_evaluations, int) or max_evaluations < 1:
        raise InvalidValueError(f"max_evaluations must be an integer >= 1, got {max_evaluations!r}")
    samples = start_points(likelihood, starts, seed, first)
    runner = MultiStart(likelihood, optimizer, max_evaluations)
    engine = engine or SerialEngine()
    done: dict[int, tuple[np.ndarray, str | None]] = {}
    record = None
    if checkpoint is not None:
        key = fingerprint("calibrate", optimizer, max_evaluations, likelihood.model.digest,
                          [(p.name, p.lower, p.upper, p.prior) for p in likelihood.parameters],
                          [(o.label, o.mean, o.sigma) for o in likelihood.observations],
                          [t.plan.experiment.model_dump(mode="json") for t in likelihood.terms])  # fmt: skip
        done = checkpoint.begin(seed, key, samples)

        def record(start: int, values: np.ndarray, failed: list[tuple[int, str]]) -> None:
            checkpoint.record(start, values, failed, samples)

    started = time.perf_counter()
    # The engines use only an objective's model, names, width and evaluate(); MultiStart has all four.
    evaluation = evaluate(
        cast(Objective, runner), samples, engine, chunk_size=1, progress=progress, label="starts",
        done=done, record=record,
    )  # fmt: skip
    return Estimate(
        likelihood.names,
        samples,
        evaluation.values,
        evaluation.failures,
        engine.name,
        engine.size(),
        time.perf_counter() - started,
        seed,
        optimizer,
        {"resumed_starts": len(done)},
    )
