"""Hierarchical SBML: a composed model as SBML L3V2 with the ``comp`` package (one definition per module).

:func:`pybrainbone.build.compile_model` writes a composition such as ``brain_bone_axis`` flat. This module
writes the same composition hierarchically, self-contained in one document:

* one ``ModelDefinition`` per pathway module, which is that module's own SBML as ``pybrainbone build``
  writes it (units, notes, shared sub-expressions), with the module's Antimony interface as comp ``Port``\\ s;
* in the top model one ``Submodel`` per instance (``HPA: hpa()``) and the composition's own elements:
  its switches (``on_*``, ``link_*``) and, as top-level parameters that replace the submodel's element
  through its port (``ReplacedElement``), every submodel input it wires with a rule (``core_f_RANKL``) and
  every submodel value it overrides (``hip_rho``); each submodel quantity those rules read
  (``HPA_F_RANKL``) is a top-level stand-in that the submodel's port replaces (``ReplacedBy``).

Antimony's own comp output (``antimony.getCompSBMLString``) cannot serve: it keeps the switches but drops
every rule the composition writes on a submodel input (51 in ``brain_bone_axis``) and every overridden
submodel value (4), so it flattens to a model without cross-links (menopause BMD 100.00 % instead of
88.78 %). What the composition adds is therefore read off the flat SBML instead: an element of the flat
model named ``<instance>_<id>`` belongs to module element ``<id>`` unless its value, rule or initial
assignment differs from the module's.

libSBML's ``CompFlatteningConverter`` names the flattened elements ``<instance>__<id>``;
:func:`flatten_hierarchical_sbml` flattens and renames them to the flat model's ``<instance>_<id>``.

>>> text = hierarchical_sbml("brain_bone_axis")
>>> document = libsbml.readSBMLFromString(text)
>>> top = document.getModel().getPlugin("comp")
>>> document.getPlugin("comp").getNumModelDefinitions(), top.getNumSubmodels()  # spine, hip, trab: one
(23, 25)
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import libsbml

from pybrainbone.atomic import write_text_atomic
from pybrainbone.build import SBML_LEVEL, SBML_VERSION, _digest, _references, _translate, compile_model
from pybrainbone.errors import ModelBuildError
from pybrainbone.model_text import flat_parameter_records
from pybrainbone.paths import model_path, models_dir
from pybrainbone.sbml_transforms import (
    annotate_from_model_files,
    annotate_references,
    freeze_derived_parameters,
)
from pybrainbone.units import normalise_units

COMP_VERSION = 1
#: libSBML's flattening names the elements of submodel ``A`` ``A__<id>``; the flat SBML says ``A_<id>``.
FLATTENING_SEPARATOR = "__"

_VALUE_GETTERS = {
    libsbml.SBML_PARAMETER: ("isSetValue", "getValue"),
    libsbml.SBML_COMPARTMENT: ("isSetSize", "getSize"),
}


@dataclass(frozen=True)
class _Composition:
    """What the hierarchical document is built from."""

    name: str
    flat: libsbml.SBMLDocument  # Antimony's flat SBML, units normalised, no sub-expression sharing
    instances: dict[str, str]  # instance -> module
    ports: dict[str, dict[str, str]]  # module -> element id -> port id
    modules: dict[str, libsbml.SBMLDocument]  # module -> its compiled SBML, comp enabled
    declared_units: tuple[str, ...]  # the unit definitions the composition declares
    directory: Path


def _comp_document() -> libsbml.SBMLDocument:
    document = libsbml.SBMLDocument(libsbml.SBMLNamespaces(SBML_LEVEL, SBML_VERSION, "comp", COMP_VERSION))
    document.setPackageRequired("comp", True)
    return document


def _read_composition(name: str, directory: Path) -> _Composition:
    flat_text, comp_text = _translate(name, model_path(name, directory))
    flat = libsbml.readSBMLFromString(flat_text)
    comp = libsbml.readSBMLFromString(comp_text)
    normalise_units(flat, comp.getModel())
    freeze_derived_parameters(flat)  # as compile_model does, so that flat and module values compare
    flat.enablePackage(libsbml.CompExtension.getXmlnsL3V1V1(), "comp", True)
    submodels = comp.getModel().getPlugin("comp").getListOfSubmodels()
    instances = {s.getId(): s.getModelRef() for s in submodels}
    definitions = comp.getPlugin("comp").getListOfModelDefinitions()
    ports = {
        md.getId(): {p.getIdRef(): p.getId() for p in md.getPlugin("comp").getListOfPorts() if p.isSetIdRef()}
        for md in definitions
    }
    modules = {}
    for module in dict.fromkeys(instances.values()):
        document = libsbml.readSBMLFromString(compile_model(module, directory).sbml)
        document.enablePackage(libsbml.CompExtension.getXmlnsL3V1V1(), "comp", True)
        modules[module] = document
    declared = tuple(u.getId() for u in comp.getModel().getListOfUnitDefinitions())
    return _Composition(name, flat, instances, ports, modules, declared, directory)


def _names(ast: libsbml.ASTNode | None) -> Iterator[str]:
    stack = [ast] if ast is not None else []
    while stack:
        node = stack.pop()
        if node.getType() in (libsbml.AST_NAME, libsbml.AST_FUNCTION):
            yield node.getName()
        stack.extend(node.getChild(i) for i in range(node.getNumChildren()))


def _formula(
    ast: libsbml.ASTNode | None,
    rename: Mapping[str, str] | None = None,
    functions: libsbml.ListOfFunctionDefinitions | None = None,
) -> str:
    """``ast`` as text without units, ``functions`` expanded and names renamed (module ids to flat ids)."""
    if ast is None:
        return ""
    copy = ast.deepCopy()
    if functions is not None and functions.size():
        libsbml.SBMLTransforms.replaceFD(copy, functions)
    stack = [copy]
    while stack:
        node = stack.pop()
        if node.isSetUnits():
            node.unsetUnits()
        if rename and node.getType() == libsbml.AST_NAME and node.getName() in rename:
            node.setName(rename[node.getName()])
        stack.extend(node.getChild(i) for i in range(node.getNumChildren()))
    return str(libsbml.formulaToL3String(copy))


def _definition(model: libsbml.Model, sid: str, rename: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """How ``model`` defines ``sid``: its value, rule and initial assignment, as comparable text."""
    element = model.getElementBySId(sid)
    value = ""
    if element.getTypeCode() == libsbml.SBML_SPECIES:
        value = repr(element.getInitialConcentration() if element.isSetInitialConcentration() else None)
        value += repr(element.getInitialAmount() if element.isSetInitialAmount() else None)
    elif element.getTypeCode() in _VALUE_GETTERS:
        is_set, get = _VALUE_GETTERS[element.getTypeCode()]
        value = repr(getattr(element, get)() if getattr(element, is_set)() else None)
    rule, assignment = model.getRuleByVariable(sid), model.getInitialAssignmentBySymbol(sid)
    functions = model.getListOfFunctionDefinitions()
    return (
        value,
        f"{rule.getTypeCode()}:{_formula(rule.getMath(), rename, functions)}" if rule is not None else "",
        _formula(assignment.getMath(), rename, functions) if assignment is not None else "",
    )


def _all_ids(model: libsbml.Model, *, units: bool = False) -> list[str]:
    """The SIds of ``model``'s elements (and the ids of its unit definitions if ``units``)."""
    elements = model.getListOfAllElements()
    # Index explicitly (see pybrainbone.units: libsedml's list wrapper never stops iterating).
    found = (elements.get(i) for i in range(elements.getSize()))
    skip = () if units else (libsbml.SBML_UNIT_DEFINITION,)
    return [e.getId() for e in found if e.isSetIdAttribute() and e.getTypeCode() not in skip]


def _owners(composition: _Composition) -> dict[str, tuple[str, str]]:
    """Flat id -> (instance, module element id) for every flat element that comes from a submodel."""
    owners: dict[str, tuple[str, str]] = {}
    for instance in sorted(composition.instances, key=len):  # the longest instance prefix wins
        module = composition.modules[composition.instances[instance]].getModel()
        owners.update({f"{instance}_{sid}": (instance, sid) for sid in _all_ids(module)})
    return owners


def _composition_elements(composition: _Composition, owners: Mapping[str, tuple[str, str]]) -> list[str]:
    """Flat ids of the quantities the composition defines: its own, and the submodel values it changes."""
    flat = composition.flat.getModel()
    modules = {module: document.getModel() for module, document in composition.modules.items()}
    renames: dict[str, dict[str, str]] = {}
    chosen = []
    quantities = [*flat.getListOfParameters(), *flat.getListOfSpecies(), *flat.getListOfCompartments()]
    for element in quantities:
        sid = element.getId()
        if sid not in owners:
            chosen.append(sid)
            continue
        instance, local = owners[sid]
        module = modules[composition.instances[instance]]
        if instance not in renames:
            renames[instance] = {i: f"{instance}_{i}" for i in _all_ids(module)}
        if _definition(flat, sid) != _definition(module, local, renames[instance]):
            chosen.append(sid)
    return chosen


def _refer(element: libsbml.SBase, instance: str, sid: str, ports: Mapping[str, str], *, by: bool) -> None:
    """Make ``element`` replace (``by=False``) or be replaced by (``by=True``) ``sid`` of ``instance``."""
    plugin = element.getPlugin("comp")
    reference = plugin.createReplacedBy() if by else plugin.createReplacedElement()
    reference.setSubmodelRef(instance)
    if sid in ports:
        reference.setPortRef(ports[sid])
    else:
        reference.setIdRef(sid)


def _add_quantity(model: libsbml.Model, element: libsbml.SBase) -> libsbml.SBase:
    adders = {
        libsbml.SBML_PARAMETER: model.addParameter,
        libsbml.SBML_SPECIES: model.addSpecies,
        libsbml.SBML_COMPARTMENT: model.addCompartment,
    }
    if element.getTypeCode() not in adders or adders[element.getTypeCode()](element) != 0:
        raise ModelBuildError(f"cannot place {element.getElementName()} {element.getId()!r} in the top model")
    return model.getElementBySId(element.getId())


def _used_units(model: libsbml.Model) -> set[str]:
    """Ids of the unit definitions ``model`` refers to (attributes and numbers in its mathematics)."""
    used = {p.getUnits() for p in model.getListOfParameters()}
    used |= {c.getUnits() for c in model.getListOfCompartments()}
    used |= {s.getSubstanceUnits() for s in model.getListOfSpecies()}
    used |= {
        getattr(model, f"get{a}")() for a in ("TimeUnits", "SubstanceUnits", "VolumeUnits", "ExtentUnits")
    }
    roots = [r.getMath() for r in model.getListOfRules()]
    roots += [a.getMath() for a in model.getListOfInitialAssignments()]
    for event in model.getListOfEvents():
        roots += [
            part.getMath() for part in (event.getTrigger(), event.getDelay(), event.getPriority()) if part
        ]
        roots += [a.getMath() for a in event.getListOfEventAssignments()]
    stack = [root for root in roots if root is not None]
    while stack:
        node = stack.pop()
        if node.isSetUnits():
            used.add(node.getUnits())
        stack.extend(node.getChild(i) for i in range(node.getNumChildren()))
    return {u for u in used if u}


def _top_math(model: libsbml.Model) -> Iterator[str]:
    """Every name the top model's rules, initial assignments and events read or assign."""
    for rule in model.getListOfRules():
        yield from _names(rule.getMath())
    for assignment in model.getListOfInitialAssignments():
        yield from _names(assignment.getMath())
    for event in model.getListOfEvents():
        for part in (event.getTrigger(), event.getDelay(), event.getPriority()):
            if part is not None:
                yield from _names(part.getMath())
        for assignment in event.getListOfEventAssignments():
            yield assignment.getVariable()
            yield from _names(assignment.getMath())


def _copy_top_level(
    top: libsbml.Model, composition: _Composition, owners: Mapping[str, tuple[str, str]]
) -> None:
    """The composition's quantities (replacing their submodel elements), rules, assignments and events."""
    flat = composition.flat.getModel()
    for sid in _composition_elements(composition, owners):
        element = _add_quantity(top, flat.getElementBySId(sid))
        if sid in owners:
            instance, local = owners[sid]
            module = composition.instances[instance]
            _refer(element, instance, local, composition.ports[module], by=False)
            # An element replacing one with a metaid (the module's MIRIAM terms) needs one for flattening.
            replaced = composition.modules[module].getModel().getElementBySId(local)
            if replaced is not None and replaced.isSetMetaId() and not element.isSetMetaId():
                element.setMetaId(f"{top.getId()}.{sid}")
        rule, assignment = flat.getRuleByVariable(sid), flat.getInitialAssignmentBySymbol(sid)
        if rule is not None and top.addRule(rule) != libsbml.LIBSBML_OPERATION_SUCCESS:
            raise ModelBuildError(f"cannot copy the rule for {sid!r} into the top model")
        if (
            assignment is not None
            and top.addInitialAssignment(assignment) != libsbml.LIBSBML_OPERATION_SUCCESS
        ):
            raise ModelBuildError(f"cannot copy the initial assignment of {sid!r} into the top model")
    for event in flat.getListOfEvents():
        if event.getId() not in owners and top.addEvent(event) != libsbml.LIBSBML_OPERATION_SUCCESS:
            raise ModelBuildError(f"cannot copy event {event.getId()!r} into the top model")
    unowned = [r.getId() for r in flat.getListOfReactions() if r.getId() not in owners]
    if unowned:
        raise ModelBuildError(
            f"{composition.name}: reactions outside every submodel are not supported: {unowned}"
        )


def _add_stand_ins(
    top: libsbml.Model, composition: _Composition, owners: Mapping[str, tuple[str, str]]
) -> None:
    """A top-level stand-in, replaced by the submodel's element, for every submodel quantity read on top."""
    flat = composition.flat.getModel()
    wanted = [n for n in dict.fromkeys(_top_math(top)) if top.getElementBySId(n) is None]
    while wanted:
        sid = wanted.pop()
        if top.getElementBySId(sid) is not None:
            continue
        if sid not in owners:
            raise ModelBuildError(
                f"{composition.name}: the top model reads {sid!r}, which no submodel defines"
            )
        element = _add_quantity(top, flat.getElementBySId(sid))
        instance, local = owners[sid]
        _refer(element, instance, local, composition.ports[composition.instances[instance]], by=True)
        if element.getTypeCode() == libsbml.SBML_SPECIES:
            wanted.append(element.getCompartment())


def _hierarchical_document(composition: _Composition) -> libsbml.SBMLDocument:
    document = _comp_document()
    for module, source in composition.modules.items():
        model = source.getModel()
        plugin = model.getPlugin("comp")
        for sid, port_id in composition.ports[module].items():
            if model.getElementBySId(sid) is not None:
                port = plugin.createPort()
                port.setId(port_id)
                port.setIdRef(sid)
        definition = libsbml.ModelDefinition(model)
        definition.setId(module)
        if document.getPlugin("comp").addModelDefinition(definition) != libsbml.LIBSBML_OPERATION_SUCCESS:
            raise ModelBuildError(f"cannot add module {module!r} as a model definition")
    flat = composition.flat.getModel()
    top = document.createModel(composition.name)
    for attribute in ("TimeUnits", "SubstanceUnits", "VolumeUnits", "ExtentUnits"):
        if getattr(flat, f"isSet{attribute}")():
            getattr(top, f"set{attribute}")(getattr(flat, f"get{attribute}")())
    for instance, module in composition.instances.items():
        submodel = top.getPlugin("comp").createSubmodel()
        submodel.setId(instance)
        submodel.setModelRef(module)
    owners = _owners(composition)
    _copy_top_level(top, composition, owners)
    _add_stand_ins(top, composition, owners)
    used = _used_units(top) | set(composition.declared_units)
    for unit_definition in flat.getListOfUnitDefinitions():
        if unit_definition.getId() in used:
            top.addUnitDefinition(unit_definition)
    records = flat_parameter_records(composition.name, composition.directory)
    own = {
        p.getId(): records[p.getId()]
        for p in top.getListOfParameters()
        if p.getId() in records and p.getId() not in owners
    }
    annotate_from_model_files(document, own)
    annotate_references(document, own, _references(composition.directory))
    return document


def hierarchical_sbml(name: str = "brain_bone_axis", directory: Path | None = None) -> str:
    """The composed model ``name`` as hierarchical SBML L3V2 (``comp`` package), one definition per module.

    Flattening the document (:func:`flatten_hierarchical_sbml`, or any tool's comp flattening) gives the
    model :func:`~pybrainbone.build.compile_model` compiles. A model without submodels is refused.

    Examples
    --------
    >>> document = libsbml.readSBMLFromString(hierarchical_sbml("brain_bone_axis"))
    >>> top = document.getModel()
    >>> sorted(s.getId() for s in top.getPlugin("comp").getListOfSubmodels())[:4]
    ['BP', 'CART', 'Dmab', 'GH']
    >>> rule = top.getRuleByVariable("core_f_PTH")  # the composition's port rule, on top
    >>> libsbml.formulaToL3String(rule.getMath())
    'MINERAL_F_PTH^on_mineral'
    >>> replaced = top.getParameter("core_f_PTH").getPlugin("comp").getReplacedElement(0)
    >>> replaced.getSubmodelRef(), replaced.getPortRef()
    ('core', 'f_PTH')
    >>> round(top.getParameter("hip_rho").getValue() * 365.25, 4)  # a submodel value the composition sets
    0.0351
    """
    directory = (directory or models_dir()).resolve()
    # Keyed by content, as compile_model: an unchanged composition is written once per process.
    return _hierarchical_cached(name, directory, _digest(name, directory))


@functools.lru_cache(maxsize=8)
def _hierarchical_cached(name: str, directory: Path, digest: str) -> str:
    composition = _read_composition(name, directory)
    if not composition.instances:
        raise ModelBuildError(f"{name!r} has no submodels: its flat SBML (compile_model) is all there is")
    return str(libsbml.writeSBMLToString(_hierarchical_document(composition)))


def _flat_ids(text: str, instances: list[str]) -> str:
    """Rename libSBML's ``<instance>__<id>`` to the flat model's ``<instance>_<id>`` everywhere."""
    pattern = re.compile(
        r"(?<![A-Za-z0-9_])("
        + "|".join(map(re.escape, instances))
        + ")"
        + FLATTENING_SEPARATOR
        + r"(?=[A-Za-z0-9_])"
    )
    return pattern.sub(r"\1_", text)


def flatten_hierarchical_sbml(text: str, *, flat_ids: bool = True) -> str:
    """Flatten hierarchical SBML with libSBML's ``CompFlatteningConverter``; ids as the flat SBML's.

    libSBML names submodel elements ``<instance>__<id>``; with ``flat_ids`` they become ``<instance>_<id>``
    (refused if that would clash with another id) and identical unit definitions are merged, as in
    :func:`~pybrainbone.build.compile_model`'s output.

    Examples
    --------
    >>> flat = libsbml.readSBMLFromString(flatten_hierarchical_sbml(hierarchical_sbml("brain_bone_axis")))
    >>> model = flat.getModel()
    >>> libsbml.formulaToL3String(model.getRuleByVariable("core_f_PTH").getMath())
    'MINERAL_F_PTH^on_mineral'
    >>> [round(model.getParameter(f"{site}_rho").getValue() * 365.25, 4) for site in ("hip", "spine")]
    [0.0351, 0.0779]
    """
    document = libsbml.readSBMLFromString(text)
    top = document.getModel()
    if top is None or document.getPlugin("comp") is None:
        raise ModelBuildError("not hierarchical SBML: no model using the comp package")
    declared = top.clone()
    instances = [s.getId() for s in top.getPlugin("comp").getListOfSubmodels()]
    properties = libsbml.ConversionProperties()
    properties.addOption("flatten comp", True)
    properties.addOption("leavePorts", False)
    properties.addOption("performValidation", False)
    if document.convert(properties) != libsbml.LIBSBML_OPERATION_SUCCESS:
        messages = [document.getError(i).getShortMessage() for i in range(document.getNumErrors())]
        raise ModelBuildError(f"libSBML could not flatten the document: {'; '.join(messages[:3])}")
    if not flat_ids:
        return str(libsbml.writeSBMLToString(document))
    normalise_units(document, declared)  # the submodels' copies of a unit merge into the top model's
    before = _all_ids(document.getModel(), units=True)
    renamed = libsbml.readSBMLFromString(_flat_ids(libsbml.writeSBMLToString(document), instances))
    if len(set(_all_ids(renamed.getModel(), units=True))) != len(set(before)):
        raise ModelBuildError("renaming <instance>__<id> to <instance>_<id> would merge distinct elements")
    return str(libsbml.writeSBMLToString(renamed))


def write_hierarchical_sbml(name: str, out_dir: Path, directory: Path | None = None) -> Path:
    """Write ``<out_dir>/<name>.comp.xml`` (:func:`hierarchical_sbml`) atomically and return its path.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_hierarchical_sbml("brain_bone_axis", Path(folder))
    ...     print(path.name, "comp:modelDefinition" in path.read_text(encoding="utf-8"))
    brain_bone_axis.comp.xml True
    """
    target = out_dir / f"{name}.comp.xml"
    write_text_atomic(target, hierarchical_sbml(name, directory))
    return target
