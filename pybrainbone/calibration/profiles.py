"""Profile likelihoods of the estimated parameters (pyPESTO), their 95 % intervals and a figure.

A parameter's profile is the lowest NLL reachable with that parameter fixed, the others re-optimised.
Its 95 % confidence interval is where the profile stays within χ²₁(0.95)/2 = 1.92 of the optimum
(likelihood ratio exp(-1.92) = 0.147). A parameter whose profile crosses that threshold on both sides
within its bounds is **identifiable**; one whose profile stays below it up to a bound is **practically
non-identifiable** on that side (the data do not bound it there).

>>> threshold()
1.920729410347062
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from pybrainbone.calibration.estimate import Estimate, _optimizer, pypesto_problem
from pybrainbone.calibration.likelihood import Likelihood
from pybrainbone.errors import InvalidValueError
from pybrainbone.plotting import new_figure
from pybrainbone.sensitivity.executors import Engine, SerialEngine, evaluate
from pybrainbone.sensitivity.objective import Objective
from pybrainbone.simulator import Simulator

__all__ = ["LikelihoodGrid", "Profile", "grid_profiles", "likelihood_grid", "plot_profiles", "profile",
           "profile_table", "threshold", "with_grid_best"]  # fmt: skip

#: Most parameters a likelihood grid may span (it costs points**parameters evaluations).
GRID_MAX_PARAMETERS = 3

#: Confidence level of the profile intervals.
LEVEL = 0.95


def threshold(level: float = LEVEL) -> float:
    """The NLL rise that bounds a ``level`` profile interval: χ²₁(level) / 2.

    Examples
    --------
    >>> round(threshold(), 3), round(threshold(0.68), 3)
    (1.921, 0.494)
    """
    from scipy.stats import chi2

    return float(chi2.ppf(level, df=1)) / 2


@dataclass(frozen=True)
class Profile:
    """One parameter's profile: log10 values, NLL above the optimum, and what it says.

    Examples
    --------
    >>> p = Profile("k", np.array([-1.0, 0.0, 1.0]), np.array([3.0, 0.0, 3.0]), 0.0, (-1.0, 1.0))
    >>> [round(v, 3) for v in p.interval()], p.status
    ([-0.64, 0.64], 'identifiable')
    """

    name: str
    x: np.ndarray
    delta_nll: np.ndarray
    estimate: float
    bounds: tuple[float, float]

    def interval(self) -> tuple[float, float]:
        """The 95 % interval on the log10 scale (a bound where the profile never crosses the threshold).

        Examples
        --------
        >>> p = Profile("k", np.array([-1.0, 0.0, 1.0]), np.array([0.5, 0.0, 3.0]), 0.0, (-1.0, 1.0))
        >>> [round(v, 3) for v in p.interval()]
        [-1.0, 0.64]
        """
        order = np.argsort(self.x)
        xs, ys = self.x[order], self.delta_nll[order]
        limit = threshold()
        inside = np.flatnonzero(ys <= limit)
        lo, hi = int(inside[0]), int(inside[-1])
        low = xs[0] if lo == 0 else float(np.interp(limit, [ys[lo], ys[lo - 1]], [xs[lo], xs[lo - 1]]))
        high = xs[-1] if hi == len(xs) - 1 else float(np.interp(limit, ys[hi : hi + 2], xs[hi : hi + 2]))
        return round(float(low), 12), round(float(high), 12)

    @property
    def lower_closed(self) -> bool:
        """Whether the profile crosses the threshold below the estimate.

        Examples
        --------
        >>> Profile("k", np.array([-1.0, 0.0]), np.array([0.5, 0.0]), 0.0, (-1.0, 1.0)).lower_closed
        False
        """
        return bool((self.delta_nll[self.x < self.estimate] > threshold()).any())

    @property
    def upper_closed(self) -> bool:
        """Whether the profile crosses the threshold above the estimate.

        Examples
        --------
        >>> Profile("k", np.array([0.0, 1.0]), np.array([0.0, 3.0]), 0.0, (-1.0, 1.0)).upper_closed
        True
        """
        return bool((self.delta_nll[self.x > self.estimate] > threshold()).any())

    @property
    def status(self) -> str:
        """``identifiable``, or ``practically non-identifiable (... open)`` naming the open side(s).

        Examples
        --------
        >>> Profile("k", np.array([-1.0, 0.0, 1.0]), np.array([0.1, 0.0, 0.2]), 0.0, (-1.0, 1.0)).status
        'practically non-identifiable (both sides open)'
        """
        if self.lower_closed and self.upper_closed:
            return "identifiable"
        side = (
            "both sides"
            if not (self.lower_closed or self.upper_closed)
            else ("lower side" if not self.lower_closed else "upper side")
        )
        return f"practically non-identifiable ({side} open)"


@dataclass(frozen=True)
class LikelihoodGrid:
    """The NLL at the points of one or more regular log10 grids (``points[i]`` is one parameter vector).

    Examples
    --------
    >>> grid = LikelihoodGrid(("a", "b"), np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]),
    ...                       np.array([3.0, 1.0, 2.0, 5.0]))
    >>> grid.best().tolist(), grid.best_nll()
    ([0.0, 1.0], 1.0)
    >>> [v.tolist() for v in grid.profile_of(0)]
    [[0.0, 1.0], [1.0, 2.0]]
    """

    names: tuple[str, ...]
    points: np.ndarray
    nll: np.ndarray

    def merged(self, other: LikelihoodGrid) -> LikelihoodGrid:
        """Both grids' points as one.

        Examples
        --------
        >>> one = LikelihoodGrid(("k",), np.array([[0.0]]), np.array([2.0]))
        >>> one.merged(LikelihoodGrid(("k",), np.array([[1.0]]), np.array([1.0]))).nll.tolist()
        [2.0, 1.0]
        """
        return LikelihoodGrid(self.names, np.vstack([self.points, other.points]),
                              np.concatenate([self.nll, other.nll]))  # fmt: skip

    def best(self) -> np.ndarray:
        """The evaluated point (log10) with the lowest NLL.

        Examples
        --------
        >>> LikelihoodGrid(("k",), np.array([[0.0], [1.0]]), np.array([2.0, 1.0])).best().tolist()
        [1.0]
        """
        return np.asarray(self.points[int(np.argmin(self.nll))], dtype=float)

    def best_nll(self) -> float:
        """The lowest NLL evaluated.

        Examples
        --------
        >>> LikelihoodGrid(("k",), np.array([[0.0], [1.0]]), np.array([2.0, 1.0])).best_nll()
        1.0
        """
        return float(np.min(self.nll))

    def profile_of(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Parameter k's values and, at each, the lowest NLL over the points that have it.

        Examples
        --------
        >>> grid = LikelihoodGrid(("a", "b"), np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0]]),
        ...                       np.array([3.0, 1.0, 2.0]))
        >>> [v.tolist() for v in grid.profile_of(1)]
        [[0.0, 1.0], [2.0, 1.0]]
        """
        values = np.unique(self.points[:, k])
        lowest = np.array([np.min(self.nll[self.points[:, k] == v]) for v in values])
        return values, lowest


def likelihood_grid(
    likelihood: Likelihood,
    points: int,
    engine: Engine | None = None,
    *,
    around: np.ndarray | None = None,
    zoom: int = 0,
    progress: bool = False,
) -> LikelihoodGrid:
    """The NLL at ``points`` values per parameter (log10), on ``engine``: a grid over the bounds, then
    ``zoom`` finer ones.

    Each finer grid has as many points over the box of one step of the previous grid either side of the
    centre (within the bounds), so it is ``(points - 1) / 2`` times finer and the profiles resolve
    intervals far narrower than the bounds. The centre is ``around`` (an optimum; then the grid over the
    bounds is left out: its step only sets the first box) or the best point so far. Each level is one
    ensemble (parallel on a process or Dask engine); a failed simulation counts as an infinite NLL. Costs
    ``levels * points ** d`` evaluations; at most three parameters.

    Examples
    --------
    >>> import tempfile
    >>> from pybrainbone.calibration import build_likelihood, write_synthetic_problem
    >>> from pybrainbone.experiments.spec import load_experiment
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     problem = write_synthetic_problem(folder)
    ...     likelihood = build_likelihood([load_experiment(problem.spec)], ["D_OCp", "kout_BMD"],
    ...                                   data=problem.data)
    >>> coarse = likelihood_grid(likelihood, 5)
    >>> fine = likelihood_grid(likelihood, 5, around=np.array([-2.499, -2.330]), zoom=2)
    >>> coarse.points.shape, fine.points.shape, [round(float(v), 3) for v in fine.best()]
    ((25, 2), (50, 2), [-2.499, -2.33])
    >>> likelihood_grid(likelihood, 2)
    Traceback (most recent call last):
    ...
    pybrainbone.errors.InvalidValueError: a likelihood grid needs at least 3 points per parameter, got 2
    """
    if isinstance(points, bool) or not isinstance(points, int) or points < 3:
        raise InvalidValueError(f"a likelihood grid needs at least 3 points per parameter, got {points!r}")
    if isinstance(zoom, bool) or not isinstance(zoom, int) or zoom < (0 if around is None else 1):
        raise InvalidValueError(f"zoom must be an integer >= {0 if around is None else 1}, got {zoom!r}")
    if len(likelihood.parameters) > GRID_MAX_PARAMETERS:
        raise InvalidValueError(
            f"a likelihood grid spans at most {GRID_MAX_PARAMETERS} parameters ({points}**d evaluations); "
            f"got {len(likelihood.parameters)}: use the pyPESTO profiles (drop --profile-grid)"
        )
    lower, upper = likelihood.bounds()
    box = (lower, upper)
    levels = zoom + 1
    if around is not None:
        center = np.asarray(around, dtype=float)
        step = (upper - lower) / (points - 1)
        box, levels = (np.maximum(lower, center - step), np.minimum(upper, center + step)), zoom
    evaluated: list[np.ndarray] = []
    values: list[np.ndarray] = []
    for _ in range(levels):
        axes = [np.linspace(lo, hi, points) for lo, hi in zip(*box, strict=True)]
        samples = np.array(np.meshgrid(*axes, indexing="ij")).reshape(len(axes), -1).T
        evaluation = evaluate(
            cast(Objective, likelihood), samples, engine or SerialEngine(), progress=progress, label="grid"
        )
        evaluated.append(samples)
        values.append(np.where(np.isfinite(evaluation.values[:, 0]), evaluation.values[:, 0], np.inf))
        if around is None:
            center = np.vstack(evaluated)[int(np.argmin(np.concatenate(values)))]
        step = (box[1] - box[0]) / (points - 1)
        box = (np.maximum(lower, center - step), np.minimum(upper, center + step))
    return LikelihoodGrid(likelihood.names, np.vstack(evaluated), np.concatenate(values))


def with_grid_best(fit: Estimate, grid: LikelihoodGrid) -> Estimate:
    """``fit``, plus the grid's best point as one more (unconverged) row when no start reached it.

    A local optimiser with finite-difference gradients can stop short of a grid point that is lower (a
    bound, a flat or noisy NLL); the estimate is then the lowest point evaluated, so that it lies inside
    its own profile interval. ``extra["grid_best"]`` says which it is.

    Examples
    --------
    >>> fit = Estimate(("k",), np.zeros((1, 1)), np.array([[3.0, 5, 1, 0.0]]), [], "serial", 1, 0.1, 1,
    ...                "lbfgsb")
    >>> grid = LikelihoodGrid(("k",), np.array([[0.0], [0.5]]), np.array([3.0, 2.5]))
    >>> better = with_grid_best(fit, grid)
    >>> better.x.tolist(), better.extra["grid_best"], with_grid_best(better, grid).rows.shape
    ([0.5], True, (2, 4))
    """
    if grid.best_nll() >= float(fit.fvals[fit.best]):
        return dataclasses.replace(fit, extra={**fit.extra, "grid_best": False})
    best = grid.best()
    row = np.concatenate([[grid.best_nll(), len(grid.nll), 0.0], best])
    return dataclasses.replace(
        fit,
        starts=np.vstack([fit.starts, best[None, :]]),
        rows=np.vstack([fit.rows, row[None, :]]),
        extra={**fit.extra, "grid_best": True},
    )


def grid_profiles(grid: LikelihoodGrid, fit: Estimate) -> list[Profile]:
    """Profiles read off a likelihood grid, the fitted optimum added as one more point of each.

    Parameter k's profile at a value of a grid is the lowest NLL over that grid's values of the others. It
    lies on or above the exact profile (the others are minimised over grid values only, and a zoomed
    level only within its box), so its intervals can be narrower than the exact ones by about a grid step
    of the others: report the grid with them. Made for what pyPESTO's profiles cost too much for: two or
    three parameters whose every NLL takes seconds.

    Examples
    --------
    >>> grid = LikelihoodGrid(("k",), np.array([[-1.0], [0.0], [1.0]]), np.array([4.0, 1.0, 4.5]))
    >>> fit = Estimate(("k",), np.zeros((1, 1)), np.array([[0.9, 5, 1, 0.1]]), [], "serial", 1, 0.1, 1,
    ...                "lbfgsb")
    >>> (p,) = grid_profiles(grid, fit)
    >>> p.x.tolist(), p.delta_nll.round(2).tolist(), p.status
    ([-1.0, 0.0, 0.1, 1.0], [3.1, 0.1, 0.0, 3.6], 'identifiable')
    """
    best_x, best = fit.x, float(fit.fvals[fit.best])
    floor = min(best, grid.best_nll())
    profiles = []
    for k, name in enumerate(grid.names):
        values, lowest = grid.profile_of(k)
        xs = np.concatenate([values, [best_x[k]]])
        ys = np.concatenate([lowest, [best]])
        order = np.argsort(xs, kind="stable")
        bounds = (float(values[0]), float(values[-1]))
        profiles.append(Profile(name, xs[order], ys[order] - floor, float(best_x[k]), bounds))
    return profiles


def _pypesto_result(problem: Any, fit: Estimate) -> Any:
    import pypesto
    from pypesto.result import OptimizerResult

    result = pypesto.Result(problem)
    runs = [
        OptimizerResult(id=str(i), x=row[3:].copy(), fval=float(row[0]), n_fval=int(row[1]),
                        exitflag=1 if row[2] > 0 else -1)
        for i, row in enumerate(fit.rows)
        if np.isfinite(row[0])
    ]  # fmt: skip
    result.optimize_result.append(runs)
    return result


def _scan(likelihood: Likelihood, simulator: Simulator, fit: Estimate, points: int) -> list[Profile]:
    """A one-parameter problem: its profile is the NLL itself, scanned over the bounds."""
    (lower,), (upper,) = likelihood.bounds()
    best = float(fit.x[0])
    grid = np.unique(np.concatenate([np.linspace(lower, upper, points), [best]]))
    nll = np.array([likelihood.nll(simulator, np.array([v])) for v in grid])
    return [Profile(likelihood.names[0], grid, nll - fit.fvals[fit.best], best, (lower, upper))]


def profile(
    likelihood: Likelihood,
    fit: Estimate,
    simulator: Simulator | None = None,
    *,
    max_evaluations: int = 200,
    points: int = 41,
) -> list[Profile]:
    """Profiles of every estimated parameter from the best start of ``fit`` (pyPESTO, L-BFGS-B).

    A one-parameter problem is scanned on ``points`` values over its bounds (nothing to re-optimise).

    Examples
    --------
    >>> import tempfile
    >>> from pybrainbone.calibration import build_likelihood, write_synthetic_problem
    >>> from pybrainbone.calibration.estimate import estimate
    >>> from pybrainbone.experiments.spec import load_experiment
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     problem = write_synthetic_problem(folder)
    ...     likelihood = build_likelihood([load_experiment(problem.spec)], ["D_OCp"], data=problem.data)
    >>> (only,) = profile(likelihood, estimate(likelihood, starts=1))
    >>> only.status, [round(v, 3) for v in only.interval()]
    ('identifiable', [-2.508, -2.503])
    """
    simulator = simulator or Simulator(likelihood.model)
    if len(likelihood.parameters) == 1:
        return _scan(likelihood, simulator, fit, points)
    import pypesto.profile

    problem = pypesto_problem(likelihood, simulator)
    result = pypesto.profile.parameter_profile(
        problem,
        _pypesto_result(problem, fit),
        _optimizer("lbfgsb", max_evaluations),
        progress_bar=False,
        profile_options=pypesto.profile.ProfileOptions(
            ratio_min=0.05, default_step_size_absolute=0.002, min_step_size_absolute=1e-4
        ),
    )
    lower, upper = likelihood.bounds()
    best = fit.fvals[fit.best]
    profiles = []
    for k, name in enumerate(likelihood.names):
        found = result.profile_result.list[0][k]
        xs = np.asarray(found.x_path[k], dtype=float)
        profiles.append(
            Profile(name, xs, np.asarray(found.fval_path, dtype=float) - best, float(fit.x[k]),
                    (float(lower[k]), float(upper[k])))
        )  # fmt: skip
    return profiles


def profile_table(profiles: list[Profile], truth: Mapping[str, float] | None = None) -> pd.DataFrame:
    """One row per parameter: estimate, 95 % interval (model units and log10) and identifiability.

    Examples
    --------
    >>> p = Profile("k", np.array([-1.0, 0.0, 1.0]), np.array([3.0, 0.0, 3.0]), 0.0, (-1.0, 1.0))
    >>> row = profile_table([p], truth={"k": 1.2}).iloc[0]
    >>> round(float(row["ci_low"]), 3), round(float(row["ci_high"]), 3), row["status"]
    (0.229, 4.368, 'identifiable')
    >>> bool(row["truth_inside"])
    True
    """
    rows = []
    for p in profiles:
        low, high = p.interval()
        row: dict[str, Any] = {
            "parameter": p.name,
            "estimate": 10.0**p.estimate,
            "ci_low": 10.0**low,
            "ci_high": 10.0**high,
            "log10_estimate": p.estimate,
            "log10_ci_low": low,
            "log10_ci_high": high,
            "status": p.status,
        }
        if truth is not None and p.name in truth:
            row["truth"] = float(truth[p.name])
            row["truth_inside"] = bool(10.0**low <= truth[p.name] <= 10.0**high)
        rows.append(row)
    return pd.DataFrame(rows)


def plot_profiles(profiles: list[Profile], truth: Mapping[str, float] | None = None) -> Figure:
    """One panel per parameter: NLL above the optimum against log10 of the value, the 1.92 threshold,
    the estimate, the 95 % interval shaded (and the true value, for synthetic data).

    Examples
    --------
    >>> p = Profile("k", np.array([-1.0, 0.0, 1.0]), np.array([3.0, 0.0, 3.0]), 0.0, (-1.0, 1.0))
    >>> fig = plot_profiles([p, p])
    >>> type(fig).__name__, len(fig.axes)
    ('Figure', 2)
    """
    fig = new_figure(figsize=(3.6 * max(1, len(profiles)), 3.2), layout="constrained")
    axes = fig.subplots(1, max(1, len(profiles)), squeeze=False)[0]
    for ax, p in zip(axes, profiles, strict=False):
        order = np.argsort(p.x)
        ax.plot(p.x[order], p.delta_nll[order], marker=".", color="C0")
        ax.axhline(threshold(), color="grey", linestyle="--", linewidth=1, label="95% threshold")
        low, high = p.interval()
        ax.axvspan(low, high, color="C0", alpha=0.12, label="95% interval")
        ax.axvline(p.estimate, color="C0", linewidth=1, label="estimate")
        if truth is not None and p.name in truth:
            ax.axvline(float(np.log10(truth[p.name])), color="C3", linestyle=":", label="true value")
        ax.set_xlabel(f"log10 {p.name}")
        ax.set_title(p.status if len(p.status) < 30 else "non-identifiable", fontsize=9)
        ax.set_ylim(bottom=-0.1, top=max(3 * threshold(), min(float(np.nanmax(p.delta_nll)), 20.0)))
    axes[0].set_ylabel("NLL - NLL at the optimum")
    axes[0].legend(fontsize=7, loc="upper center")
    return fig
