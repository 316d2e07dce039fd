"""libSBML validation of compiled models: errors and unit-consistency warnings are failures."""

from __future__ import annotations

from dataclasses import dataclass, field

import libsbml


@dataclass(frozen=True)
class ValidationMessage:
    """One libSBML diagnostic."""

    severity: str
    category: str
    line: int
    message: str

    def one_line(self) -> str:
        text = " ".join(self.message.split())
        return f"{self.severity} [{self.category}] SBML line {self.line}: {text}"


@dataclass(frozen=True)
class ValidationReport:
    """All diagnostics of one SBML document, split the way pybrainbone judges them."""

    errors: tuple[ValidationMessage, ...] = field(default_factory=tuple)
    unit_warnings: tuple[ValidationMessage, ...] = field(default_factory=tuple)
    other_warnings: tuple[ValidationMessage, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """True when there are no errors and no unit-consistency warnings."""
        return not self.errors and not self.unit_warnings


def validate_document(document: libsbml.SBMLDocument) -> ValidationReport:
    """Run libSBML's full consistency checks, units included, on ``document``."""
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
    return ValidationReport(tuple(errors), tuple(unit_warnings), tuple(other))


def validate_sbml(sbml: str) -> ValidationReport:
    """Validate an SBML string (see :func:`validate_document`)."""
    return validate_document(libsbml.readSBMLFromString(sbml))
