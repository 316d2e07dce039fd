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

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from pybrainbone.errors import PyBrainBoneError
from pybrainbone.experiments.expressions import parse_expression
from pybrainbone.experiments.outputs import write_outputs
from pybrainbone.experiments.plan import Plan, StartStates, execute, resolve
from pybrainbone.experiments.results import ExperimentResult, TargetResult, check_target, expected_text
from pybrainbone.experiments.spec import Experiment, Target
from pybrainbone.run_record import run_record
from pybrainbone.simulator import Simulator


class Runner:
    """Runs experiments, compiling each model once and reusing its simulator for every arm.

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> exp = Experiment.model_validate({
    ...     "id": "pth", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
    ...     "control": "control",
    ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)",
    ...                          "unit": "%"}],
    ...     "targets": [{"id": "ctx_up", "data_generator": "dCTX", "direction": "up",
    ...                  "source": "Lemaire 2004"}]})
    >>> runner = Runner()
    >>> result = runner.run(exp)
    >>> runner.simulator("bone_remodeling") is runner.simulator("bone_remodeling")  # compiled once
    True
    >>> round(float(result.series("dCTX").iloc[-1]), 1)
    17.9
    """

    def __init__(self) -> None:
        self._simulators: dict[str, Simulator] = {}
        self._start_states = StartStates()

    def simulator(self, model: str) -> Simulator:
        """The simulator of ``model``, built on first use and reused for every later run.

        Examples
        --------
        >>> runner = Runner()
        >>> runner.simulator("bone_remodeling").name
        'bone_remodeling'
        >>> runner.simulator("bone_remodeling") is runner.simulator("bone_remodeling")
        True
        """
        if model not in self._simulators:
            self._simulators[model] = Simulator(model)
        return self._simulators[model]

    def plan(self, experiment: Experiment) -> Plan:
        """The experiment's resolved runs on its model (names checked).

        Examples
        --------
        >>> from pybrainbone.experiments.spec import Experiment
        >>> exp = Experiment.model_validate({
        ...     "id": "pth", "model": "bone_remodeling",
        ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
        ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
        ...     "control": "control",
        ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)",
        ...                          "unit": "%"}],
        ...     "targets": [{"id": "ctx_up", "data_generator": "dCTX", "direction": "up",
        ...                  "source": "Lemaire 2004"}]})
        >>> [run.task for run in Runner().plan(exp).runs]
        ['control', 'treated']
        """
        return resolve(experiment, self.simulator(experiment.model))

    def start_state(self, plan: Plan) -> dict[str, float]:
        """The pre-equilibrated state every run of ``plan`` starts from (empty without pre-equilibration).

        Examples
        --------
        >>> from pybrainbone.experiments.spec import Experiment
        >>> exp = Experiment.model_validate({
        ...     "id": "pth", "model": "bone_remodeling",
        ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
        ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
        ...     "control": "control",
        ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)",
        ...                          "unit": "%"}],
        ...     "targets": [{"id": "ctx_up", "data_generator": "dCTX", "direction": "up",
        ...                  "source": "Lemaire 2004"}]})
        >>> runner = Runner()
        >>> runner.start_state(runner.plan(exp))  # no pre_equilibration: every run starts at the reference
        {}
        """
        return self._start_states.for_plan(plan, self.simulator(plan.model))

    def run(self, experiment: Experiment) -> ExperimentResult:
        """Simulate every arm (and scan), evaluate every data generator and check every target.

        Examples
        --------
        >>> from pybrainbone.experiments.spec import Experiment
        >>> exp = Experiment.model_validate({
        ...     "id": "pth", "model": "bone_remodeling",
        ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
        ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
        ...     "control": "control",
        ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)",
        ...                          "unit": "%"}],
        ...     "targets": [{"id": "ctx_up", "data_generator": "dCTX", "direction": "up",
        ...                  "source": "Lemaire 2004"}]})
        >>> result = Runner().run(exp)
        >>> [(t.target.id, t.passed, round(t.value, 1)) for t in result.targets]
        [('ctx_up', True, 17.9)]
        """
        plan = self.plan(experiment)
        results = execute(plan, self.simulator(plan.model), start_states=self._start_states)
        courses: dict[str, pd.DataFrame] = {}
        scan_courses: dict[str, dict[float, pd.DataFrame]] = {}
        for run, frame in results:
            if run.scan_parameter is None:
                courses[run.task] = frame
            else:
                assert run.scan_value is not None
                scan_courses.setdefault(run.task, {})[run.scan_value] = frame
        data = self._evaluate(experiment, courses, scan_courses)
        result = ExperimentResult(experiment=experiment, arms=courses, data=data)
        checked = [self._check(result, t) for t in experiment.targets]
        record = run_record(
            self.simulator(plan.model).model,
            spec=experiment,
            options=plan.options,
            organism=experiment.organism,
        )
        return ExperimentResult(experiment, courses, data, targets=checked, provenance=record)

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


def _unique(paths: Iterable[Path]) -> list[Path]:
    """``paths`` without repeats of the same file (``run experiments/ experiments/x.yaml``)."""
    seen: set[Path] = set()
    unique = []
    for path in paths:
        key = Path(path).resolve()
        if key not in seen:
            seen.add(key)
            unique.append(Path(path))
    return unique


def load_specs(
    paths: Iterable[Path], solver: Mapping[str, float] | None = None, runner: Runner | None = None
) -> list[tuple[Path, Experiment]]:
    """Load and validate every spec (each file once); refuse two files with the same experiment id
    (their outputs would have the same names).

    With a ``runner``, every spec's names are also checked against its model. Errors name the file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> tmp = tempfile.TemporaryDirectory()
    >>> spec = Path(tmp.name) / "pth.yaml"
    >>> _ = spec.write_text(
    ...     "id: pth\\nmodel: bone_remodeling\\n"
    ...     "simulation: {type: uniform_time_course, end: 365, points: 5}\\n"
    ...     "arms: [{id: control}, {id: treated, changes: {P_PTH_ext: 100}}]\\ncontrol: control\\n"
    ...     "data_generators: [{id: dCTX, expression: '100*(treated.CTX_rel/control.CTX_rel - 1)'}]\\n"
    ...     "targets: [{id: ctx_up, data_generator: dCTX, direction: up, source: Lemaire 2004}]\\n")
    >>> [(path.name, exp.id) for path, exp in load_specs([spec, spec])]  # each file once
    [('pth.yaml', 'pth')]
    >>> _ = (Path(tmp.name) / "copy.yaml").write_text(spec.read_text(encoding="utf-8"))
    >>> load_specs([spec, Path(tmp.name) / "copy.yaml"])
    Traceback (most recent call last):
    ...
    pybrainbone.experiments.spec.SpecError: .../copy.yaml: experiment id 'pth' is also the id of .../pth.yaml;
    ...
    >>> tmp.cleanup()
    """
    from pybrainbone.experiments.spec import SpecError, load_experiment

    loaded = [(p, load_experiment(p)) for p in _unique(paths)]
    if runner is not None:
        for path, spec in loaded:
            with _naming(path):
                runner.plan(spec)
    first: dict[str, Path] = {}
    for path, spec in loaded:
        if spec.id in first:
            raise SpecError(
                f"{path}: experiment id {spec.id!r} is also the id of {first[spec.id]}; their outputs "
                "would overwrite each other: give each experiment its own id"
            )
        first[spec.id] = path
    if solver:
        update = dict(solver)
        loaded = [(p, s.model_copy(update={"solver": s.solver.model_copy(update=update)})) for p, s in loaded]
    return loaded


@contextlib.contextmanager
def _naming(path: Path) -> Iterator[None]:
    """Prefix a package error raised in the block with the spec file it concerns."""
    try:
        yield
    except PyBrainBoneError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise type(exc)(f"{path}: {exc}") from None


def run_all(
    paths: Iterable[Path],
    out_dir: str | Path | None = None,
    progress: bool = True,
    solver: Mapping[str, float] | None = None,
) -> list[ExperimentResult]:
    """Run several spec files (one runner, so each model compiles once); optional outputs and progress bar.

    Every input is checked before anything runs or is written: each spec is loaded and validated, two
    specs may not share an id, and every name is checked against its model. Outputs are written into a
    temporary directory beside ``out_dir`` and moved into place when every experiment has succeeded, so a
    failed or interrupted run leaves ``out_dir`` as it was.

    ``solver`` overrides solver settings of every spec (e.g. ``{"relative_tolerance": 1e-7}``).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> tmp = tempfile.TemporaryDirectory()
    >>> spec = Path(tmp.name) / "pth.yaml"
    >>> _ = spec.write_text(
    ...     "id: pth\\nmodel: bone_remodeling\\n"
    ...     "simulation: {type: uniform_time_course, end: 365, points: 5}\\n"
    ...     "arms: [{id: control}, {id: treated, changes: {P_PTH_ext: 100}}]\\ncontrol: control\\n"
    ...     "data_generators: [{id: dCTX, expression: '100*(treated.CTX_rel/control.CTX_rel - 1)'}]\\n"
    ...     "targets: [{id: ctx_up, data_generator: dCTX, direction: up, source: Lemaire 2004}]\\n")
    >>> results = run_all([spec], out_dir=Path(tmp.name) / "results", progress=False)
    >>> [r.experiment.id for r in results], sorted(p.name for p in (Path(tmp.name) / "results").iterdir())
    (['pth'], ['pth.csv', 'pth.nc', 'pth.png', 'pth.summary.json'])
    >>> tmp.cleanup()
    """
    from tqdm import tqdm

    from pybrainbone.atomic import check_output_directory, check_target, staged_directory

    runner = Runner()
    specs = load_specs(paths, solver, runner)  # every name checked before any simulation
    if out_dir is not None:
        check_output_directory(out_dir)
        for _, spec in specs:  # e.g. an id too long for a file name: refused now, not after simulating
            for suffix in (".csv", ".summary.json", ".png"):
                check_target(Path(out_dir) / f"{spec.id}{suffix}")
    with contextlib.ExitStack() as stack:
        stage = stack.enter_context(staged_directory(out_dir)) if out_dir is not None else None
        results = []
        bar = tqdm(specs, desc="experiments", unit="exp", disable=not progress or len(specs) < 2)
        for path, spec in bar:
            bar.set_postfix_str(spec.id)
            with _naming(path):
                result = runner.run(spec)
            if stage is not None:
                write_outputs(result, stage)
            results.append(result)
    return results
