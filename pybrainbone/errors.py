"""Exceptions raised by pybrainbone.

Every error a user can cause derives from :class:`PyBrainBoneError`; its message is one line that says
what was wrong and what to do. The CLI prints that line and exits non-zero, without a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class PyBrainBoneError(Exception):
    """Base class of all user-facing pybrainbone errors."""


class ModelNotFoundError(PyBrainBoneError):
    """No model of that name exists in the model directory."""


class ModelBuildError(PyBrainBoneError):
    """An Antimony module failed to compile, or its SBML failed validation."""


class UnknownNameError(PyBrainBoneError, KeyError):
    """A parameter, species or output name that the model does not define."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InvalidValueError(PyBrainBoneError, ValueError):
    """A value that cannot be used: not a number, NaN, infinite, or out of range."""


class SimulationError(PyBrainBoneError):
    """The solver failed (time course or steady state)."""


def near_matches(name: str, candidates: Iterable[str], n: int = 5) -> list[str]:
    """Return up to ``n`` candidates that look like ``name`` (case-insensitive).

    >>> near_matches("OBP", ["OBp", "OBa", "OCa", "PTH"])
    ['OBp', 'OBa']
    """
    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.5)
    substring = [c for c in pool if name.lower() in c.lower() and c not in {lowered[h] for h in hits}]
    return ([lowered[h] for h in hits] + substring)[:n]


def unknown_name(kind: str, name: str, candidates: Iterable[str], model: str) -> UnknownNameError:
    """Build an :class:`UnknownNameError` whose message lists near matches."""
    pool = list(candidates)
    close = near_matches(name, pool)
    hint = (
        f"did you mean {', '.join(close)}?" if close else f"run `pybrainbone list {model}` to see all names"
    )
    return UnknownNameError(f"unknown {kind} {name!r} in model {model!r}; {hint}")
