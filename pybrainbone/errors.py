"""Exceptions raised by pybrainbone.

Every error a user can cause derives from :class:`PyBrainBoneError`; its message is one line that says
what was wrong and what to do. The CLI prints that line and exits non-zero, without a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from pybrainbone.renamed import renamed_hint


class PyBrainBoneError(Exception):
    """Base class of all user-facing pybrainbone errors.

    Examples
    --------
    >>> from pybrainbone import Simulator
    >>> try:
    ...     Simulator("bone_remodeling").simulate(end=-1)
    ... except PyBrainBoneError as exc:
    ...     print(f"{type(exc).__name__}: {exc}")
    InvalidValueError: end time must be after the start time (0.0 day), got -1.0
    """


class ModelNotFoundError(PyBrainBoneError):
    """No model of that name exists in the model directory.

    Examples
    --------
    >>> from pybrainbone import compile_model
    >>> compile_model("bone_remodelling")
    Traceback (most recent call last):
    ...
    pybrainbone.errors.ModelNotFoundError: no model named 'bone_remodelling' in ...; did you mean
    bone_remodeling...?
    """


class ModelBuildError(PyBrainBoneError):
    """An Antimony module failed to compile, or its SBML failed validation.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from pybrainbone import compile_model
    >>> tmp = tempfile.TemporaryDirectory()
    >>> _ = (Path(tmp.name) / "broken.ant").write_text("model broken()\\n  x = 1 +\\nend\\n")
    >>> compile_model("broken", Path(tmp.name))
    Traceback (most recent call last):
    ...
    pybrainbone.errors.ModelBuildError: .../broken.ant:...: Antimony: ...
    >>> tmp.cleanup()
    """


class UnknownNameError(PyBrainBoneError, KeyError):
    """A parameter, species or output name that the model does not define.

    Examples
    --------
    >>> from pybrainbone import Simulator
    >>> Simulator("bone_remodeling").simulate(end=10, changes={"P_PTH_extt": 1.0})
    Traceback (most recent call last):
    ...
    pybrainbone.errors.UnknownNameError: unknown parameter 'P_PTH_extt' in model 'bone_remodeling'; did you
    mean ...?
    >>> issubclass(UnknownNameError, KeyError)
    True
    """

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InvalidValueError(PyBrainBoneError, ValueError):
    """A value that cannot be used: not a number, NaN, infinite, or out of range.

    Examples
    --------
    >>> from pybrainbone import SolverOptions
    >>> SolverOptions(relative_tolerance=float("nan"))
    Traceback (most recent call last):
    ...
    pybrainbone.errors.InvalidValueError: relative_tolerance must be a finite number, got nan
    >>> issubclass(InvalidValueError, ValueError)
    True
    """


class SimulationError(PyBrainBoneError):
    """The solver failed (time course or steady state).

    Examples
    --------
    >>> from pybrainbone import Simulator
    >>> Simulator("bone_remodeling").simulate(end=100, changes={"OBp": 1e300})
    Traceback (most recent call last):
    ...
    pybrainbone.errors.SimulationError: simulation of 'bone_remodeling' failed: ...
    """


class InputFileError(PyBrainBoneError):
    """An input file that cannot be read: missing, not a regular file, not UTF-8, too large or unparsable.

    Examples
    --------
    >>> from pybrainbone.yaml_files import read_text
    >>> read_text("no/such/spec.yaml", InputFileError, "experiment spec")
    Traceback (most recent call last):
    ...
    pybrainbone.errors.InputFileError: no experiment spec at no/such/spec.yaml
    """


class OutputError(PyBrainBoneError):
    """An output path that cannot be written: a directory, a symlink or special file, read-only, ...

    Examples
    --------
    >>> import tempfile
    >>> from pybrainbone.atomic import write_text_atomic
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     write_text_atomic(folder, "text")
    Traceback (most recent call last):
    ...
    pybrainbone.errors.OutputError: cannot write ...: it is a directory; give a file name
    """


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C (not an error): the run stops, cleans up and says what it kept.

    Examples
    --------
    >>> import contextlib, sys
    >>> from pybrainbone.atomic import COMMITTED
    >>> from pybrainbone.boundary import report
    >>> del COMMITTED[:]  # as a command starts: nothing written yet
    >>> issubclass(Terminated, KeyboardInterrupt)
    True
    >>> with contextlib.redirect_stderr(sys.stdout):
    ...     status = report(Terminated(), None, [])
    pybrainbone: terminated; no output was written
    >>> status
    143
    """


#: Longest rendering of a user's value inside an error message.
SHORT = 60


def shorten(value: object, limit: int = SHORT) -> str:
    """``repr(value)`` cut to ``limit`` characters, without rendering more of ``value`` than that.

    Containers are summarised by type and size, so a huge or self-referential value can never make an
    error message slow or long.

    Examples
    --------
    >>> shorten("x" * 100, 12)
    "'xxxxxxx...'"
    >>> shorten(list(range(10**6)))
    'a list of 1000000 items'
    """
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return f"a {type(value).__name__} of {len(value)} items"
    if isinstance(value, str) and len(value) > limit:
        value = value[: limit + 1]
    text = repr(value) if isinstance(value, (str, int, float, bool, type(None))) else type(value).__name__
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def near_matches(name: str, candidates: Iterable[str], n: int = 5) -> list[str]:
    """Return up to ``n`` candidates that look like ``name`` (case-insensitive).

    Examples
    --------
    >>> near_matches("OBP", ["OBp", "OBa", "OCa", "PTH"])
    ['OBp', 'OBa']
    """
    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.5)
    substring = [c for c in pool if name.lower() in c.lower() and c not in {lowered[h] for h in hits}]
    return ([lowered[h] for h in hits] + substring)[:n]


def unknown_name(kind: str, name: str, candidates: Iterable[str], model: str) -> UnknownNameError:
    """Build an :class:`UnknownNameError` whose message lists near matches.

    Examples
    --------
    >>> error = unknown_name("parameter", "kout_bmd", ["kout_BMD", "kin_BMD", "BMD"], "bone_remodeling")
    >>> print(error)
    unknown parameter 'kout_bmd' in model 'bone_remodeling'; did you mean kout_BMD, kin_BMD, BMD?
    """
    pool = list(candidates)
    if len(name) > 2 * SHORT:  # nothing is that long: no near-match search, no echo of the whole text
        return UnknownNameError(
            f"unknown {kind} {shorten(name)} ({len(name)} characters) in model {model!r}; "
            f"run `pybrainbone list {model}` to see all names"
        )
    close = near_matches(name, pool)
    hint = renamed_hint(name) or (
        f"did you mean {', '.join(close)}?" if close else f"run `pybrainbone list {model}` to see all names"
    )
    return UnknownNameError(f"unknown {kind} {name!r} in model {model!r}; {hint}")
