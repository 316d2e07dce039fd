"""Exchange experiment specs as SED-ML Level 1 Version 4 and COMBINE/OMEX archives.

Export (:func:`export_sedml`, :func:`export_omex`) maps a spec onto SED-ML as the spec module describes:

* one ``<model>`` per arm, ``id="model_<arm>"``, ``name`` = the arm's name, whose ``source`` is the SBML
  file itself (never another model: COPASI silently drops changes on chained models, tooling.md §11),
  with one ``changeAttribute`` per change. The changes are the plan's (:mod:`pybrainbone.experiments.plan`:
  organism preset, shared changes, pre-equilibrated states, the arm's own), written with ``repr`` so every
  number survives exactly;
* one ``uniformTimeCourse`` (CVODE, ``KISAO_0000019``) or ``steadyState`` (NLEQ2, ``KISAO_0000569``) called
  ``sim``, carrying our solver tolerances as algorithm parameters so other executors integrate as tightly
  as we do;
* one ``<task>`` per arm whose id *is* the arm id, and one ``repeatedTask`` per scan whose id is the scan id
  (a ``vectorRange`` with a ``setValue``, ``resetModel="true"``);
* a data generator ``time`` (time courses only), one per spec data generator (variables ``<task>_<var>``,
  math from :meth:`Expression.infix`) and one ``<scan>_value`` per scan (the scanned parameter, the x axis
  of steady-state dose-response plots);
* one ``report`` per spec report, one ``report`` ``all_data`` (time + every data generator) and one
  ``plot2D`` per spec plot.

Where the model comes from: SED-ML names an SBML *file*, the spec a *model name*. Our export records the
model name - together with what SED-ML has no place for (experiment id, name, question, description,
organism, control arm, data-generator units, the ids of helper elements) - in a ``<pybrainbone>`` element
in the SED-ML document's annotation (namespace :data:`NAMESPACE`). :func:`import_sedml` reads it back;
for third-party SED-ML without it the model name is the SBML file's stem (``bone_remodeling.xml`` ->
``bone_remodeling``), or whatever the caller passes as ``model=``.

Import (:func:`import_sedml`) reads our own exports and simple third-party SED-ML: models with
``changeAttribute`` changes (chains of models are followed), one ``uniformTimeCourse`` or ``steadyState``
shared by every task, plain tasks (-> arms), repeated tasks over one task with one range and one
``setValue`` (-> scans), and data generators that are arithmetic over variables (-> expressions). The
organism preset comes back as explicit changes, which the runner applies after the preset, so the
numbers are the same as the original run's even though the spec is not identical.

Known limits of other executors (checked with tellurium 2.2.13.1 and COPASI 4.48): COPASI imports one
task and its model per data model (select them with ``COPASI.SedmlImportOptions(task, model)``), so it
cannot evaluate data generators across arms; it ignores our KiSAO tolerance parameters; and a change of a
species' initial value loses to that species' initial assignment there (tellurium and our runner drop the
assignment). tellurium needs each report's first column to have the most repeats, hence the ordering.

>>> from pybrainbone.experiments.spec import Experiment
>>> exp = Experiment.model_validate({
...     "id": "opg", "model": "bone_remodeling",
...     "simulation": {"type": "uniform_time_course", "end": 30, "points": 4},
...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_OPG_ext": 2e5}}],
...     "data_generators": [{"id": "dBMD", "expression": "100*(treated.BMD/control.BMD - 1)"}]})
>>> back = import_sedml(export_sedml(exp))
>>> back.model, back.arm("treated").changes, back.data_generators[0].expression
('bone_remodeling', {'P_OPG_ext': 200000.0}, '100 * (treated.BMD / control.BMD - 1)')
"""

from __future__ import annotations

import ast
import math
import os
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import libsbml
import libsedml

from pybrainbone.atomic import atomic_path
from pybrainbone.errors import PyBrainBoneError
from pybrainbone.experiments.expressions import ExpressionError, parse_expression
from pybrainbone.experiments.runner import Runner
from pybrainbone.experiments.spec import (
    Experiment,
    Plot,
    Report,
    UniformTimeCourse,
    experiment_from_data,
)

#: SED-ML level and version we write (libsedml's default is newer: pin it).
SEDML_LEVEL, SEDML_VERSION = 1, 4
#: Namespace of our annotation (model name and what SED-ML has no place for).
NAMESPACE = "https://github.com/pybrainbone/pybrainbone/sedml-annotation"
#: KiSAO ids: CVODE, NLEQ2 and the CVODE settings we pass on.
KISAO_CVODE, KISAO_NLEQ2 = "KISAO_0000019", "KISAO_0000569"
KISAO_RELATIVE_TOLERANCE, KISAO_ABSOLUTE_TOLERANCE = "KISAO_0000209", "KISAO_0000211"
KISAO_MAXIMUM_STEPS = "KISAO_0000415"
TIME_SYMBOL = "urn:sedml:symbol:time"
SBML_LANGUAGE = "urn:sedml:language:sbml.level-3.version-2"
ALL_DATA = "all_data"
SIMULATION_ID = "sim"

_ID_IN_XPATH = re.compile(r"""@id\s*=\s*['"]([^'"]+)['"]""")
_ATTRIBUTE_IN_XPATH = re.compile(r"/@([A-Za-z]+)\s*$")


def _restore_libsbml_proxies() -> None:
    """Undo what importing libsedml does to libsbml.

    libsedml and libsbml are SWIG modules sharing 19 C++ type names (``List``, ``ASTNode``, ``XMLNode``,
    ...); importing libsedml makes *libsbml* return libsedml's proxies for them. libsbml's
    ``Model.getListOfAllElements()`` then yields generic ``SBase`` objects and never stops (libsedml's
    ``SBaseList.__getitem__`` returns None past the end), so e.g. :func:`pybrainbone.units.normalise_units`
    loops forever when a model is compiled afterwards. Re-registering libsbml's proxy classes restores it;
    libsedml keeps working because the proxies wrap the same shared SWIG types (we only pass such objects
    straight back to libsedml). Call again after anything else imports libsedml for the first time.
    """
    for name in dir(libsbml._libsbml):
        if name.endswith("_swigregister") and hasattr(libsedml._libsedml, name):
            proxy = getattr(libsbml, name.removesuffix("_swigregister"), None)
            if proxy is not None:
                getattr(libsbml._libsbml, name)(proxy)


_restore_libsbml_proxies()


class SedmlError(PyBrainBoneError):
    """SED-ML or OMEX that cannot be written or read back into a spec; the message names the file."""


# ---- export ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _SbmlIndex:
    """What kind of SBML element each id names (species, parameter, compartment)."""

    sbml: str

    @cached_property
    def kinds(self) -> dict[str, str]:
        document = libsbml.readSBMLFromString(self.sbml)
        model = document.getModel()
        kinds: dict[str, str] = {}
        for species in model.getListOfSpecies():
            kinds[species.getId()] = "species_amount" if species.getHasOnlySubstanceUnits() else "species"
        for parameter in model.getListOfParameters():
            kinds[parameter.getId()] = "parameter"
        for compartment in model.getListOfCompartments():
            kinds[compartment.getId()] = "compartment"
        return kinds

    def element_xpath(self, sid: str) -> str:
        kind = self.kinds.get(sid)
        if kind is None:
            raise SedmlError(f"{sid!r} is not a species, parameter or compartment of the SBML model")
        if kind.startswith("species"):
            return f"/sbml:sbml/sbml:model/sbml:listOfSpecies/sbml:species[@id='{sid}']"
        if kind == "compartment":
            return f"/sbml:sbml/sbml:model/sbml:listOfCompartments/sbml:compartment[@id='{sid}']"
        return f"/sbml:sbml/sbml:model/sbml:listOfParameters/sbml:parameter[@id='{sid}']"

    def value_xpath(self, sid: str) -> str:
        attribute = {
            "species": "initialConcentration",
            "species_amount": "initialAmount",
            "compartment": "size",
            "parameter": "value",
        }[self.kinds.get(sid, "parameter")]
        return f"{self.element_xpath(sid)}/@{attribute}"


def _check(status: int, what: str) -> None:
    if status != libsedml.LIBSEDML_OPERATION_SUCCESS:
        raise SedmlError(f"libsedml could not set {what} (status {status})")


def _number(value: float) -> str:
    """A float as text that reads back to the same float."""
    return repr(float(value))


def _math(formula: str) -> Any:
    tree = libsedml.parseL3Formula(formula)
    if tree is None:
        reason = libsedml.getLastParseL3Error()
        raise SedmlError(f"libsedml could not parse the formula {formula!r}: {reason}")
    return tree


def _annotation(**attributes: str) -> str:
    element = ElementTree.Element(f"{{{NAMESPACE}}}pybrainbone", {k: v for k, v in attributes.items() if v})
    ElementTree.register_namespace("pbb", NAMESPACE)
    return f"<annotation>{ElementTree.tostring(element, encoding='unicode')}</annotation>"


def _add_variable(
    dg: Any, var_id: str, task: str, variable: str, index: _SbmlIndex, model_ref: str | None = None
) -> None:
    var = dg.createVariable()
    _check(var.setId(var_id), f"variable id {var_id!r}")
    _check(var.setTaskReference(task), f"task reference of {var_id!r}")
    if model_ref is not None:
        _check(var.setModelReference(model_ref), f"model reference of {var_id!r}")
    if variable == "time":
        _check(var.setSymbol(TIME_SYMBOL), "time symbol")
    else:
        _check(var.setTarget(index.element_xpath(variable)), f"target of {var_id!r}")


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


def export_document(
    experiment: Experiment, model_source: str = "model.xml", runner: Runner | None = None
) -> Any:
    """The experiment as a ``libsedml.SedDocument`` (L1V4); see the module docstring for the mapping."""
    runner = runner or Runner()
    plan = runner.plan(experiment)
    index = _SbmlIndex(runner.simulator(experiment.model).model.sbml)
    taken = _used_ids(experiment)
    doc = libsedml.SedDocument(SEDML_LEVEL, SEDML_VERSION)
    if experiment.name:
        doc.setName(experiment.name)

    # models: one per arm and one per scan (a copy of its arm's), each sourcing the SBML file directly
    start = runner.start_state(plan)
    arm_changes = {run.arm: plan.changes(run, start_state=start) for run in plan.arms}
    scan_models = {s.id: _fresh(f"model_{s.id}", taken) for s in experiment.scans}
    scan_tasks = {s.id: _fresh(f"{s.id}_run", taken) for s in experiment.scans}
    models = [(f"model_{a.id}", a.name, arm_changes[a.id]) for a in experiment.arms]
    models += [(scan_models[s.id], f"{s.arm} for scan {s.id}", arm_changes[s.arm]) for s in experiment.scans]
    for model_id, name, changes in models:
        model = doc.createModel()
        _check(model.setId(model_id), f"model id {model_id!r}")
        if name:
            model.setName(name)
        _check(model.setLanguage(SBML_LANGUAGE), "model language")
        _check(model.setSource(model_source), "model source")
        for sid, value in changes.items():
            change = model.createChangeAttribute()
            _check(change.setTarget(index.value_xpath(sid)), f"change target {sid!r}")
            _check(change.setNewValue(_number(value)), f"new value of {sid!r}")

    # simulation, with our solver settings
    options = plan.options
    if isinstance(experiment.simulation, UniformTimeCourse):
        course = experiment.simulation
        sim = doc.createUniformTimeCourse()
        sim.setInitialTime(course.start)
        sim.setOutputStartTime(course.start)
        sim.setOutputEndTime(course.end)
        sim.setNumberOfSteps(course.points - 1)
        algorithm = sim.createAlgorithm()
        _check(algorithm.setKisaoID(KISAO_CVODE), "algorithm")
        for kisao, setting in (
            (KISAO_RELATIVE_TOLERANCE, _number(options.relative_tolerance)),
            (KISAO_ABSOLUTE_TOLERANCE, _number(options.absolute_tolerance)),
            (KISAO_MAXIMUM_STEPS, str(options.maximum_num_steps)),
        ):
            parameter = algorithm.createAlgorithmParameter()
            _check(parameter.setKisaoID(kisao), f"algorithm parameter {kisao}")
            _check(parameter.setValue(setting), f"value of {kisao}")
    else:
        sim = doc.createSteadyState()
        _check(sim.createAlgorithm().setKisaoID(KISAO_NLEQ2), "algorithm")
    _check(sim.setId(SIMULATION_ID), "simulation id")

    # tasks: one per arm (id = arm id); scans as repeated tasks (id = scan id)
    for arm in experiment.arms:
        task = doc.createTask()
        _check(task.setId(arm.id), f"task id {arm.id!r}")
        if arm.name:
            task.setName(arm.name)
        task.setModelReference(f"model_{arm.id}")
        task.setSimulationReference(SIMULATION_ID)
    # A scan runs its own task on its own model: tellurium files a subtask's results under the subtask's
    # id, so running the arm's task inside the scan would overwrite the arm's results with the last value.
    for scan in experiment.scans:
        task = doc.createTask()
        _check(task.setId(scan_tasks[scan.id]), f"task id {scan_tasks[scan.id]!r}")
        task.setModelReference(scan_models[scan.id])
        task.setSimulationReference(SIMULATION_ID)
    for scan in experiment.scans:
        repeated = doc.createRepeatedTask()
        _check(repeated.setId(scan.id), f"repeated task id {scan.id!r}")
        repeated.setAnnotation(_annotation(arm=scan.arm))
        _check(repeated.setResetModel(True), "resetModel")
        range_id = _fresh(f"{scan.id}_range", taken)
        vector = repeated.createVectorRange()
        _check(vector.setId(range_id), f"range id {range_id!r}")
        for value in scan.values:
            vector.addValue(float(value))
        _check(repeated.setRangeId(range_id), "range reference")
        set_value = repeated.createTaskChange()
        _check(set_value.setModelReference(scan_models[scan.id]), "setValue model reference")
        _check(set_value.setTarget(index.value_xpath(scan.parameter)), f"setValue target {scan.parameter!r}")
        _check(set_value.setRange(range_id), "setValue range")
        _check(set_value.setMath(_math(range_id)), "setValue math")
        subtask = repeated.createSubTask()
        _check(subtask.setTask(scan_tasks[scan.id]), "subtask")
        subtask.setOrder(1)

    # data generators
    helpers: list[str] = []
    time_id: str | None = None
    if isinstance(experiment.simulation, UniformTimeCourse):
        time_id = _fresh("time", taken)
        helpers.append(time_id)
        dg = doc.createDataGenerator()
        _check(dg.setId(time_id), "time data generator")
        dg.setName("time")
        var_id = f"{time_id}_var"
        _add_variable(dg, var_id, experiment.arms[0].id, "time", index)
        _check(dg.setMath(_math(var_id)), "time math")
    scan_value_ids: dict[str, str] = {}
    for scan in experiment.scans:
        scan_value_ids[scan.id] = _fresh(f"{scan.id}_value", taken)
        helpers.append(scan_value_ids[scan.id])
        dg = doc.createDataGenerator()
        _check(dg.setId(scan_value_ids[scan.id]), f"scan value data generator of {scan.id!r}")
        dg.setName(scan.parameter)
        var_id = f"{scan.id}_{scan.parameter}"
        _add_variable(dg, var_id, scan.id, scan.parameter, index, model_ref=scan_models[scan.id])
        _check(dg.setMath(_math(var_id)), "scan value math")
    scan_ids = {s.id for s in experiment.scans}
    dg_scans: dict[str, set[str]] = {}
    for spec_dg in experiment.data_generators:
        expression = parse_expression(spec_dg.expression)
        dg = doc.createDataGenerator()
        _check(dg.setId(spec_dg.id), f"data generator id {spec_dg.id!r}")
        if spec_dg.name:
            dg.setName(spec_dg.name)
        if spec_dg.unit:
            dg.setAnnotation(_annotation(unit=spec_dg.unit))
        for task, variable in sorted(expression.references):
            model_ref = scan_models[task] if task in scan_ids else None
            _add_variable(dg, f"{task}_{variable}", task, variable, index, model_ref=model_ref)
        _check(dg.setMath(_math(expression.infix())), f"math of {spec_dg.id!r}")
        dg_scans[spec_dg.id] = {task for task, _ in expression.references if task in scan_ids}

    # outputs
    # Reports list data generators without a scan first: tellurium makes one row block per column of
    # its first data set and fails when a later one has fewer (a scan generator has one per value).
    outputs_taken = set(taken)
    for output in experiment.outputs:
        if isinstance(output, Report):
            columns = sorted(output.data_generators, key=lambda d: bool(dg_scans[d]))
            _add_report(doc, output.id, columns)
        else:
            _add_plot(doc, output, time_id, scan_value_ids, dg_scans)
    ordered = sorted(experiment.data_generators, key=lambda d: bool(dg_scans[d.id]))
    all_columns = ([time_id] if time_id else []) + [d.id for d in ordered]
    all_data = _fresh(ALL_DATA, outputs_taken)
    if all_columns:
        _add_report(doc, all_data, all_columns, name="every data generator")

    doc.setAnnotation(
        _annotation(
            model=experiment.model,
            experiment=experiment.id,
            name=experiment.name,
            question=experiment.question,
            description=experiment.description,
            organism=experiment.organism,
            control=experiment.control or "",
            helpers=" ".join([*helpers, *scan_tasks.values(), all_data]),
        )
    )
    return doc


def _add_report(doc: Any, report_id: str, columns: list[str], name: str = "") -> None:
    report = doc.createReport()
    _check(report.setId(report_id), f"report id {report_id!r}")
    if name:
        report.setName(name)
    for column in columns:
        dataset = report.createDataSet()
        _check(dataset.setId(f"{report_id}_{column}"), f"dataset id in {report_id!r}")
        _check(dataset.setLabel(column), "dataset label")
        _check(dataset.setDataReference(column), "dataset reference")


def _add_plot(
    doc: Any,
    plot: Plot,
    time_id: str | None,
    scan_value_ids: Mapping[str, str],
    dg_scans: Mapping[str, set[str]],
) -> None:
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
    p = doc.createPlot2D()
    _check(p.setId(plot.id), f"plot id {plot.id!r}")
    if plot.title:
        p.setName(plot.title)
    for y, x in x_for.items():
        curve = p.createCurve()
        _check(curve.setId(f"{plot.id}_{y}"), f"curve id in {plot.id!r}")
        curve.setName(y)
        _check(curve.setXDataReference(x), "curve x")
        _check(curve.setYDataReference(y), "curve y")
        curve.setLogX(False)
        curve.setLogY(False)


def _log_errors(document: Any, minimum: int) -> list[str]:
    log = document.getErrorLog()
    return [
        " ".join(log.getError(i).getMessage().split())
        for i in range(log.getNumErrors())
        if log.getError(i).getSeverity() >= minimum
    ]


def sedml_errors(text: str, warnings: bool = False) -> list[str]:
    """libsedml's messages on reading SED-ML ``text`` (errors; with ``warnings``, warnings too)."""
    document = libsedml.readSedMLFromString(text)
    minimum = libsedml.LIBSEDML_SEV_WARNING if warnings else libsedml.LIBSEDML_SEV_ERROR
    return _log_errors(document, minimum)


def export_sedml(
    experiment: Experiment, model_source: str = "model.xml", runner: Runner | None = None
) -> str:
    """SED-ML L1V4 text of ``experiment`` whose models source the SBML file ``model_source``."""
    text = str(libsedml.writeSedMLToString(export_document(experiment, model_source, runner)))
    errors = sedml_errors(text)
    if errors:
        raise SedmlError(f"experiment {experiment.id!r}: exported SED-ML is invalid: {'; '.join(errors[:3])}")
    return text


def export_omex(experiment: Experiment, path: str | os.PathLike[str], runner: Runner | None = None) -> Path:
    """Write a COMBINE archive: ``model.xml`` (compiled SBML), ``<id>.sedml`` (master) and OMEX metadata."""
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
    description = libcombine.OmexDescription()
    description.setAbout(".")
    description.setDescription(
        " - ".join(t for t in (experiment.name or experiment.id, experiment.question) if t)
    )
    creator = libcombine.VCard()
    creator.setGivenName("pybrainbone")
    creator.setOrganization("pybrainbone")
    description.addCreator(creator)
    description.setCreated(libcombine.OmexDescription.getCurrentDateAndTime())
    archive.addMetadata(".", description)
    if not ok:
        raise SedmlError(f"{target}: libcombine could not add the model or the SED-ML to the archive")
    with atomic_path(target, suffix=".omex") as tmp:
        tmp.unlink()  # libcombine writes a fresh zip
        if not archive.writeToFile(str(tmp)):
            raise SedmlError(f"{target}: libcombine could not write the archive")
        archive.cleanUp()
    return target


# ---- import ----------------------------------------------------------------------------------------------
def _read_document(source: str | os.PathLike[str]) -> tuple[Any, str]:
    """Parse SED-ML text, a ``.sedml`` file or the master SED-ML of an OMEX archive; (document, origin)."""
    if isinstance(source, str) and source.lstrip().startswith("<"):
        doc, origin = libsedml.readSedMLFromString(source), "SED-ML text"
    else:
        path = Path(source)
        origin = str(path)
        if not path.is_file():
            raise SedmlError(f"no SED-ML file at {path}")
        if zipfile.is_zipfile(path):
            text = _master_sedml(path)
            doc = libsedml.readSedMLFromString(text)
        else:
            doc = libsedml.readSedMLFromFile(str(path))
    errors = _log_errors(doc, libsedml.LIBSEDML_SEV_ERROR)
    if errors or doc.getNumModels() == 0:
        detail = "; ".join(errors[:3]) or "no models"
        raise SedmlError(f"{origin}: not readable SED-ML: {detail}")
    return doc, origin


def _master_sedml(path: Path) -> str:
    import libcombine

    archive = libcombine.CombineArchive()
    if not archive.initializeFromArchive(str(path)):
        raise SedmlError(f"{path}: not a readable COMBINE archive")
    try:
        entries = [archive.getEntry(i) for i in range(archive.getNumEntries())]
        sedml = [e for e in entries if "sed-ml" in e.getFormat() or e.getLocation().endswith(".sedml")]
        if not sedml:
            raise SedmlError(f"{path}: the archive holds no SED-ML file")
        chosen = next((e for e in sedml if e.isSetMaster() and e.getMaster()), sedml[0])
        return str(archive.extractEntryToString(chosen.getLocation()))
    finally:
        archive.cleanUp()


def _our_annotation(sbase: Any) -> dict[str, str]:
    if not sbase.isSetAnnotation():
        return {}
    text = sbase.getAnnotationString()
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return {}
    found = root.find(f"{{{NAMESPACE}}}pybrainbone")
    return dict(found.attrib) if found is not None else {}


def _id_from_xpath(xpath: str, origin: str) -> str:
    match = _ID_IN_XPATH.search(xpath)
    if match is None:
        raise SedmlError(f"{origin}: cannot resolve the XPath target {xpath!r} to an SBML id")
    return match.group(1)


def _resolve_model(doc: Any, model_id: str, origin: str) -> tuple[str, dict[str, float]]:
    """(SBML source, changes) of a SED-ML model, following chains of models (later changes win)."""
    chain: list[Any] = []
    current = doc.getModel(model_id)
    while current is not None:
        if current in chain or len(chain) > 100:
            raise SedmlError(f"{origin}: model {model_id!r} has a circular source")
        chain.append(current)
        source = current.getSource().removeprefix("#")
        current = doc.getModel(source)
    if not chain:
        raise SedmlError(f"{origin}: task refers to unknown model {model_id!r}")
    changes: dict[str, float] = {}
    for model in reversed(chain):
        for change in model.getListOfChanges():
            if change.getTypeCode() != libsedml.SEDML_CHANGE_ATTRIBUTE:
                raise SedmlError(
                    f"{origin}: model {model.getId()!r} uses a <{change.getElementName()}> change; "
                    "only changeAttribute can be imported"
                )
            target = change.getTarget()
            attribute = _ATTRIBUTE_IN_XPATH.search(target)
            if attribute is None or attribute.group(1) not in {
                "value",
                "initialConcentration",
                "initialAmount",
                "size",
            }:
                raise SedmlError(f"{origin}: cannot import the change target {target!r}")
            try:
                changes[_id_from_xpath(target, origin)] = float(change.getNewValue())
            except ValueError:
                raise SedmlError(
                    f"{origin}: change of {target!r} has a non-numeric value {change.getNewValue()!r}"
                ) from None
    return chain[-1].getSource(), changes


_L3_FUNCTIONS = {"ln": "log", "exp": "exp", "abs": "abs", "sqrt": "sqrt"}


class _ToSpec(ast.NodeTransformer):
    """Rewrite SBML L3 infix (parsed as Python) into our ``arm.variable`` expression syntax."""

    def __init__(self, names: Mapping[str, str], origin: str) -> None:
        self.names = names
        self.origin = origin

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id in self.names:
            return ast.parse(self.names[node.id], mode="eval").body
        constants = {"pi": math.pi, "exponentiale": math.e}
        if node.id in constants:
            return ast.Constant(constants[node.id])
        raise SedmlError(f"{self.origin}: data-generator math uses {node.id!r}, which is not a variable")

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        args = node.args
        if name in _L3_FUNCTIONS and len(args) == 1:
            return ast.Call(ast.Name(_L3_FUNCTIONS[name], ast.Load()), args, [])
        if name == "log10" and len(args) == 1:
            return _call_ratio(args[0], ast.Constant(10.0))
        if name == "log" and len(args) == 2:  # log(base, x)
            return _call_ratio(args[1], args[0])
        if name == "pow" and len(args) == 2:
            return ast.BinOp(args[0], ast.Pow(), args[1])
        if name == "root" and len(args) == 2:
            return ast.BinOp(args[1], ast.Pow(), ast.BinOp(ast.Constant(1.0), ast.Div(), args[0]))
        raise SedmlError(f"{self.origin}: data-generator math calls {name or 'a function'!r}; not supported")


def _call_ratio(x: ast.expr, base: ast.expr) -> ast.expr:
    log = ast.Name("log", ast.Load())
    return ast.BinOp(ast.Call(log, [x], []), ast.Div(), ast.Call(log, [base], []))


def _python(formula: str, names: Mapping[str, str], origin: str) -> str:
    """Our expression text for SBML L3 infix ``formula`` whose variables ``names`` maps to arm.variable."""
    try:
        tree = ast.parse(formula.replace("^", "**"), mode="eval")
    except SyntaxError:
        raise SedmlError(f"{origin}: cannot import the data-generator math {formula!r}") from None
    body = _ToSpec(names, origin).visit(tree).body
    return ast.unparse(ast.fix_missing_locations(body))


def _expression(dg: Any, origin: str) -> str | None:
    """The data generator as an ``arm.variable`` expression; None for a bare time axis."""
    names: dict[str, str] = {p.getId(): repr(float(p.getValue())) for p in dg.getListOfParameters()}
    is_time: dict[str, bool] = {}
    for var in dg.getListOfVariables():
        task = var.getTaskReference()
        if not task:
            raise SedmlError(f"{origin}: variable {var.getId()!r} of {dg.getId()!r} names no task")
        if var.isSetSymbol():
            if var.getSymbol() != TIME_SYMBOL:
                raise SedmlError(f"{origin}: cannot import the symbol {var.getSymbol()!r}")
            is_time[var.getId()] = True
            names[var.getId()] = f"{task}.time"
        else:
            is_time[var.getId()] = False
            names[var.getId()] = f"{task}.{_id_from_xpath(var.getTarget(), origin)}"
    if dg.getMath() is None:
        raise SedmlError(f"{origin}: data generator {dg.getId()!r} has no math")
    formula = str(libsedml.formulaToL3String(dg.getMath())).strip()
    if is_time.get(formula, False):
        return None
    if any(is_time.values()):
        raise SedmlError(f"{origin}: data generator {dg.getId()!r} computes with time; not supported")
    text = _python(formula, names, origin)
    try:
        return parse_expression(text).text
    except ExpressionError as exc:
        raise SedmlError(f"{origin}: data generator {dg.getId()!r}: {exc}") from None


def import_sedml(
    source: str | os.PathLike[str], *, model: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Read SED-ML (text, a file or an OMEX archive) back into an :class:`Experiment`.

    ``model`` overrides the model name (default: our annotation, else the SBML file's stem).
    """
    doc, origin = _read_document(source)
    ours = _our_annotation(doc)
    helpers = set(ours.get("helpers", "").split())

    # arms: plain tasks
    arms: list[dict[str, Any]] = []
    sources: set[str] = set()
    simulations: set[str] = set()
    for task in doc.getListOfTasks():
        if task.getTypeCode() != libsedml.SEDML_TASK or task.getId() in helpers:
            continue
        model_source, changes = _resolve_model(doc, task.getModelReference(), origin)
        sources.add(model_source)
        simulations.add(task.getSimulationReference())
        name = task.getName() if task.isSetName() else doc.getModel(task.getModelReference()).getName()
        arms.append({"id": task.getId(), "name": name or "", "changes": changes})
    if not arms:
        raise SedmlError(f"{origin}: no <task> to import as an arm")
    if len(sources) > 1:
        raise SedmlError(f"{origin}: tasks use different SBML files {sorted(sources)}; one model only")
    if len(simulations) > 1:
        raise SedmlError(f"{origin}: tasks use different simulations {sorted(simulations)}; one only")

    # shared changes: those every arm makes with the same value
    first = arms[0]["changes"]
    shared = {k: v for k, v in first.items() if all(a["changes"].get(k) == v for a in arms[1:])}
    for arm in arms:
        arm["changes"] = {k: v for k, v in arm["changes"].items() if k not in shared}

    # simulation
    sim = doc.getSimulation(simulations.pop())
    simulation: dict[str, Any]
    if sim is None:
        raise SedmlError(f"{origin}: a task refers to a missing simulation")
    if sim.getTypeCode() == libsedml.SEDML_SIMULATION_UNIFORMTIMECOURSE:
        if abs(sim.getOutputStartTime() - sim.getInitialTime()) > 0:
            raise SedmlError(
                f"{origin}: simulation {sim.getId()!r} starts output after its initial time; "
                "the spec format simulates from its first output time"
            )
        simulation = {
            "type": "uniform_time_course",
            "start": sim.getOutputStartTime(),
            "end": sim.getOutputEndTime(),
            "points": sim.getNumberOfSteps() + 1,
        }
    elif sim.getTypeCode() == libsedml.SEDML_SIMULATION_STEADYSTATE:
        simulation = {"type": "steady_state"}
    else:
        raise SedmlError(f"{origin}: cannot import a <{sim.getElementName()}> simulation")

    # scans: repeated tasks over one plain task, one range, one setValue
    scans: list[dict[str, Any]] = []
    for task in doc.getListOfTasks():
        if task.getTypeCode() == libsedml.SEDML_TASK_REPEATEDTASK:
            scans.append(_scan(task, origin))

    # data generators
    generators: list[dict[str, Any]] = []
    time_generators: set[str] = set()
    for dg in doc.getListOfDataGenerators():
        if dg.getId() in helpers:
            if dg.getName() == "time" or (dg.getNumVariables() == 1 and dg.getVariable(0).isSetSymbol()):
                time_generators.add(dg.getId())
            continue
        expression = _expression(dg, origin)
        if expression is None:
            time_generators.add(dg.getId())
            continue
        item: dict[str, Any] = {"id": dg.getId(), "expression": expression}
        if dg.isSetName() and dg.getName():
            item["name"] = dg.getName()
        unit = _our_annotation(dg).get("unit")
        if unit:
            item["unit"] = unit
        generators.append(item)
    known = {g["id"] for g in generators}

    # outputs
    outputs: list[dict[str, Any]] = []
    for output in doc.getListOfOutputs():
        if output.getId() in helpers:
            continue
        if output.getTypeCode() == libsedml.SEDML_OUTPUT_REPORT:
            columns = [d.getDataReference() for d in output.getListOfDataSets()]
            columns = [c for c in columns if c in known]
            if columns:
                outputs.append({"type": "report", "id": output.getId(), "data_generators": columns})
        elif output.getTypeCode() == libsedml.SEDML_OUTPUT_PLOT2D:
            curves = list(output.getListOfCurves())
            ys = [c.getYDataReference() for c in curves if c.getYDataReference() in known]
            xs = {c.getXDataReference() for c in curves if c.getYDataReference() in known}
            if not ys:
                continue
            x = xs.pop() if len(xs) == 1 else "time"
            plot: dict[str, Any] = {"type": "plot", "id": output.getId(), "y": ys}
            if x in known:
                plot["x"] = x
            if output.isSetName() and output.getName():
                plot["title"] = output.getName()
            outputs.append(plot)

    source_name = Path(sources.pop()).stem
    data: dict[str, Any] = {
        "id": experiment_id or ours.get("experiment") or _identifier(doc.getId() or Path(str(origin)).stem),
        "model": model or ours.get("model") or source_name,
        "changes": shared,
        "simulation": simulation,
        "arms": arms,
        "scans": scans,
        "data_generators": generators,
        "outputs": outputs,
    }
    for key in ("name", "question", "description", "organism", "control"):
        if ours.get(key):
            data[key] = ours[key]
    if "name" not in data and doc.isSetName() and doc.getName():
        data["name"] = doc.getName()
    return experiment_from_data(data, origin)


def _identifier(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", text) or "imported"
    return cleaned if re.match(r"[A-Za-z_]", cleaned) else f"_{cleaned}"


def _scan(task: Any, origin: str) -> dict[str, Any]:
    where = f"{origin}: repeated task {task.getId()!r}"
    subtasks = list(task.getListOfSubTasks())
    changes = list(task.getListOfTaskChanges())
    if len(subtasks) != 1 or len(changes) != 1:
        raise SedmlError(f"{where} must have one subtask and one setValue to import as a scan")
    if not task.getResetModel():
        raise SedmlError(f"{where} does not reset the model between runs; scans always do")
    rng = task.getRange(task.getRangeId()) if task.isSetRangeId() else None
    if rng is None and task.getNumRanges() == 1:
        rng = task.getRange(0)
    if rng is None:
        raise SedmlError(f"{where} has no range")
    if rng.getTypeCode() == libsedml.SEDML_RANGE_VECTORRANGE:
        values = [float(v) for v in rng.getValues()]
    elif rng.getTypeCode() == libsedml.SEDML_RANGE_UNIFORMRANGE:
        import numpy as np

        n = rng.getNumberOfPoints()
        if rng.getType() == "log":
            values = [float(v) for v in np.geomspace(rng.getStart(), rng.getEnd(), n + 1)]
        else:
            values = [float(v) for v in np.linspace(rng.getStart(), rng.getEnd(), n + 1)]
    else:
        raise SedmlError(f"{where} uses a functionalRange; only vector and uniform ranges import")
    set_value = changes[0]
    formula = libsedml.formulaToL3String(set_value.getMath()) if set_value.getMath() is not None else ""
    if str(formula).strip() != rng.getId():
        raise SedmlError(f"{where}: the setValue must set the range value itself")
    return {
        "id": task.getId(),
        "arm": _our_annotation(task).get("arm") or subtasks[0].getTask(),
        "parameter": _id_from_xpath(set_value.getTarget(), origin),
        "values": values,
    }
