"""Compile Antimony modules in ``models/`` to validated, flat SBML Level 3 Version 2.

Each ``models/<name>.ant`` must define a module called ``<name>``; that module is the one compiled (never
libantimony's implicit ``__main``). Compiled SBML is cached on disk by a hash of every module file, the
Antimony version and this build step's version, so a second load does not recompile.

>>> from pybrainbone.build import compile_model
>>> model = compile_model("bone_remodeling")
>>> model.name, model.validation.ok
('bone_remodeling', True)
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import antimony
import libsbml

from pybrainbone.atomic import write_text_atomic
from pybrainbone.errors import ModelBuildError, ModelNotFoundError
from pybrainbone.model_text import flat_parameter_records, module_description
from pybrainbone.paths import (
    cache_dir,
    citation_file,
    model_path,
    models_dir,
    references_file,
    shipped_models_dir,
)
from pybrainbone.references import Reference, load_references, model_sources
from pybrainbone.sbml_transforms import (
    annotate_from_model_files,
    annotate_model_metadata,
    annotate_references,
    annotate_sbo_terms,
    freeze_derived_parameters,
    project_metadata,
    share_repeated_subexpressions,
)
from pybrainbone.units import normalise_units
from pybrainbone.validation import ValidationReport, validate_document
from pybrainbone.yaml_files import read_text

#: Bump when the build pipeline changes what it writes, to invalidate caches.
BUILD_VERSION = "7"
SBML_LEVEL, SBML_VERSION = 3, 2

# libantimony keeps one process-wide set of loaded modules.
_ANTIMONY_LOCK = threading.Lock()


@dataclass(frozen=True)
class CompiledModel:
    """A module compiled to flat SBML L3V2 and validated.

    Examples
    --------
    >>> model = compile_model("bone_remodeling")
    >>> model.name, model.source.name, model.sbml.startswith("<?xml")
    ('bone_remodeling', 'bone_remodeling.ant', True)
    >>> len(model.digest)  # SHA-256 of every module file and the tool versions: the cache key
    64
    """

    name: str
    source: Path
    sbml: str
    digest: str

    @functools.cached_property
    def validation(self) -> ValidationReport:
        """libSBML's judgement of :attr:`sbml` (computed on first access).

        Examples
        --------
        >>> report = compile_model("bone_remodeling").validation
        >>> report.ok, report.errors, report.unit_warnings
        (True, (), ())
        """
        return validate_document(libsbml.readSBMLFromString(self.sbml))


def _digest(name: str, directory: Path) -> str:
    h = hashlib.sha256()
    h.update(
        f"{BUILD_VERSION}|{antimony.getVersionStr()}|{libsbml.getLibSBMLDottedVersion()}|{name}".encode()
    )
    for path in sorted(directory.glob("*.ant")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    for source in (citation_file(), references_file()):  # model metadata, papers (missing: the build fails)
        with contextlib.suppress(OSError):
            h.update(source.read_bytes())
    return h.hexdigest()


_ANTIMONY_LOCATION = re.compile(r"Error in (?:file '(?P<file>[^']*)'|model string), line (?P<line>\d+)")


def _antimony_error(path: Path) -> ModelBuildError:
    raw = " ".join(antimony.getLastError().split())
    match = _ANTIMONY_LOCATION.search(raw)
    where = f"{match.group('file') or path}:{match.group('line')}" if match else str(path)
    message = _ANTIMONY_LOCATION.sub("", raw).lstrip(": ") or "unknown Antimony error"
    return ModelBuildError(f"{where}: Antimony: {message}")


def _undefined_values(model: libsbml.Model) -> list[str]:
    """Symbols with neither a value nor a rule or initial assignment (simulators disagree on those)."""
    assigned = {r.getVariable() for r in model.getListOfRules()}
    assigned |= {a.getSymbol() for a in model.getListOfInitialAssignments()}
    missing = [
        p.getId() for p in model.getListOfParameters() if not p.isSetValue() and p.getId() not in assigned
    ]
    missing += [
        s.getId()
        for s in model.getListOfSpecies()
        if not (s.isSetInitialConcentration() or s.isSetInitialAmount()) and s.getId() not in assigned
    ]
    return missing


def _translate(name: str, path: Path) -> tuple[str, str]:
    """Antimony → (flat SBML, comp SBML) for module ``name``; the comp form keeps its declared units."""
    with _ANTIMONY_LOCK:
        antimony.clearPreviousLoads()
        antimony.addDirectory(str(path.parent))
        if antimony.loadAntimonyFile(str(path)) < 0:
            raise _antimony_error(path)
        modules = list(antimony.getModuleNames())
        if name not in modules:
            defined = [m for m in modules if m != "__main"]
            raise ModelBuildError(
                f"{path}: defines modules {defined} but none named {name!r}; "
                f"name the main module after its file (model {name}(...) ... end)"
            )
        sbml = antimony.getSBMLString(name)
        if not sbml:
            raise _antimony_error(path)
        return str(sbml), str(antimony.getCompSBMLString(name))


def _references(directory: Path) -> dict[str, Reference]:
    """The reference table; built from the project's own modules, each of its papers must be cited there."""
    own = directory.resolve() == shipped_models_dir().resolve()
    return load_references(sources=model_sources(directory) if own else None)


def _compile(name: str, path: Path, digest: str) -> CompiledModel:
    flat, comp = _translate(name, path)
    document = libsbml.readSBMLFromString(flat)
    if (document.getLevel(), document.getVersion()) != (SBML_LEVEL, SBML_VERSION):
        document.setLevelAndVersion(SBML_LEVEL, SBML_VERSION)
    comp_document = libsbml.readSBMLFromString(comp)
    normalise_units(document, comp_document.getModel())
    share_repeated_subexpressions(document)
    freeze_derived_parameters(document)
    records = flat_parameter_records(name, path.parent)
    annotate_from_model_files(document, records)
    annotate_references(document, records, _references(path.parent))
    annotate_sbo_terms(document)
    annotate_model_metadata(document, project_metadata(), module_description(path))
    undefined = _undefined_values(document.getModel())
    if undefined:
        raise ModelBuildError(
            f"{path}: module {name!r} leaves initial values undefined for {', '.join(undefined)}; "
            "give each a value (simulators disagree on defaults)"
        )
    report = validate_document(document)
    if not report.ok:
        problems = [m.one_line() for m in (*report.errors, *report.unit_warnings)]
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        raise ModelBuildError(f"{path}: SBML validation failed for module {name!r}: {shown}")
    return CompiledModel(name=name, source=path, sbml=libsbml.writeSBMLToString(document), digest=digest)


def compile_model(name: str, directory: Path | None = None, *, use_cache: bool = True) -> CompiledModel:
    """Compile module ``name`` to validated flat SBML L3V2, reusing the disk cache when it is current.

    Raises :class:`ModelNotFoundError` for an unknown name and :class:`ModelBuildError` (naming the file,
    line and Antimony or libSBML message) when the module does not compile or validate.

    Examples
    --------
    >>> model = compile_model("bone_remodeling")
    >>> model is compile_model("bone_remodeling")  # an unchanged module compiles once per process
    True
    >>> compile_model("bone_remodeling", use_cache=False).sbml == model.sbml
    True
    >>> compile_model("bone remodeling")
    Traceback (most recent call last):
    ...
    pybrainbone.errors.ModelNotFoundError: no model named 'bone remodeling': a model name is an identifier ...
    """
    directory = (directory or models_dir()).resolve()
    path = model_path(name, directory)
    # Keyed by content: an edited module recompiles, an unchanged one is compiled once per process.
    return _compile_cached(name, path, _digest(name, directory), use_cache)


@functools.lru_cache(maxsize=64)
def _compile_cached(name: str, path: Path, digest: str, use_cache: bool) -> CompiledModel:
    cached = cache_dir() / f"{name}-{digest[:20]}.xml"
    if use_cache and cached.is_file():
        return CompiledModel(name=name, source=path, sbml=cached.read_text(encoding="utf-8"), digest=digest)
    model = _compile(name, path, digest)
    if use_cache:
        with contextlib.suppress(OSError):  # a read-only cache only costs a recompile next time
            write_text_atomic(cached, model.sbml, output=False)
    return model


def write_sbml(model: CompiledModel, out_dir: Path) -> Path:
    """Write ``<out_dir>/<name>.xml`` atomically and return its path.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_sbml(compile_model("bone_remodeling"), Path(folder) / "sbml")
    ...     print(path.name, path.read_text(encoding="utf-8") == compile_model("bone_remodeling").sbml)
    bone_remodeling.xml True
    """
    target = out_dir / f"{model.name}.xml"
    write_text_atomic(target, model.sbml)
    return target


def load_sbml(path: str | Path) -> CompiledModel:
    """Read a third-party SBML file as a :class:`CompiledModel` (no Antimony step, no unit demands).

    Unreadable or malformed files raise :class:`ModelBuildError` naming the file and libSBML's message.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     third_party = load_sbml(write_sbml(compile_model("bone_remodeling"), Path(folder)))
    >>> third_party.name, third_party.source.name
    ('bone_remodeling', 'bone_remodeling.xml')
    >>> load_sbml("no/such/model.xml")
    Traceback (most recent call last):
    ...
    pybrainbone.errors.ModelNotFoundError: no SBML file at no/such/model.xml
    """
    path = Path(path)
    if not path.is_file():
        raise ModelNotFoundError(f"no SBML file at {path}")
    text = read_text(path, ModelBuildError, "SBML file", max_bytes=512 * 2**20)
    document = libsbml.readSBMLFromString(text)
    fatal = [
        document.getError(i)
        for i in range(document.getNumErrors())
        if document.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]
    if fatal or document.getModel() is None:
        message = " ".join(fatal[0].getMessage().split()) if fatal else "no <model> element"
        line = fatal[0].getLine() if fatal else 0
        raise ModelBuildError(f"{path}:{line}: not readable SBML: {message}")
    name = document.getModel().getId() or path.stem
    return CompiledModel(name=name, source=path, sbml=text, digest=hashlib.sha256(text.encode()).hexdigest())
