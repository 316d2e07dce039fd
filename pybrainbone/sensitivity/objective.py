"""Outputs of an experiment spec as functions of parameter vectors: what every sensitivity method evaluates.

An output is a data generator of the spec, read at a time: ``DG_ID@TIME`` (days) or ``DG_ID`` (the end of
the simulation). A parameter vector is applied to every arm: organism preset, then the experiment's shared
changes, then the sampled values, then the arm's own changes (which a problem may therefore not vary).
Each arm starts from the model's reference state, exactly as ``pybrainbone run`` does, so a sample at the
nominal values reproduces the spec's own result. A sampled parameter can move the reference state off
its steady state: every arm (control included) then drifts the same way, which comparisons with the
control largely cancel. With ``pre_equilibration`` in the spec, the start state is recomputed for every
sample under the sampled parameters.

An :class:`Objective` holds only picklable data (the compiled SBML text, the spec, names), so it can be
shipped once to each worker; the worker builds its own :class:`~pybrainbone.simulator.Simulator` from it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from pybrainbone.build import CompiledModel
from pybrainbone.errors import (
    InvalidValueError,
    PyBrainBoneError,
    SimulationError,
    near_matches,
    unknown_name,
)
from pybrainbone.experiments.expressions import parse_expression
from pybrainbone.experiments.plan import Plan, StartStates, execute
from pybrainbone.experiments.runner import Runner
from pybrainbone.experiments.spec import Experiment, Solver, SteadyState, UniformTimeCourse
from pybrainbone.simulator import Simulator


@dataclass(frozen=True)
class OutputSpec:
    """A data generator and the time it is read at (``None``: the end of the simulation).

    Examples
    --------
    >>> OutputSpec("dCTX", 365.0)
    OutputSpec(data_generator='dCTX', time=365.0)
    """

    data_generator: str
    time: float | None = None

    @property
    def label(self) -> str:
        """How the output is written on the command line and in results (``DG_ID[@TIME]``).

        Examples
        --------
        >>> OutputSpec("dCTX", 365.0).label, OutputSpec("dCTX").label
        ('dCTX@365', 'dCTX')
        """
        return self.data_generator if self.time is None else f"{self.data_generator}@{self.time:g}"


def parse_output(text: str) -> OutputSpec:
    """Parse ``DG_ID[@TIME]``.

    Examples
    --------
    >>> parse_output("BMD_change@1826.25")
    OutputSpec(data_generator='BMD_change', time=1826.25)
    """
    name, sep, when = text.strip().partition("@")
    if not name:
        raise InvalidValueError(f"--output expects DG_ID[@TIME], got {text!r}")
    if not sep:
        return OutputSpec(name)
    try:
        time = float(when)
    except ValueError:
        raise InvalidValueError(f"--output {text!r}: time {when!r} is not a number of days") from None
    if not math.isfinite(time) or time < 0:
        raise InvalidValueError(f"--output {text!r}: time must be a finite number of days >= 0")
    return OutputSpec(name, time)


@dataclass(frozen=True)
class Objective:
    """Maps parameter vectors to one output of a spec: a scalar, or its whole time series (``series``).

    It holds the experiment's :class:`~pybrainbone.experiments.plan.Plan`, restricted to the arms the
    output reads; a sample enters the plan's changes as step 3 (after the organism preset and the shared
    changes, before the arms' own).

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> exp = Experiment.model_validate({
    ...     "id": "pth", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
    ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"},
    ...                         {"id": "same", "expression": "treated.OCa / treated.OCa"}]})
    >>> from pybrainbone.sensitivity.objective import make_objective
    >>> objective = make_objective(exp, "dCTX@365", ["D_OCp", "A_OCa"])
    >>> objective.names, objective.output, objective.width
    (('D_OCp', 'A_OCa'), OutputSpec(data_generator='dCTX', time=365.0), 1)
    >>> objective.evaluate(Simulator("bone_remodeling"), np.array([0.0021, 0.7])).round(3)
    array([17.854])
    """

    model: CompiledModel
    plan: Plan
    output: OutputSpec
    names: tuple[str, ...]
    nominal: Mapping[str, float] = field(default_factory=dict)
    series: bool = False

    @property
    def experiment(self) -> Experiment:
        """The experiment whose output this is.

        Examples
        --------
        >>> from pybrainbone.experiments.spec import Experiment
        >>> exp = Experiment.model_validate({
        ...     "id": "pth", "model": "bone_remodeling",
        ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
        ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
        ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"},
        ...                         {"id": "same", "expression": "treated.OCa / treated.OCa"}]})
        >>> from pybrainbone.sensitivity.objective import make_objective
        >>> objective = make_objective(exp, "dCTX@365", ["D_OCp", "A_OCa"])
        >>> objective.experiment.id
        'pth'
        """
        return self.plan.experiment

    @property
    def label(self) -> str:
        """``<experiment id>:<output>``, the name of results.

        Examples
        --------
        >>> from pybrainbone.experiments.spec import Experiment
        >>> exp = Experiment.model_validate({
        ...     "id": "pth", "model": "bone_remodeling",
        ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
        ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
        ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"},
        ...                         {"id": "same", "expression": "treated.OCa / treated.OCa"}]})
        >>> from pybrainbone.sensitivity.objective import make_objective
        >>> objective = make_objective(exp, "dCTX@365", ["D_OCp", "A_OCa"])
        >>> objective.label
        'pth:dCTX@365'
        """
        return f"{self.experiment.id}:{self.output.label}"

    @property
    def width(self) -> int:
        """How many numbers one evaluation returns.

        Examples
        --------
        >>> from pybrainbone.experiments.spec import Experiment
        >>> exp = Experiment.model_validate({
        ...     "id": "pth", "model": "bone_remodeling",
        ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
        ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
        ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"},
        ...                         {"id": "same", "expression": "treated.OCa / treated.OCa"}]})
        >>> from pybrainbone.sensitivity.objective import make_objective
        >>> objective = make_objective(exp, "dCTX@365", ["D_OCp", "A_OCa"])
        >>> objective.width, make_objective(exp, "dCTX", ["D_OCp"], series=True).width
        (1, 5)
        """
        sim = self.plan.simulation
        if self.series and isinstance(sim, UniformTimeCourse):
            return sim.points
        return 1

    def times(self) -> np.ndarray:
        """The times the output is read at (days; ``inf`` for a steady state).

        Examples
        --------
        >>> from pybrainbone.experiments.spec import Experiment
        >>> exp = Experiment.model_validate({
        ...     "id": "pth", "model": "bone_remodeling",
        ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
        ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
        ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"},
        ...                         {"id": "same", "expression": "treated.OCa / treated.OCa"}]})
        >>> from pybrainbone.sensitivity.objective import make_objective
        >>> objective = make_objective(exp, "dCTX@365", ["D_OCp", "A_OCa"])
        >>> objective.times(), make_objective(exp, "dCTX", ["D_OCp"], series=True).times()
        (array([365.]), array([  0.  ,  91.25, 182.5 , 273.75, 365.  ]))
        """
        sim = self.plan.simulation
        if isinstance(sim, SteadyState):
            return np.array([math.inf])
        if self.series:
            return np.linspace(sim.start, sim.end, sim.points)
        return np.array([sim.end if self.output.time is None else self.output.time])

    def with_solver(self, options: Solver) -> Objective:
        """The same objective integrated with other solver settings.

        Examples
        --------
        >>> from pybrainbone.experiments.spec import Experiment
        >>> exp = Experiment.model_validate({
        ...     "id": "pth", "model": "bone_remodeling",
        ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
        ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
        ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"},
        ...                         {"id": "same", "expression": "treated.OCa / treated.OCa"}]})
        >>> from pybrainbone.sensitivity.objective import make_objective
        >>> objective = make_objective(exp, "dCTX@365", ["D_OCp", "A_OCa"])
        >>> from pybrainbone.experiments.spec import Solver
        >>> loose = objective.with_solver(Solver(relative_tolerance=1e-6))
        >>> loose.plan.options.relative_tolerance, objective.plan.options.relative_tolerance
        (1e-06, 1e-09)
        """
        experiment = self.experiment.model_copy(update={"solver": options})
        plan = replace(self.plan, experiment=experiment, options=options.options())
        return replace(self, plan=plan)

    def evaluate(self, simulator: Simulator, values: np.ndarray) -> np.ndarray:
        """The output for one parameter vector (model units); raises SimulationError if it fails.

        Examples
        --------
        >>> from pybrainbone.experiments.spec import Experiment
        >>> exp = Experiment.model_validate({
        ...     "id": "pth", "model": "bone_remodeling",
        ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
        ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
        ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"},
        ...                         {"id": "same", "expression": "treated.OCa / treated.OCa"}]})
        >>> from pybrainbone.sensitivity.objective import make_objective
        >>> objective = make_objective(exp, "dCTX@365", ["D_OCp", "A_OCa"])
        >>> sim = Simulator("bone_remodeling")
        >>> objective.evaluate(sim, np.array([0.0021, 0.7])).round(3)
        array([17.854])
        >>> objective.evaluate(sim, np.array([-10.0, 0.7]))
        Traceback (most recent call last):
        ...
        pybrainbone.errors.SimulationError: simulation of 'bone_remodeling' failed: CVODE Error: ...
        """
        sample = {n: float(v) for n, v in zip(self.names, values, strict=True)}
        expression = parse_expression(self._generator_expression())
        courses: dict[tuple[str, str], np.ndarray] = {}
        grid: np.ndarray | None = None
        # A fresh start-state cache: each sample has its own pre-equilibrated steady state.
        for run, frame in execute(self.plan, simulator, sample, StartStates()):
            if not isinstance(self.plan.simulation, SteadyState):
                grid = frame.index.to_numpy()
            for var in run.variables:
                courses[(run.task, var)] = frame[var].to_numpy()
        # An invalid operation (division by zero, log of a negative) raises ExpressionError naming it:
        # the sample is recorded as failed with that reason.
        result = np.asarray(expression.evaluate(courses), dtype=float)
        size = 1 if grid is None else len(grid)
        result = np.broadcast_to(result, (size,)).astype(float)
        if not self.series and grid is not None:
            when = grid[-1] if self.output.time is None else self.output.time
            result = np.array([np.interp(when, grid, result)])
        if not np.all(np.isfinite(result)):
            raise SimulationError(
                f"output {self.output.label} is not finite ({result[~np.isfinite(result)][0]})"
            )
        return result

    def _generator_expression(self) -> str:
        for dg in self.experiment.data_generators:
            if dg.id == self.output.data_generator:
                return dg.expression
        raise KeyError(self.output.data_generator)  # checked in make_objective


def experiment_nominal(plan: Plan, simulator: Simulator) -> dict[str, float]:
    """Every parameter's value in the experiment before any arm's own changes (organism + shared changes).

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> exp = Experiment.model_validate({
    ...     "id": "pth", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
    ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"},
    ...                         {"id": "same", "expression": "treated.OCa / treated.OCa"}]})
    >>> from pybrainbone.experiments.plan import resolve
    >>> sim = Simulator("bone_remodeling", organism="rat")
    >>> rat = Experiment.model_validate({**exp.model_dump(), "organism": "rat"})
    >>> nominal = experiment_nominal(resolve(rat, sim), sim)
    >>> round(nominal["A_OCa"] / experiment_nominal(resolve(exp, sim), sim)["A_OCa"], 3)  # the rat preset
    4.0
    """
    values = simulator.parameters()["value"].to_dict()
    values.update({k: v for k, v in plan.base().items() if k in values})
    return {str(k): float(v) for k, v in values.items()}


def arm_set_parameters(experiment: Experiment, arms: Iterable[str] | None = None) -> dict[str, str]:
    """Parameters that an arm (of ``arms``, default all) sets itself (name -> which arms), which a
    problem may not vary: the arm's own value would override the sample.

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> exp = Experiment.model_validate({
    ...     "id": "pth", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
    ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"},
    ...                         {"id": "same", "expression": "treated.OCa / treated.OCa"}]})
    >>> arm_set_parameters(exp)
    {'P_PTH_ext': "arm(s) treated of 'pth' set it as their intervention"}
    >>> arm_set_parameters(exp, arms=["control"])
    {}
    """
    chosen = set(arms) if arms is not None else {a.id for a in experiment.arms}
    owners: dict[str, list[str]] = {}
    for arm in (a for a in experiment.arms if a.id in chosen):
        for name in arm.changes:
            owners.setdefault(name, []).append(arm.id)
    return {
        n: f"arm(s) {', '.join(a)} of {experiment.id!r} set it as their intervention"
        for n, a in owners.items()
    }


def make_objective(
    experiment: Experiment,
    output: OutputSpec | str,
    names: Sequence[str],
    *,
    runner: Runner | None = None,
    series: bool = False,
) -> Objective:
    """Validate ``output`` and ``names`` against the spec and build its :class:`Objective`.

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> exp = Experiment.model_validate({
    ...     "id": "pth", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
    ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"},
    ...                         {"id": "same", "expression": "treated.OCa / treated.OCa"}]})
    >>> make_objective(exp, "dCTX@365", ["D_OCp"]).label
    'pth:dCTX@365'
    >>> make_objective(exp, "dCTX@365", ["P_PTH_ext"])
    Traceback (most recent call last):
    ...
    pybrainbone.errors.PyBrainBoneError: cannot vary 'P_PTH_ext': arm(s) treated of 'pth' set it as their
    intervention
    >>> make_objective(exp, "dCTX@400", ["D_OCp"])
    Traceback (most recent call last):
    ...
    pybrainbone.errors.InvalidValueError: output time 400 is outside the simulation of 'pth' (0..365)
    """
    runner = runner or Runner()
    out = parse_output(output) if isinstance(output, str) else output
    plan = runner.plan(experiment)
    simulator = runner.simulator(experiment.model)
    generators = [d.id for d in experiment.data_generators]
    if out.data_generator not in generators:
        close = near_matches(out.data_generator, generators)
        hint = (
            f"did you mean {', '.join(close)}?"
            if close
            else f"the spec defines: {', '.join(generators) or 'none'}"
        )
        raise PyBrainBoneError(f"unknown data generator {out.data_generator!r} in {experiment.id!r}; {hint}")
    expression = next(d.expression for d in experiment.data_generators if d.id == out.data_generator)
    arms_used = {a for a, _ in parse_expression(expression).references}
    scans = arms_used & {s.id for s in experiment.scans}
    if scans:
        raise PyBrainBoneError(
            f"data generator {out.data_generator!r} reads scan(s) {sorted(scans)}; sensitivity outputs "
            "must be scalars of arms (one value per run)"
        )
    sim = experiment.simulation
    if out.time is not None:
        if isinstance(sim, SteadyState):
            raise InvalidValueError(
                f"{experiment.id!r} simulates a steady state; give --output without @TIME"
            )
        if not sim.start <= out.time <= sim.end:
            raise InvalidValueError(
                f"output time {out.time:g} is outside the simulation of {experiment.id!r} "
                f"({sim.start:g}..{sim.end:g})"
            )
    known = set(simulator.parameter_ids)
    for name in names:
        if name not in known:
            raise unknown_name("parameter", name, simulator.parameter_ids, simulator.name)
    owned = arm_set_parameters(experiment, arms_used)
    for name in names:
        if name in owned:
            raise PyBrainBoneError(f"cannot vary {name!r}: {owned[name]}")
    return Objective(
        model=simulator.model,
        plan=plan.restricted(arms_used),
        output=out,
        names=tuple(names),
        nominal=experiment_nominal(plan, simulator),
        series=series,
    )
