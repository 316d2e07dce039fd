"""One resolved description of every run an experiment makes: what it starts from, what it changes, in order.

:func:`resolve` turns an :class:`~pybrainbone.experiments.spec.Experiment` into a :class:`Plan`; the
runner, the SED-ML writer, spec checking and the sensitivity objective all consume the plan, and nothing
else decides what a run starts with. The order of changes is the one rule of the package:

1. the organism preset (rodent bone-cell rates),
2. the experiment's shared ``changes``,
3. a sample of a sensitivity or calibration problem (when there is one),
4. with ``pre_equilibration``: every state at the steady state of 1-3 plus the pre-equilibration's own
   changes (recomputed for every sample),
5. the arm's own changes (an arm's own state values override the pre-equilibrated ones),
6. a scan's value.

:func:`execute` runs a plan on a simulator: one course (or steady state) per run, in plan order.

>>> from pybrainbone.experiments.spec import Experiment
>>> from pybrainbone.simulator import Simulator
>>> exp = Experiment.model_validate({
...     "id": "opg", "model": "bone_remodeling",
...     "simulation": {"type": "uniform_time_course", "end": 10, "points": 2},
...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_OPG_ext": 2e5}}],
...     "data_generators": [{"id": "d", "expression": "treated.OCa / control.OCa"}]})
>>> plan = resolve(exp, Simulator("bone_remodeling"))
>>> [(run.task, run.variables) for run in plan.runs]
[('control', ('OCa',)), ('treated', ('OCa',))]
>>> plan.changes(plan.runs[1])
{'P_OPG_ext': 200000.0}
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import pandas as pd

from pybrainbone.errors import PyBrainBoneError, unknown_name
from pybrainbone.experiments.expressions import parse_expression
from pybrainbone.experiments.spec import Experiment, Simulation, SteadyState
from pybrainbone.options import SolverOptions
from pybrainbone.organisms import organism
from pybrainbone.simulator import Simulator

#: What a time course reports when no data generator asks for anything (first one the model has).
_DEFAULT_VARIABLES = ("BMD", "BV", "core_BMD", "core_BV")

Values = Mapping[str, float]


def _frozen(values: Mapping[str, float]) -> Mapping[str, float]:
    # A copy typed read-only (a MappingProxyType would not pickle, and plans travel to workers).
    return dict(values)


@dataclass(frozen=True)
class Run:
    """One simulation: an arm's task, or one value of a scan over an arm."""

    task: str
    arm: str
    variables: tuple[str, ...]
    scan_parameter: str | None = None
    scan_value: float | None = None


@dataclass(frozen=True)
class Plan:
    """Every run of an experiment, with the changes each applies (see the module docstring for the order)."""

    experiment: Experiment
    model: str
    simulation: Simulation
    options: SolverOptions
    preset: Mapping[str, float]
    shared: Mapping[str, float]
    pre_equilibration: Mapping[str, float] | None
    arm_changes: Mapping[str, Mapping[str, float]]
    runs: tuple[Run, ...]

    @property
    def arms(self) -> tuple[Run, ...]:
        """The runs that are arms' own tasks (not scan values)."""
        return tuple(r for r in self.runs if r.scan_parameter is None)

    def scan_runs(self, scan_id: str) -> tuple[Run, ...]:
        return tuple(r for r in self.runs if r.task == scan_id and r.scan_parameter is not None)

    def base(self, sample: Values | None = None) -> dict[str, float]:
        """Steps 1-3: what every run of this plan starts with."""
        return {**self.preset, **self.shared, **(sample or {})}

    def pre_equilibration_condition(self, sample: Values | None = None) -> dict[str, float] | None:
        """The changes whose steady state every run starts from (None without pre-equilibration)."""
        if self.pre_equilibration is None:
            return None
        return {**self.base(sample), **self.pre_equilibration}

    def changes(
        self, run: Run, sample: Values | None = None, start_state: Values | None = None
    ) -> dict[str, float]:
        """Everything ``run`` sets at its start, in the plan's order (later wins)."""
        own = self.arm_changes[run.arm]
        changes = self.base(sample)
        changes.update(own)
        # Pre-equilibrated states go last in the listing (precedence is as documented: they replace
        # 1-3, never the arm's own): tellurium applies SED-ML changes in reverse order, and a species'
        # init() there resets every parameter set before it (roadrunner#1078).
        for sid, value in (start_state or {}).items():
            if sid not in own:
                changes[sid] = value
        if run.scan_parameter is not None and run.scan_value is not None:
            changes[run.scan_parameter] = run.scan_value
        return changes

    def restricted(self, tasks: Iterable[str]) -> Plan:
        """The same plan with only the runs of ``tasks`` (what one output needs)."""
        keep = set(tasks)
        return replace(self, runs=tuple(r for r in self.runs if r.task in keep))


def _needed_variables(experiment: Experiment, sim: Simulator) -> dict[str, tuple[str, ...]]:
    needed: dict[str, set[str]] = {a.id: set() for a in experiment.arms}
    needed.update({s.id: set() for s in experiment.scans})
    for dg in experiment.data_generators:
        for task, variable in parse_expression(dg.expression).references:
            needed[task].add(variable)
    default = [v for v in _DEFAULT_VARIABLES if v in sim.variable_ids] or sim.state_ids[:1]
    return {task: tuple(sorted(v) or default) for task, v in needed.items()}


def check_names(experiment: Experiment, sim: Simulator) -> None:
    """Every changed name and every referenced variable exists in the model (with near matches)."""
    settable = [*sim.parameter_ids, *sim.state_ids]
    readable = [*sim.variable_ids, *sim.parameter_ids]
    changed: list[tuple[str, str]] = [("changes", n) for n in experiment.changes]
    changed += [(f"arms[{a.id}].changes", n) for a in experiment.arms for n in a.changes]
    changed += [(f"scans[{s.id}].parameter", s.parameter) for s in experiment.scans]
    if experiment.pre_equilibration is not None:
        changed += [("pre_equilibration.changes", n) for n in experiment.pre_equilibration.changes]
    for where, name in changed:
        if name not in settable:
            raise PyBrainBoneError(f"{where}: {unknown_name('parameter', name, settable, sim.name)}")
    for dg in experiment.data_generators:
        for _, variable in parse_expression(dg.expression).references:
            if variable not in readable:
                error = unknown_name("variable", variable, readable, sim.name)
                raise PyBrainBoneError(f"data_generators[{dg.id}].expression: {error}")


def resolve(experiment: Experiment, sim: Simulator) -> Plan:
    """The plan of ``experiment`` on the model loaded in ``sim`` (names checked against it)."""
    if sim.name != experiment.model:
        raise PyBrainBoneError(f"{experiment.id!r} runs model {experiment.model!r}, not {sim.name!r}")
    check_names(experiment, sim)
    reference = sim.parameters()["value"].to_dict()
    variables = _needed_variables(experiment, sim)
    runs = [Run(a.id, a.id, variables[a.id]) for a in experiment.arms]
    for scan in experiment.scans:
        runs += [Run(scan.id, scan.arm, variables[scan.id], scan.parameter, v) for v in scan.values]
    pre = experiment.pre_equilibration
    return Plan(
        experiment=experiment,
        model=experiment.model,
        simulation=experiment.simulation,
        options=experiment.solver.options(),
        preset=_frozen(organism(experiment.organism).changes(sim.name, reference)),
        shared=_frozen(experiment.changes),
        pre_equilibration=None if pre is None else _frozen(pre.changes),
        arm_changes={a.id: _frozen(a.changes) for a in experiment.arms},
        runs=tuple(runs),
    )


class StartStates:
    """Pre-equilibrated start states, each steady state solved once per condition."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, tuple[tuple[str, float], ...]], dict[str, float]] = {}

    def for_plan(self, plan: Plan, sim: Simulator, sample: Values | None = None) -> dict[str, float]:
        """Every state at the pre-equilibrated steady state (empty without pre-equilibration)."""
        condition = plan.pre_equilibration_condition(sample)
        if condition is None:
            return {}
        key = (plan.model, tuple(sorted(condition.items())))
        if key not in self._cache:
            state = sim.steady_state(condition, selections=sim.state_ids)
            self._cache[key] = {sid: float(state[sid]) for sid in sim.state_ids}
        return self._cache[key]


def simulate_run(sim: Simulator, plan: Plan, run: Run, changes: Values) -> pd.DataFrame:
    """One run: its time course on the plan's grid, or its steady state as a one-row frame (time = inf)."""
    variables = list(run.variables)
    if isinstance(plan.simulation, SteadyState):
        state = sim.steady_state(changes, selections=variables)
        return pd.DataFrame(
            [state[variables].to_numpy()], columns=variables, index=pd.Index([math.inf], name="time")
        )
    course = plan.simulation
    return sim.simulate(
        end=course.end,
        points=course.points,
        start=course.start,
        changes=changes,
        selections=variables,
        options=plan.options,
    )


def execute(
    plan: Plan,
    sim: Simulator,
    sample: Values | None = None,
    start_states: StartStates | None = None,
) -> list[tuple[Run, pd.DataFrame]]:
    """Every run of ``plan`` on ``sim`` (with ``sample`` as step 3), in plan order."""
    start = (start_states or StartStates()).for_plan(plan, sim, sample)
    return [(run, simulate_run(sim, plan, run, plan.changes(run, sample, start))) for run in plan.runs]
