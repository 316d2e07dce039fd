"""Repair the unit definitions of Antimony's flattened SBML.

Antimony 3.3 flattening copies every submodel's unit definitions under a prefixed id (``core_pM``), points
the model-wide units at the last submodel's copies, and truncates some references to predefined units
(``s1_dimensionles``), which libSBML then reports as errors. This pass merges identical unit definitions
into one (preferring the un-prefixed id the composing model declares), repairs references to predefined
units, and drops definitions nothing refers to. The mathematics of the model is not touched.
"""

from __future__ import annotations

from collections.abc import Iterator

import libsbml

_MODEL_UNIT_ATTRIBUTES = (
    "TimeUnits",
    "SubstanceUnits",
    "VolumeUnits",
    "AreaUnits",
    "LengthUnits",
    "ExtentUnits",
)


def _is_base_unit(unit_id: str) -> bool:
    return bool(libsbml.UnitKind_isValidUnitKindString(unit_id, 3, 2))


def _math_nodes(model: libsbml.Model) -> Iterator[libsbml.ASTNode]:
    """Every MathML node of the model (rules, kinetic laws, assignments, events, functions)."""
    roots: list[libsbml.ASTNode] = []
    elements = model.getListOfAllElements()
    # Index explicitly: once python-libsedml is imported, its SWIG SBaseList wrapper takes over
    # iteration of libSBML's lists and never stops.
    for i in range(elements.getSize()):
        element = elements.get(i)
        if hasattr(element, "isSetMath") and element.isSetMath():
            roots.append(element.getMath())
    for root in roots:
        stack = [root]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(node.getChild(i) for i in range(node.getNumChildren()))


def _unit_holders(model: libsbml.Model) -> Iterator[tuple[libsbml.SBase, str, str]]:
    """(element, getter name, setter name) for every unit reference outside MathML."""
    for p in model.getListOfParameters():
        yield p, "getUnits", "setUnits"
    for c in model.getListOfCompartments():
        yield c, "getUnits", "setUnits"
    for s in model.getListOfSpecies():
        yield s, "getSubstanceUnits", "setSubstanceUnits"
    for attr in _MODEL_UNIT_ATTRIBUTES:
        yield model, f"get{attr}", f"set{attr}"


def _copy_unit_definition(source: libsbml.UnitDefinition, model: libsbml.Model) -> None:
    # addUnitDefinition() refuses objects from a document with other package namespaces (comp).
    target = model.createUnitDefinition()
    target.setId(source.getId())
    for unit in source.getListOfUnits():
        new = target.createUnit()
        new.setKind(unit.getKind())
        new.setExponent(unit.getExponent())
        new.setScale(unit.getScale())
        new.setMultiplier(unit.getMultiplier())


def signature(definition: libsbml.UnitDefinition) -> tuple[tuple[tuple[str, float], ...], float]:
    """(base-unit exponents, overall SI factor) of a unit definition: equal signatures = same unit.

    libSBML's ``UnitDefinition.areIdentical`` and ``areEquivalent`` ignore the scale (they call nM and
    pM identical), so units are compared by their SI form computed here.

    Examples
    --------
    >>> from pybrainbone.build import compile_model
    >>> model = libsbml.readSBMLFromString(compile_model("bone_remodeling").sbml).getModel()
    >>> dimensions, factor = signature(model.getUnitDefinition("pM"))  # picomole per litre
    >>> dimensions, float(f"{factor:.6g}")
    ((('metre', -3.0), ('mole', 1.0)), 1e-09)
    """
    si = libsbml.UnitDefinition.convertToSI(definition)
    exponents: dict[str, float] = {}
    factor = 1.0
    for unit in si.getListOfUnits():
        kind = libsbml.UnitKind_toString(unit.getKind())
        exponent = unit.getExponentAsDouble()
        factor *= (unit.getMultiplier() * 10.0 ** unit.getScale()) ** exponent
        if kind != "dimensionless":
            exponents[kind] = exponents.get(kind, 0.0) + exponent
    return tuple(sorted((k, e) for k, e in exponents.items() if e != 0)), factor


def _same_unit(a: libsbml.UnitDefinition, b: libsbml.UnitDefinition) -> bool:
    (dims_a, factor_a), (dims_b, factor_b) = signature(a), signature(b)
    return dims_a == dims_b and abs(factor_a - factor_b) <= 1e-12 * max(abs(factor_a), abs(factor_b))


def _canonical_map(model: libsbml.Model, preferred: frozenset[str]) -> dict[str, str]:
    """Map every unit-definition id to the id of the identical definition that should survive."""
    definitions = list(model.getListOfUnitDefinitions())
    mapping: dict[str, str] = {}
    groups: list[list[libsbml.UnitDefinition]] = []
    for ud in definitions:
        for group in groups:
            if _same_unit(group[0], ud):
                group.append(ud)
                break
        else:
            groups.append([ud])
    for group in groups:
        # Declared ids stay themselves; prefixed copies (``core_pM``) go to a declared twin (``pM``).
        ids = sorted((ud.getId() for ud in group), key=lambda i: (i not in preferred, len(i), i))
        for unit_id in ids:
            if unit_id in preferred:
                mapping[unit_id] = unit_id
                continue
            # A prefixed copy keeps its own name where the composing module declares it (GH_ng_per_mL ->
            # ng_per_mL, not an identical ug_per_L), else the first declared or shortest twin.
            parts = unit_id.split("_")
            own = next(
                (
                    "_".join(parts[i:])
                    for i in range(1, len(parts))
                    if "_".join(parts[i:]) in preferred and "_".join(parts[i:]) in ids
                ),
                None,
            )
            mapping[unit_id] = own or ids[0]
    return mapping


def _repair_missing(ref: str, known: set[str]) -> str | None:
    """Find what a mangled reference (``core_dimensionles``, ``s1_pM``) was meant to be."""
    parts = ref.split("_")
    for i in range(1, len(parts)):
        rest = "_".join(parts[i:])
        if rest in known or _is_base_unit(rest):
            return rest
        candidates = [k for k in ("dimensionless",) if k.startswith(rest) and len(rest) >= 4]
        if len(candidates) == 1:
            return candidates[0]
    return None


def normalise_units(document: libsbml.SBMLDocument, declared: libsbml.Model | None = None) -> int:
    """Merge duplicate unit definitions and repair references in place; return how many were changed.

    ``declared`` is the main module as Antimony writes it in ``comp`` form: its own unit definitions and
    model-wide units (which the flat form loses) are restored and win over prefixed copies.

    Examples
    --------
    >>> document = libsbml.SBMLDocument(3, 2)
    >>> model = document.createModel()
    >>> for unit_id in ("pmol", "core_pmol"):  # the same unit twice, as Antimony's flattening writes it
    ...     unit = model.createUnitDefinition().createUnit()
    ...     _ = unit.getParentSBMLObject().getParentSBMLObject().setId(unit_id)
    ...     _ = unit.setKind(libsbml.UNIT_KIND_MOLE), unit.setExponent(1)
    ...     _ = unit.setScale(-12), unit.setMultiplier(1)
    >>> amount = model.createParameter()
    >>> _ = amount.setId("RANKL_pool"), amount.setUnits("core_pmol")
    >>> normalise_units(document)  # one reference repaired, one definition dropped
    2
    >>> amount.getUnits(), [definition.getId() for definition in model.getListOfUnitDefinitions()]
    ('pmol', ['pmol'])
    """
    model = document.getModel()
    if model is None:
        return 0
    preferred: frozenset[str] = frozenset()
    if declared is not None:
        preferred = frozenset(ud.getId() for ud in declared.getListOfUnitDefinitions())
        for ud in declared.getListOfUnitDefinitions():
            if model.getUnitDefinition(ud.getId()) is None:
                _copy_unit_definition(ud, model)
        for attr in _MODEL_UNIT_ATTRIBUTES:
            if getattr(declared, f"isSet{attr}")():
                getattr(model, f"set{attr}")(getattr(declared, f"get{attr}")())
    mapping = _canonical_map(model, preferred)
    known = set(mapping)
    changes = 0

    def resolve(ref: str) -> str:
        if not ref or _is_base_unit(ref):
            return ref
        if ref in mapping:
            return mapping[ref]
        repaired = _repair_missing(ref, known)
        if repaired is None:
            return ref
        return mapping.get(repaired, repaired)

    for element, getter, setter in _unit_holders(model):
        ref = getattr(element, getter)()
        new = resolve(ref)
        if new != ref:
            getattr(element, setter)(new)
            changes += 1
    for node in _math_nodes(model):
        if node.isNumber() and node.hasUnits():
            ref = node.getUnits()
            new = resolve(ref)
            if new != ref:
                node.setUnits(new)
                changes += 1

    used = {getattr(e, g)() for e, g, _ in _unit_holders(model)}
    used |= {n.getUnits() for n in _math_nodes(model) if n.isNumber() and n.hasUnits()}
    for ud in list(model.getListOfUnitDefinitions()):
        if ud.getId() not in used:
            model.removeUnitDefinition(ud.getId())
            changes += 1
    return changes
