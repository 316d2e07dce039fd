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
    """A data generator and the time it is read at (``None``: the end of the simulation)."""

    data_generator: str
    time: float | None = None

    @property
    def label(self) -> str:
        return self.data_generator if self.time is None else f"{self.data_generator}@{self.time:g}"


def parse_output(text: str) -> OutputSpec:
    """Parse ``DG_ID[@TIME]``.

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
    """

    model: CompiledModel
    plan: Plan
    output: OutputSpec
    names: tuple[str, ...]
    nominal: Mapping[str, float] = field(default_factory=dict)
    series: bool = False

    @property
    def experiment(self) -> Experiment:
        return self.plan.experiment

    @property
    def label(self) -> str:
        return f"{self.experiment.id}:{self.output.label}"

    @property
    def width(self) -> int:
        """How many numbers one evaluation returns."""
        sim = self.plan.simulation
        if self.series and isinstance(sim, UniformTimeCourse):
            return sim.points
        return 1

    def times(self) -> np.ndarray:
        sim = self.plan.simulation
        if isinstance(sim, SteadyState):
            return np.array([math.inf])
        if self.series:
            return np.linspace(sim.start, sim.end, sim.points)
        return np.array([sim.end if self.output.time is None else self.output.time])

    def with_solver(self, options: Solver) -> Objective:
        """The same objective integrated with other solver settings."""
        experiment = self.experiment.model_copy(update={"solver": options})
        plan = replace(self.plan, experiment=experiment, options=options.options())
        return replace(self, plan=plan)

    def evaluate(self, simulator: Simulator, values: np.ndarray) -> np.ndarray:
        """The output for one parameter vector (model units); raises SimulationError if it fails."""
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
    """Every parameter's value in the experiment before any arm's own changes (organism + shared changes)."""
    values = simulator.parameters()["value"].to_dict()
    values.update({k: v for k, v in plan.base().items() if k in values})
    return {str(k): float(v) for k, v in values.items()}


def arm_set_parameters(experiment: Experiment, arms: Iterable[str] | None = None) -> dict[str, str]:
    """Parameters that an arm (of ``arms``, default all) sets itself (name -> which arms), which a
    problem may not vary: the arm's own value would override the sample."""
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
    """Validate ``output`` and ``names`` against the spec and build its :class:`Objective`."""
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
