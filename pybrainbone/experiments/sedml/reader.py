"""Import: SED-ML text, a ``.sedml`` file or an OMEX archive back into an experiment spec."""

from __future__ import annotations

import json
import os
import re
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from pybrainbone.errors import shorten
from pybrainbone.experiments.sedml.common import (
    KISAO_ABSOLUTE_TOLERANCE,
    KISAO_MAXIMUM_STEPS,
    KISAO_RELATIVE_TOLERANCE,
    KISAO_STEADY_STATE,
    KISAO_STOCHASTIC,
    KISAO_TIME_COURSE,
    NAMESPACE,
    SIDECAR_FIELDS,
    TIME_SYMBOL,
    SedmlError,
    kisao_id,
    log_errors,
    sidecar_name,
)
from pybrainbone.experiments.sedml.compat import libsedml
from pybrainbone.experiments.sedml.maths import Name, expression_from_math
from pybrainbone.experiments.spec import Experiment, SpecError, experiment_from_data
from pybrainbone.paths import available_models

_ID_IN_XPATH = re.compile(r"""@id\s*=\s*['"]([^'"]+)['"]""")
_ATTRIBUTE_IN_XPATH = re.compile(r"/@([A-Za-z]+)\s*$")
_VALUE_ATTRIBUTES = {"value", "initialConcentration", "initialAmount", "size"}
#: Spec solver settings read from a time course's algorithm parameters: KiSAO id -> (field, type).
_SOLVER_PARAMETERS: dict[str, tuple[str, type[float] | type[int]]] = {
    KISAO_RELATIVE_TOLERANCE: ("relative_tolerance", float),
    KISAO_ABSOLUTE_TOLERANCE: ("absolute_tolerance", float),
    KISAO_MAXIMUM_STEPS: ("maximum_num_steps", int),
}


@dataclass(frozen=True)
class _Source:
    """A parsed SED-ML document, where it came from, and which files come with it."""

    doc: Any
    origin: str
    #: Locations of the SBML entries of the OMEX archive the document came from.
    archive: frozenset[str] | None = None
    #: Folder of the ``.sedml`` file the document came from.
    directory: Path | None = None
    #: The targets sidecar's bytes (None: there is none) and where it came from (archive and member, or file).
    sidecar: bytes | None = None
    sidecar_origin: str = ""

    def has_file(self, name: str) -> bool:
        """Whether model source ``name`` is an SBML file in the archive or next to the SED-ML file."""
        if self.archive is not None:
            return _location(name) in self.archive
        return self.directory is not None and (self.directory / name).is_file()

    @property
    def beside(self) -> str:
        return "in the archive" if self.archive is not None else "next to the SED-ML"


def import_sedml(
    source: str | os.PathLike[str], *, model: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Read SED-ML (text, a file or an OMEX archive) back into an :class:`Experiment`.

    ``model`` overrides the model name (default: our annotation, else the SBML file's stem); it must be a
    pybrainbone model. Refused with a one-line :class:`SedmlError` naming the file: what the spec format
    cannot express, stochastic or unknown algorithms, and models pybrainbone does not have.

    The ``targets`` and ``measurements``, which SED-ML has no place for, come back from the targets sidecar
    our export writes (``<stem>.targets.json`` beside the SED-ML file, in the archive or next to a ``.sedml``
    file); a sidecar that is not valid JSON or whose content does not validate as those spec fields is
    refused with a :class:`SedmlError` naming it. Without a sidecar the spec has neither.

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> exp = Experiment.model_validate({
    ...     "id": "opg", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 30, "points": 4},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_OPG_ext": 2e5}}],
    ...     "data_generators": [{"id": "dOCa", "expression": "treated.OCa / control.OCa", "unit": "1"}]})
    >>> import tempfile
    >>> from pybrainbone.experiments.sedml import export_omex
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     back = import_sedml(export_omex(exp, Path(folder) / "opg.omex"), experiment_id="opg_again")
    >>> back.id, back.model, back.arm("treated").changes, back.data_generators[0].expression
    ('opg_again', 'bone_remodeling', {'P_OPG_ext': 200000.0}, 'treated.OCa / control.OCa')
    >>> import_sedml("<sedML/>")
    Traceback (most recent call last):
    ...
    pybrainbone.experiments.sedml.common.SedmlError: SED-ML text: not readable SED-ML: A <document> object ...
    >>> import_sedml("no/such/file.sedml")
    Traceback (most recent call last):
    ...
    pybrainbone.experiments.sedml.common.SedmlError: no SED-ML file at no/such/file.sedml
    """
    read = _read_document(source)
    doc, origin = read.doc, read.origin
    ours = _our_annotation(doc)
    helpers = set(ours.get("helpers", "").split())
    arms, sbml_source, simulation_id = _read_arms(doc, helpers, origin)
    data: dict[str, Any] = {
        "id": experiment_id or ours.get("experiment") or _identifier(doc.getId() or Path(origin).stem),
        "model": _model_name(model or ours.get("model"), sbml_source, read),
        "changes": _split_shared_changes(arms),
        **_read_simulation(doc, simulation_id, origin),
        "arms": arms,
        "scans": [
            _scan(t, origin) for t in doc.getListOfTasks() if _is_repeated(t) and not _repeats_as_is(t)
        ],
    }
    data["data_generators"] = _read_data_generators(doc, helpers, origin, _repeated_arms(doc))
    data["outputs"] = _read_outputs(doc, helpers, {g["id"] for g in data["data_generators"]})
    return _assemble(data, doc, ours, read)


def _assemble(data: dict[str, Any], doc: Any, ours: dict[str, str], read: _Source) -> Experiment:
    """The validated spec: ``data`` plus what our annotation (or the document's name) and sidecar tell.

    The spec is validated without the sidecar first, so that a problem of the SED-ML is reported as one
    of the SED-ML, and a problem the sidecar brings as one of the sidecar.
    """
    for key in ("name", "question", "description", "organism", "control"):
        if ours.get(key):
            data[key] = ours[key]
    if "name" not in data and doc.isSetName() and doc.getName():
        data["name"] = doc.getName()
    experiment = experiment_from_data(data, read.origin)
    if read.sidecar is None:
        return experiment
    extra = _parse_sidecar(read.sidecar, read.sidecar_origin)
    try:
        return experiment_from_data({**data, **extra}, read.sidecar_origin)
    except SpecError as exc:
        raise SedmlError(str(exc)) from None


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict, refusing a key given twice (as spec YAML is read)."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"duplicate key {shorten(key)}")
        found[key] = value
    return found


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _parse_sidecar(raw: bytes, origin: str) -> dict[str, Any]:
    """The sidecar's fields (a JSON object with ``targets`` and/or ``measurements``), not yet validated."""
    if len(raw) > MAX_SIDECAR_BYTES:
        raise SedmlError(f"{origin}: {len(raw)} bytes or more; at most {MAX_SIDECAR_BYTES} are read")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SedmlError(f"{origin}: not UTF-8 (at byte {exc.start})") from None
    try:
        data = json.loads(text, object_pairs_hook=_refuse_duplicates, parse_constant=_refuse_constant)
    except RecursionError:
        raise SedmlError(f"{origin}: not valid JSON (nested too deeply)") from None
    except ValueError as exc:
        raise SedmlError(f"{origin}: not valid JSON ({' '.join(str(exc).split())[:200]})") from None
    fields = ", ".join(SIDECAR_FIELDS)
    if not isinstance(data, dict):
        kind = {list: "list", str: "string", bool: "boolean", type(None): "null"}.get(type(data), "number")
        raise SedmlError(f"{origin}: must be a JSON object with the spec's {fields}, not a {kind}")
    unknown = sorted(set(data) - set(SIDECAR_FIELDS))
    if unknown:
        shown = ", ".join(shorten(key) for key in unknown[:3])
        raise SedmlError(f"{origin}: unknown field(s) {shown}; a targets sidecar holds {fields} only")
    return data


# ---- reading the file ----------------------------------------------------------------------------------
#: Largest SED-ML document, archive member and total inflated archive we read: far above any real
#: experiment (ours are < 100 KB), far below what makes parsing take minutes or gigabytes.
MAX_SEDML_BYTES = 8 * 2**20
MAX_MEMBER_BYTES = 64 * 2**20
MAX_ARCHIVE_BYTES = 256 * 2**20
MAX_ARCHIVE_MEMBERS = 1000
#: Largest targets sidecar we read: it is parsed into the spec like the SED-ML document.
MAX_SIDECAR_BYTES = MAX_SEDML_BYTES


def _check_archive_size(path: Path) -> None:
    """Refuse an archive whose members would inflate beyond the limits, before anything is extracted."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise SedmlError(f"{path}: not a readable COMBINE archive ({exc})") from None
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise SedmlError(f"{path}: {len(members)} archive members; at most {MAX_ARCHIVE_MEMBERS} are read")
    largest = max(members, key=lambda m: m.file_size, default=None)
    if largest is not None and largest.file_size > MAX_MEMBER_BYTES:
        raise SedmlError(
            f"{path}: member {largest.filename[:80]!r} inflates to {largest.file_size} bytes; "
            f"at most {MAX_MEMBER_BYTES} are read"
        )
    total = sum(m.file_size for m in members)
    if total > MAX_ARCHIVE_BYTES:
        raise SedmlError(
            f"{path}: the archive inflates to {total} bytes; at most {MAX_ARCHIVE_BYTES} are read"
        )


def _check_text_size(size: int, origin: str) -> None:
    if size > MAX_SEDML_BYTES:
        raise SedmlError(f"{origin}: {size} bytes of SED-ML; at most {MAX_SEDML_BYTES} are read")


def _read_document(source: str | os.PathLike[str]) -> _Source:
    """Parse SED-ML text, a ``.sedml`` file or the master SED-ML of an OMEX archive (size-limited)."""
    sidecar: str | None = None
    if isinstance(source, str) and source.lstrip().startswith("<"):
        _check_text_size(len(source.encode("utf-8")), "SED-ML text")
        read = _Source(libsedml.readSedMLFromString(source), "SED-ML text")
    else:
        path = Path(source)
        try:
            found = path.is_file()
        except OSError as exc:  # a name the file system refuses (too long): text that is not SED-ML
            raise SedmlError(f"no SED-ML file at {shorten(str(path))}: {exc.strerror or exc}") from None
        if not found:
            raise SedmlError(f"no SED-ML file at {path}")
        if zipfile.is_zipfile(path):
            _check_archive_size(path)
            text, sbml_entries, sidecar = _master_sedml(path)
            _check_text_size(len(text.encode("utf-8")), str(path))
            read = _Source(libsedml.readSedMLFromString(text), str(path), archive=sbml_entries)
        else:
            _check_text_size(path.stat().st_size, str(path))
            read = _Source(libsedml.readSedMLFromFile(str(path)), str(path), directory=path.parent)
    errors = log_errors(read.doc, libsedml.LIBSEDML_SEV_ERROR)
    if errors or read.doc.getNumModels() == 0:
        detail = "; ".join(errors[:3]) or "no models"
        raise SedmlError(f"{read.origin}: not readable SED-ML: {detail}")
    return _with_sidecar(read, sidecar)


def _with_sidecar(read: _Source, member: str | None) -> _Source:
    """``read`` with the bytes of its targets sidecar: archive ``member``, or the file beside the SED-ML."""
    path = Path(read.origin)
    if member is not None:
        where = f"{path}: member {shorten(member)}"
        return replace(read, sidecar=_archive_member(path, member, where), sidecar_origin=where)
    if read.directory is not None:
        beside = path.with_name(sidecar_name(path.name))
        if os.path.lexists(beside):
            return replace(read, sidecar=_sidecar_file(beside), sidecar_origin=str(beside))
    return read


def _location(name: str) -> str:
    return name.strip().removeprefix("./").lstrip("/")


def _archive_member(path: Path, name: str, origin: str) -> bytes:
    """The bytes of archive member ``name`` (a location), refused beyond :data:`MAX_SIDECAR_BYTES`."""
    try:
        with zipfile.ZipFile(path) as archive:
            info = next((i for i in archive.infolist() if _location(i.filename) == name), None)
            if info is None:
                raise SedmlError(f"{origin}: listed in the manifest but not in the archive")
            if info.file_size > MAX_SIDECAR_BYTES:
                raise SedmlError(
                    f"{origin}: inflates to {info.file_size} bytes; at most {MAX_SIDECAR_BYTES} are read"
                )
            with archive.open(info) as handle:
                return handle.read(MAX_SIDECAR_BYTES + 1)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as exc:
        raise SedmlError(f"{origin}: cannot be read ({' '.join(str(exc).split())[:200]})") from None


def _sidecar_file(path: Path) -> bytes:
    """The bytes of the sidecar file beside a ``.sedml`` file (a regular file of bounded size)."""
    try:
        if not path.is_file():
            raise SedmlError(f"{path}: the targets sidecar is not a regular file")
        size = path.stat().st_size
        if size > MAX_SIDECAR_BYTES:
            raise SedmlError(f"{path}: {size} bytes; at most {MAX_SIDECAR_BYTES} are read")
        with open(path, "rb") as handle:
            return handle.read(MAX_SIDECAR_BYTES + 1)
    except OSError as exc:
        raise SedmlError(f"{path}: cannot read the targets sidecar: {exc.strerror or exc}") from None


def _master_sedml(path: Path) -> tuple[str, frozenset[str], str | None]:
    """The master SED-ML text of the archive, the locations of its SBML entries and of its sidecar, if any."""
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
        sbml = frozenset(_location(e.getLocation()) for e in entries if "sbml" in e.getFormat())
        wanted = sidecar_name(_location(chosen.getLocation()))
        listed = any(_location(e.getLocation()) == wanted for e in entries)
        return str(archive.extractEntryToString(chosen.getLocation())), sbml, wanted if listed else None
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


def _identifier(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", text) or "imported"
    return cleaned if re.match(r"[A-Za-z_]", cleaned) else f"_{cleaned}"


def _id_from_xpath(xpath: str, origin: str) -> str:
    match = _ID_IN_XPATH.search(xpath)
    if match is None:
        raise SedmlError(f"{origin}: cannot resolve the XPath target {xpath!r} to an SBML id")
    return match.group(1)


# ---- models and arms -----------------------------------------------------------------------------------
def _model_name(wanted: str | None, sbml_source: str, read: _Source) -> str:
    """The pybrainbone model the experiment runs: ``wanted`` (override or annotation), else the file stem."""
    name = wanted or Path(sbml_source).stem
    known = available_models()
    if name in known:
        return name
    hint = f"pass model= (--model) naming one of {', '.join(known)}"
    if read.has_file(sbml_source):
        raise SedmlError(
            f"{read.origin}: model {name!r} (SBML file {sbml_source!r}) is not a pybrainbone model, and "
            f"pybrainbone simulates its own models only; {hint}"
        )
    raise SedmlError(
        f"{read.origin}: model source {sbml_source!r} is neither an SBML file {read.beside} nor a "
        f"pybrainbone model ({name!r} is unknown); {hint}"
    )


def _read_arms(doc: Any, helpers: set[str], origin: str) -> tuple[list[dict[str, Any]], str, str]:
    """Plain tasks as arms (with all their changes), the one SBML source and the one simulation id."""
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
    return arms, sources.pop(), simulations.pop()


def _split_shared_changes(arms: list[dict[str, Any]]) -> dict[str, float]:
    """Remove the changes every arm makes with the same value from the arms; return them."""
    first = arms[0]["changes"]
    shared = {k: v for k, v in first.items() if all(a["changes"].get(k) == v for a in arms[1:])}
    for arm in arms:
        arm["changes"] = {k: v for k, v in arm["changes"].items() if k not in shared}
    return shared


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
            if attribute is None or attribute.group(1) not in _VALUE_ATTRIBUTES:
                raise SedmlError(f"{origin}: cannot import the change target {target!r}")
            try:
                changes[_id_from_xpath(target, origin)] = float(change.getNewValue())
            except ValueError:
                raise SedmlError(
                    f"{origin}: change of {target!r} has a non-numeric value {change.getNewValue()!r}"
                ) from None
    return chain[-1].getSource(), changes


# ---- simulation ----------------------------------------------------------------------------------------
def _read_simulation(doc: Any, simulation_id: str, origin: str) -> dict[str, Any]:
    """The spec's ``simulation`` (and ``solver``, from the algorithm's parameters) for the one simulation."""
    sim = doc.getSimulation(simulation_id)
    if sim is None:
        raise SedmlError(f"{origin}: a task refers to a missing simulation")
    where = f"{origin}: simulation {sim.getId()!r}"
    if sim.getTypeCode() == libsedml.SEDML_SIMULATION_UNIFORMTIMECOURSE:
        if abs(sim.getOutputStartTime() - sim.getInitialTime()) > 0:
            raise SedmlError(
                f"{where} starts output after its initial time; "
                "the spec format simulates from its first output time"
            )
        algorithm = _algorithm(sim, KISAO_TIME_COURSE, "a deterministic ODE integrator", where)
        simulation = {
            "type": "uniform_time_course",
            "start": sim.getOutputStartTime(),
            "end": sim.getOutputEndTime(),
            "points": sim.getNumberOfSteps() + 1,
        }
        solver = _solver(algorithm, where)
        return {"simulation": simulation, "solver": solver} if solver else {"simulation": simulation}
    if sim.getTypeCode() == libsedml.SEDML_SIMULATION_STEADYSTATE:
        _algorithm(sim, KISAO_STEADY_STATE, "a deterministic steady-state solver", where)
        return {"simulation": {"type": "steady_state"}}
    raise SedmlError(f"{origin}: cannot import a <{sim.getElementName()}> simulation")


def _algorithm(sim: Any, accepted: dict[str, str], kind: str, where: str) -> Any:
    """The simulation's algorithm, refused unless its KiSAO id is in ``accepted``."""
    algorithm = sim.getAlgorithm()
    if algorithm is None or not algorithm.isSetKisaoID():
        raise SedmlError(f"{where} names no algorithm")
    kisao = kisao_id(algorithm.getKisaoID())
    if kisao in accepted:
        return algorithm
    if kisao in KISAO_STOCHASTIC:
        raise SedmlError(
            f"{where}: stochastic algorithm {kisao} ({KISAO_STOCHASTIC[kisao]}) is not supported: "
            "pybrainbone simulates deterministically"
        )
    listed = ", ".join(f"{k} ({v})" for k, v in accepted.items())
    raise SedmlError(f"{where}: algorithm {kisao} is not {kind} pybrainbone honours; accepted: {listed}")


def _solver(algorithm: Any, where: str) -> dict[str, float | int]:
    """The spec's ``solver`` settings from the algorithm's tolerance and step-limit parameters."""
    solver: dict[str, float | int] = {}
    for parameter in algorithm.getListOfAlgorithmParameters():
        kisao = kisao_id(parameter.getKisaoID())
        if kisao not in _SOLVER_PARAMETERS:
            continue  # other settings tune an integrator, not the problem
        key, kind = _SOLVER_PARAMETERS[kisao]
        text = parameter.getValue().strip()
        try:
            value = float(text)
            if kind is int:
                if not value.is_integer():
                    raise ValueError(text)
                solver[key] = int(value)
            else:
                solver[key] = value
        except (ValueError, OverflowError):
            raise SedmlError(
                f"{where}: algorithm parameter {kisao} ({key}) is {text!r}, not a number"
            ) from None
    return solver


# ---- scans ---------------------------------------------------------------------------------------------
def _is_repeated(task: Any) -> bool:
    return bool(task.getTypeCode() == libsedml.SEDML_TASK_REPEATEDTASK)


def _repeats_as_is(task: Any) -> bool:
    """A repeated task that changes nothing: one subtask run once per range value, as it is."""
    return bool(task.getNumTaskChanges() == 0 and task.getNumSubTasks() == 1)


def _repeated_arms(doc: Any) -> dict[str, str]:
    """Repeated task id -> the arm it repeats unchanged (our annotation's ``broadcast``, else its subtask).

    Our export reads a plain arm from such a task where a data generator combines the arm with a scan
    (writer._broadcast_pairs); every run of it equals the arm's, so its variables are the arm's.
    """
    return {
        task.getId(): _our_annotation(task).get("broadcast") or task.getSubTask(0).getTask()
        for task in doc.getListOfTasks()
        if _is_repeated(task) and _repeats_as_is(task)
    }


def _scan(task: Any, origin: str) -> dict[str, Any]:
    """A repeated task over one plain task, one range and one setValue, as a spec scan."""
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
    set_value = changes[0]
    formula = libsedml.formulaToL3String(set_value.getMath()) if set_value.getMath() is not None else ""
    if str(formula).strip() != rng.getId():
        raise SedmlError(f"{where}: the setValue must set the range value itself")
    return {
        "id": task.getId(),
        "arm": _our_annotation(task).get("arm") or subtasks[0].getTask(),
        "parameter": _id_from_xpath(set_value.getTarget(), origin),
        "values": _range_values(rng, where),
    }


def _range_values(rng: Any, where: str) -> list[float]:
    if rng.getTypeCode() == libsedml.SEDML_RANGE_VECTORRANGE:
        return [float(v) for v in rng.getValues()]
    if rng.getTypeCode() == libsedml.SEDML_RANGE_UNIFORMRANGE:
        import numpy as np

        n = rng.getNumberOfPoints()
        if rng.getType() == "log":
            return [float(v) for v in np.geomspace(rng.getStart(), rng.getEnd(), n + 1)]
        return [float(v) for v in np.linspace(rng.getStart(), rng.getEnd(), n + 1)]
    raise SedmlError(f"{where} uses a functionalRange; only vector and uniform ranges import")


# ---- data generators and outputs -----------------------------------------------------------------------
def _read_data_generators(
    doc: Any, helpers: set[str], origin: str, repeated_arms: dict[str, str]
) -> list[dict[str, Any]]:
    """The spec's data generators: every SED-ML one except helpers and bare time axes."""
    generators: list[dict[str, Any]] = []
    for dg in doc.getListOfDataGenerators():
        if dg.getId() in helpers:
            continue
        expression = _expression(dg, origin, repeated_arms)
        if expression is None:
            continue  # a time axis
        item: dict[str, Any] = {"id": dg.getId(), "expression": expression}
        if dg.isSetName() and dg.getName():
            item["name"] = dg.getName()
        unit = _our_annotation(dg).get("unit")
        if unit:
            item["unit"] = unit
        generators.append(item)
    return generators


def _expression(dg: Any, origin: str, repeated_arms: dict[str, str]) -> str | None:
    """The data generator as an ``arm.variable`` expression; None for a bare time axis."""
    where = f"{origin}: data generator {dg.getId()!r}"
    names: dict[str, Name] = {p.getId(): float(p.getValue()) for p in dg.getListOfParameters()}
    time_ids: set[str] = set()
    for var in dg.getListOfVariables():
        task = var.getTaskReference()
        if not task:
            raise SedmlError(f"{origin}: variable {var.getId()!r} of {dg.getId()!r} names no task")
        task = repeated_arms.get(task, task)
        if var.isSetSymbol():
            if var.getSymbol() != TIME_SYMBOL:
                raise SedmlError(f"{origin}: cannot import the symbol {var.getSymbol()!r}")
            time_ids.add(var.getId())
            names[var.getId()] = (task, "time")
        else:
            names[var.getId()] = (task, _id_from_xpath(var.getTarget(), origin))
    if dg.getMath() is None:
        raise SedmlError(f"{where} has no math")
    if str(libsedml.formulaToL3String(dg.getMath())).strip() in time_ids:
        return None
    if time_ids:
        raise SedmlError(f"{where} computes with time; not supported")
    return expression_from_math(dg.getMath(), names, where)


def _read_outputs(doc: Any, helpers: set[str], known: set[str]) -> list[dict[str, Any]]:
    """Reports and 2D plots over the imported data generators (others' columns and curves dropped)."""
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
    return outputs
