"""libSBML validation of compiled models: errors and unit-consistency warnings are failures."""

from __future__ import annotations

from dataclasses import dataclass, field

import libsbml


@dataclass(frozen=True)
class ValidationMessage:
    """One libSBML diagnostic.

    Examples
    --------
    >>> message = ValidationMessage("Warning", "Units consistency", 12, "The units of the\\n rule differ.")
    >>> message.severity, message.line
    ('Warning', 12)
    """

    severity: str
    category: str
    line: int
    message: str

    def one_line(self) -> str:
        """The message on one line: severity, category, SBML line and text.

        Examples
        --------
        >>> message = ValidationMessage("Warning", "Units", 12, "The units of\\n the rule differ.")
        >>> message.one_line()
        'Warning [Units] SBML line 12: The units of the rule differ.'
        """
        text = " ".join(self.message.split())
        return f"{self.severity} [{self.category}] SBML line {self.line}: {text}"


@dataclass(frozen=True)
class ValidationReport:
    """All diagnostics of one SBML document, split the way pybrainbone judges them.

    Examples
    --------
    >>> from pybrainbone.build import compile_model
    >>> report = validate_sbml(compile_model("bone_remodeling").sbml)
    >>> report.ok, len(report.errors), len(report.unit_warnings)
    (True, 0, 0)
    """

    errors: tuple[ValidationMessage, ...] = field(default_factory=tuple)
    unit_warnings: tuple[ValidationMessage, ...] = field(default_factory=tuple)
    other_warnings: tuple[ValidationMessage, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """True when there are no errors and no unit-consistency warnings.

        Examples
        --------
        >>> ValidationReport().ok
        True
        >>> scale = ValidationMessage("Warning", "unit scale", 3, "mg/L in ug/L")
        >>> ValidationReport(unit_warnings=(scale,)).ok
        False
        """
        return not self.errors and not self.unit_warnings


def scale_mismatches(document: libsbml.SBMLDocument) -> list[ValidationMessage]:
    """Rules whose mathematics has the right dimensions but the wrong scale (mg/L written as ug/L).

    libSBML's unit checks compare units without their scale, so a factor-of-1000 slip passes them; this
    compares each rule's derived units with its variable's declared units including the SI factor.

    Examples
    --------
    >>> import antimony
    >>> antimony.clearPreviousLoads()
    >>> antimony.loadAntimonyString(
    ...     "model dosing()\\n"
    ...     "  unit mg_per_L = 1e-3 gram / litre\\n"
    ...     "  unit ug_per_L = 1e-6 gram / litre\\n"
    ...     "  dose = 2 mg_per_L\\n"
    ...     "  concentration := dose\\n"
    ...     "  concentration has ug_per_L\\n"
    ...     "end\\n") > 0
    True
    >>> document = libsbml.readSBMLFromString(antimony.getSBMLString("dosing"))
    >>> antimony.clearPreviousLoads()
    >>> (mismatch,) = scale_mismatches(document)
    >>> print(mismatch.message)
    the rule for 'concentration' computes 0.001 x SI {'kilogram': 1.0, 'metre': -3.0} but 'concentration'
    is declared as 1e-06 x SI {'kilogram': 1.0, 'metre': -3.0}
    """
    from pybrainbone.units import signature  # local: units imports nothing from here, keep it that way

    model = document.getModel()
    found: list[ValidationMessage] = []
    if model is None:
        return found
    time_unit = model.getUnitDefinition(model.getTimeUnits()) if model.isSetTimeUnits() else None
    for rule in model.getListOfRules():
        target = model.getElementBySId(rule.getVariable())
        if target is None or rule.containsUndeclaredUnits():
            continue
        declared = target.getDerivedUnitDefinition()
        derived = rule.getDerivedUnitDefinition()
        if declared is None or derived is None:
            continue
        if rule.isRate() and time_unit is not None:
            declared = libsbml.UnitDefinition.divide(declared, time_unit)
        (dims_a, factor_a), (dims_b, factor_b) = signature(derived), signature(declared)
        if dims_a != dims_b or abs(factor_a - factor_b) > 1e-9 * max(abs(factor_a), abs(factor_b)):
            found.append(
                ValidationMessage(
                    severity="Warning",
                    category="unit scale",
                    line=rule.getLine(),
                    message=(
                        f"the rule for {rule.getVariable()!r} computes {factor_a:.6g} x SI {dict(dims_a)} "
                        f"but {rule.getVariable()!r} is declared as {factor_b:.6g} x SI {dict(dims_b)}"
                    ),
                )
            )
    return found


def validate_document(document: libsbml.SBMLDocument) -> ValidationReport:
    """Run libSBML's full consistency checks, units included, plus our unit-scale check on ``document``.

    Examples
    --------
    >>> from pybrainbone.build import compile_model
    >>> document = libsbml.readSBMLFromString(compile_model("bone_remodeling").sbml)
    >>> validate_document(document).ok
    True
    """
    document.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, True)
    document.checkConsistency()
    errors, unit_warnings, other = [], [], []
    for i in range(document.getNumErrors()):
        diag = document.getError(i)
        msg = ValidationMessage(
            severity=diag.getSeverityAsString(),
            category=diag.getCategoryAsString(),
            line=diag.getLine(),
            message=diag.getMessage(),
        )
        if diag.getSeverity() >= libsbml.LIBSBML_SEV_ERROR:
            errors.append(msg)
        elif diag.getCategory() == libsbml.LIBSBML_CAT_UNITS_CONSISTENCY:
            unit_warnings.append(msg)
        else:
            other.append(msg)
    unit_warnings.extend(scale_mismatches(document))
    return ValidationReport(tuple(errors), tuple(unit_warnings), tuple(other))


def validate_sbml(sbml: str) -> ValidationReport:
    """Validate an SBML string (see :func:`validate_document`).

    Examples
    --------
    >>> from pybrainbone.build import compile_model
    >>> validate_sbml(compile_model("bone_remodeling").sbml).ok
    True
    >>> report = validate_sbml("<sbml>not SBML</sbml>")
    >>> report.ok, report.errors[0].severity
    (False, 'Error')
    """
    return validate_document(libsbml.readSBMLFromString(sbml))
