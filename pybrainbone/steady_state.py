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


class StateAccess(Protocol):
    """What Newton needs from a loaded model (:class:`~pybrainbone.runtime.ModelRuntime` provides it)."""

    @property
    def name(self) -> str: ...

    def state(self) -> np.ndarray: ...
    def set_state(self, x: np.ndarray) -> None: ...
    def rates(self) -> np.ndarray: ...


def converged(x: np.ndarray, rates: np.ndarray) -> bool:
    """|dx/dt| small against the variable's own scale: 1e-12 of it per day."""
    return bool(np.all(np.abs(rates) <= RELATIVE_RATE_TOLERANCE * np.maximum(np.abs(x), 1e-12) + 1e-300))


def _steps(x: np.ndarray, rates: np.ndarray, relative: float) -> np.ndarray:
    # Scale by the value, or by how fast it moves in a day when the value is ~0 (a drug at 0 with its
    # dose running): a step of 1e-7 x 0 would vanish against the rate in floating point.
    steps: np.ndarray = relative * np.maximum(np.maximum(np.abs(x), np.abs(rates)), 1e-12)
    return steps


def forward_jacobian(model: StateAccess, x: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Forward-difference Jacobian (n evaluations): accurate enough to steer Newton."""
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
    """Central-difference Jacobian d(dx/dt)/dx (2n evaluations), for linearisation and eigenvalues."""
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


def newton(model: StateAccess, max_iterations: int = 100) -> bool:
    """Newton from the model's current state; True when it converged (the model is left there)."""
    x = model.state()
    for _ in range(max_iterations):
        rates = model.rates()
        if not np.all(np.isfinite(rates)):
            return False
        if converged(x, rates):
            return True
        jac = forward_jacobian(model, x, rates)
        try:
            step = np.linalg.solve(jac, -rates)
        except np.linalg.LinAlgError:
            # Singular where a gland mass or drug state sits exactly at a degenerate point; the minimum
            # norm step still moves every other component correctly.
            step = np.linalg.lstsq(jac, -rates, rcond=None)[0]
        if not np.all(np.isfinite(step)):
            return False
        new = x + step
        crossing = (x > 0) & (new <= 0)
        new[crossing] = x[crossing] * _SHRINK
        x = new
        model.set_state(x)
    return converged(x, model.rates())


def max_relative_rate(model: StateAccess) -> float:
    x, rates = model.state(), model.rates()
    return float(np.max(np.abs(rates) / np.maximum(np.abs(x), 1e-12)))


def solve(
    model: StateAccess, presimulate: Callable[[float], None], restart: Callable[[], None]
) -> np.ndarray:
    """Steady state from the prepared model: Newton, else presimulation then Newton.

    ``presimulate(days)`` integrates the prepared model forward and puts it back to t = 0 with the
    interventions as they stand there; ``restart()`` prepares the model again. Raises
    :class:`SimulationError` when every attempt fails.
    """
    if newton(model):
        return model.state()
    for days in _PRESIMULATION_DAYS:
        restart()
        try:
            presimulate(days)
        except SimulationError:
            continue
        if newton(model):
            return model.state()
    raise SimulationError(
        f"steady state of {model.name!r} not found (max relative |dx/dt| = {max_relative_rate(model):.3g} "
        "per day after Newton and presimulation); the model may have no stable steady state with these "
        "changes"
    )
