"""Steady states and linearisation on the full state vector, by Newton's method.

libRoadRunner's own ``steadyState()`` is not used: in libRoadRunner >= 2.5 it regenerates the model up to
three times per call (automatic moiety analysis switching on and off, then an unconditional restore),
which cost 6-10 s of CPU per steady state of the whole model, and its solvers do not treat the rate-rule
states (bone mass, hormones) anyway. Newton on the full state with batch state access reaches the same
state in milliseconds (``benchmarks/bench_simulate.py`` measures both).

Convergence: every |dx/dt| below 1e-12 of the variable's own scale per day. Positive quantities stay
positive: a component whose Newton step would cross zero moves to a thousandth of its value instead
(component-wise, so one state decaying to zero does not slow every other one down). When Newton fails,
the model is presimulated (1e4, then 1e5 days), put back to t = 0 with its interventions as they stand
there, and Newton runs again from the presimulated state.

Held states: a state with no restoring force (a site's bone volume integrates formation minus resorption,
``// @accumulates`` in its module) has no steady state while the two differ. A steady state then means the
rest of the model at rest with those states held where they are (their rates are not required to vanish);
at the healthy reference they are at rest anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from pybrainbone.errors import SimulationError

#: Relative |dx/dt| (per day) below which a state counts as at rest.
RELATIVE_RATE_TOLERANCE = 1e-12
#: Factor a positive component may shrink by in one step when its full Newton step would cross zero.
_SHRINK = 1e-3
_PRESIMULATION_DAYS = (1e4, 1e5)


class _Chain:
    """The two-state model of this module's examples: dx0/dt = 1 - x0, dx1/dt = x0 - x1, at rest at (1, 1)."""

    name = "chain"

    def __init__(self) -> None:
        self.x = np.array([3.0, 0.5])

    def state(self) -> np.ndarray:
        return self.x.copy()

    def set_state(self, x: np.ndarray) -> None:
        self.x = np.array(x, dtype=float)

    def rates(self) -> np.ndarray:
        return np.array([1.0 - self.x[0], self.x[0] - self.x[1]])


class StateAccess(Protocol):
    """What Newton needs from a loaded model (:class:`~pybrainbone.runtime.ModelRuntime` provides it).

    Examples
    --------
    >>> model = _Chain()
    >>> model.rates()  # a StateAccess: Newton can solve it
    array([-2. ,  2.5])
    >>> newton(model), model.state().round(12)
    (True, array([1., 1.]))
    """

    @property
    def name(self) -> str:
        """The model's name, for error messages.

        Examples
        --------
        >>> from pybrainbone.build import compile_model
        >>> from pybrainbone.model_info import ModelInfo
        >>> model = compile_model("bone_remodeling")
        >>> from pybrainbone.runtime import ModelRuntime
        >>> runtime = ModelRuntime(model.sbml, model.digest, ModelInfo.from_sbml(model.sbml, model.name))
        >>> runtime.name
        'bone_remodeling'
        """

    def state(self) -> np.ndarray:
        """The current state vector.

        Examples
        --------
        >>> from pybrainbone.build import compile_model
        >>> from pybrainbone.model_info import ModelInfo
        >>> model = compile_model("bone_remodeling")
        >>> from pybrainbone.runtime import ModelRuntime
        >>> runtime = ModelRuntime(model.sbml, model.digest, ModelInfo.from_sbml(model.sbml, model.name))
        >>> runtime.prepare(None)
        >>> x = runtime.state()
        >>> len(x) == len(runtime.state_ids), round(float(x[runtime.state_ids.index("OBa")]) * 1e4, 3)
        (True, 5.584)
        """

    def set_state(self, x: np.ndarray) -> None:
        """Set the state vector (same order as :meth:`state`).

        Examples
        --------
        >>> from pybrainbone.build import compile_model
        >>> from pybrainbone.model_info import ModelInfo
        >>> model = compile_model("bone_remodeling")
        >>> from pybrainbone.runtime import ModelRuntime
        >>> runtime = ModelRuntime(model.sbml, model.digest, ModelInfo.from_sbml(model.sbml, model.name))
        >>> runtime.prepare(None)
        >>> runtime.set_state(2 * runtime.state())
        >>> (runtime.values(["OBp", "OBa", "OCa"]) * 1e4).round(3)
        array([12.393, 11.168, 16.139])
        """

    def rates(self) -> np.ndarray:
        """dx/dt at the current state (per day).

        Examples
        --------
        >>> from pybrainbone.build import compile_model
        >>> from pybrainbone.model_info import ModelInfo
        >>> model = compile_model("bone_remodeling")
        >>> from pybrainbone.runtime import ModelRuntime
        >>> runtime = ModelRuntime(model.sbml, model.digest, ModelInfo.from_sbml(model.sbml, model.name))
        >>> runtime.prepare(None)
        >>> bool(abs(runtime.rates()).max() < 1e-15)  # the reference is a steady state
        True
        """


def converged(x: np.ndarray, rates: np.ndarray) -> bool:
    """|dx/dt| small against the variable's own scale: 1e-12 of it per day.

    Examples
    --------
    >>> converged(np.array([100.0, 1e-3]), np.array([1e-11, 1e-16]))
    True
    >>> converged(np.array([100.0, 1e-3]), np.array([1e-9, 0.0]))  # 1e-11 of 100 per day is the limit
    False
    """
    return bool(np.all(np.abs(rates) <= RELATIVE_RATE_TOLERANCE * np.maximum(np.abs(x), 1e-12) + 1e-300))


def _steps(x: np.ndarray, rates: np.ndarray, relative: float) -> np.ndarray:
    # Scale by the value, or by how fast it moves in a day when the value is ~0 (a drug at 0 with its
    # dose running): a step of 1e-7 x 0 would vanish against the rate in floating point.
    steps: np.ndarray = relative * np.maximum(np.maximum(np.abs(x), np.abs(rates)), 1e-12)
    return steps


def forward_jacobian(model: StateAccess, x: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Forward-difference Jacobian (n evaluations): accurate enough to steer Newton.

    Examples
    --------
    >>> model = _Chain()
    >>> forward_jacobian(model, model.state(), model.rates()).round(6)
    array([[-1.,  0.],
           [ 1., -1.]])
    """
    steps = _steps(x, rates, 1e-7)
    jac = np.empty((len(x), len(x)))
    shifted = x.copy()
    for j, h in enumerate(steps):
        shifted[j] = x[j] + h
        model.set_state(shifted)
        jac[:, j] = (model.rates() - rates) / h
        shifted[j] = x[j]
    model.set_state(x)
    return jac


def central_jacobian(model: StateAccess, x: np.ndarray) -> np.ndarray:
    """Central-difference Jacobian d(dx/dt)/dx (2n evaluations), for linearisation and eigenvalues.

    Examples
    --------
    >>> model = _Chain()
    >>> central_jacobian(model, np.array([1.0, 1.0])).round(9)
    array([[-1.,  0.],
           [ 1., -1.]])
    """
    model.set_state(x)
    steps = _steps(x, np.zeros_like(x), 1e-6)
    jac = np.empty((len(x), len(x)))
    shifted = x.copy()
    for j, h in enumerate(steps):
        shifted[j] = x[j] + h
        model.set_state(shifted)
        up = model.rates()
        shifted[j] = x[j] - h
        model.set_state(shifted)
        jac[:, j] = (up - model.rates()) / (2 * h)
        shifted[j] = x[j]
    model.set_state(x)
    return jac


def newton(model: StateAccess, max_iterations: int = 100, held: np.ndarray | None = None) -> bool:
    """Newton from the model's current state; True when it converged (the model is left there).

    ``held``: boolean mask of states kept at their current value (see the module docstring).

    Examples
    --------
    >>> model = _Chain()
    >>> newton(model)
    True
    >>> model.state().round(12), model.rates().round(12)
    (array([1., 1.]), array([0., 0.]))
    """
    x = model.state()
    free = np.ones(len(x), dtype=bool) if held is None else ~held
    for _ in range(max_iterations):
        rates = model.rates()
        if not np.all(np.isfinite(rates[free])):
            return False
        if converged(x[free], rates[free]):
            return True
        jac = forward_jacobian(model, x, rates)[np.ix_(free, free)]
        step = np.zeros_like(x)
        try:
            step[free] = np.linalg.solve(jac, -rates[free])
        except np.linalg.LinAlgError:
            # Singular where a gland mass or drug state sits exactly at a degenerate point; the minimum
            # norm step still moves every other component correctly.
            step[free] = np.linalg.lstsq(jac, -rates[free], rcond=None)[0]
        if not np.all(np.isfinite(step)):
            return False
        new = x + step
        crossing = (x > 0) & (new <= 0)
        new[crossing] = x[crossing] * _SHRINK
        x = new
        model.set_state(x)
    return converged(x[free], model.rates()[free])


def max_relative_rate(model: StateAccess, held: np.ndarray | None = None) -> float:
    """Largest |dx/dt| relative to the state's own value (per day): how far from rest.

    Examples
    --------
    >>> model = _Chain()
    >>> max_relative_rate(model)  # x1 = 0.5 moves at 2.5 per day
    5.0
    """
    x, rates = model.state(), model.rates()
    free = np.ones(len(x), dtype=bool) if held is None else ~held
    return float(np.max(np.abs(rates[free]) / np.maximum(np.abs(x[free]), 1e-12)))


def solve(
    model: StateAccess,
    presimulate: Callable[[float], None],
    restart: Callable[[], None],
    held: np.ndarray | None = None,
) -> np.ndarray:
    """Steady state from the prepared model: Newton, else presimulation then Newton.

    ``presimulate(days)`` integrates the prepared model forward and puts it back to t = 0 with the
    interventions as they stand there; ``restart()`` prepares the model again. ``held`` states keep their
    prepared values, also after a presimulation. Raises :class:`SimulationError` when every attempt fails.

    Examples
    --------
    >>> model = _Chain()
    >>> def presimulate(days):  # a real caller integrates the model forward here
    ...     pass
    >>> solve(model, presimulate, restart=lambda: model.set_state([3.0, 0.5])).round(12)
    array([1., 1.])
    """
    start = model.state()
    if newton(model, held=held):
        return model.state()
    for days in _PRESIMULATION_DAYS:
        restart()
        try:
            presimulate(days)
        except SimulationError:
            continue
        if held is not None:
            x = model.state()
            x[held] = start[held]
            model.set_state(x)
        if newton(model, held=held):
            return model.state()
    raise SimulationError(
        f"steady state of {model.name!r} not found (max relative |dx/dt| = "
        f"{max_relative_rate(model, held):.3g} "
        "per day after Newton and presimulation); the model may have no stable steady state with these "
        "changes"
    )
