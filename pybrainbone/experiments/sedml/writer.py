"""Export: an experiment spec as a SED-ML L1V4 document (the package docstring describes the mapping)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from pybrainbone.atomic import atomic_path
from pybrainbone.experiments.expressions import parse_expression
from pybrainbone.experiments.plan import Plan
from pybrainbone.experiments.runner import Runner
from pybrainbone.experiments.sedml.common import (
    ALL_DATA,
    JSON_FORMAT,
    KISAO_ABSOLUTE_TOLERANCE,
    KISAO_CVODE,
    KISAO_MAXIMUM_STEPS,
    KISAO_NLEQ2,
    KISAO_RELATIVE_TOLERANCE,
    OMEX_FORMAT,
    OMEX_METADATA_FORMAT,
    SBML_LANGUAGE,
    SBML_PREFIX,
    SEDML_LEVEL,
    SEDML_VERSION,
    SIDECAR_FIELDS,
    SIMULATION_ID,
    TIME_SYMBOL,
    SbmlIndex,
    SedmlError,
    annotation,
    check,
    log_errors,
    number,
    sidecar_name,
)
from pybrainbone.experiments.sedml.compat import libsedml
from pybrainbone.experiments.sedml.maths import math_of, parse_formula
from pybrainbone.experiments.spec import Experiment, Plot, Report, UniformTimeCourse


def _used_ids(experiment: Experiment) -> set[str]:
    ids = {a.id for a in experiment.arms} | {s.id for s in experiment.scans}
    ids |= {d.id for d in experiment.data_generators} | {o.id for o in experiment.outputs}
    return ids | {f"model_{a.id}" for a in experiment.arms} | {SIMULATION_ID}


def _fresh(wanted: str, taken: set[str]) -> str:
    name = wanted
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def _numbered(wanted: str, taken: set[str]) -> str:
    """``wanted``, or ``wanted_2``, ``wanted_3``, ... : the first not yet taken (then taken).

    Every SED-ML id must be unique in its document (the BioSimulators validator refuses a variable id that
    two data generators share), so each data generator's variables get their own ids.
    """
    name, n = wanted, 1
    while name in taken:
        n += 1
        name = f"{wanted}_{n}"
    taken.add(name)
    return name


@dataclass
class _Export:
    """One export in progress: the document, the ids taken so far and the helper elements made."""

    doc: Any
    experiment: Experiment
    index: SbmlIndex
    taken: set[str]
    scan_models: dict[str, str] = field(default_factory=dict)
    scan_tasks: dict[str, str] = field(default_factory=dict)
    helpers: list[str] = field(default_factory=list)
    time_id: str | None = None
    scan_value_ids: dict[str, str] = field(default_factory=dict)
    dg_scans: dict[str, set[str]] = field(default_factory=dict)
    #: (arm, scan) -> the repeatedTask that repeats the arm over the scan's range, and its helper task
    broadcasts: dict[tuple[str, str], str] = field(default_factory=dict)
    broadcast_tasks: dict[tuple[str, str], str] = field(default_factory=dict)


def _broadcast_pairs(experiment: Experiment) -> list[tuple[str, str]]:
    """The (arm, scan) pairs that some data generator combines, in first-use order.

    SED-ML executors that follow the BioSimulators conventions evaluate a data generator element by element
    over variables of one shape; they pad a plain task's course (time) to a repeated task's (iterations x
    time) with NaN rather than broadcasting it. Such a generator's plain arm is therefore read from a
    repeatedTask that runs the arm once per scan value without changing anything, so both variables have
    the scan's shape.

    Examples
    --------
    >>> exp = Experiment.model_validate({
    ...     "id": "opg", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 30, "points": 4},
    ...     "arms": [{"id": "control"}],
    ...     "scans": [{"id": "dose", "arm": "control", "parameter": "P_OPG_ext", "values": [0, 2e5]}],
    ...     "data_generators": [{"id": "r", "expression": "dose.OCa / control.OCa"},
    ...                         {"id": "c", "expression": "control.OCa"}]})
    >>> _broadcast_pairs(exp)
    [('control', 'dose')]
    """
    scan_ids = {s.id for s in experiment.scans}
    pairs: dict[tuple[str, str], None] = {}
    for dg in experiment.data_generators:
        tasks = {task for task, _ in parse_expression(dg.expression).references}
        scans = sorted(tasks & scan_ids)
        if len(scans) == 1:
            pairs.update(dict.fromkeys((arm, scans[0]) for arm in sorted(tasks - scan_ids)))
    return list(pairs)


def export_document(
    experiment: Experiment, model_source: str = "model.xml", runner: Runner | None = None
) -> Any:
    """The experiment as a ``libsedml.SedDocument`` (L1V4); see the package docstring for the mapping.

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> exp = Experiment.model_validate({
    ...     "id": "opg", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 30, "points": 4},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_OPG_ext": 2e5}}],
    ...     "data_generators": [{"id": "dOCa", "expression": "treated.OCa / control.OCa", "unit": "1"}]})
    >>> doc = export_document(exp)
    >>> [doc.getModel(i).getId() for i in range(doc.getNumModels())]
    ['model_control', 'model_treated']
    >>> [doc.getTask(i).getId() for i in range(doc.getNumTasks())], doc.getSimulation(0).getId()
    (['control', 'treated'], 'sim')
    """
    runner = runner or Runner()
    plan = runner.plan(experiment)
    index = SbmlIndex(runner.simulator(experiment.model).model.sbml)
    doc = libsedml.SedDocument(SEDML_LEVEL, SEDML_VERSION)
    # Our XPath targets say ``sbml:``: bind the prefix on the document, as XPath needs (and validators check).
    check(doc.getNamespaces().add(index.namespace, SBML_PREFIX), "the sbml namespace prefix")
    if experiment.name:
        check(doc.setName(experiment.name), "document name")
    out = _Export(doc, experiment, index, _used_ids(experiment))
    out.scan_models = {s.id: _fresh(f"model_{s.id}", out.taken) for s in experiment.scans}
    out.scan_tasks = {s.id: _fresh(f"{s.id}_run", out.taken) for s in experiment.scans}
    for arm, scan in _broadcast_pairs(experiment):
        out.broadcasts[arm, scan] = _fresh(f"{arm}_over_{scan}", out.taken)
        out.broadcast_tasks[arm, scan] = _fresh(f"{arm}_over_{scan}_run", out.taken)
    _add_models(out, plan, runner, model_source)
    _add_simulation(out, plan)
    _add_tasks(out)
    _add_repeated_tasks(out)
    _add_data_generators(out)
    all_data = _add_outputs(out)
    _add_annotation(out, all_data)
    return doc


def _add_models(out: _Export, plan: Plan, runner: Runner, model_source: str) -> None:
    """One model per arm and one per scan (a copy of its arm's), each sourcing the SBML file directly."""
    experiment = out.experiment
    start = runner.start_state(plan)
    arm_changes = {run.arm: plan.changes(run, start_state=start) for run in plan.arms}
    _restate_changes(arm_changes, [s.parameter for s in experiment.scans], plan, runner)
    models = [(f"model_{a.id}", a.name, arm_changes[a.id]) for a in experiment.arms]
    models += [
        (out.scan_models[s.id], f"{s.arm} for scan {s.id}", arm_changes[s.arm]) for s in experiment.scans
    ]
    for model_id, name, changes in models:
        model = out.doc.createModel()
        check(model.setId(model_id), f"model id {model_id!r}")
        if name:
            check(model.setName(name), f"name of model {model_id!r}")
        check(model.setLanguage(SBML_LANGUAGE), "model language")
        check(model.setSource(model_source), "model source")
        for sid, value in changes.items():
            change = model.createChangeAttribute()
            check(change.setTarget(out.index.value_xpath(sid)), f"change target {sid!r}")
            check(change.setNewValue(number(value)), f"new value of {sid!r}")


def _restate_changes(
    arm_changes: dict[str, dict[str, float]], scanned: list[str], plan: Plan, runner: Runner
) -> None:
    """Make every arm's changes name every quantity that any arm changes or any scan sets.

    An arm that leaves a quantity alone gets the value it has at the start of that arm's own run (its
    other changes applied, initial assignments evaluated), so restating it changes nothing for us.
    Executors that keep one model instance per SBML file and apply each model's changes to it
    (biosimulators-tellurium) otherwise carry one arm's changes, or a scan's last value, into the next
    arm. Restated parameters go first and restated states last: tellurium applies changes in reverse
    order, and a species' init() resets every parameter set before it (roadrunner#1078).
    """
    changed = {sid for changes in arm_changes.values() for sid in changes} | set(scanned)
    sim = runner.simulator(plan.model)
    states = set(sim.state_ids)
    selectable = set(sim.variable_ids) | set(sim.parameter_ids)
    start = getattr(plan.simulation, "start", 0.0)
    for arm, changes in arm_changes.items():
        missing = sorted(sid for sid in changed - set(changes) if sid in selectable)
        if not missing:
            continue
        first = sim.simulate(end=start + 1.0, points=2, start=start, changes=changes, selections=missing)
        value = {sid: float(first[sid].iloc[0]) for sid in missing}
        arm_changes[arm] = {
            **{sid: v for sid, v in value.items() if sid not in states},
            **changes,
            **{sid: v for sid, v in value.items() if sid in states},
        }


def _add_simulation(out: _Export, plan: Plan) -> None:
    """The one simulation, with our solver settings as algorithm parameters of CVODE."""
    options = plan.options
    if isinstance(out.experiment.simulation, UniformTimeCourse):
        course = out.experiment.simulation
        sim = out.doc.createUniformTimeCourse()
        check(sim.setInitialTime(course.start), "initial time")
        check(sim.setOutputStartTime(course.start), "output start time")
        check(sim.setOutputEndTime(course.end), "output end time")
        check(sim.setNumberOfSteps(course.points - 1), "number of steps")
        algorithm = sim.createAlgorithm()
        check(algorithm.setKisaoID(KISAO_CVODE), "algorithm")
        for kisao, setting in (
            (KISAO_RELATIVE_TOLERANCE, number(options.relative_tolerance)),
            (KISAO_ABSOLUTE_TOLERANCE, number(options.absolute_tolerance)),
            (KISAO_MAXIMUM_STEPS, str(options.maximum_num_steps)),
        ):
            parameter = algorithm.createAlgorithmParameter()
            check(parameter.setKisaoID(kisao), f"algorithm parameter {kisao}")
            check(parameter.setValue(setting), f"value of {kisao}")
    else:
        sim = out.doc.createSteadyState()
        check(sim.createAlgorithm().setKisaoID(KISAO_NLEQ2), "algorithm")
    check(sim.setId(SIMULATION_ID), "simulation id")


def _add_task(out: _Export, task_id: str, name: str, model_id: str) -> None:
    task = out.doc.createTask()
    check(task.setId(task_id), f"task id {task_id!r}")
    if name:
        check(task.setName(name), f"name of task {task_id!r}")
    check(task.setModelReference(model_id), f"model reference of task {task_id!r}")
    check(task.setSimulationReference(SIMULATION_ID), f"simulation reference of task {task_id!r}")


def _add_tasks(out: _Export) -> None:
    """One task per arm (id = arm id), then each scan's own task on the scan's own model.

    A scan runs its own task: tellurium files a subtask's results under the subtask's id, so running the
    arm's task inside the scan would overwrite the arm's results with the last value.
    """
    for arm in out.experiment.arms:
        _add_task(out, arm.id, arm.name, f"model_{arm.id}")
    for scan in out.experiment.scans:
        _add_task(out, out.scan_tasks[scan.id], "", out.scan_models[scan.id])
    for (arm_id, _), task_id in out.broadcast_tasks.items():
        _add_task(out, task_id, "", f"model_{arm_id}")


def _add_repeated_tasks(out: _Export) -> None:
    """One repeatedTask per scan (id = scan id): a vectorRange, a setValue, resetModel="true"; then one
    without a setValue per (arm, scan) pair a data generator combines (:func:`_broadcast_pairs`)."""
    scans = {scan.id: scan for scan in out.experiment.scans}
    for scan in scans.values():
        repeated = _add_repeated_task(out, scan.id, annotation(arm=scan.arm), scan.values)
        range_id = repeated.getRangeId()
        set_value = repeated.createTaskChange()
        check(set_value.setModelReference(out.scan_models[scan.id]), "setValue model reference")
        check(
            set_value.setTarget(out.index.value_xpath(scan.parameter)), f"setValue target {scan.parameter!r}"
        )
        check(set_value.setRange(range_id), "setValue range")
        check(set_value.setMath(parse_formula(range_id)), "setValue math")
        _add_subtask(repeated, out.scan_tasks[scan.id])
    for (arm, scan_id), repeated_id in out.broadcasts.items():
        repeated = _add_repeated_task(out, repeated_id, annotation(broadcast=arm), scans[scan_id].values)
        _add_subtask(repeated, out.broadcast_tasks[arm, scan_id])


def _add_repeated_task(out: _Export, task_id: str, note: str, values: Any) -> Any:
    """A repeatedTask over its own vectorRange of ``values``, resetting the model between runs."""
    repeated = out.doc.createRepeatedTask()
    check(repeated.setId(task_id), f"repeated task id {task_id!r}")
    check(repeated.setAnnotation(note), f"annotation of {task_id!r}")
    check(repeated.setResetModel(True), "resetModel")
    range_id = _fresh(f"{task_id}_range", out.taken)
    vector = repeated.createVectorRange()
    check(vector.setId(range_id), f"range id {range_id!r}")
    for value in values:
        check(vector.addValue(float(value)), f"value {value!r} of range {range_id!r}")
    check(repeated.setRangeId(range_id), "range reference")
    return repeated


def _add_subtask(repeated: Any, task_id: str) -> None:
    subtask = repeated.createSubTask()
    check(subtask.setTask(task_id), "subtask")
    check(subtask.setOrder(1), f"order of the subtask of {repeated.getId()!r}")


def _add_variable(
    out: _Export, dg: Any, var_id: str, task: str, variable: str, model_ref: str | None = None
) -> None:
    var = dg.createVariable()
    check(var.setId(var_id), f"variable id {var_id!r}")
    check(var.setTaskReference(task), f"task reference of {var_id!r}")
    if model_ref is not None:
        check(var.setModelReference(model_ref), f"model reference of {var_id!r}")
    if variable == "time":
        check(var.setSymbol(TIME_SYMBOL), "time symbol")
    else:
        check(var.setTarget(out.index.element_xpath(variable)), f"target of {var_id!r}")


def _add_helper_generator(
    out: _Export, dg_id: str, name: str, task: str, variable: str, model_ref: str | None = None
) -> None:
    """A data generator that is one variable (the time axis, a scan's value); listed in our annotation."""
    out.helpers.append(dg_id)
    dg = out.doc.createDataGenerator()
    check(dg.setId(dg_id), f"data generator id {dg_id!r}")
    check(dg.setName(name), f"name of data generator {dg_id!r}")
    var_id = _numbered(f"{dg_id}_var" if variable == "time" else f"{task}_{variable}", out.taken)
    _add_variable(out, dg, var_id, task, variable, model_ref)
    check(dg.setMath(parse_formula(var_id)), f"math of {dg_id!r}")


def _variable_id(ids: Mapping[tuple[str, str], str], task: str, variable: str) -> str:
    return ids[task, variable]


def _add_data_generators(out: _Export) -> None:
    """``time`` (time courses), one ``<scan>_value`` per scan, then one per spec data generator."""
    experiment = out.experiment
    if isinstance(experiment.simulation, UniformTimeCourse):
        out.time_id = _fresh("time", out.taken)
        _add_helper_generator(out, out.time_id, "time", experiment.arms[0].id, "time")
    for scan in experiment.scans:
        out.scan_value_ids[scan.id] = _fresh(f"{scan.id}_value", out.taken)
        _add_helper_generator(
            out,
            out.scan_value_ids[scan.id],
            scan.parameter,
            scan.id,
            scan.parameter,
            out.scan_models[scan.id],
        )
    scan_ids = {s.id for s in experiment.scans}
    for spec_dg in experiment.data_generators:
        expression = parse_expression(spec_dg.expression)
        dg = out.doc.createDataGenerator()
        check(dg.setId(spec_dg.id), f"data generator id {spec_dg.id!r}")
        if spec_dg.name:
            check(dg.setName(spec_dg.name), f"name of data generator {spec_dg.id!r}")
        if spec_dg.unit:
            check(dg.setAnnotation(annotation(unit=spec_dg.unit)), f"annotation of {spec_dg.id!r}")
        var_ids: dict[tuple[str, str], str] = {}
        scans = sorted({task for task, _ in expression.references} & scan_ids)
        for task, variable in sorted(expression.references):
            reference, model_ref = task, out.scan_models.get(task)
            if task not in scan_ids and len(scans) == 1:  # the arm repeated over the scan's range
                reference, model_ref = out.broadcasts[task, scans[0]], f"model_{task}"
            var_ids[task, variable] = _numbered(f"{reference}_{variable}", out.taken)
            _add_variable(out, dg, var_ids[task, variable], reference, variable, model_ref)
        math = math_of(expression, partial(_variable_id, var_ids))
        check(dg.setMath(math), f"math of {spec_dg.id!r}")
        out.dg_scans[spec_dg.id] = {task for task, _ in expression.references if task in scan_ids}


def _add_outputs(out: _Export) -> str:
    """The spec's reports and plots, then ``all_data`` (every data generator); returns its id.

    Reports list data generators without a scan first: tellurium makes one row block per column of its
    first data set and fails when a later one has fewer (a scan generator has one per value).
    """
    for output in out.experiment.outputs:
        if isinstance(output, Report):
            columns = sorted(output.data_generators, key=lambda d: bool(out.dg_scans[d]))
            _add_report(out, output.id, columns)
        else:
            _add_plot(out, output)
    ordered = sorted(out.experiment.data_generators, key=lambda d: bool(out.dg_scans[d.id]))
    all_columns = ([out.time_id] if out.time_id else []) + [d.id for d in ordered]
    all_data = _fresh(ALL_DATA, out.taken)
    if all_columns:
        _add_report(out, all_data, all_columns, name="every data generator")
    return all_data


def _add_report(out: _Export, report_id: str, columns: list[str], name: str = "") -> None:
    report = out.doc.createReport()
    check(report.setId(report_id), f"report id {report_id!r}")
    if name:
        check(report.setName(name), f"name of report {report_id!r}")
    for column in columns:
        dataset = report.createDataSet()
        dataset_id = _numbered(f"{report_id}_{column}", out.taken)
        check(dataset.setId(dataset_id), f"dataset id in {report_id!r}")
        check(dataset.setLabel(column), "dataset label")
        check(dataset.setDataReference(column), "dataset reference")


def _add_plot(out: _Export, plot: Plot) -> None:
    time_id, scan_value_ids, dg_scans = out.time_id, out.scan_value_ids, out.dg_scans
    if plot.x != "time":
        x_for = dict.fromkeys(plot.y, plot.x)
    else:
        x_for = {}
        for y in plot.y:
            scans = sorted(dg_scans.get(y, set()))
            if time_id is not None:
                x_for[y] = time_id
            elif scans:
                x_for[y] = scan_value_ids[scans[0]]  # steady-state dose response: against the dose
    if not x_for:
        return  # a steady state without a scan has no axis to plot against
    p = out.doc.createPlot2D()
    check(p.setId(plot.id), f"plot id {plot.id!r}")
    if plot.title:
        check(p.setName(plot.title), f"title of plot {plot.id!r}")
    for y, x in x_for.items():
        curve = p.createCurve()
        curve_id = _numbered(f"{plot.id}_{y}", out.taken)
        check(curve.setId(curve_id), f"curve id in {plot.id!r}")
        check(curve.setName(y), f"name of curve {curve_id!r}")
        check(curve.setXDataReference(x), "curve x")
        check(curve.setYDataReference(y), "curve y")
        check(curve.setLogX(False), f"logX of curve {curve_id!r}")
        check(curve.setLogY(False), f"logY of curve {curve_id!r}")


def _add_annotation(out: _Export, all_data: str) -> None:
    """Our ``<pybrainbone>`` element: the model name and what SED-ML has no place for."""
    experiment = out.experiment
    text = annotation(
        model=experiment.model,
        experiment=experiment.id,
        name=experiment.name,
        question=experiment.question,
        description=experiment.description,
        organism=experiment.organism,
        control=experiment.control or "",
        helpers=" ".join(
            [
                *out.helpers,
                *out.scan_tasks.values(),
                *out.broadcast_tasks.values(),
                *out.broadcasts.values(),
                all_data,
            ]
        ),
    )
    check(out.doc.setAnnotation(text), "document annotation")


def sedml_errors(text: str, warnings: bool = False) -> list[str]:
    """libsedml's messages on reading SED-ML ``text`` (errors; with ``warnings``, warnings too).

    Examples
    --------
    >>> sedml_errors('<sedML xmlns="http://sed-ml.org/sed-ml/level1/version4" level="1" version="4"/>')
    []
    >>> [message[:40] for message in sedml_errors("<sedML/>")]
    ['A <document> object must have the requir', 'A <document> object must have the requir']
    """
    document = libsedml.readSedMLFromString(text)
    minimum = libsedml.LIBSEDML_SEV_WARNING if warnings else libsedml.LIBSEDML_SEV_ERROR
    return log_errors(document, minimum)


def export_sedml(
    experiment: Experiment, model_source: str = "model.xml", runner: Runner | None = None
) -> str:
    """SED-ML L1V4 text of ``experiment`` whose models source the SBML file ``model_source``.

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> exp = Experiment.model_validate({
    ...     "id": "opg", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 30, "points": 4},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_OPG_ext": 2e5}}],
    ...     "data_generators": [{"id": "dOCa", "expression": "treated.OCa / control.OCa", "unit": "1"}]})
    >>> text = export_sedml(exp, model_source="bone_remodeling.xml")
    >>> 'source="bone_remodeling.xml"' in text, sedml_errors(text)
    (True, [])
    """
    text = str(libsedml.writeSedMLToString(export_document(experiment, model_source, runner)))
    errors = sedml_errors(text)
    if errors:
        raise SedmlError(f"experiment {experiment.id!r}: exported SED-ML is invalid: {'; '.join(errors[:3])}")
    return text


def omex_metadata(experiment: Experiment, created: datetime | None = None) -> str:
    """OMEX metadata (RDF/XML) about the archive: ``dc:title``, ``dc:description``, creator and date.

    Written as BioSimulations reads archive metadata (Dublin Core elements, the creator a node with an
    ``rdfs:label``): its validator requires ``dc:title`` and ignores libcombine's vCard creator.

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> exp = Experiment.model_validate({
    ...     "id": "opg", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 30, "points": 4},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_OPG_ext": 2e5}}],
    ...     "data_generators": [{"id": "dOCa", "expression": "treated.OCa / control.OCa", "unit": "1"}]})
    >>> print(omex_metadata(exp, created=datetime(2026, 1, 2, tzinfo=timezone.utc)))
    <?xml version='1.0' encoding='UTF-8'?>
    <rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'
    xmlns:dc='http://purl.org/dc/elements/1.1/'
     xmlns:rdfs='http://www.w3.org/2000/01/rdf-schema#'>
      <rdf:Description rdf:about='.'>
        <dc:title>opg</dc:title>
        <dc:description>opg</dc:description>
        <dc:creator rdf:parseType='Resource'><rdfs:label>pybrainbone</rdfs:label></dc:creator>
        <dc:created>2026-01-02T00:00:00Z</dc:created>
      </rdf:Description>
    </rdf:RDF>
    <BLANKLINE>
    """
    when = (created or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    title = experiment.name or experiment.id
    description = " - ".join(t for t in (experiment.question, experiment.description) if t) or title
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        "<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'"
        " xmlns:dc='http://purl.org/dc/elements/1.1/'"
        " xmlns:rdfs='http://www.w3.org/2000/01/rdf-schema#'>\n"
        "  <rdf:Description rdf:about='.'>\n"
        f"    <dc:title>{escape(title)}</dc:title>\n"
        f"    <dc:description>{escape(' '.join(description.split()))}</dc:description>\n"
        "    <dc:creator rdf:parseType='Resource'><rdfs:label>pybrainbone</rdfs:label></dc:creator>\n"
        f"    <dc:created>{when}</dc:created>\n"
        "  </rdf:Description>\n"
        "</rdf:RDF>\n"
    )


def targets_sidecar(experiment: Experiment) -> str | None:
    """The experiment's ``targets`` and ``measurements`` as JSON text; None when it has neither.

    SED-ML has no place for literature targets or links to measurements, so :func:`export_omex` writes
    this text into the archive as ``<id>.targets.json`` (beside ``<id>.sedml``) and
    :func:`~pybrainbone.experiments.sedml.import_sedml` puts them back. One JSON object (UTF-8, sorted
    keys) holding only the fields the experiment has, each as the spec format writes it.

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> exp = Experiment.model_validate({
    ...     "id": "opg", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 30, "points": 4},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_OPG_ext": 2e5}}],
    ...     "control": "control",
    ...     "data_generators": [{"id": "dOCa", "expression": "100 * (treated.OCa / control.OCa - 1)",
    ...                          "unit": "%"}],
    ...     "targets": [{"id": "oca_down", "data_generator": "dOCa", "direction": "down",
    ...                  "source": "Lacey 1998"}]})
    >>> print(targets_sidecar(exp))
    {
     "targets": [
      {
       "data_generator": "dOCa",
       "direction": "down",
       "id": "oca_down",
       "range": null,
       "reason": "",
       "relative_to": "control",
       "source": "Lacey 1998",
       "status": "expected",
       "time": null,
       "unchanged_tolerance": 1.0,
       "value": null
      }
     ]
    }
    <BLANKLINE>
    >>> targets_sidecar(exp.model_copy(update={"targets": []})) is None
    True
    """
    fields = {name for name in SIDECAR_FIELDS if getattr(experiment, name)}
    if not fields:
        return None
    data = experiment.model_dump(mode="json", include=fields)
    return json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def export_omex(experiment: Experiment, path: str | os.PathLike[str], runner: Runner | None = None) -> Path:
    """Write a COMBINE archive: ``model.xml`` (compiled SBML), ``<id>.sedml`` (master) and OMEX metadata.

    An experiment with ``targets`` (or ``measurements``) also gets ``<id>.targets.json``, the
    :func:`targets_sidecar` text (listed as JSON, not master), from which import restores them.

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> exp = Experiment.model_validate({
    ...     "id": "opg", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 30, "points": 4},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_OPG_ext": 2e5}}],
    ...     "data_generators": [{"id": "dOCa", "expression": "treated.OCa / control.OCa", "unit": "1"}]})
    >>> import tempfile, zipfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     archive = export_omex(exp, Path(folder) / "opg.omex")
    ...     print(archive.name, sorted(zipfile.ZipFile(archive).namelist()))
    opg.omex ['manifest.xml', 'metadata.rdf', 'model.xml', 'opg.sedml']
    """
    import libcombine

    target = Path(path)
    runner = runner or Runner()
    sedml = export_sedml(experiment, "model.xml", runner)
    archive = libcombine.CombineArchive()
    sbml_format = libcombine.KnownFormats.lookupFormat("sbml")
    sedml_format = libcombine.KnownFormats.lookupFormat("sedml")
    sedml_name = f"{experiment.id}.sedml"
    ok = archive.addFileFromString(
        runner.simulator(experiment.model).model.sbml, "model.xml", sbml_format, False
    )
    ok = ok and archive.addFileFromString(sedml, sedml_name, sedml_format, True)
    ok = ok and archive.addFileFromString(
        omex_metadata(experiment), "metadata.rdf", OMEX_METADATA_FORMAT, False
    )
    sidecar = targets_sidecar(experiment)
    if sidecar is not None:
        ok = ok and archive.addFileFromString(sidecar, sidecar_name(sedml_name), JSON_FORMAT, False)
    # The archive itself, as the OMEX spec lists it (the BioSimulators validator warns without it).
    itself = archive.getManifest().createContent()
    ok = ok and itself.setLocation(".") == 0 and itself.setFormat(OMEX_FORMAT) == 0
    if not ok:
        raise SedmlError(f"{target}: libcombine could not add the model, SED-ML, metadata or targets")
    with atomic_path(target, suffix=".omex") as tmp:
        tmp.unlink()  # libcombine writes a fresh zip
        if not archive.writeToFile(str(tmp)):
            raise SedmlError(f"{target}: libcombine could not write the archive")
        archive.cleanUp()
    return target
