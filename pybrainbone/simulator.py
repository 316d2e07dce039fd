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
from pybrainbone.model_text import declared_ids
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
        """The model's name.

        Examples
        --------
        >>> sim = Simulator("bone_remodeling")
        >>> sim.name
        'bone_remodeling'
        """
        return self.model.name

    @property
    def state_ids(self) -> list[str]:
        """Variables integrated in time, in libRoadRunner's state-vector order (rate rules, then species).

        Examples
        --------
        >>> sim = Simulator("bone_remodeling")
        >>> {"OBp", "OBa", "OCa"} <= set(sim.state_ids)
        True
        """
        return list(self._runtime.state_ids)

    @property
    def parameter_ids(self) -> list[str]:
        """Global parameters a user may change (not those computed by rules or switched by events).

        Examples
        --------
        >>> sim = Simulator("bone_remodeling")
        >>> "P_PTH_ext" in sim.parameter_ids, "RANKL" in sim.parameter_ids
        (True, False)
        """
        return list(self.info.parameter_ids)

    @property
    def output_ids(self) -> list[str]:
        """Variables computed by assignment rules (signals, ports, markers).

        Examples
        --------
        >>> sim = Simulator("bone_remodeling")
        >>> "RANKL" in sim.output_ids, "OBa" in sim.output_ids
        (True, False)
        """
        return list(self.info.output_ids)

    @property
    def variable_ids(self) -> list[str]:
        """Everything a time course can report: states, then rule outputs.

        Examples
        --------
        >>> sim = Simulator("bone_remodeling")
        >>> sim.variable_ids == sim.state_ids + sim.output_ids
        True
        """
        return self.state_ids + self.output_ids

    @property
    def units(self) -> dict[str, str]:
        """Unit id of every species, parameter and output (``time`` in days).

        Examples
        --------
        >>> sim = Simulator("bone_remodeling")
        >>> units = sim.units
        >>> units["time"], units["OBa"], units["P_PTH_ext"]
        ('day', 'pM', 'pM_per_day')
        """
        return dict(self.info.units)

    @cached_property
    def _reference_values(self) -> dict[str, float]:
        # Read once from a freshly prepared model: the model's own reference values (initial
        # assignments evaluated), never a run's changes.
        self._runtime.prepare(self._with_preset(None))
        return dict(zip(self.parameter_ids, self._runtime.values(self.parameter_ids), strict=True))

    def parameters(self) -> pd.DataFrame:
        """Table of changeable parameters: value at the reference state (never a run's changes) and unit.

        Examples
        --------
        >>> sim = Simulator("bone_remodeling")
        >>> table = sim.parameters()
        >>> list(table.columns), table.index.name
        (['value', 'unit'], 'parameter')
        >>> float(table.loc["P_PTH_ext", "value"]), table.loc["P_PTH_ext", "unit"]
        (0.0, 'pM_per_day')
        """
        return pd.DataFrame(
            {
                "value": [self._reference_values[p] for p in self.parameter_ids],
                "unit": [self.info.units.get(p, "") for p in self.parameter_ids],
            },
            index=pd.Index(self.parameter_ids, name="parameter"),
        )

    def _check_selection(self, names: Iterable[str]) -> list[str]:
        selected = list(names)
        # Derived parameters cannot be changed but can be read (their value follows what they derive from).
        known = set(self.variable_ids) | set(self.parameter_ids) | set(self.info.event_target_ids)
        known |= set(self.info.derived)
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

        Examples
        --------
        >>> sim = Simulator("bone_remodeling")
        >>> course = sim.simulate(
        ...     end=365, points=3, changes={"P_PTH_ext": 100.0}, selections=["OCa", "CTX_rel"])
        >>> course.index.tolist(), course.attrs["units"]
        ([0.0, 182.5, 365.0], {'time': 'day', 'OCa': 'pM', 'CTX_rel': 'dimensionless'})
        >>> bool(course["CTX_rel"].iloc[-1] > 1)  # PTH raises resorption
        True
        >>> sim.simulate(end=10, points=1)
        Traceback (most recent call last):
        ...
        pybrainbone.errors.InvalidValueError: points must be an integer >= 2, got 1
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

        return newton_solver.solve(
            runtime, presimulate, lambda: runtime.prepare(self._with_preset(changes)), self._held
        )

    @cached_property
    def _held(self) -> np.ndarray | None:
        # States without a restoring force (``// @accumulates`` in their module, e.g. a site's bone
        # volume): a steady state holds them where they stand. SBML from elsewhere declares none.
        source = self.model.source
        if source.suffix != ".ant":
            return None
        held = set(declared_ids(self.name, "accumulates", source.parent))
        mask = np.array([sid in held for sid in self.state_ids], dtype=bool)
        return mask if mask.any() else None

    def steady_state(
        self, changes: Changes | None = None, selections: Iterable[str] | None = None
    ) -> pd.Series:
        """Steady state with ``changes`` applied (interventions as they stand at t = 0): every variable,
        or only ``selections`` (reading ~700 outputs costs more than the Newton solve itself).

        Newton's method on the full state vector (see :mod:`pybrainbone.steady_state`).

        Examples
        --------
        >>> sim = Simulator("bone_remodeling")
        >>> state = sim.steady_state({"P_PTH_ext": 100.0}, selections=["OBa", "OCa"])
        >>> (state * 1e4).round(3).to_dict()  # pM x 1e4
        {'OBa': 6.408, 'OCa': 9.51}
        """
        columns = self._check_selection(selections) if selections is not None else self.variable_ids
        self._solve(changes)
        values = pd.Series(
            dict(zip(columns, self._runtime.values(columns), strict=True)), name="steady_state", dtype=float
        )
        values.attrs["units"] = {c: self.info.units.get(c, "") for c in columns}
        return values

    def baseline(self) -> pd.Series:
        """The healthy reference steady state (no changes), computed once and cached.

        Examples
        --------
        >>> sim = Simulator("bone_remodeling")
        >>> baseline = sim.baseline()
        >>> round(float(baseline["OBa"]) * 1e4, 3), float(baseline["CTX_rel"])
        (5.584, 1.0)
        """
        if self._baseline is None:
            self._baseline = self.steady_state()
        return self._baseline.copy()

    def initial_values(self) -> pd.Series:
        """All variables at t = 0 of the reference state (the SBML initial values).

        Examples
        --------
        >>> sim = Simulator("bone_remodeling")
        >>> start = sim.initial_values()
        >>> round(float(start["OCa"]) * 1e4, 3), float(start["P1NP_rel"])
        (8.07, 1.0)
        """
        self._runtime.prepare(self._with_preset(None))
        return pd.Series(
            dict(zip(self.variable_ids, self._runtime.values(self.variable_ids), strict=True)),
            name="initial",
            dtype=float,
        )

    def rates(self, changes: Changes | None = None) -> pd.Series:
        """dx/dt of every state at t = 0 with ``changes`` applied (per day); 0 at a steady state.

        Examples
        --------
        >>> sim = Simulator("bone_remodeling")
        >>> bool(sim.rates().abs().max() < 1e-15)  # the reference is at rest
        True
        >>> bool(sim.rates({"P_PTH_ext": 100.0})["OCa"] > 0)
        True
        """
        self._runtime.prepare(self._with_preset(changes))
        return pd.Series(self._runtime.rates(), index=self.state_ids, name="rate", dtype=float)

    def jacobian(self, changes: Changes | None = None) -> pd.DataFrame:
        """Jacobian d(dx/dt)/dx at the steady state (central differences; works with rate rules).

        libRoadRunner's own Jacobian refuses models with rate rules, which our bone-mass outputs use.

        Examples
        --------
        >>> sim = Simulator("bone_remodeling")
        >>> cells = ["OBp", "OBa", "OCa"]
        >>> sim.jacobian().loc[cells, cells].round(4)
                OBp     OBa     OCa
        OBp -0.1703  0.0000  0.1585
        OBa  0.1703 -0.1890 -0.0475
        OCa  0.0452 -0.1364 -0.1952
        """
        x = self._solve(changes)
        jac = newton_solver.central_jacobian(self._runtime, x)
        return pd.DataFrame(jac, index=self.state_ids, columns=self.state_ids)

    def eigenvalues(self, changes: Changes | None = None) -> np.ndarray:
        """Eigenvalues of :meth:`jacobian` (per day), over the states that have a steady state.

        Held states (``// @accumulates``, e.g. a site's bone volume) have no restoring force by design and
        are left out, so a stable model has only negative real parts.

        Examples
        --------
        >>> sim = Simulator("bone_remodeling")
        >>> values = sim.eigenvalues()
        >>> bool((values.real < 0).all())  # a stable reference: every perturbation decays
        True
        >>> len(values) == len(sim.state_ids)
        True
        """
        jac = self.jacobian(changes).to_numpy()
        if self._held is not None:
            free = ~self._held
            jac = jac[np.ix_(free, free)]
        return np.linalg.eigvals(jac)

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

        Examples
        --------
        >>> sim = Simulator("bone_remodeling")
        >>> times, sens = sim.forward_sensitivities(["P_PTH_ext"], ["OCa"], end=30, points=4)
        >>> times.tolist(), sens.shape
        ([0.0, 10.0, 20.0, 30.0], (4, 1, 1))
        >>> sim.forward_sensitivities(["P_PTH_ext"], ["RANKL"], end=30, points=4)
        Traceback (most recent call last):
        ...
        pybrainbone.errors.InvalidValueError: the forward sensitivity solver reports state variables only; ...
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
