"""Run experiment specs: simulate every arm and scan, evaluate data generators, check targets.

>>> from pybrainbone.experiments.spec import Experiment
>>> from pybrainbone.experiments.runner import Runner
>>> exp = Experiment.model_validate({
...     "id": "opg", "model": "bone_remodeling",
...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_OPG_ext": 2e5}}], "control": "control",
...     "data_generators": [{"id": "dBMD", "expression": "100*(treated.BMD/control.BMD - 1)", "unit": "%"}],
...     "targets": [{"id": "opg_up", "data_generator": "dBMD", "direction": "up", "source": "Lemaire 2004"}]})
>>> result = Runner().run(exp)
>>> result.targets[0].passed
True
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pybrainbone.atomic import atomic_open
from pybrainbone.errors import PyBrainBoneError, unknown_name
from pybrainbone.experiments.expressions import parse_expression
from pybrainbone.experiments.spec import Experiment, SteadyState, Target, UniformTimeCourse
from pybrainbone.organisms import organism
from pybrainbone.simulator import Simulator

#: Signed values within this distance of zero count as "no change" for up/down targets.
_DIRECTION_EPSILON = 1e-9


@dataclass(frozen=True)
class TargetResult:
    """One target checked against the model."""

    target: Target
    experiment: str
    value: float
    passed: bool
    expected: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target.id,
            "experiment": self.experiment,
            "passed": self.passed,
            "value": self.value,
            "expected": self.expected,
            "data_generator": self.target.data_generator,
            "time": self.target.time,
            "status": self.target.status,
            "reason": self.target.reason,
            "source": self.target.source,
        }


@dataclass(frozen=True)
class ExperimentResult:
    """Everything one run produced: raw arm courses, data generators (tidy) and target checks."""

    experiment: Experiment
    arms: Mapping[str, pd.DataFrame]
    data: pd.DataFrame
    targets: list[TargetResult] = field(default_factory=list)

    def series(self, data_generator: str) -> pd.Series:
        """One data generator over time (time courses) or per scan value."""
        rows = self.data[self.data["data_generator"] == data_generator]
        key = "scan_value" if rows["scan_value"].notna().any() else "time"
        return rows.set_index(key)["value"]


def expected_text(target: Target) -> str:
    """The target as a short human string, e.g. ``down, in [-65, -35]``."""
    text = target.direction.replace("_", " ")
    if target.direction == "unchanged":
        text += f" (|value| <= {target.unchanged_tolerance:g})"
    if target.range is not None:
        text += f", in [{target.range[0]:g}, {target.range[1]:g}]"
    elif target.value is not None:
        text += f", about {target.value:g}"
    return text


def check_target(target: Target, value: float) -> bool:
    """Whether ``value`` meets the target's direction and, if given, its range."""
    if not math.isfinite(value):
        return False
    ok = {
        "up": value > _DIRECTION_EPSILON,
        "down": value < -_DIRECTION_EPSILON,
        "not_down": value > -target.unchanged_tolerance,
        "not_up": value < target.unchanged_tolerance,
        "unchanged": abs(value) <= target.unchanged_tolerance,
    }[target.direction]
    if target.range is not None:
        ok = ok and target.range[0] <= value <= target.range[1]
    return ok


class Runner:
    """Runs experiments, compiling each model once and reusing its simulator for every arm."""

    def __init__(self) -> None:
        self._simulators: dict[str, Simulator] = {}
        self._steady_states: dict[tuple[str, tuple[tuple[str, float], ...]], dict[str, float]] = {}

    def simulator(self, model: str) -> Simulator:
        if model not in self._simulators:
            self._simulators[model] = Simulator(model)
        return self._simulators[model]

    def shared_changes(self, experiment: Experiment) -> dict[str, float]:
        """What every arm starts with before its own changes: organism preset, then the shared ``changes``."""
        reference = self.simulator(experiment.model).parameters()["value"].to_dict()
        changes = organism(experiment.organism).changes(reference)
        changes.update(experiment.changes)
        return changes

    def arm_changes(self, experiment: Experiment, arm_id: str) -> dict[str, float]:
        """Everything an arm sets at its start: organism preset, the experiment's shared changes, the arm's
        own (later wins), and with ``pre_equilibration`` the pre-equilibrated value of every other state.
        """
        shared = self.shared_changes(experiment)
        changes = {**shared, **experiment.arm(arm_id).changes}
        if experiment.pre_equilibration is not None:
            condition = {**shared, **experiment.pre_equilibration.changes}
            for sid, value in self._pre_equilibrated(experiment.model, condition).items():
                changes.setdefault(sid, value)  # a state the arm sets itself keeps the arm's value
        return changes

    def _pre_equilibrated(self, model: str, condition: dict[str, float]) -> dict[str, float]:
        key = (model, tuple(sorted(condition.items())))
        if key not in self._steady_states:
            sim = self.simulator(model)
            state = sim.steady_state(condition)
            self._steady_states[key] = {sid: float(state[sid]) for sid in sim.state_ids}
        return self._steady_states[key]

    def check_names(self, experiment: Experiment) -> None:
        """Every changed name and every referenced variable exists in the model (with near matches)."""
        sim = self.simulator(experiment.model)
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

    def _variables(self, experiment: Experiment) -> dict[str, list[str]]:
        needed: dict[str, set[str]] = {a.id: set() for a in experiment.arms}
        needed.update({s.id: set() for s in experiment.scans})
        for dg in experiment.data_generators:
            for task, variable in parse_expression(dg.expression).references:
                needed[task].add(variable)
        sim = self.simulator(experiment.model)
        default: list[str] = [v for v in ("BMD", "BV", "core_BMD", "core_BV") if v in sim.variable_ids]
        return {task: sorted(v) or default or sim.state_ids[:1] for task, v in needed.items()}

    def _simulate(
        self, experiment: Experiment, changes: dict[str, float], variables: list[str]
    ) -> pd.DataFrame:
        sim = self.simulator(experiment.model)
        simulation = experiment.simulation
        if isinstance(simulation, SteadyState):
            state = sim.steady_state(changes)
            return pd.DataFrame(
                [state[variables].to_numpy()], columns=variables, index=pd.Index([math.inf], name="time")
            )
        assert isinstance(simulation, UniformTimeCourse)
        return sim.simulate(
            end=simulation.end,
            points=simulation.points,
            start=simulation.start,
            changes=changes,
            selections=variables,
            options=experiment.solver.options(),
        )

    def run(self, experiment: Experiment) -> ExperimentResult:
        """Simulate every arm (and scan), evaluate every data generator and check every target."""
        self.check_names(experiment)
        variables = self._variables(experiment)
        courses: dict[str, pd.DataFrame] = {}
        for arm in experiment.arms:
            courses[arm.id] = self._simulate(
                experiment, self.arm_changes(experiment, arm.id), variables[arm.id]
            )
        scan_courses: dict[str, dict[float, pd.DataFrame]] = {}
        for scan in experiment.scans:
            base = self.arm_changes(experiment, scan.arm)
            scan_courses[scan.id] = {
                value: self._simulate(experiment, {**base, scan.parameter: value}, variables[scan.id])
                for value in scan.values
            }
        data = self._evaluate(experiment, courses, scan_courses)
        result = ExperimentResult(experiment=experiment, arms=courses, data=data)
        checked = [self._check(result, t) for t in experiment.targets]
        return ExperimentResult(experiment=experiment, arms=courses, data=data, targets=checked)

    def _evaluate(
        self,
        experiment: Experiment,
        courses: Mapping[str, pd.DataFrame],
        scan_courses: Mapping[str, Mapping[float, pd.DataFrame]],
    ) -> pd.DataFrame:
        frames = []
        for dg in experiment.data_generators:
            expression = parse_expression(dg.expression)
            scans = {task for task, _ in expression.references if task in scan_courses}
            if not scans:
                values = {(t, v): courses[t][v].to_numpy() for t, v in expression.references}
                series = np.broadcast_to(
                    np.asarray(expression.evaluate(values), dtype=float), (len(self._time(courses)),)
                )
                frames.append(
                    pd.DataFrame(
                        {
                            "data_generator": dg.id,
                            "time": self._time(courses),
                            "scan_value": np.nan,
                            "value": series,
                            "unit": dg.unit,
                        }
                    )
                )
                continue
            (scan_id,) = sorted(scans)  # one scan per generator: its values are the x axis
            for scan_value, course in scan_courses[scan_id].items():
                values = {
                    (t, v): (course[v].to_numpy() if t == scan_id else courses[t][v].to_numpy())
                    for t, v in expression.references
                }
                series = np.broadcast_to(np.asarray(expression.evaluate(values), dtype=float), (len(course),))
                frames.append(
                    pd.DataFrame(
                        {
                            "data_generator": dg.id,
                            "time": course.index.to_numpy(),
                            "scan_value": scan_value,
                            "value": series,
                            "unit": dg.unit,
                        }
                    )
                )
        if not frames:
            return pd.DataFrame(columns=["data_generator", "time", "scan_value", "value", "unit"])
        return pd.concat(frames, ignore_index=True)

    @staticmethod
    def _time(courses: Mapping[str, pd.DataFrame]) -> np.ndarray:
        return np.asarray(next(iter(courses.values())).index.to_numpy(), dtype=float)

    def _check(self, result: ExperimentResult, target: Target) -> TargetResult:
        series = result.series(target.data_generator)
        if target.time is None or not np.isfinite(series.index.to_numpy()).all():
            value = float(series.iloc[-1])
        else:
            value = float(np.interp(target.time, series.index.to_numpy(), series.to_numpy()))
        return TargetResult(
            target, result.experiment.id, value, check_target(target, value), expected_text(target)
        )


def summary(result: ExperimentResult) -> dict[str, Any]:
    """The JSON summary of one run: the experiment, its targets, measured values, pass/fail."""
    exp = result.experiment
    return {
        "experiment": exp.id,
        "name": exp.name,
        "question": exp.question,
        "model": exp.model,
        "organism": exp.organism,
        "targets": [t.as_dict() for t in result.targets],
        "passed": sum(t.passed for t in result.targets),
        "failed": sum(not t.passed for t in result.targets),
    }


def write_outputs(result: ExperimentResult, out_dir: str | Path, figure: bool = True) -> list[Path]:
    """Write ``<id>.csv`` (tidy data generators), ``<id>.summary.json`` and ``<id>.png`` atomically."""
    out = Path(out_dir)
    exp = result.experiment
    paths = [out / f"{exp.id}.csv", out / f"{exp.id}.summary.json"]
    with atomic_open(paths[0]) as handle:
        result.data.assign(experiment=exp.id).to_csv(handle, index=False)
    with atomic_open(paths[1]) as handle:
        json.dump(summary(result), handle, indent=2, allow_nan=True)
        handle.write("\n")
    if figure:
        from pybrainbone.experiments.figures import plot_experiment

        paths.append(out / f"{exp.id}.png")
        plot_experiment(result, paths[-1])
    return paths


def run_all(
    paths: Iterable[Path],
    out_dir: str | Path | None = None,
    progress: bool = True,
    solver: Mapping[str, float] | None = None,
) -> list[ExperimentResult]:
    """Run several spec files (one runner, so each model compiles once); optional outputs and progress bar.

    ``solver`` overrides solver settings of every spec (e.g. ``{"relative_tolerance": 1e-7}``).
    """
    from tqdm import tqdm

    from pybrainbone.experiments.spec import load_experiment

    specs = [load_experiment(p) for p in paths]  # validate all before running any
    if solver:
        specs = [s.model_copy(update={"solver": s.solver.model_copy(update=dict(solver))}) for s in specs]
    runner = Runner()
    results = []
    bar = tqdm(specs, desc="experiments", unit="exp", disable=not progress or len(specs) < 2)
    for spec in bar:
        bar.set_postfix_str(spec.id)
        result = runner.run(spec)
        if out_dir is not None:
            write_outputs(result, out_dir)
        results.append(result)
    return results
