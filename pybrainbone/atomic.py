"""Atomic file output: a reader sees the old file or the complete new one, never half of it.

* :func:`atomic_path` / :func:`atomic_open` / :func:`write_text_atomic`: one file, written to a temporary
  file beside it and moved into place when complete;
* :func:`all_or_nothing`: every file written (by those functions) inside the block appears together when
  the block succeeds, none otherwise;
* :func:`staged_directory`: a directory of outputs built in a temporary directory beside it and moved into
  place at the end.

Targets are checked first: a directory, a symbolic link, a FIFO, a socket or a device node is never
replaced, and a clear :class:`~pybrainbone.errors.OutputError` says so. New files get the permissions the
umask allows (as ``open`` would), replaced files keep theirs. Temporary files left by a process killed
mid-write (``.<name>.XXXXXXXX``, older than :data:`STALE_SECONDS`) are removed when the target is written.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from pybrainbone.errors import OutputError

#: Age after which a temporary file or directory beside a target counts as left over by a killed run.
STALE_SECONDS = 3600.0

#: Files this process has moved into place, oldest first (the CLI reports them if a run is interrupted).
COMMITTED: list[Path] = []

_TEMP_CHARS = "[a-z0-9_]{8}"  # tempfile's random part


def _describe(exc: OSError) -> str:
    return "permission denied" if isinstance(exc, PermissionError) else (exc.strerror or str(exc))


def check_target(target: str | os.PathLike[str]) -> Path:
    """``target`` as a Path, if a regular file may be written there; :class:`OutputError` otherwise.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> check_target(Path(tmp.name) / "out.csv").name
    'out.csv'
    >>> check_target(tmp.name)
    Traceback (most recent call last):
    ...
    pybrainbone.errors.OutputError: cannot write ...: it is a directory; give a file name
    >>> tmp.cleanup()
    """
    target = Path(target)
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return target
    except NotADirectoryError:
        raise OutputError(f"cannot write {target}: part of its directory path is not a directory") from None
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {_describe(exc)}") from None
    if stat.S_ISLNK(info.st_mode):
        raise OutputError(
            f"refusing to replace {target}: it is a symbolic link; remove it or choose another file name"
        )
    if stat.S_ISDIR(info.st_mode):
        raise OutputError(f"cannot write {target}: it is a directory; give a file name")
    if not stat.S_ISREG(info.st_mode):
        raise OutputError(
            f"refusing to replace {target}: it is a pipe, socket or device, not a file; choose another name"
        )
    return target


def make_directory(directory: str | os.PathLike[str]) -> list[Path]:
    """Create ``directory`` (and its parents) or say plainly why it cannot be; returns those created.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> [p.name for p in make_directory(Path(tmp.name) / "results" / "figures")]
    ['figures', 'results']
    >>> make_directory(Path(tmp.name) / "results")
    []
    >>> tmp.cleanup()
    """
    directory = Path(directory)
    missing = [d for d in (directory, *directory.parents) if not os.path.lexists(d)]
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise OutputError(
            f"cannot create directory {directory}: a file of that name (or on its path) is in the way"
        ) from None
    except OSError as exc:
        raise OutputError(f"cannot create directory {directory}: {_describe(exc)}") from None
    return missing


def _remove_empty(directories: list[Path]) -> None:
    """Remove directories created for outputs that were not written (innermost first, only if empty)."""
    for directory in directories:
        with contextlib.suppress(OSError):
            directory.rmdir()


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # no way to read it without setting it: restore at once
    os.umask(mask)
    return mask


def _mode_for(target: Path, directory: bool = False) -> int:
    """Permissions of the file replacing ``target``: its own, or what the umask gives a new one."""
    try:
        info = os.stat(target)
        if stat.S_ISREG(info.st_mode) and not directory:
            return stat.S_IMODE(info.st_mode)
    except OSError:
        pass
    return (0o777 if directory else 0o666) & ~_umask()


def remove_stale_temporaries(target: Path, age: float = STALE_SECONDS) -> None:
    """Remove ``.<name>.XXXXXXXX*`` files or directories beside ``target`` older than ``age`` seconds.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> target = Path(tmp.name) / "out.csv"
    >>> left_over = Path(tmp.name) / ".out.csv.k3x9q0zt"  # what a writer killed mid-write leaves
    >>> _ = left_over.write_text("half a tab")
    >>> os.utime(left_over, (0, 0))  # last written in 1970: stale
    >>> remove_stale_temporaries(target)
    >>> left_over.exists()
    False
    >>> tmp.cleanup()
    """
    pattern = re.compile(re.escape(f".{target.name}.") + _TEMP_CHARS + r"(\.[A-Za-z0-9]+)?$")
    cutoff = time.time() - age
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            if not pattern.match(entry.name):
                continue
            with contextlib.suppress(OSError):
                info = entry.stat(follow_symlinks=False)
                if info.st_mtime >= cutoff:
                    continue
                if stat.S_ISREG(info.st_mode):
                    os.unlink(entry.path)
                elif stat.S_ISDIR(info.st_mode):
                    shutil.rmtree(entry.path, ignore_errors=True)


def _temporary(target: Path, suffix: str) -> tuple[Path, list[Path]]:
    created = make_directory(target.parent)
    remove_stale_temporaries(target)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    except OSError as exc:
        raise OutputError(
            f"cannot write {target}: {_describe(exc)} in {target.parent}; choose a directory you can write to"
        ) from None
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, _mode_for(target))
    return tmp, created


def _replace(tmp: Path, target: Path, output: bool = True) -> None:
    check_target(target)  # again: nothing may have appeared there meanwhile
    try:
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {_describe(exc)}") from None
    if output:
        COMMITTED.append(target)


class _Group:
    """Temporary files waiting to be moved onto their targets together."""

    def __init__(self) -> None:
        self.staged: list[tuple[Path, Path]] = []
        self.created: list[Path] = []

    def commit(self) -> None:
        for _, target in self.staged:
            check_target(target)  # all checked before any is moved
        for tmp, target in self.staged:
            _replace(tmp, target)
        self.staged.clear()
        self.created.clear()

    def discard(self) -> None:
        for tmp, _ in self.staged:
            tmp.unlink(missing_ok=True)
        self.staged.clear()
        _remove_empty(self.created)


_GROUP: contextvars.ContextVar[_Group | None] = contextvars.ContextVar(
    "pybrainbone_atomic_group", default=None
)


@contextlib.contextmanager
def all_or_nothing() -> Iterator[None]:
    """Files written with :func:`atomic_path` inside the block appear together at its end, or not at all.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = Path(tmp.name)
    >>> with all_or_nothing():
    ...     write_text_atomic(folder / "a.csv", "a")
    ...     write_text_atomic(folder / "b.csv", "b")
    ...     print(sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")))
    []
    >>> sorted(p.name for p in folder.iterdir())
    ['a.csv', 'b.csv']
    >>> try:
    ...     with all_or_nothing():
    ...         write_text_atomic(folder / "c.csv", "c")
    ...         raise RuntimeError("failed half-way")
    ... except RuntimeError:
    ...     pass
    >>> sorted(p.name for p in folder.iterdir())
    ['a.csv', 'b.csv']
    >>> tmp.cleanup()
    """
    group = _Group()
    token = _GROUP.set(group)
    try:
        try:
            yield
        finally:
            _GROUP.reset(token)
        group.commit()
    finally:
        group.discard()


@contextlib.contextmanager
def atomic_path(
    target: str | os.PathLike[str], suffix: str | None = None, *, output: bool = True
) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it onto ``target`` only if the block succeeds.

    Use it for writers that want a file name (``savefig``, libSBML); on any exception the temporary
    file is removed and ``target`` is left untouched. Inside :func:`all_or_nothing` the move waits for
    the end of that block. ``output=False`` is for files that are not the run's outputs (the compile
    caches): they are moved at once and are not listed in what an interrupted run reports it wrote.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> target = Path(tmp.name) / "figure.svg"
    >>> with atomic_path(target) as partial:
    ...     _ = partial.write_text("<svg/>")
    ...     print(partial.name.startswith(".figure.svg."), target.exists())
    True False
    >>> target.read_text(encoding="utf-8")
    '<svg/>'
    >>> tmp.cleanup()
    """
    target = check_target(target)
    tmp, created = _temporary(target, suffix if suffix is not None else target.suffix)
    group = _GROUP.get()
    done = False
    try:
        yield tmp
        if group is not None and output:
            group.staged.append((tmp, target))
            group.created[:0] = created
        else:
            _replace(tmp, target, output)
        done = True
    finally:
        if not done:
            tmp.unlink(missing_ok=True)
            _remove_empty(created)


@contextlib.contextmanager
def atomic_open(target: str | os.PathLike[str], mode: str = "w", *, output: bool = True) -> Iterator[IO[str]]:
    """Open a text file for writing atomically (UTF-8); ``output`` as for :func:`atomic_path`.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> with atomic_open(Path(tmp.name) / "table.csv") as handle:
    ...     _ = handle.write("time,BMD\\n0,100\\n")
    >>> (Path(tmp.name) / "table.csv").read_text(encoding="utf-8").splitlines()
    ['time,BMD', '0,100']
    >>> tmp.cleanup()
    """
    with atomic_path(target, output=output) as tmp, open(tmp, mode, encoding="utf-8", newline="") as handle:
        yield handle


def write_text_atomic(target: str | os.PathLike[str], text: str, *, output: bool = True) -> None:
    """Write ``text`` to ``target`` atomically (UTF-8); ``output`` as for :func:`atomic_path`.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> write_text_atomic(Path(tmp.name) / "new" / "note.txt", "done\\n")
    >>> (Path(tmp.name) / "new" / "note.txt").read_text(encoding="utf-8")
    'done\\n'
    >>> tmp.cleanup()
    """
    with atomic_open(target, output=output) as handle:
        handle.write(text)


def check_output_directory(directory: str | os.PathLike[str]) -> Path:
    """``directory`` as a Path if outputs may go there (it is a directory, or does not exist yet).

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> check_output_directory(Path(tmp.name) / "results").name
    'results'
    >>> _ = (Path(tmp.name) / "notes.txt").write_text("")
    >>> check_output_directory(Path(tmp.name) / "notes.txt")
    Traceback (most recent call last):
    ...
    pybrainbone.errors.OutputError: cannot write outputs into .../notes.txt: it is a file, not a directory
    >>> tmp.cleanup()
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise OutputError(f"cannot write outputs into {directory}: it is a file, not a directory")
    for parent in directory.parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(f"cannot create directory {directory}: {parent} is a file")
            break
    return directory


@contextlib.contextmanager
def staged_directory(directory: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary directory beside ``directory``; its files move into ``directory`` at the end.

    If the block fails (or is interrupted) the temporary directory is removed and ``directory`` is as
    it was. Existing files of the same names are replaced (each atomically); others are kept.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> results = Path(tmp.name) / "results"
    >>> with staged_directory(results) as stage:
    ...     _ = (stage / "menopause.csv").write_text("time,BMD\\n")
    ...     print(results.exists())
    False
    >>> sorted(p.name for p in results.iterdir())
    ['menopause.csv']
    >>> tmp.cleanup()
    """
    directory = check_output_directory(directory)
    created = make_directory(directory.parent)
    remove_stale_temporaries(directory)
    try:
        stage = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    except OSError as exc:
        raise OutputError(
            f"cannot write outputs into {directory}: {_describe(exc)} in {directory.parent}; "
            "choose a directory you can write to"
        ) from None
    mark = len(COMMITTED)
    try:
        yield stage
    except BaseException:
        del COMMITTED[mark:]  # what was written inside the stage is gone with it
        shutil.rmtree(stage, ignore_errors=True)
        _remove_empty(created)
        raise
    del COMMITTED[mark:]  # files moved inside the stage are not outputs yet
    try:
        _move_all(stage, directory)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _move_all(stage: Path, directory: Path) -> None:
    names = sorted(p.name for p in stage.iterdir())
    if not directory.exists():
        os.chmod(stage, _mode_for(directory, directory=True))
        with contextlib.suppress(OSError):
            os.rename(stage, directory)  # the whole directory at once
            COMMITTED.extend(directory / n for n in names)
            return
    make_directory(directory)
    for name in names:
        check_target(directory / name)
    for name in names:
        _replace(stage / name, directory / name)
