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
    """One simulation: an arm's task, or one value of a scan over an arm.

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> from pybrainbone.simulator import Simulator
    >>> exp = Experiment.model_validate({
    ...     "id": "pth", "model": "bone_remodeling", "organism": "rat", "changes": {"P_OPG_ext": 10},
    ...     "simulation": {"type": "uniform_time_course", "end": 30, "points": 2},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
    ...     "scans": [{"id": "doses", "arm": "treated", "parameter": "P_PTH_ext", "values": [50, 200]}],
    ...     "data_generators": [{"id": "d", "expression": "treated.OCa / control.OCa"},
    ...                         {"id": "dose", "expression": "doses.OCa / control.OCa"}]})
    >>> plan = resolve(exp, Simulator("bone_remodeling"))
    >>> plan.runs[1]
    Run(task='treated', arm='treated', variables=('OCa',), scan_parameter=None, scan_value=None)
    >>> plan.runs[-1]
    Run(task='doses', arm='treated', variables=('OCa',), scan_parameter='P_PTH_ext', scan_value=200.0)
    """

    task: str
    arm: str
    variables: tuple[str, ...]
    scan_parameter: str | None = None
    scan_value: float | None = None


@dataclass(frozen=True)
class Plan:
    """Every run of an experiment, with the changes each applies (see the module docstring for the order).

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> from pybrainbone.simulator import Simulator
    >>> exp = Experiment.model_validate({
    ...     "id": "pth", "model": "bone_remodeling", "organism": "rat", "changes": {"P_OPG_ext": 10},
    ...     "simulation": {"type": "uniform_time_course", "end": 30, "points": 2},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
    ...     "scans": [{"id": "doses", "arm": "treated", "parameter": "P_PTH_ext", "values": [50, 200]}],
    ...     "data_generators": [{"id": "d", "expression": "treated.OCa / control.OCa"},
    ...                         {"id": "dose", "expression": "doses.OCa / control.OCa"}]})
    >>> plan = resolve(exp, Simulator("bone_remodeling"))
    >>> plan.model, plan.shared, len(plan.runs), plan.options.relative_tolerance
    ('bone_remodeling', {'P_OPG_ext': 10.0}, 4, 1e-09)
    >>> {'A_OBa', 'A_OCa', 'D_OBp'} <= set(plan.preset)  # the rat preset: faster bone-cell rates
    True
    """

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
        """The runs that are arms' own tasks (not scan values).

        Examples
        --------
        >>> from pybrainbone.experiments.spec import Experiment
        >>> from pybrainbone.simulator import Simulator
        >>> exp = Experiment.model_validate({
        ...     "id": "pth", "model": "bone_remodeling", "organism": "rat", "changes": {"P_OPG_ext": 10},
        ...     "simulation": {"type": "uniform_time_course", "end": 30, "points": 2},
        ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
        ...     "scans": [{"id": "doses", "arm": "treated", "parameter": "P_PTH_ext", "values": [50, 200]}],
        ...     "data_generators": [{"id": "d", "expression": "treated.OCa / control.OCa"},
        ...                         {"id": "dose", "expression": "doses.OCa / control.OCa"}]})
        >>> plan = resolve(exp, Simulator("bone_remodeling"))
        >>> [run.task for run in plan.arms]
        ['control', 'treated']
        """
        return tuple(r for r in self.runs if r.scan_parameter is None)

    def scan_runs(self, scan_id: str) -> tuple[Run, ...]:
        """The runs of scan ``scan_id``, one per value, in the scan's order.

        Examples
        --------
        >>> from pybrainbone.experiments.spec import Experiment
        >>> from pybrainbone.simulator import Simulator
        >>> exp = Experiment.model_validate({
        ...     "id": "pth", "model": "bone_remodeling", "organism": "rat", "changes": {"P_OPG_ext": 10},
        ...     "simulation": {"type": "uniform_time_course", "end": 30, "points": 2},
        ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
        ...     "scans": [{"id": "doses", "arm": "treated", "parameter": "P_PTH_ext", "values": [50, 200]}],
        ...     "data_generators": [{"id": "d", "expression": "treated.OCa / control.OCa"},
        ...                         {"id": "dose", "expression": "doses.OCa / control.OCa"}]})
        >>> plan = resolve(exp, Simulator("bone_remodeling"))
        >>> [run.scan_value for run in plan.scan_runs("doses")]
        [50.0, 200.0]
        """
        return tuple(r for r in self.runs if r.task == scan_id and r.scan_parameter is not None)

    def base(self, sample: Values | None = None) -> dict[str, float]:
        """Steps 1-3: what every run of this plan starts with.

        Examples
        --------
        >>> from pybrainbone.experiments.spec import Experiment
        >>> from pybrainbone.simulator import Simulator
        >>> exp = Experiment.model_validate({
        ...     "id": "pth", "model": "bone_remodeling", "organism": "rat", "changes": {"P_OPG_ext": 10},
        ...     "simulation": {"type": "uniform_time_course", "end": 30, "points": 2},
        ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
        ...     "scans": [{"id": "doses", "arm": "treated", "parameter": "P_PTH_ext", "values": [50, 200]}],
        ...     "data_generators": [{"id": "d", "expression": "treated.OCa / control.OCa"},
        ...                         {"id": "dose", "expression": "doses.OCa / control.OCa"}]})
        >>> plan = resolve(exp, Simulator("bone_remodeling"))
        >>> base = plan.base({"P_TGFb_ext": 1.0})
        >>> base["P_OPG_ext"], base["P_TGFb_ext"], round(base["A_OCa"] / plan.preset["A_OCa"], 1)
        (10.0, 1.0, 1.0)
        """
        return {**self.preset, **self.shared, **(sample or {})}

    def pre_equilibration_condition(self, sample: Values | None = None) -> dict[str, float] | None:
        """The changes whose steady state every run starts from (None without pre-equilibration).

        Examples
        --------
        >>> from pybrainbone.experiments.spec import Experiment
        >>> from pybrainbone.simulator import Simulator
        >>> exp = Experiment.model_validate({
        ...     "id": "pth", "model": "bone_remodeling", "organism": "rat", "changes": {"P_OPG_ext": 10},
        ...     "simulation": {"type": "uniform_time_course", "end": 30, "points": 2},
        ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
        ...     "scans": [{"id": "doses", "arm": "treated", "parameter": "P_PTH_ext", "values": [50, 200]}],
        ...     "data_generators": [{"id": "d", "expression": "treated.OCa / control.OCa"},
        ...                         {"id": "dose", "expression": "doses.OCa / control.OCa"}]})
        >>> plan = resolve(exp, Simulator("bone_remodeling"))
        >>> plan.pre_equilibration_condition() is None  # this experiment starts from the reference
        True
        >>> exp2 = Experiment.model_validate(
        ...     {**exp.model_dump(), "pre_equilibration": {"changes": {"P_PTH_ext": 50}}})
        >>> condition = resolve(exp2, Simulator("bone_remodeling")).pre_equilibration_condition()
        >>> condition["P_PTH_ext"], condition["P_OPG_ext"]
        (50.0, 10.0)
        """
        if self.pre_equilibration is None:
            return None
        return {**self.base(sample), **self.pre_equilibration}

    def changes(
        self, run: Run, sample: Values | None = None, start_state: Values | None = None
    ) -> dict[str, float]:
        """Everything ``run`` sets at its start, in the plan's order (later wins).

        Examples
        --------
        >>> from pybrainbone.experiments.spec import Experiment
        >>> from pybrainbone.simulator import Simulator
        >>> exp = Experiment.model_validate({
        ...     "id": "pth", "model": "bone_remodeling", "organism": "rat", "changes": {"P_OPG_ext": 10},
        ...     "simulation": {"type": "uniform_time_course", "end": 30, "points": 2},
        ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
        ...     "scans": [{"id": "doses", "arm": "treated", "parameter": "P_PTH_ext", "values": [50, 200]}],
        ...     "data_generators": [{"id": "d", "expression": "treated.OCa / control.OCa"},
        ...                         {"id": "dose", "expression": "doses.OCa / control.OCa"}]})
        >>> plan = resolve(exp, Simulator("bone_remodeling"))
        >>> treated, last_dose = plan.runs[1], plan.runs[-1]
        >>> changes = plan.changes(treated)
        >>> changes["P_OPG_ext"], changes["P_PTH_ext"]  # shared changes, then the arm's own
        (10.0, 100.0)
        >>> plan.changes(last_dose)["P_PTH_ext"]  # the scan's value wins over its arm's
        200.0
        """
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
        """The same plan with only the runs of ``tasks`` (what one output needs).

        Examples
        --------
        >>> from pybrainbone.experiments.spec import Experiment
        >>> from pybrainbone.simulator import Simulator
        >>> exp = Experiment.model_validate({
        ...     "id": "pth", "model": "bone_remodeling", "organism": "rat", "changes": {"P_OPG_ext": 10},
        ...     "simulation": {"type": "uniform_time_course", "end": 30, "points": 2},
        ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
        ...     "scans": [{"id": "doses", "arm": "treated", "parameter": "P_PTH_ext", "values": [50, 200]}],
        ...     "data_generators": [{"id": "d", "expression": "treated.OCa / control.OCa"},
        ...                         {"id": "dose", "expression": "doses.OCa / control.OCa"}]})
        >>> plan = resolve(exp, Simulator("bone_remodeling"))
        >>> [run.task for run in plan.restricted(["control", "doses"]).runs]
        ['control', 'doses', 'doses']
        """
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
    """Every changed name and every referenced variable exists in the model (with near matches).

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> from pybrainbone.simulator import Simulator
    >>> exp = Experiment.model_validate({
    ...     "id": "typo", "model": "bone_remodeling", "simulation": {"type": "steady_state"},
    ...     "arms": [{"id": "treated", "changes": {"P_PTH_extt": 100}}]})
    >>> check_names(exp, Simulator("bone_remodeling"))
    Traceback (most recent call last):
    ...
    pybrainbone.errors.PyBrainBoneError: arms[treated].changes: unknown parameter 'P_PTH_extt' in model ...
    """
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
    """The plan of ``experiment`` on the model loaded in ``sim`` (names checked against it).

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> from pybrainbone.simulator import Simulator
    >>> exp = Experiment.model_validate({
    ...     "id": "pth", "model": "bone_remodeling", "organism": "rat", "changes": {"P_OPG_ext": 10},
    ...     "simulation": {"type": "uniform_time_course", "end": 30, "points": 2},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
    ...     "scans": [{"id": "doses", "arm": "treated", "parameter": "P_PTH_ext", "values": [50, 200]}],
    ...     "data_generators": [{"id": "d", "expression": "treated.OCa / control.OCa"},
    ...                         {"id": "dose", "expression": "doses.OCa / control.OCa"}]})
    >>> plan = resolve(exp, Simulator("bone_remodeling"))
    >>> [(run.task, run.scan_value) for run in plan.runs]
    [('control', None), ('treated', None), ('doses', 50.0), ('doses', 200.0)]
    >>> resolve(exp, Simulator("cart"))
    Traceback (most recent call last):
    ...
    pybrainbone.errors.PyBrainBoneError: 'pth' runs model 'bone_remodeling', not 'cart'
    """
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
    """Pre-equilibrated start states, each steady state solved once per condition.

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> from pybrainbone.simulator import Simulator
    >>> sim = Simulator("bone_remodeling")
    >>> exp = Experiment.model_validate({
    ...     "id": "after_pth", "model": "bone_remodeling", "simulation": {"type": "steady_state"},
    ...     "pre_equilibration": {"changes": {"P_PTH_ext": 100}}, "arms": [{"id": "stopped"}]})
    >>> starts = StartStates()
    >>> first = starts.for_plan(resolve(exp, sim), sim)
    >>> first is starts.for_plan(resolve(exp, sim), sim)  # solved once per condition
    True
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[str, tuple[tuple[str, float], ...]], dict[str, float]] = {}

    def for_plan(self, plan: Plan, sim: Simulator, sample: Values | None = None) -> dict[str, float]:
        """Every state at the pre-equilibrated steady state (empty without pre-equilibration).

        Examples
        --------
        >>> from pybrainbone.experiments.spec import Experiment
        >>> from pybrainbone.simulator import Simulator
        >>> sim = Simulator("bone_remodeling")
        >>> exp = Experiment.model_validate({
        ...     "id": "after_pth", "model": "bone_remodeling", "simulation": {"type": "steady_state"},
        ...     "pre_equilibration": {"changes": {"P_PTH_ext": 100}}, "arms": [{"id": "stopped"}]})
        >>> start = StartStates().for_plan(resolve(exp, sim), sim)
        >>> sorted(start) == sorted(sim.state_ids), round(start["OCa"] * 1e4, 3)
        (True, 9.51)
        """
        condition = plan.pre_equilibration_condition(sample)
        if condition is None:
            return {}
        key = (plan.model, tuple(sorted(condition.items())))
        if key not in self._cache:
            state = sim.steady_state(condition, selections=sim.state_ids)
            self._cache[key] = {sid: float(state[sid]) for sid in sim.state_ids}
        return self._cache[key]


def simulate_run(sim: Simulator, plan: Plan, run: Run, changes: Values) -> pd.DataFrame:
    """One run: its time course on the plan's grid, or its steady state as a one-row frame (time = inf).

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> from pybrainbone.simulator import Simulator
    >>> exp = Experiment.model_validate({
    ...     "id": "pth", "model": "bone_remodeling", "organism": "rat", "changes": {"P_OPG_ext": 10},
    ...     "simulation": {"type": "uniform_time_course", "end": 30, "points": 2},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
    ...     "scans": [{"id": "doses", "arm": "treated", "parameter": "P_PTH_ext", "values": [50, 200]}],
    ...     "data_generators": [{"id": "d", "expression": "treated.OCa / control.OCa"},
    ...                         {"id": "dose", "expression": "doses.OCa / control.OCa"}]})
    >>> plan = resolve(exp, Simulator("bone_remodeling"))
    >>> run = plan.runs[1]
    >>> frame = simulate_run(Simulator("bone_remodeling"), plan, run, plan.changes(run))
    >>> frame.index.tolist(), list(frame.columns)
    ([0.0, 30.0], ['OCa'])
    """
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
    """Every run of ``plan`` on ``sim`` (with ``sample`` as step 3), in plan order.

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> from pybrainbone.simulator import Simulator
    >>> exp = Experiment.model_validate({
    ...     "id": "pth", "model": "bone_remodeling", "organism": "rat", "changes": {"P_OPG_ext": 10},
    ...     "simulation": {"type": "uniform_time_course", "end": 30, "points": 2},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
    ...     "scans": [{"id": "doses", "arm": "treated", "parameter": "P_PTH_ext", "values": [50, 200]}],
    ...     "data_generators": [{"id": "d", "expression": "treated.OCa / control.OCa"},
    ...                         {"id": "dose", "expression": "doses.OCa / control.OCa"}]})
    >>> plan = resolve(exp, Simulator("bone_remodeling"))
    >>> results = execute(plan, Simulator("bone_remodeling"))
    >>> [(run.task, run.scan_value, frame.shape) for run, frame in results]
    [('control', None, (2, 1)), ('treated', None, (2, 1)), ('doses', 50.0, (2, 1)), ('doses', 200.0, (2, 1))]
    """
    start = (start_states or StartStates()).for_plan(plan, sim, sample)
    return [(run, simulate_run(sim, plan, run, plan.changes(run, sample, start))) for run in plan.runs]
