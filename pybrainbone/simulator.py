"""Load a compiled model into libRoadRunner and simulate it with named, unit-labelled results.

One :class:`Simulator` holds one compiled RoadRunner instance for its whole life; every call starts from
the model's reference state (the SBML initial values, which are the healthy steady state) and applies its
own ``changes``, so calls never leak into each other and never mutate the simulator's configuration.

>>> from pybrainbone import Simulator
>>> sim = Simulator("bone_remodeling")
>>> df = sim.simulate(end=100, points=11, changes={"P_PTH_ext": 100.0}, selections=["OBa", "OCa"])
>>> list(df.columns), df.index.name
(['OBa', 'OCa'], 'time')
>>> bool(df["OCa"].iloc[-1] > sim.baseline()["OCa"])
True
"""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import libsbml
import numpy as np
import pandas as pd
import roadrunner

from pybrainbone.build import CompiledModel, compile_model
from pybrainbone.errors import InvalidValueError, PyBrainBoneError, SimulationError, unknown_name

# Compilation time matters more than run time for our models; LLJIT compiles several times faster
# (tooling.md §1.8; benchmarks/bench_simulate.py measures it for ours).
roadrunner.Config.setValue(roadrunner.Config.LLVM_BACKEND, roadrunner.Config.LLJIT)
# Our interventions may use events; steady states are still well defined with them switched off.
roadrunner.Config.setValue(roadrunner.Config.ALLOW_EVENTS_IN_STEADY_STATE_CALCULATIONS, True)

Changes = Mapping[str, float]


@dataclass(frozen=True)
class SolverOptions:
    """CVODE settings. Tight defaults: cross-simulator checks compare at 1e-4 relative."""

    relative_tolerance: float = 1e-9
    absolute_tolerance: float = 1e-15
    maximum_num_steps: int = 200_000
    stiff: bool = True

    def with_(self, **kwargs: Any) -> SolverOptions:
        """Copy with some fields replaced."""
        return replace(self, **kwargs)


def check_value(name: str, value: object) -> float:
    """Return ``value`` as a finite float, or raise :class:`InvalidValueError` saying why not.

    Booleans and strings are refused: a switch is set with 0 or 1, and text must be parsed by the caller.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidValueError(f"value for {name!r} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidValueError(f"value for {name!r} must be finite, got {number}")
    return number


def _unit_label(element: libsbml.SBase | None, model: libsbml.Model) -> str:
    if element is None:
        return ""
    if isinstance(element, libsbml.Species):
        # Name the concentration unit by the model's own declaration (pM) where one matches.
        derived = element.getDerivedUnitDefinition()
        for definition in model.getListOfUnitDefinitions():
            if derived is not None and libsbml.UnitDefinition.areEquivalent(definition, derived):
                return str(definition.getId())
        return libsbml.UnitDefinition.printUnits(derived, True) if derived is not None else ""
    return str(element.getUnits()) if hasattr(element, "getUnits") else ""


class Simulator:
    """A compiled model ready to simulate: parameters by name, named time courses and steady states.

    Parameters
    ----------
    model:
        A model name from ``models/`` (e.g. ``"bone_remodeling"``) or a :class:`CompiledModel`.
    options:
        Solver settings kept for the simulator's life; ``simulate(options=...)`` overrides them per call.
    """

    def __init__(self, model: str | CompiledModel, options: SolverOptions | None = None) -> None:
        self.model = compile_model(model) if isinstance(model, str) else model
        self.options = options or SolverOptions()
        try:
            self._rr = roadrunner.RoadRunner(self.model.sbml)
        except RuntimeError as exc:
            raise SimulationError(f"libRoadRunner could not load model {self.name!r}: {exc}") from None
        self._baseline: pd.Series | None = None

    # ---- names ---------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.model.name

    @cached_property
    def _sbml_model(self) -> libsbml.Model:
        self._document = libsbml.readSBMLFromString(self.model.sbml)  # keep the document alive
        return self._document.getModel()

    @cached_property
    def _rule_targets(self) -> frozenset[str]:
        return frozenset(r.getVariable() for r in self._sbml_model.getListOfRules() if r.isAssignment())

    @cached_property
    def state_ids(self) -> list[str]:
        """Variables integrated in time, in libRoadRunner's state-vector order (rate rules, then species)."""
        size = len(self._rr.getRatesOfChange())
        return [self._rr.model.getStateVectorId(i) for i in range(size)]

    @cached_property
    def parameter_ids(self) -> list[str]:
        """Global parameters a user may change (not those computed by assignment rules)."""
        rate_rules = set(self._rr.getRateRuleIds())
        return [
            p.getId()
            for p in self._sbml_model.getListOfParameters()
            if p.getId() not in self._rule_targets and p.getId() not in rate_rules
        ]

    @cached_property
    def output_ids(self) -> list[str]:
        """Variables computed by assignment rules (signals, ports, markers)."""
        return [p.getId() for p in self._sbml_model.getListOfParameters() if p.getId() in self._rule_targets]

    @cached_property
    def variable_ids(self) -> list[str]:
        """Everything a time course can report: states, then rule outputs."""
        return self.state_ids + self.output_ids

    @cached_property
    def units(self) -> dict[str, str]:
        """Unit id of every species, parameter and output (``time`` in days)."""
        model = self._sbml_model
        labels = {"time": "day"}
        for sid in [*self.variable_ids, *self.parameter_ids]:
            labels[sid] = _unit_label(model.getElementBySId(sid), model)
        return labels

    @cached_property
    def _reference_values(self) -> dict[str, float]:
        # Read once, before any call has changed anything: the model's own reference values.
        self._rr.resetToOrigin()
        return {p: float(self._rr[p]) for p in self.parameter_ids}

    def parameters(self) -> pd.DataFrame:
        """Table of changeable parameters: value at the reference state (never a run's changes) and unit."""
        values = [self._reference_values[p] for p in self.parameter_ids]
        frame = pd.DataFrame(
            {"value": values, "unit": [self.units[p] for p in self.parameter_ids]},
            index=pd.Index(self.parameter_ids, name="parameter"),
        )
        return frame

    def _check_selection(self, names: Iterable[str]) -> list[str]:
        selected = list(names)
        known = set(self.variable_ids) | set(self.parameter_ids)
        for sid in selected:
            if sid not in known:
                raise unknown_name("variable", sid, [*self.variable_ids, *self.parameter_ids], self.name)
        return selected

    # ---- reset protocol ---------------------------------------------------------------------------
    def _prepare(self, changes: Changes | None) -> None:
        """Reference state, then ``changes``: parameters first, then ``reset()``, then state values at t=0.

        State values are set directly rather than through ``init(...)``: setting an initial value makes
        libRoadRunner re-run every initial assignment and can undo other changes (roadrunner#1078).
        """
        checked = {k: check_value(k, v) for k, v in (changes or {}).items()}
        states = set(self.state_ids)
        params = set(self.parameter_ids)
        for sid in checked:
            if sid in states or sid in params:
                continue
            if sid in self._rule_targets:
                raise PyBrainBoneError(
                    f"cannot set {sid!r} in model {self.name!r}: it is computed by an assignment rule; "
                    "change the parameters it depends on instead"
                )
            raise unknown_name("parameter", sid, [*self.parameter_ids, *self.state_ids], self.name)
        self._rr.resetToOrigin()
        for sid, value in checked.items():
            if sid in params:
                self._rr.setValue(sid, value)
        self._rr.reset()
        for sid, value in checked.items():
            if sid in states:
                self._rr.setValue(sid, value)

    def _apply_options(self, options: SolverOptions) -> None:
        integrator = self._rr.integrator
        integrator.relative_tolerance = options.relative_tolerance
        integrator.absolute_tolerance = options.absolute_tolerance
        integrator.maximum_num_steps = options.maximum_num_steps
        integrator.stiff = options.stiff

    # ---- simulation -------------------------------------------------------------------------------
    def simulate(
        self,
        end: float,
        points: int = 101,
        *,
        start: float = 0.0,
        changes: Changes | None = None,
        selections: Iterable[str] | None = None,
        options: SolverOptions | None = None,
    ) -> pd.DataFrame:
        """Time course from the reference state with ``changes`` applied at ``start``.

        Returns a DataFrame indexed by ``time`` (days) with one column per selected variable;
        ``df.attrs["units"]`` maps every column to its unit.
        """
        end = check_value("end", end)
        start = check_value("start", start)
        if end <= start:
            raise InvalidValueError(f"end time must be after the start time ({start} day), got {end}")
        if isinstance(points, bool) or not isinstance(points, numbers.Integral) or points < 2:
            raise InvalidValueError(f"points must be an integer >= 2, got {points!r}")
        columns = self._check_selection(selections) if selections is not None else self.variable_ids
        self._prepare(changes)
        self._apply_options(options or self.options)
        try:
            result = self._rr.simulate(start, end, int(points), selections=["time", *columns])
        except RuntimeError as exc:
            raise SimulationError(f"simulation of {self.name!r} failed: {exc}") from None
        finally:
            self._apply_options(self.options)
        data = np.asarray(result)
        if not np.all(np.isfinite(data)):
            raise SimulationError(f"simulation of {self.name!r} produced non-finite values")
        frame = pd.DataFrame(data[:, 1:], columns=columns, index=pd.Index(data[:, 0], name="time"))
        frame.attrs["units"] = {c: self.units.get(c, "") for c in ["time", *columns]}
        frame.attrs["model"] = self.name
        return frame

    def steady_state(self, changes: Changes | None = None) -> pd.Series:
        """Steady state of all variables with ``changes`` applied.

        libRoadRunner's solver handles the species; the rate-rule variables (bone mass) are then solved
        together with them by Newton's method on the full state, falling back to a long presimulation.
        """
        self._prepare(changes)
        self._apply_options(self.options)
        with contextlib.suppress(RuntimeError):  # Newton below starts from wherever this solver stopped
            self._rr.steadyState()
        if not self._newton():
            self._prepare(changes)
            try:
                self._rr.simulate(0.0, 1e5, 2)
            except RuntimeError as exc:
                raise SimulationError(f"steady state of {self.name!r} not found: {exc}") from None
            if not self._newton():
                residual = float(np.max(np.abs(self._rates())))
                raise SimulationError(
                    f"steady state of {self.name!r} not found (max |dx/dt| = {residual:.3g} after "
                    "presimulation and Newton); the model may have no stable steady state with these changes"
                )
        values = pd.Series(
            {sid: self._rr[sid] for sid in self.variable_ids}, name="steady_state", dtype=float
        )
        values.attrs["units"] = {c: self.units.get(c, "") for c in self.variable_ids}
        return values

    def _state(self) -> np.ndarray:
        return np.array([self._rr[sid] for sid in self.state_ids], dtype=float)

    def _set_state(self, x: np.ndarray) -> None:
        for sid, value in zip(self.state_ids, x, strict=True):
            self._rr.setValue(sid, float(value))

    def _converged(self, x: np.ndarray, rates: np.ndarray) -> bool:
        # |dx/dt| small against the variable's own scale: 1e-12 of it per day.
        return bool(np.all(np.abs(rates) <= 1e-12 * np.maximum(np.abs(x), 1e-12) + 1e-300))

    def _newton(self, max_iterations: int = 50) -> bool:
        x = self._state()
        for _ in range(max_iterations):
            rates = self._rates()
            if not np.all(np.isfinite(rates)):
                return False
            if self._converged(x, rates):
                return True
            jac = self._numerical_jacobian(x)
            try:
                step = np.linalg.solve(jac, -rates)
            except np.linalg.LinAlgError:
                return False
            # Damp steps that would flip a positive quantity's sign.
            scale = 1.0
            while scale > 1e-4 and np.any((x > 0) & (x + scale * step <= 0)):
                scale /= 2
            x = x + scale * step
            self._set_state(x)
        return self._converged(x, self._rates())

    def _numerical_jacobian(self, x: np.ndarray, relative_step: float = 1e-6) -> np.ndarray:
        n = len(x)
        jac = np.empty((n, n))
        for j in range(n):
            h = relative_step * max(abs(x[j]), 1e-12)
            shifted = x.copy()
            shifted[j] = x[j] + h
            self._set_state(shifted)
            up = self._rates()
            shifted[j] = x[j] - h
            self._set_state(shifted)
            down = self._rates()
            jac[:, j] = (up - down) / (2 * h)
        self._set_state(x)
        return jac

    def baseline(self) -> pd.Series:
        """The healthy reference steady state (no changes), computed once and cached."""
        if self._baseline is None:
            self._baseline = self.steady_state()
        return self._baseline.copy()

    def initial_values(self) -> pd.Series:
        """All variables at t = 0 of the reference state (the SBML initial values)."""
        self._prepare(None)
        return pd.Series({sid: self._rr[sid] for sid in self.variable_ids}, name="initial", dtype=float)

    # ---- linearisation ----------------------------------------------------------------------------
    def _rates(self) -> np.ndarray:
        return np.asarray(self._rr.getRatesOfChange(), dtype=float)

    def jacobian(self, changes: Changes | None = None) -> pd.DataFrame:
        """Jacobian d(dx/dt)/dx at the steady state (central differences; works with rate rules).

        libRoadRunner's own Jacobian refuses models with rate rules, which our bone-mass outputs use.
        """
        state = self.steady_state(changes)
        x = np.array([state[sid] for sid in self.state_ids], dtype=float)
        return pd.DataFrame(self._numerical_jacobian(x), index=self.state_ids, columns=self.state_ids)

    def eigenvalues(self, changes: Changes | None = None) -> np.ndarray:
        """Eigenvalues of :meth:`jacobian` (per day)."""
        return np.linalg.eigvals(self.jacobian(changes).to_numpy())
