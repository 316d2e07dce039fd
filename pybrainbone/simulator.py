"""Load a compiled model into libRoadRunner and simulate it with named, unit-labelled results.

One :class:`Simulator` holds one loaded model for its whole life; every call starts from the model's
reference state (the SBML initial values, which are the healthy steady state) and applies its own
``changes``, so calls never leak into each other and never mutate the simulator's configuration.

The work is split three ways: :class:`~pybrainbone.model_info.ModelInfo` (names, roles and units read from
the SBML), :class:`~pybrainbone.runtime.ModelRuntime` (the loaded model: reset protocol, integration,
state access) and :mod:`pybrainbone.steady_state` (Newton, Jacobian). This class only puts names and units
on their results.

>>> from pybrainbone import Simulator
>>> sim = Simulator("bone_remodeling")
>>> df = sim.simulate(end=100, points=11, changes={"P_PTH_ext": 100.0}, selections=["OBa", "OCa"])
>>> list(df.columns), df.index.name
(['OBa', 'OCa'], 'time')
>>> bool(df["OCa"].iloc[-1] > sim.baseline()["OCa"])
True
"""

from __future__ import annotations

import html
import numbers
from collections.abc import Iterable, Sequence
from functools import cached_property

import numpy as np
import pandas as pd

from pybrainbone import steady_state as newton_solver
from pybrainbone.build import CompiledModel, compile_model
from pybrainbone.errors import InvalidValueError, unknown_name
from pybrainbone.model_info import ModelInfo
from pybrainbone.options import SolverOptions
from pybrainbone.organisms import organism as get_organism
from pybrainbone.runtime import Changes, ModelRuntime
from pybrainbone.values import check_value


class Simulator:
    """A compiled model ready to simulate: parameters by name, named time courses and steady states.

    Parameters
    ----------
    model:
        A model name from ``models/`` (e.g. ``"bone_remodeling"``) or a :class:`CompiledModel`.
    options:
        Solver settings kept for the simulator's life; ``simulate(options=...)`` overrides them per call.
    organism:
        A preset (``human``, ``rat``, ``mouse``; see :mod:`pybrainbone.organisms`) applied before every
        call's own changes: the simulator then stands for that organism's reference.
    use_cache:
        Load the compiled model from the on-disk cache (and save it there after compiling).

    Examples
    --------
    >>> rat, human = Simulator("bone_remodeling", organism="rat"), Simulator("bone_remodeling")
    >>> float(rat.parameters().loc["D_OBu", "value"] / human.parameters().loc["D_OBu", "value"])
    4.0
    """

    def __init__(
        self,
        model: str | CompiledModel,
        options: SolverOptions | None = None,
        *,
        organism: str = "human",
        use_cache: bool = True,
    ) -> None:
        self.model = compile_model(model) if isinstance(model, str) else model
        self.options = options or SolverOptions()
        self.info = ModelInfo.from_sbml(self.model.sbml, self.model.name)
        self._runtime = ModelRuntime(self.model.sbml, self.model.digest, self.info, use_cache=use_cache)
        self._runtime.apply_options(self.options)
        self.organism = organism
        self._preset: dict[str, float] = {}
        if organism != "human":
            reference = dict(zip(self.parameter_ids, self._runtime.values(self.parameter_ids), strict=True))
            self._preset = get_organism(organism).changes(self.name, reference)
        self._baseline: pd.Series | None = None

    # ---- names ---------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.model.name

    @property
    def state_ids(self) -> list[str]:
        """Variables integrated in time, in libRoadRunner's state-vector order (rate rules, then species)."""
        return list(self._runtime.state_ids)

    @property
    def parameter_ids(self) -> list[str]:
        """Global parameters a user may change (not those computed by rules or switched by events)."""
        return list(self.info.parameter_ids)

    @property
    def output_ids(self) -> list[str]:
        """Variables computed by assignment rules (signals, ports, markers)."""
        return list(self.info.output_ids)

    @property
    def variable_ids(self) -> list[str]:
        """Everything a time course can report: states, then rule outputs."""
        return self.state_ids + self.output_ids

    @property
    def units(self) -> dict[str, str]:
        """Unit id of every species, parameter and output (``time`` in days)."""
        return dict(self.info.units)

    @cached_property
    def _reference_values(self) -> dict[str, float]:
        # Read once from a freshly prepared model: the model's own reference values (initial
        # assignments evaluated), never a run's changes.
        self._runtime.prepare(self._with_preset(None))
        return dict(zip(self.parameter_ids, self._runtime.values(self.parameter_ids), strict=True))

    def parameters(self) -> pd.DataFrame:
        """Table of changeable parameters: value at the reference state (never a run's changes) and unit."""
        return pd.DataFrame(
            {
                "value": [self._reference_values[p] for p in self.parameter_ids],
                "unit": [self.info.units.get(p, "") for p in self.parameter_ids],
            },
            index=pd.Index(self.parameter_ids, name="parameter"),
        )

    def _check_selection(self, names: Iterable[str]) -> list[str]:
        selected = list(names)
        known = set(self.variable_ids) | set(self.parameter_ids) | set(self.info.event_target_ids)
        for sid in selected:
            if sid not in known:
                raise unknown_name("variable", sid, [*self.variable_ids, *self.parameter_ids], self.name)
        return selected

    def _with_preset(self, changes: Changes | None) -> dict[str, float]:
        """The organism preset, then the call's own changes (later wins)."""
        return {**self._preset, **(changes or {})}

    def _repr_html_(self) -> str:
        """A model summary for notebooks: name, organism, sizes, solver settings."""
        rows = [
            ("model", self.name),
            ("organism", self.organism),
            ("states", str(len(self.state_ids))),
            ("parameters", str(len(self.parameter_ids))),
            ("outputs", str(len(self.output_ids))),
            ("solver", ", ".join(f"{k} {v}" for k, v in self.options.as_dict().items())),
        ]
        body = "".join(
            f"<tr><th style='text-align:left'>{k}</th><td>{html.escape(v)}</td></tr>" for k, v in rows
        )
        return f"<table><caption>pybrainbone.Simulator</caption>{body}</table>"

    def __repr__(self) -> str:
        return f"Simulator({self.name!r}, organism={self.organism!r})"

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
        ``df.attrs["units"]`` maps every column to its unit. Timed interventions are SBML events, so the
        result does not depend on the output grid (``points``).
        """
        end = check_value("end", end)
        start = check_value("start", start)
        if end <= start:
            raise InvalidValueError(f"end time must be after the start time ({start} day), got {end}")
        if isinstance(points, bool) or not isinstance(points, numbers.Integral) or points < 2:
            raise InvalidValueError(f"points must be an integer >= 2, got {points!r}")
        columns = self._check_selection(selections) if selections is not None else self.variable_ids
        runtime = self._runtime
        runtime.prepare(self._with_preset(changes))
        runtime.apply_options(options or self.options)
        try:
            data = runtime.integrate(start, end, int(points), columns)
        finally:
            runtime.apply_options(self.options)
        frame = pd.DataFrame(data[:, 1:], columns=columns, index=pd.Index(data[:, 0], name="time"))
        frame.attrs["units"] = {c: self.info.units.get(c, "") for c in ["time", *columns]}
        frame.attrs["model"] = self.name
        return frame

    # ---- steady state and linearisation -----------------------------------------------------------
    def _solve(self, changes: Changes | None) -> np.ndarray:
        runtime = self._runtime
        runtime.prepare(self._with_preset(changes))
        switches = runtime.event_target_values()

        def presimulate(days: float) -> None:
            runtime.integrate(0.0, days, 2, [])
            runtime.restore_time_zero(switches)

        return newton_solver.solve(runtime, presimulate, lambda: runtime.prepare(self._with_preset(changes)))

    def steady_state(
        self, changes: Changes | None = None, selections: Iterable[str] | None = None
    ) -> pd.Series:
        """Steady state with ``changes`` applied (interventions as they stand at t = 0): every variable,
        or only ``selections`` (reading ~700 outputs costs more than the Newton solve itself).

        Newton's method on the full state vector (see :mod:`pybrainbone.steady_state`).
        """
        columns = self._check_selection(selections) if selections is not None else self.variable_ids
        self._solve(changes)
        values = pd.Series(
            dict(zip(columns, self._runtime.values(columns), strict=True)), name="steady_state", dtype=float
        )
        values.attrs["units"] = {c: self.info.units.get(c, "") for c in columns}
        return values

    def baseline(self) -> pd.Series:
        """The healthy reference steady state (no changes), computed once and cached."""
        if self._baseline is None:
            self._baseline = self.steady_state()
        return self._baseline.copy()

    def initial_values(self) -> pd.Series:
        """All variables at t = 0 of the reference state (the SBML initial values)."""
        self._runtime.prepare(self._with_preset(None))
        return pd.Series(
            dict(zip(self.variable_ids, self._runtime.values(self.variable_ids), strict=True)),
            name="initial",
            dtype=float,
        )

    def rates(self, changes: Changes | None = None) -> pd.Series:
        """dx/dt of every state at t = 0 with ``changes`` applied (per day); 0 at a steady state."""
        self._runtime.prepare(self._with_preset(changes))
        return pd.Series(self._runtime.rates(), index=self.state_ids, name="rate", dtype=float)

    def jacobian(self, changes: Changes | None = None) -> pd.DataFrame:
        """Jacobian d(dx/dt)/dx at the steady state (central differences; works with rate rules).

        libRoadRunner's own Jacobian refuses models with rate rules, which our bone-mass outputs use.
        """
        x = self._solve(changes)
        jac = newton_solver.central_jacobian(self._runtime, x)
        return pd.DataFrame(jac, index=self.state_ids, columns=self.state_ids)

    def eigenvalues(self, changes: Changes | None = None) -> np.ndarray:
        """Eigenvalues of :meth:`jacobian` (per day)."""
        return np.linalg.eigvals(self.jacobian(changes).to_numpy())

    # ---- sensitivities ----------------------------------------------------------------------------
    def forward_sensitivities(
        self,
        parameters: Sequence[str],
        states: Sequence[str],
        *,
        end: float,
        points: int,
        start: float = 0.0,
        changes: Changes | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(time, d state/d parameter) from libRoadRunner's CVODES solver; shape (time, params, states).

        Only states can be reported; unknown names fail like everywhere else.
        """
        for p in parameters:
            if p not in self.info.parameter_ids:
                raise unknown_name("parameter", p, self.parameter_ids, self.name)
        not_states = [s for s in states if s not in self.state_ids]
        if not_states:
            raise InvalidValueError(
                f"the forward sensitivity solver reports state variables only; {not_states} are not states "
                "(use method='fd')"
            )
        self._runtime.prepare(self._with_preset(changes))
        self._runtime.apply_options(self.options)
        return self._runtime.forward_sensitivities(parameters, states, start, end, points)
