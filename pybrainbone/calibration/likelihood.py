"""The calibration objective: a Gaussian negative log-likelihood of the measurements that specs link to.

Each spec's ``measurements:`` links a data generator to rows of the curated dataset (``data/``; see
:mod:`pybrainbone.measurements`). :func:`build_likelihood` resolves every link once: the rows, their model
times (``time_offset`` + the row's time in days, which must fall on the spec's output grid, so no value is
interpolated) and their noise (the standard error derived from the row's spread, or the link's ``sigma``).
:class:`Likelihood` then maps a vector of log10 parameter values to

    NLL(θ) = Σ_i ½ log(2π sigma_i²) + ½ ((y_i(θ) - m_i) / sigma_i)²,

where y_i is the data generator, transformed as the link says, on the spec's plan with θ applied as the
sample (step 3 of :mod:`pybrainbone.experiments.plan`): exactly what PEtab's ``normal`` noise model and
pyPESTO compute, constant included. Parameters with a literature prior (``data/priors.yaml``,
:mod:`pybrainbone.calibration.priors`) add its normal log density on the log10 scale, so the objective is
then the negative log posterior. A Likelihood holds only picklable data, so engines ship it to workers.

Rows that are held back (a link's ``held_back: true``, or the study's in ``studies.yaml``) are resolved
the same way but kept apart in :attr:`Likelihood.predictions`: they never enter the NLL (so no estimate,
profile or variant comparison sees them) and are only predicted (:meth:`Likelihood.predict_held_back`,
:mod:`pybrainbone.calibration.predictions`).

>>> from pybrainbone.calibration.likelihood import parse_parameters
>>> [(p.name, p.lower, p.upper) for p in parse_parameters(["A_OCa=0.1:5"], {"A_OCa": 0.7})]
[('A_OCa', 0.1, 5.0)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pybrainbone.build import CompiledModel
from pybrainbone.calibration.priors import PRIORS_FILE, Prior, load_priors
from pybrainbone.errors import InvalidValueError, PyBrainBoneError, SimulationError, near_matches
from pybrainbone.experiments.expressions import ExpressionError, parse_expression
from pybrainbone.experiments.plan import Plan, StartStates, execute
from pybrainbone.experiments.runner import Runner
from pybrainbone.experiments.spec import Experiment, MeasurementLink, UniformTimeCourse
from pybrainbone.measurements import Dataset, Measurement, data_dir, load_datasets
from pybrainbone.sensitivity.objective import arm_set_parameters, experiment_nominal
from pybrainbone.simulator import Simulator

__all__ = [
    "CalibrationError",
    "EstimatedParameter",
    "Likelihood",
    "Observation",
    "build_likelihood",
    "chi_square",
    "parse_parameters",
    "transformed",
]

#: Default bounds of an estimated parameter: its nominal value divided and multiplied by this.
DEFAULT_FOLD = 10.0


class CalibrationError(PyBrainBoneError):
    """A calibration problem that cannot be set up: bad bounds, unusable links or measurements.

    Examples
    --------
    >>> parse_parameters(["A_OCa=1:5"], {"A_OCa": 0.7})
    Traceback (most recent call last):
    ...
    pybrainbone.calibration.likelihood.CalibrationError: parameter A_OCa: bounds [1, 5] exclude its nominal
    value 0.7
    """


@dataclass(frozen=True)
class EstimatedParameter:
    """A parameter to estimate: estimated as log10 of its value, within ``lower`` .. ``upper``.

    Examples
    --------
    >>> p = EstimatedParameter("A_OCa", 0.07, 7.0, 0.7)
    >>> [round(v, 6) for v in (p.log_lower, p.log_upper, p.log_nominal)]
    [-1.154902, 0.845098, -0.154902]
    """

    name: str
    lower: float
    upper: float
    nominal: float
    #: A literature prior on log10 of the value (None: uniform within the bounds).
    prior: Prior | None = None

    @property
    def log_lower(self) -> float:
        """log10 of the lower bound.

        Examples
        --------
        >>> EstimatedParameter("k", 0.1, 10.0, 1.0).log_lower
        -1.0
        """
        return math.log10(self.lower)

    @property
    def log_upper(self) -> float:
        """log10 of the upper bound.

        Examples
        --------
        >>> EstimatedParameter("k", 0.1, 10.0, 1.0).log_upper
        1.0
        """
        return math.log10(self.upper)

    @property
    def log_nominal(self) -> float:
        """log10 of the nominal value.

        Examples
        --------
        >>> EstimatedParameter("k", 0.1, 10.0, 1.0).log_nominal
        0.0
        """
        return math.log10(self.nominal)


def _bound(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise CalibrationError(f"parameter {name}: bound {text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise CalibrationError(f"parameter {name}: bounds must be positive finite numbers (log10 scale)")
    return value


def parse_parameters(items: Sequence[str], nominal: Mapping[str, float]) -> list[EstimatedParameter]:
    """``NAME`` or ``NAME=LOW:HIGH`` items as parameters (default bounds nominal/10 .. nominal*10).

    Examples
    --------
    >>> [(p.name, round(p.lower, 9), p.upper) for p in parse_parameters(["A_OCa"], {"A_OCa": 0.7})]
    [('A_OCa', 0.07, 7.0)]
    >>> parse_parameters(["A_OCa=0:5"], {"A_OCa": 0.7})
    Traceback (most recent call last):
    ...
    pybrainbone.calibration.likelihood.CalibrationError: parameter A_OCa: bounds must be positive finite
    numbers (log10 scale)
    """
    chosen: list[EstimatedParameter] = []
    for item in items:
        name, sep, bounds = item.strip().partition("=")
        if name not in nominal:
            close = near_matches(name, nominal)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise CalibrationError(f"unknown parameter {name!r}{hint}")
        if name in {p.name for p in chosen}:
            raise CalibrationError(f"parameter {name} is given twice")
        value = float(nominal[name])
        if not value > 0:
            raise CalibrationError(
                f"parameter {name}: nominal value {value:g} is not positive, so it cannot be estimated "
                "on a log10 scale"
            )
        if sep:
            low_text, colon, high_text = bounds.partition(":")
            if not colon:
                raise CalibrationError(f"parameter {name}: write bounds as NAME=LOW:HIGH, got {item!r}")
            low, high = _bound(low_text, name), _bound(high_text, name)
        else:
            low, high = value / DEFAULT_FOLD, value * DEFAULT_FOLD
        if not low < value < high:
            raise CalibrationError(
                f"parameter {name}: bounds [{low:g}, {high:g}] exclude its nominal value {value:g}"
            )
        chosen.append(EstimatedParameter(name, low, high, value))
    return chosen


@dataclass(frozen=True)
class Observation:
    """One measurement row as the likelihood uses it: its model time, grid index and noise.

    Examples
    --------
    >>> Observation("fit", 0, "s1", "CTX", "a", "percent", 30.0, 3, 5.0, 1.0, "s1.csv:2").label
    'fit:s1:CTX:a@30'
    """

    experiment: str
    link: int
    dataset: str
    observable: str
    condition: str
    unit: str
    time: float
    index: int
    mean: float
    sigma: float
    where: str
    held_back: bool = False

    @property
    def label(self) -> str:
        """``experiment:dataset:observable:condition@time`` (model days).

        Examples
        --------
        >>> Observation("fit", 0, "s1", "CTX", "a", "percent", 30.0, 3, 5.0, 1.0, "s1.csv:2").label
        'fit:s1:CTX:a@30'
        """
        return f"{self.experiment}:{self.dataset}:{self.observable}:{self.condition}@{self.time:g}"


@dataclass(frozen=True)
class Term:
    """One spec's share of the likelihood: its plan (the arms its links read) and its links."""

    plan: Plan
    links: tuple[MeasurementLink, ...]
    #: For each link: the grid index of ``time_offset`` (used by ``change`` and ``percent_change``).
    offsets: tuple[int, ...]
    #: For each link: the observations (indices into :attr:`Likelihood.observations`) it produces.
    rows: tuple[tuple[int, ...], ...]
    #: For each link: its held-back rows (indices into :attr:`Likelihood.predictions`).
    held: tuple[tuple[int, ...], ...] = ()

    def expression(self, link: MeasurementLink) -> str:
        """The expression of ``link``'s data generator."""
        return next(d.expression for d in self.plan.experiment.data_generators if d.id == link.data_generator)


def transformed(values: np.ndarray, link: MeasurementLink, offset: int) -> np.ndarray:
    """A data generator's values on the grid as the link compares them (identity, change, percent change).

    Examples
    --------
    >>> link = MeasurementLink(data_generator="d", dataset="s", observable="CTX", condition="a",
    ...                        transform="percent_change", time_offset=1.0)
    >>> transformed(np.array([2.0, 4.0, 5.0]), link, 1).tolist()
    [-50.0, 0.0, 25.0]
    """
    if link.transform == "change":
        return np.asarray(values - values[offset], dtype=float)
    if link.transform == "percent_change":
        return np.asarray(100.0 * (values / values[offset] - 1.0), dtype=float)
    return values


@dataclass(frozen=True)
class Likelihood:
    """The negative log-likelihood of every linked measurement as a function of log10 parameter values.

    Examples
    --------
    >>> import tempfile
    >>> from pybrainbone.calibration.synthetic import write_synthetic_problem
    >>> from pybrainbone.experiments.spec import load_experiment
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     problem = write_synthetic_problem(folder)
    ...     spec = load_experiment(problem.spec)
    ...     likelihood = build_likelihood([spec], ["D_OCp", "kout_BMD"], data=problem.data)
    >>> round(likelihood.nll(Simulator("bone_remodeling"), likelihood.nominal()), 1)
    814.5
    """

    model: CompiledModel
    parameters: tuple[EstimatedParameter, ...]
    terms: tuple[Term, ...]
    observations: tuple[Observation, ...]
    #: Held-back rows: predicted, never fitted.
    predictions: tuple[Observation, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """The estimated parameters' names, in vector order.

        Examples
        --------
        >>> import tempfile
        >>> from pybrainbone.calibration.synthetic import write_synthetic_problem
        >>> from pybrainbone.experiments.spec import load_experiment
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     problem = write_synthetic_problem(folder)
        ...     spec = load_experiment(problem.spec)
        ...     likelihood = build_likelihood([spec], ["D_OCp", "kout_BMD"], data=problem.data)
        >>> likelihood.names
        ('D_OCp', 'kout_BMD')
        """
        return tuple(p.name for p in self.parameters)

    @property
    def width(self) -> int:
        """One number per evaluation (the NLL), as the engines expect of an objective.

        Examples
        --------
        >>> import tempfile
        >>> from pybrainbone.calibration.synthetic import write_synthetic_problem
        >>> from pybrainbone.experiments.spec import load_experiment
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     problem = write_synthetic_problem(folder)
        ...     spec = load_experiment(problem.spec)
        ...     likelihood = build_likelihood([spec], ["D_OCp", "kout_BMD"], data=problem.data)
        >>> likelihood.width
        1
        """
        return 1

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds on the log10 scale.

        Examples
        --------
        >>> import tempfile
        >>> from pybrainbone.calibration.synthetic import write_synthetic_problem
        >>> from pybrainbone.experiments.spec import load_experiment
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     problem = write_synthetic_problem(folder)
        ...     spec = load_experiment(problem.spec)
        ...     likelihood = build_likelihood([spec], ["D_OCp", "kout_BMD"], data=problem.data)
        >>> [b.round(3).tolist() for b in likelihood.bounds()]
        [[-3.678, -3.021], [-1.678, -1.021]]
        """
        return (
            np.array([p.log_lower for p in self.parameters]),
            np.array([p.log_upper for p in self.parameters]),
        )

    def nominal(self) -> np.ndarray:
        """The nominal values on the log10 scale.

        Examples
        --------
        >>> import tempfile
        >>> from pybrainbone.calibration.synthetic import write_synthetic_problem
        >>> from pybrainbone.experiments.spec import load_experiment
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     problem = write_synthetic_problem(folder)
        ...     spec = load_experiment(problem.spec)
        ...     likelihood = build_likelihood([spec], ["D_OCp", "kout_BMD"], data=problem.data)
        >>> likelihood.nominal().round(3).tolist()
        [-2.678, -2.021]
        """
        return np.array([p.log_nominal for p in self.parameters])

    def sample(self, x: np.ndarray) -> dict[str, float]:
        """The parameter changes of the log10 vector ``x`` (model units).

        Examples
        --------
        >>> import tempfile
        >>> from pybrainbone.calibration.synthetic import write_synthetic_problem
        >>> from pybrainbone.experiments.spec import load_experiment
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     problem = write_synthetic_problem(folder)
        ...     spec = load_experiment(problem.spec)
        ...     likelihood = build_likelihood([spec], ["D_OCp", "kout_BMD"], data=problem.data)
        >>> likelihood.sample(np.array([-3.0, -2.0]))
        {'D_OCp': 0.001, 'kout_BMD': 0.01}
        """
        values = np.asarray(x, dtype=float)
        if values.shape != (len(self.parameters),) or not np.all(np.isfinite(values)):
            raise InvalidValueError(f"expected {len(self.parameters)} finite log10 values, got {values!r}")
        return {p.name: float(10.0**v) for p, v in zip(self.parameters, values, strict=True)}

    def predict(self, simulator: Simulator, x: np.ndarray) -> np.ndarray:
        """The model's value of every observation at ``x`` (raises SimulationError if a run fails).

        Examples
        --------
        >>> import tempfile
        >>> from pybrainbone.calibration.synthetic import write_synthetic_problem
        >>> from pybrainbone.experiments.spec import load_experiment
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     problem = write_synthetic_problem(folder)
        ...     spec = load_experiment(problem.spec)
        ...     likelihood = build_likelihood([spec], ["D_OCp", "kout_BMD"], data=problem.data)
        >>> values = likelihood.predict(Simulator("bone_remodeling"), likelihood.nominal())
        >>> len(values), round(float(values[0]), 3)  # CTX ratio one month into the PTH infusion
        (24, 1.182)
        """
        return self._evaluate(simulator, x, held=False)

    def predict_held_back(self, simulator: Simulator, x: np.ndarray) -> np.ndarray:
        """The model's value of every held-back row (:attr:`predictions`) at ``x``.

        Examples
        --------
        >>> import tempfile
        >>> from pybrainbone.calibration.synthetic import write_synthetic_problem
        >>> from pybrainbone.experiments.spec import load_experiment
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     problem = write_synthetic_problem(folder)
        ...     spec = load_experiment(problem.spec)
        ...     bmd = spec.measurements[1].model_copy(update={"held_back": True})
        ...     spec = spec.model_copy(update={"measurements": [spec.measurements[0], bmd]})
        ...     likelihood = build_likelihood([spec], ["D_OCp"], data=problem.data)
        >>> len(likelihood.observations), len(likelihood.predictions)
        (12, 12)
        >>> likelihood.predict_held_back(Simulator("bone_remodeling"), likelihood.nominal()).shape
        (12,)
        """
        return self._evaluate(simulator, x, held=True)

    def _evaluate(self, simulator: Simulator, x: np.ndarray, *, held: bool) -> np.ndarray:
        """Fitted (or held-back) rows' model values; a term without such rows is not simulated."""
        sample = self.sample(x)
        rows_of = self.predictions if held else self.observations
        out = np.full(len(rows_of), np.nan)
        for term in self.terms:
            links = term.held if held else term.rows
            if not any(links):
                continue
            courses: dict[tuple[str, str], np.ndarray] = {}
            for run, frame in execute(term.plan, simulator, sample, StartStates()):
                for var in run.variables:
                    courses[(run.task, var)] = frame[var].to_numpy()
            size = len(next(iter(courses.values())))
            for link, offset, rows in zip(term.links, term.offsets, links, strict=True):
                if not rows:
                    continue
                values = np.asarray(parse_expression(term.expression(link)).evaluate(courses), dtype=float)
                values = transformed(np.broadcast_to(values, (size,)).astype(float), link, offset)
                out[list(rows)] = values[[rows_of[i].index for i in rows]]
        if not np.all(np.isfinite(out)):
            raise SimulationError("a linked data generator is not finite at some measurement time")
        return out

    def residuals(self, simulator: Simulator, x: np.ndarray) -> np.ndarray:
        """(model - mean) / sigma for every observation.

        Examples
        --------
        >>> import tempfile
        >>> from pybrainbone.calibration.synthetic import write_synthetic_problem
        >>> from pybrainbone.experiments.spec import load_experiment
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     problem = write_synthetic_problem(folder)
        ...     spec = load_experiment(problem.spec)
        ...     likelihood = build_likelihood([spec], ["D_OCp", "kout_BMD"], data=problem.data)
        >>> truth = np.log10([problem.truth["D_OCp"], problem.truth["kout_BMD"]])
        >>> r = likelihood.residuals(Simulator("bone_remodeling"), truth)
        >>> r.shape, bool(abs(r.mean()) < 1)  # at the true values: standard normal noise
        ((24,), True)
        """
        mean = np.array([o.mean for o in self.observations])
        sigma = np.array([o.sigma for o in self.observations])
        return np.asarray((self.predict(simulator, x) - mean) / sigma, dtype=float)

    def constant(self) -> float:
        """Σ ½ log(2π sigma²): the part of the NLL that does not depend on the parameters.

        Examples
        --------
        >>> import tempfile
        >>> from pybrainbone.calibration.synthetic import write_synthetic_problem
        >>> from pybrainbone.experiments.spec import load_experiment
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     problem = write_synthetic_problem(folder)
        ...     spec = load_experiment(problem.spec)
        ...     likelihood = build_likelihood([spec], ["D_OCp", "kout_BMD"], data=problem.data)
        >>> round(likelihood.constant(), 3)
        -39.337
        """
        return float(sum(0.5 * math.log(2 * math.pi * o.sigma**2) for o in self.observations))

    def nll(self, simulator: Simulator, x: np.ndarray) -> float:
        """The negative log-likelihood at log10 values ``x``; ``inf`` where a simulation fails.

        Examples
        --------
        >>> import tempfile
        >>> from pybrainbone.calibration.synthetic import write_synthetic_problem
        >>> from pybrainbone.experiments.spec import load_experiment
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     problem = write_synthetic_problem(folder)
        ...     spec = load_experiment(problem.spec)
        ...     likelihood = build_likelihood([spec], ["D_OCp", "kout_BMD"], data=problem.data)
        >>> sim = Simulator("bone_remodeling")
        >>> truth = np.log10([problem.truth["D_OCp"], problem.truth["kout_BMD"]])
        >>> bool(likelihood.nll(sim, truth) < likelihood.nll(sim, likelihood.nominal()))
        True
        """
        try:
            r = self.residuals(simulator, x)
        except (SimulationError, ExpressionError):
            return math.inf
        return self.constant() + 0.5 * float(np.dot(r, r)) + self.prior_nll(x)

    def prior_nll(self, x: np.ndarray) -> float:
        """The priors' part of the objective at log10 values ``x`` (0 when no parameter has a prior).

        Examples
        --------
        >>> from pybrainbone.calibration.priors import Prior
        >>> prior = Prior("k", 0.01, 1.0, "per_day", "Assumed: x")
        >>> likelihood = Likelihood(None, (EstimatedParameter("k", 1e-3, 10.0, 0.1, prior),), (), ())
        >>> round(likelihood.prior_nll(np.array([-1.0])), 6) == round(prior.nll(-1.0), 6)
        True
        """
        return float(
            sum(p.prior.nll(float(v)) for p, v in zip(self.parameters, x, strict=True) if p.prior is not None)
        )

    def evaluate(self, simulator: Simulator, values: np.ndarray) -> np.ndarray:
        """The NLL of one log10 vector as a one-element array (the engines' objective interface).

        Examples
        --------
        >>> import tempfile
        >>> from pybrainbone.calibration.synthetic import write_synthetic_problem
        >>> from pybrainbone.experiments.spec import load_experiment
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     problem = write_synthetic_problem(folder)
        ...     spec = load_experiment(problem.spec)
        ...     likelihood = build_likelihood([spec], ["D_OCp", "kout_BMD"], data=problem.data)
        >>> likelihood.evaluate(Simulator("bone_remodeling"), likelihood.nominal()).shape
        (1,)
        """
        return np.array([self.nll(simulator, values)])

    def fit_table(self, simulator: Simulator, x: np.ndarray | None = None) -> pd.DataFrame:
        """One row per observation: data, noise, model value and normalised residual at ``x``.

        ``x`` defaults to the nominal values.
        Examples
        --------
        >>> import tempfile
        >>> from pybrainbone.calibration.synthetic import write_synthetic_problem
        >>> from pybrainbone.experiments.spec import load_experiment
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     problem = write_synthetic_problem(folder)
        ...     spec = load_experiment(problem.spec)
        ...     likelihood = build_likelihood([spec], ["D_OCp", "kout_BMD"], data=problem.data)
        >>> table = likelihood.fit_table(Simulator("bone_remodeling"))
        >>> list(table.columns)[:6], len(table)
        (['experiment', 'dataset', 'observable', 'condition', 'unit', 'time_day'], 24)
        """
        x = self.nominal() if x is None else x
        model = self.predict(simulator, x)
        rows = [
            {
                "experiment": o.experiment,
                "dataset": o.dataset,
                "observable": o.observable,
                "condition": o.condition,
                "unit": o.unit,
                "time_day": o.time,
                "mean": o.mean,
                "sigma": o.sigma,
                "model": float(m),
                "residual": float((m - o.mean) / o.sigma),
                "source": o.where,
            }
            for o, m in zip(self.observations, model, strict=True)
        ]
        return pd.DataFrame(rows)


def chi_square(table: pd.DataFrame) -> pd.DataFrame:
    """χ² (sum of squared normalised residuals) and the number of measurements per dataset.

    Examples
    --------
    >>> table = pd.DataFrame({"experiment": ["e", "e", "e"], "dataset": ["a", "a", "b"],
    ...                       "residual": [1.0, -2.0, 0.5]})
    >>> chi_square(table).to_dict("records")
    [{'experiment': 'e', 'dataset': 'a', 'n': 2, 'chi2': 5.0, 'chi2_per_point': 2.5}, {'experiment': 'e', \
'dataset': 'b', 'n': 1, 'chi2': 0.25, 'chi2_per_point': 0.25}]
    """
    grouped = table.assign(r2=table["residual"] ** 2).groupby(["experiment", "dataset"], sort=False)
    out = grouped.agg(n=("r2", "size"), chi2=("r2", "sum")).reset_index()
    out["chi2_per_point"] = out["chi2"] / out["n"]
    return out


# ---- building ---------------------------------------------------------------------------------------
def _grid_index(experiment: Experiment, time: float, what: str) -> int:
    course = experiment.simulation
    if not isinstance(course, UniformTimeCourse):
        raise CalibrationError(f"{experiment.id}: measurements need a uniform_time_course simulation")
    step = (course.end - course.start) / (course.points - 1)
    k = round((time - course.start) / step)
    grid = course.start + k * step
    if not 0 <= k < course.points or abs(grid - time) > 1e-9 * max(1.0, abs(time)):
        raise CalibrationError(
            f"{what}: model time {time:g} d is not on the output grid of {experiment.id!r} "
            f"({course.start:g} to {course.end:g} d every {step:.6g} d); choose points so that it is"
        )
    return int(k)


def _rows_of(
    experiment: Experiment, link: MeasurementLink, datasets: Mapping[str, Dataset]
) -> list[Measurement]:
    where = f"{experiment.id}: measurements[{link.data_generator}]"
    if link.dataset not in datasets:
        close = near_matches(link.dataset, datasets)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise CalibrationError(f"{where}: no dataset {link.dataset!r} in the data directory{hint}")
    dataset = datasets[link.dataset]
    if link.condition not in dataset.study.arms:
        raise CalibrationError(
            f"{where}: condition {link.condition!r} is not an arm of study {link.dataset!r} "
            f"(arms: {', '.join(dataset.study.arms)})"
        )
    if dataset.study.organism != experiment.organism:
        raise CalibrationError(
            f"{where}: study {link.dataset!r} is in {dataset.study.organism}, the experiment simulates "
            f"{experiment.organism}"
        )
    rows = dataset.select(link.observable, link.condition, link.unit)
    if not rows:
        raise CalibrationError(
            f"{where}: no rows of {link.observable} in {link.condition}"
            + (f" with unit {link.unit}" if link.unit else "")
            + f" in {link.dataset}"
        )
    units = sorted({r.unit for r in rows})
    if len(units) > 1:
        raise CalibrationError(
            f"{where}: rows in several units ({', '.join(units)}); choose one with 'unit:'"
        )
    return rows


def _observation(
    experiment: Experiment, k: int, link: MeasurementLink, row: Measurement, held: bool
) -> Observation:
    if row.time_days is None:
        raise CalibrationError(f"{row.where}: the row has no time, so no model time matches it")
    sigma = link.sigma if link.sigma is not None else row.standard_error()
    if sigma is None:
        raise CalibrationError(
            f"{row.where}: the row reports no spread (spread_type {row.spread_type}); give 'sigma:' in the "
            f"measurements link of {experiment.id!r}"
        )
    time = link.time_offset + row.time_days
    index = _grid_index(experiment, time, row.where)
    held_back = link.held_back or held
    return Observation(
        experiment.id,
        k,
        row.study,
        row.observable,
        row.condition,
        row.unit,
        time,
        index,
        row.mean,
        sigma,
        row.where,
        held_back,
    )


def _term(
    experiment: Experiment, plan: Plan, datasets: Mapping[str, Dataset], start: tuple[int, int]
) -> tuple[Term, list[Observation], list[Observation]]:
    """One spec's term, its fitted observations and its held-back rows (numbered from ``start``)."""
    observations: list[Observation] = []
    predictions: list[Observation] = []
    offsets: list[int] = []
    rows: list[tuple[int, ...]] = []
    held: list[tuple[int, ...]] = []
    arms: set[str] = set()
    scans = {s.id for s in experiment.scans}
    for k, link in enumerate(experiment.measurements):
        expression = next(d.expression for d in experiment.data_generators if d.id == link.data_generator)
        used = {a for a, _ in parse_expression(expression).references}
        if used & scans:
            raise CalibrationError(f"{experiment.id}: data generator {link.data_generator!r} reads a scan")
        arms |= used
        offsets.append(_grid_index(experiment, link.time_offset, f"{experiment.id}: time_offset"))
        found_rows = _rows_of(experiment, link, datasets)
        back = link.held_back or datasets[link.dataset].study.held_back
        found = [_observation(experiment, k, link, row, back) for row in found_rows]
        kept = predictions if back else observations
        first = start[1 if back else 0] + len(kept)
        numbered = tuple(range(first, first + len(found)))
        rows.append(() if back else numbered)
        held.append(numbered if back else ())
        kept += found
    term = Term(
        plan.restricted(arms), tuple(experiment.measurements), tuple(offsets), tuple(rows), tuple(held)
    )
    return term, observations, predictions


def _with_prior(parameter: EstimatedParameter, prior: Prior | None) -> EstimatedParameter:
    if prior is None:
        return parameter
    if prior.high <= parameter.lower or prior.low >= parameter.upper:
        raise CalibrationError(
            f"parameter {parameter.name}: its prior's range [{prior.low:g}, {prior.high:g}] lies outside "
            f"the bounds [{parameter.lower:g}, {parameter.upper:g}]; widen the bounds or fix the prior"
        )
    return EstimatedParameter(parameter.name, parameter.lower, parameter.upper, parameter.nominal, prior)


def build_likelihood(
    experiments: Sequence[Experiment],
    parameters: Sequence[str] = (),
    *,
    data: str | Path | None = None,
    runner: Runner | None = None,
    priors: Mapping[str, Prior] | None = None,
) -> Likelihood:
    """The likelihood of every measurement the ``experiments`` link to, over ``parameters``.

    ``parameters`` are ``NAME`` or ``NAME=LOW:HIGH`` (see :func:`parse_parameters`); ``data`` is the
    dataset directory (default ``data/``). Every experiment must run the same model, and no parameter may
    be one an arm sets (the arm's value would override the estimate). An estimated parameter with an entry
    in ``priors`` (default: the dataset directory's ``priors.yaml``, if any; ``{}`` for none) gets that
    literature prior (:mod:`pybrainbone.calibration.priors`), which must overlap its bounds.

    Examples
    --------
    >>> import tempfile
    >>> from pybrainbone.calibration.synthetic import write_synthetic_problem
    >>> from pybrainbone.experiments.spec import load_experiment
    >>> tmp = tempfile.TemporaryDirectory()
    >>> problem = write_synthetic_problem(tmp.name)
    >>> spec = load_experiment(problem.spec)
    >>> likelihood = build_likelihood([spec], ["D_OCp"], data=problem.data)
    >>> likelihood.names, len(likelihood.observations), likelihood.observations[0].label
    (('D_OCp',), 24, 'synthetic_pth:synthetic_pth:CTX:pth@30.4375')
    >>> build_likelihood([spec], ["P_PTH_ext"], data=problem.data)
    Traceback (most recent call last):
    ...
    pybrainbone.calibration.likelihood.CalibrationError: cannot estimate P_PTH_ext: arm(s) pth of
    'synthetic_pth' set it as their intervention
    >>> tmp.cleanup()
    """
    if not experiments:
        raise CalibrationError("no experiment specs given")
    linked = [e for e in experiments if e.measurements]
    if not linked:
        raise CalibrationError("none of the specs links measurements (a 'measurements:' section)")
    models = sorted({e.model for e in linked})
    if len(models) > 1:
        raise CalibrationError(
            f"the specs run different models ({', '.join(models)}); calibrate one at a time"
        )
    runner = runner or Runner()
    simulator = runner.simulator(models[0])
    datasets = load_datasets(data)
    plans = [runner.plan(e) for e in linked]
    for experiment in linked:  # before the bounds: an arm's own value would override any estimate
        owned = arm_set_parameters(experiment)
        for name in (item.partition("=")[0].strip() for item in parameters):
            if name in owned:
                raise CalibrationError(f"cannot estimate {name}: {owned[name]}")
    chosen = parse_parameters(parameters, experiment_nominal(plans[0], simulator))
    if priors is None:
        priors = load_priors((Path(data) if data is not None else data_dir()) / PRIORS_FILE)
    chosen = [_with_prior(p, priors.get(p.name)) for p in chosen]
    terms: list[Term] = []
    observations: list[Observation] = []
    predictions: list[Observation] = []
    for experiment, plan in zip(linked, plans, strict=True):
        term, found, held = _term(experiment, plan, datasets, (len(observations), len(predictions)))
        terms.append(term)
        observations += found
        predictions += held
    return Likelihood(simulator.model, tuple(chosen), tuple(terms), tuple(observations), tuple(predictions))
