"""The command line's one error boundary: every failure becomes one line on stderr and an exit status.

* a :class:`~pybrainbone.errors.PyBrainBoneError` (bad input, a failed simulation): its message, status 2;
* the expected failures of a program that reads and writes files: ``OSError`` (a read-only directory, a
  missing file, a directory where a file is wanted, a full disk), text that is not UTF-8, malformed YAML,
  XML or ZIP, input nested too deeply (``RecursionError``), running out of memory: one line naming the
  file and what to do, status 2;
* a closed output pipe (``pybrainbone list | head``): quiet, status 141 (128 + SIGPIPE), as a shell tool;
* Ctrl-C (status 130) or SIGTERM (status 143): one line that says truthfully what was written;
* anything else is a bug: one line naming where the full traceback was saved, status 2.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import tempfile
import traceback
import zipfile
from collections.abc import Callable, Iterator, Sequence
from types import FrameType
from typing import Any
from xml.etree.ElementTree import ParseError
from xml.parsers.expat import ExpatError

from pybrainbone.atomic import COMMITTED
from pybrainbone.errors import PyBrainBoneError, Terminated

PIPE_CLOSED = 128 + signal.SIGPIPE
INTERRUPTED = 128 + signal.SIGINT
TERMINATED = 128 + signal.SIGTERM

#: Longest error line printed (a message is never allowed to flood the terminal).
MAX_LINE = 1000


_ADVICE = {
    errno.EACCES: "check its permissions or choose another location",
    errno.EPERM: "check its permissions or choose another location",
    errno.EROFS: "the file system is read-only: choose another location",
    errno.ENOSPC: "the disk is full: free some space or choose another location",
    errno.EDQUOT: "the disk quota is exceeded: free some space or choose another location",
    errno.EISDIR: "it is a directory: give a file name",
    errno.ENOTDIR: "part of the path is a file, not a directory",
    errno.ENOENT: "check the path",
    errno.ENAMETOOLONG: "use a shorter name",
    errno.ELOOP: "the path has a loop of symbolic links",
}


def say(message: str) -> None:
    """Print ``pybrainbone: <message>`` to stderr as one bounded line (never raises).

    Examples
    --------
    >>> with contextlib.redirect_stderr(sys.stdout):
    ...     say("wrote   results/pth.csv\\n(201 time points)")
    pybrainbone: wrote results/pth.csv (201 time points)
    """
    text = " ".join(str(message).split())
    if len(text) > MAX_LINE:
        text = text[: MAX_LINE - 3] + "..."
    with contextlib.suppress(Exception):
        print(f"pybrainbone: {text}", file=sys.stderr, flush=True)


def os_error_message(exc: OSError) -> str:
    """``<file>: <reason>; <what to do>`` for an operating-system error.

    Examples
    --------
    >>> os_error_message(PermissionError(errno.EACCES, "Permission denied", "results/pth.csv"))
    'results/pth.csv: Permission denied; check its permissions or choose another location'
    """
    names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
    reason = exc.strerror or type(exc).__name__
    advice = _ADVICE.get(exc.errno or 0, "")
    where = " -> ".join(names) if names else "a file"
    return f"{where}: {reason}" + (f"; {advice}" if advice else "")


def _inputs(args: Any) -> str:
    """The input files a command was given (for errors raised without a file name)."""
    found: list[str] = []
    for name in ("spec", "file", "params", "specs"):
        value = getattr(args, name, None)
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list):
            found.extend(str(v) for v in value)
    return ", ".join(found) or "an input file"


def _traceback_file(exc: BaseException, argv: Sequence[str] | None) -> str:
    """Save the full traceback in a temporary file and return its path (or why that failed)."""
    try:
        fd, name = tempfile.mkstemp(prefix="pybrainbone-traceback-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f"pybrainbone {' '.join(argv if argv is not None else sys.argv[1:])}\n\n")
            handle.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        return name
    except OSError as error:
        return f"(not saved: {error.strerror or error})"


def _silence_stdout() -> None:
    """The Python docs' recipe for a closed pipe: point stdout at devnull so the exit flush is quiet."""
    with contextlib.suppress(Exception):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _interrupted(exc: KeyboardInterrupt) -> int:
    terminated = isinstance(exc, Terminated) or bool(getattr(exc, "terminated", False))
    what = "terminated" if terminated else "interrupted"
    detail = str(exc).strip()
    if detail:
        say(f"{what}: {detail}")
    elif COMMITTED:
        first = ", ".join(str(p) for p in COMMITTED[:3]) + (", ..." if len(COMMITTED) > 3 else "")
        say(f"{what}; {len(COMMITTED)} file(s) had been written ({first}); nothing else was")
    else:
        say(f"{what}; no output was written")
    return TERMINATED if terminated else INTERRUPTED


def report(exc: BaseException, args: Any, argv: Sequence[str] | None) -> int:
    """Print one line for ``exc`` and return the exit status (see the module docstring).

    Examples
    --------
    >>> from pybrainbone.errors import InvalidValueError
    >>> with contextlib.redirect_stderr(sys.stdout):
    ...     status = report(InvalidValueError("--end must be a positive number of days, got -1"), None, [])
    pybrainbone: error: --end must be a positive number of days, got -1
    >>> status
    2
    >>> with contextlib.redirect_stderr(sys.stdout):
    ...     status = report(KeyboardInterrupt(), None, [])
    pybrainbone: interrupted; no output was written
    >>> status
    130
    """
    if isinstance(exc, BrokenPipeError):
        _silence_stdout()
        return PIPE_CLOSED
    if isinstance(exc, KeyboardInterrupt):
        return _interrupted(exc)
    if isinstance(exc, SystemExit):
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if isinstance(exc, PyBrainBoneError):
        say(f"error: {exc}")
    elif isinstance(exc, UnicodeDecodeError):
        say(f"error: {_inputs(args)}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8")
    elif isinstance(exc, OSError):
        say(f"error: {os_error_message(exc)}")
    elif isinstance(exc, (ParseError, ExpatError)):
        say(f"error: {_inputs(args)}: not well-formed XML: {exc}")
    elif isinstance(exc, zipfile.BadZipFile):
        say(f"error: {_inputs(args)}: not a valid ZIP (OMEX) archive: {exc}")
    elif _is_yaml_error(exc):
        say(f"error: {_inputs(args)}: not valid YAML: {exc}")
    elif isinstance(exc, RecursionError):
        say(f"error: {_inputs(args)}: nested too deeply to process; simplify the input")
    elif isinstance(exc, MemoryError):
        say("error: out of memory; use fewer points, samples or workers")
    elif isinstance(exc, Exception):
        where = _traceback_file(exc, argv)
        message = " ".join(str(exc).split())[:200]
        say(
            f"internal error: {type(exc).__name__}: {message}; this is a bug in pybrainbone, please report "
            f"it with the traceback saved in {where}"
        )
    else:
        raise exc
    return 2


def _is_yaml_error(exc: BaseException) -> bool:
    yaml = sys.modules.get("yaml")
    return yaml is not None and isinstance(exc, yaml.YAMLError)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM raises :class:`Terminated` (cleanup runs as for Ctrl-C).

    Examples
    --------
    >>> with sigterm_as_interrupt():
    ...     on_sigterm = signal.getsignal(signal.SIGTERM)
    >>> try:
    ...     on_sigterm(signal.SIGTERM, None)  # what a SIGTERM inside the block does
    ... except Terminated:
    ...     print("Terminated: cleanup runs as for Ctrl-C")
    Terminated: cleanup runs as for Ctrl-C
    >>> on_sigterm is signal.getsignal(signal.SIGTERM)  # the previous handler is back
    False
    """

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def guarded(command: Callable[[], int], args: Any, argv: Sequence[str] | None) -> int:
    """Run ``command`` inside the boundary; the exit status it returns, or :func:`report`'s.

    Examples
    --------
    >>> guarded(lambda: 0, None, ["list"])
    0
    >>> from pybrainbone.errors import InvalidValueError
    >>> def command() -> int:
    ...     raise InvalidValueError("--points must be between 2 and 100000, got 1")
    >>> with contextlib.redirect_stderr(sys.stdout):
    ...     status = guarded(command, None, ["simulate"])
    pybrainbone: error: --points must be between 2 and 100000, got 1
    >>> status
    2
    """
    del COMMITTED[:]
    with sigterm_as_interrupt():
        try:
            code = int(command())
            sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit flush
            return code
        except BaseException as exc:  # the boundary: every failure becomes one line and a status
            return report(exc, args, argv)
