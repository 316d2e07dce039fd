"""What a model declares, read from its SBML alone: names by role, units, reference values.

No solver is involved, so this is cheap, picklable to compute anywhere, and the single place where the
package decides which names a user may change (parameters), which it may read (states and outputs) and
which are the model's own machinery (event-driven switches).

>>> from pybrainbone.build import compile_model
>>> info = ModelInfo.from_sbml(compile_model("bone_remodeling").sbml, "bone_remodeling")
>>> "P_PTH_ext" in info.parameter_ids, "OBa" in info.species_ids, "RANKL" in info.output_ids
(True, True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import libsbml


def _unit_label(element: libsbml.SBase | None, model: libsbml.Model) -> str:
    if element is None:
        return ""
    if isinstance(element, libsbml.Species):
        # Name the concentration unit by the model's own declaration (pM) where one matches.
        derived = element.getDerivedUnitDefinition()
        for definition in model.getListOfUnitDefinitions():
            if derived is not None and libsbml.UnitDefinition.areEquivalent(definition, derived):
                return str(definition.getId())
        return libsbml.UnitDefinition.printUnits(derived, True) if derived is not None else ""
    return str(element.getUnits()) if hasattr(element, "getUnits") else ""


@dataclass(frozen=True)
class ModelInfo:
    """Names by role and their units, in SBML document order.

    Examples
    --------
    >>> from pybrainbone.build import compile_model
    >>> info = ModelInfo.from_sbml(compile_model("bone_remodeling").sbml, "bone_remodeling")
    >>> info.species_ids
    ('OBp', 'OBa', 'OCa', 'OM')
    >>> info.units["OBa"], info.units["P_PTH_ext"], info.units["time"]
    ('pM', 'pM_per_day', 'day')
    >>> "RANKL" in info.output_ids, "RANKL" in info.parameter_ids  # computed by a rule: read, not set
    (True, False)
    >>> third_party = ModelInfo.from_sbml(
    ...     '<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2"><model>'
    ...     '<listOfParameters><parameter id="a" value="6" constant="true"/>'
    ...     '<parameter id="b" constant="true"/></listOfParameters><listOfInitialAssignments>'
    ...     '<initialAssignment symbol="b"><math xmlns="http://www.w3.org/1998/Math/MathML">'
    ...     '<apply><divide/><ci>a</ci><cn>4</cn></apply></math></initialAssignment>'
    ...     '</listOfInitialAssignments></model></sbml>', "third_party")
    >>> third_party.derived, third_party.parameter_ids  # b follows a at t = 0: read, not set
    ({'b': 'a / 4'}, ('a',))
    """

    name: str
    rate_rule_ids: tuple[str, ...]
    species_ids: tuple[str, ...]
    parameter_ids: tuple[str, ...]
    output_ids: tuple[str, ...]
    event_target_ids: tuple[str, ...]
    #: Constant parameters computed once from others by an initial assignment (id -> formula). Not
    #: changeable: tools disagree on a changed one (COPASI re-applies the assignment, libRoadRunner keeps
    #: the value), so the one rule that holds in every tool is to change what it is derived from. The
    #: package's own models have none (the build gives them their values); SBML loaded from elsewhere may.
    derived: dict[str, str]
    units: dict[str, str]
    values: dict[str, float]

    @classmethod
    def from_sbml(cls, sbml: str, name: str) -> ModelInfo:
        """Read the roles of every symbol of a flat SBML model.

        Examples
        --------
        >>> from pybrainbone.build import compile_model
        >>> info = ModelInfo.from_sbml(compile_model("bone_remodeling").sbml, "core")
        >>> info.name, info.values["P_PTH_ext"]
        ('core', 0.0)
        """
        document = libsbml.readSBMLFromString(sbml)
        model = document.getModel()
        rules = list(model.getListOfRules())
        assigned = {r.getVariable() for r in rules if r.isAssignment()}
        rate = [r.getVariable() for r in rules if r.isRate()]
        event_targets: list[str] = []
        for event in model.getListOfEvents():
            for assignment in event.getListOfEventAssignments():
                if assignment.getVariable() not in event_targets:
                    event_targets.append(assignment.getVariable())
        parameters = [p.getId() for p in model.getListOfParameters()]
        derived = {
            a.getSymbol(): libsbml.formulaToL3String(a.getMath())
            for a in model.getListOfInitialAssignments()
            if a.getSymbol() in parameters and a.getSymbol() not in event_targets
        }
        species = [
            s.getId()
            for s in model.getListOfSpecies()
            if not s.getBoundaryCondition() and not s.getConstant() and s.getId() not in assigned
        ]
        # Switches that events set are the model's own machinery, not inputs: their initial values are
        # computed from the intervention times a user does change.
        machinery = set(assigned) | set(rate) | set(event_targets) | set(derived)
        units = {"time": "day"}
        values: dict[str, float] = {}
        for sid in [*rate, *species, *parameters]:
            units[sid] = _unit_label(model.getElementBySId(sid), model)
        for parameter in model.getListOfParameters():
            if parameter.isSetValue():
                values[parameter.getId()] = float(parameter.getValue())
        return cls(
            name=name,
            rate_rule_ids=tuple(rate),
            species_ids=tuple(species),
            parameter_ids=tuple(p for p in parameters if p not in machinery),
            output_ids=tuple(p for p in parameters if p in assigned),
            event_target_ids=tuple(p for p in event_targets if p not in species and p not in rate),
            derived=derived,
            units=units,
            values=values,
        )
