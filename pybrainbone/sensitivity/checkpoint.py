"""Partial results of an ensemble, so that an interrupted analysis can resume where it stopped.

A :class:`Checkpoint` is a JSON-lines file beside the outputs (``<stem>.partial.jsonl``). Its first line
says what it belongs to: the seed, the number of samples and a fingerprint of everything the samples and
their outputs depend on (method, settings, problem, spec, output, compiled model). Every further line is
one finished sample, keyed by its index and the seed, with its parameter values, output and failure
reason. Lines are appended (and flushed) as chunks finish, so the file survives even a SIGKILL of the
main process; a line cut short by a kill is ignored and that sample runs again.

On ``resume`` the header must match and every sample's parameter values must equal the ones the run
draws again (same seed, same sampler), so results are never mixed between analyses; anything else is a
clear error saying to delete the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import IO, Any

import numpy as np

from pybrainbone.atomic import check_target, make_directory
from pybrainbone.errors import PyBrainBoneError
from pybrainbone.sensitivity.executors import Done

FORMAT = "pybrainbone-partial-results/1"


class PartialResultsError(PyBrainBoneError):
    """A partial-results file that cannot be used (another analysis's, or unreadable).

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> samples = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> checkpoint = Checkpoint(Path(tmp.name) / "pth.morris.partial.jsonl")
    >>> _ = checkpoint.begin(seed=7, key="morris n=10", samples=samples)
    >>> checkpoint.close()
    >>> Checkpoint(checkpoint.path).begin(seed=7, key="morris n=10", samples=samples)
    Traceback (most recent call last):
    ...
    pybrainbone.sensitivity.checkpoint.PartialResultsError: ... holds partial results of an interrupted run:
    ...
    >>> Checkpoint(checkpoint.path, resume=True).begin(seed=8, key="morris n=10", samples=samples)
    Traceback (most recent call last):
    ...
    pybrainbone.sensitivity.checkpoint.PartialResultsError: ... holds partial results of another analysis ...
    >>> tmp.cleanup()
    """


def fingerprint(*parts: Any) -> str:
    """A stable hash of JSON-able ``parts`` (what an analysis's samples and outputs depend on).

    Examples
    --------
    >>> key = fingerprint("morris", 10, {"num_levels": 4})
    >>> len(key), key == fingerprint("morris", 10, {"num_levels": 4}), key == fingerprint("morris", 20)
    (32, True, False)
    """
    text = json.dumps(parts, sort_keys=True, default=str, allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _floats(values: Any) -> list[float]:
    return [float(v) for v in np.ravel(values)]


class Checkpoint:
    """The partial-results file ``path``; ``resume`` says whether an existing one may be continued.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> samples = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> checkpoint = Checkpoint(Path(tmp.name) / "pth.morris.partial.jsonl")
    >>> checkpoint.begin(seed=7, key="morris n=10", samples=samples)  # a new file: nothing done yet
    {}
    >>> checkpoint.record(0, np.array([[0.5]]), [], samples)  # sample 0 finished
    >>> checkpoint.close()
    >>> resumed = Checkpoint(checkpoint.path, resume=True)
    >>> done = resumed.begin(seed=7, key="morris n=10", samples=samples)
    >>> {i: (y.tolist(), reason) for i, (y, reason) in done.items()}
    {0: ([0.5], None)}
    >>> resumed.remove()
    >>> checkpoint.path.exists()
    False
    >>> tmp.cleanup()
    """

    def __init__(self, path: str | os.PathLike[str], resume: bool = False) -> None:
        self.path = Path(path)
        self.resume = resume
        self._handle: IO[str] | None = None
        self._seed = 0
        self._samples = 0  # finished samples the file holds
        self._created: list[Path] = []
        # Only a file this object has begun is its to delete: a refused begin() (another analysis's file,
        # or one needing --resume) must leave the interrupted run's results where they are.
        self._begun = False

    # ---- reading ---------------------------------------------------------------------------------
    def begin(self, seed: int, key: str, samples: np.ndarray) -> dict[int, tuple[np.ndarray, str | None]]:
        """Open the file for this analysis; the samples it already holds (only with ``resume``).

        Examples
        --------
        >>> import tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> samples = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> checkpoint = Checkpoint(Path(tmp.name) / "pth.morris.partial.jsonl")
        >>> checkpoint.begin(seed=7, key="morris n=10", samples=samples)
        {}
        >>> checkpoint.close()
        >>> json.loads(checkpoint.path.read_text(encoding="utf-8").splitlines()[0])
        {'format': 'pybrainbone-partial-results/1', 'seed': 7, 'samples': 2, 'key': 'morris n=10'}
        >>> tmp.cleanup()
        """
        check_target(self.path)
        self._seed = int(seed)
        done: dict[int, tuple[np.ndarray, str | None]] = {}
        if self.path.exists():
            if not self.resume:
                raise PartialResultsError(
                    f"{self.path} holds partial results of an interrupted run: add --resume to continue "
                    "from them, or delete the file to start again"
                )
            done = self._read(key, samples)
            self._samples = len(done)
            self._open(append=True)
        else:
            self._open(append=False)
            self._write({"format": FORMAT, "seed": self._seed, "samples": len(samples), "key": key})
        self._begun = True
        return done

    def _read(self, key: str, samples: np.ndarray) -> dict[int, tuple[np.ndarray, str | None]]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise PartialResultsError(f"{self.path}: cannot read the partial results: {exc}") from None
        header = self._parse(lines[0]) if lines else None
        expected = {"format": FORMAT, "seed": self._seed, "samples": len(samples), "key": key}
        if header != expected:
            theirs = header.get("seed") if isinstance(header, dict) else None
            raise PartialResultsError(
                f"{self.path} holds partial results of another analysis (seed {theirs}, not {self._seed}, or "
                "other settings, spec or model); delete it to start again, or resume with the same command"
            )
        done: dict[int, tuple[np.ndarray, str | None]] = {}
        for line in lines[1:]:
            entry = self._parse(line)
            if not isinstance(entry, dict) or entry.get("seed") != self._seed:
                continue  # cut short by a kill: that sample simply runs again
            try:
                index, x = int(entry["sample"]), np.array(entry["x"], dtype=float)
                y, reason = np.array(entry["y"], dtype=float), entry.get("reason")
            except (KeyError, TypeError, ValueError):
                continue
            if not 0 <= index < len(samples):
                continue
            if x.shape != samples[index].shape or not np.array_equal(x, samples[index]):
                raise PartialResultsError(
                    f"{self.path}: sample {index} was computed for other parameter values; delete the file "
                    "to start again"
                )
            done[index] = (y, reason if isinstance(reason, str) else None)
        return done

    @staticmethod
    def _parse(line: str) -> Any:
        try:
            return json.loads(line)
        except ValueError:
            return None

    # ---- writing ---------------------------------------------------------------------------------
    def _open(self, append: bool) -> None:
        self._created = make_directory(self.path.parent)
        try:
            self._handle = open(self.path, "a" if append else "w", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise PartialResultsError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        if append and self.path.stat().st_size:
            self._handle.write("\n")  # a line cut short by a kill stays alone on its line

    def _write(self, entry: dict[str, Any]) -> None:
        assert self._handle is not None
        self._handle.write(json.dumps(entry, allow_nan=True) + "\n")

    def record(
        self, start: int, values: np.ndarray, failed: list[tuple[int, str]], samples: np.ndarray
    ) -> None:
        """Append one finished chunk (rows ``start..``) and flush it to the file.

        Examples
        --------
        >>> import tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> samples = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> checkpoint = Checkpoint(Path(tmp.name) / "pth.morris.partial.jsonl")
        >>> _ = checkpoint.begin(seed=7, key="morris n=10", samples=samples)
        >>> checkpoint.record(0, np.array([[0.5], [np.nan]]), [(1, "steady state not found")], samples)
        >>> checkpoint.close()
        >>> lines = checkpoint.path.read_text(encoding="utf-8").splitlines()
        >>> [json.loads(line)["reason"] for line in lines[1:]]
        [None, 'steady state not found']
        >>> tmp.cleanup()
        """
        reasons = dict(failed)
        for offset, row in enumerate(values):
            i = start + offset
            self._write(
                {
                    "sample": i,
                    "seed": self._seed,
                    "x": _floats(samples[i]),
                    "y": _floats(row),
                    "reason": reasons.get(i),
                }
            )
        assert self._handle is not None
        self._handle.flush()
        self._samples += len(values)

    @property
    def empty(self) -> bool:
        """True if the file holds no finished sample.

        Examples
        --------
        >>> import tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> samples = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> checkpoint = Checkpoint(Path(tmp.name) / "pth.morris.partial.jsonl")
        >>> _ = checkpoint.begin(seed=7, key="morris n=10", samples=samples)
        >>> checkpoint.empty
        True
        >>> checkpoint.record(0, np.array([[0.5]]), [], samples)
        >>> checkpoint.empty
        False
        >>> checkpoint.remove()
        >>> tmp.cleanup()
        """
        return self._samples == 0

    def close(self) -> None:
        """Close the file (it stays on disk for a later ``resume``); closing twice is harmless.

        Examples
        --------
        >>> import tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> samples = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> checkpoint = Checkpoint(Path(tmp.name) / "pth.morris.partial.jsonl")
        >>> _ = checkpoint.begin(seed=7, key="morris n=10", samples=samples)
        >>> checkpoint.close()
        >>> checkpoint.close()
        >>> checkpoint.path.exists()
        True
        >>> tmp.cleanup()
        """
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.close()
            self._handle = None

    def remove(self) -> None:
        """Delete the file (the analysis finished: its results are in the outputs now), and the
        directories made for it if they are still empty. A file this object never began (``begin``
        refused it) is left alone: it holds another run's results.

        Examples
        --------
        >>> import tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> samples = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> checkpoint = Checkpoint(Path(tmp.name) / "out" / "pth.morris.partial.jsonl")
        >>> _ = checkpoint.begin(seed=7, key="morris n=10", samples=samples)
        >>> checkpoint.remove()
        >>> checkpoint.path.exists(), (Path(tmp.name) / "out").exists()  # the directory made for it goes too
        (False, False)
        >>> kept = Checkpoint(checkpoint.path)
        >>> _ = kept.begin(seed=7, key="morris n=10", samples=samples)
        >>> kept.close()
        >>> refused = Checkpoint(kept.path)  # no resume: begin() refuses the interrupted run's file
        >>> try:
        ...     refused.begin(seed=7, key="morris n=10", samples=samples)
        ... except PartialResultsError:
        ...     refused.remove()
        >>> kept.path.exists()
        True
        >>> tmp.cleanup()
        """
        self.close()
        if not self._begun:
            return
        self.path.unlink(missing_ok=True)
        for directory in self._created:
            with contextlib.suppress(OSError):
                directory.rmdir()


__all__ = ["Checkpoint", "Done", "PartialResultsError", "fingerprint"]
