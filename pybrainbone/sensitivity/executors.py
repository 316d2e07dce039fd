"""Evaluate an :class:`~pybrainbone.sensitivity.objective.Objective` over many parameter vectors.

Engines are objects (:class:`Engine`), passed to :func:`evaluate` and to every analysis:

* :class:`SerialEngine`: in this process;
* :class:`ProcessEngine`: a :class:`concurrent.futures.ProcessPoolExecutor` whose initializer builds one
  simulator per worker, loaded from the compiled-model cache (no compiling per sample or per task);
* :class:`DaskEngine`: a :class:`distributed.Client` (or a scheduler address); the objective is scattered
  to every worker once and each worker thread keeps its own simulator in a cache.

Samples travel in chunks (many per task); results are put back in sample order, so every engine returns
the same array for the same samples. A sample whose simulation fails is recorded with its parameters and
the reason, and its output is NaN: never silently dropped. What the solver prints on stderr for a failed
sample (libRoadRunner, CVODE) goes into that reason, not onto the terminal (in worker processes and the
serial engine; a Dask worker's threads share one stderr, so there it stays).

An ensemble can be stopped: Ctrl-C or SIGTERM stops the workers within seconds (they ignore SIGINT, and
the parent terminates them), and :func:`evaluate` raises :class:`EnsembleInterrupted` with what had
finished. A worker whose parent dies (even by SIGKILL) exits by itself. ``done`` and ``record`` let a
caller resume: finished samples are handed to ``record`` as they arrive, and are not run again when
passed back as ``done`` (see :mod:`pybrainbone.sensitivity.checkpoint`).
"""

from __future__ import annotations

import contextlib
import functools
import math
import multiprocessing
import os
import re
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import IO, Any, Protocol

import numpy as np

from pybrainbone.errors import InvalidValueError, PyBrainBoneError, SimulationError, Terminated
from pybrainbone.sensitivity.objective import Objective
from pybrainbone.simulator import Simulator

_LOCAL = threading.local()


@dataclass(frozen=True)
class Failure:
    """A sample whose simulation failed: its index, its parameter values and why.

    Examples
    --------
    >>> failure = Failure(3, {"D_OCp": 0.1, "A_OCa": 2.0}, "steady state not found")
    >>> failure.as_dict()
    {'sample': 3, 'D_OCp': 0.1, 'A_OCa': 2.0, 'reason': 'steady state not found'}
    """

    index: int
    parameters: dict[str, float]
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """One flat row: the sample's index, its parameter values and the reason.

        Examples
        --------
        >>> Failure(3, {"D_OCp": 0.1}, "steady state not found").as_dict()
        {'sample': 3, 'D_OCp': 0.1, 'reason': 'steady state not found'}
        """
        return {"sample": self.index, **self.parameters, "reason": self.reason}


@dataclass(frozen=True)
class Evaluation:
    """Outputs of every sample (rows in sample order; NaN where it failed) and how they were computed.

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> exp = Experiment.model_validate({
    ...     "id": "pth", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
    ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"},
    ...                         {"id": "same", "expression": "treated.OCa / treated.OCa"}]})
    >>> from pybrainbone.sensitivity.objective import make_objective
    >>> objective = make_objective(exp, "dCTX@365", ["D_OCp", "A_OCa"])
    >>> evaluation = evaluate(objective, [[0.0021, 0.7], [-10.0, 0.7]], SerialEngine())
    >>> evaluation.values.round(3).tolist(), evaluation.engine, evaluation.workers
    ([[17.854], [nan]], 'serial', 1)
    >>> [(f.index, f.parameters) for f in evaluation.failures]  # a negative differentiation rate
    [(1, {'D_OCp': -10.0, 'A_OCa': 0.7})]
    """

    values: np.ndarray
    failures: list[Failure]
    engine: str
    workers: int
    seconds: float
    chunk_size: int
    #: With tolerances looser than the defaults: the error measured on a few samples re-run at the defaults.
    tolerance_check: dict[str, float] | None = None

    @property
    def samples_per_second(self) -> float:
        """Throughput of the evaluation (inf if it took no measurable time).

        Examples
        --------
        >>> Evaluation(np.zeros((10, 1)), [], "serial", 1, 2.0, 5).samples_per_second
        5.0
        """
        return len(self.values) / self.seconds if self.seconds > 0 else math.inf


def _simulator(objective: Objective) -> Simulator:
    """This thread's simulator for the objective's model, built once from the compiled SBML."""
    cache: dict[str, Simulator] = getattr(_LOCAL, "simulators", None) or {}
    _LOCAL.simulators = cache
    key = objective.model.digest
    if key not in cache:
        cache[key] = Simulator(objective.model)
    return cache[key]


_SOLVER_NOISE = re.compile(r"\x1b\[[0-9;]*m")
_SUNDIALS_PREFIX = re.compile(r"\[(\w+)\]\[rank \d+\]\[[^\]]*\]\[(\w+)\]\s*")


@functools.cache
def _libc() -> Any:
    import ctypes

    return ctypes.CDLL(None)


def _flush_all() -> None:
    """Flush Python's stdout and stderr and every C stdio stream of this process."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with contextlib.suppress(Exception):
        _libc().fflush(None)


class _SolverOutput:
    """Captures what native code prints while one sample runs (this process only).

    CVODE (SUNDIALS) prints its errors on stderr and its warnings on stdout, buffered in C stdio; both
    file descriptors point at one temporary file for the sample, flushed before they are restored.
    """

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - open for the process's life

    @contextlib.contextmanager
    def capture(self) -> Iterator[None]:
        _flush_all()
        self._file.seek(0)
        self._file.truncate()
        try:
            saved = [os.dup(1), os.dup(2)]
        except OSError:  # no stdout or stderr at all: nothing to capture
            yield
            return
        os.dup2(self._file.fileno(), 1)
        os.dup2(self._file.fileno(), 2)
        try:
            yield
        finally:
            _flush_all()  # into the capture, not onto the terminal
            for fd, copy in zip((1, 2), saved, strict=True):
                os.dup2(copy, fd)
                os.close(copy)

    def close(self) -> None:
        self._file.close()

    def text(self, limit: int = 400) -> str:
        """The captured lines, once each (with a count), without colour codes or source locations."""
        self._file.seek(0)
        raw = self._file.read(64 * 1024).decode("utf-8", "replace")
        counts: dict[str, int] = {}
        for line in raw.splitlines():
            line = _SUNDIALS_PREFIX.sub(r"\2 \1: ", _SOLVER_NOISE.sub("", line)).strip()
            if line:
                counts[line] = counts.get(line, 0) + 1
        lines = sorted(counts.items(), key=lambda item: "error" not in item[0].lower())  # errors first
        text = "; ".join(f"{line} (x{n})" if n > 1 else line for line, n in lines)
        return text if len(text) <= limit else text[: limit - 3] + "..."


def _capturing() -> _SolverOutput | None:
    """This thread's output capture: in worker processes and in the main thread of a serial run."""
    if not getattr(_LOCAL, "capture", False):
        return None
    output: _SolverOutput | None = getattr(_LOCAL, "output", None)
    if output is None:
        output = _LOCAL.output = _SolverOutput()
    return output


def _reason(exc: Exception) -> str:
    text = str(exc) if isinstance(exc, PyBrainBoneError) else f"{type(exc).__name__}: {exc}"
    return " ".join(_SOLVER_NOISE.sub("", text).split())


def run_chunk(
    objective: Objective, start: int, samples: np.ndarray
) -> tuple[int, np.ndarray, list[tuple[int, str]]]:
    """Evaluate rows of ``samples`` (model units); failures come back as (index, reason) with NaN rows.

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> exp = Experiment.model_validate({
    ...     "id": "pth", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
    ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"},
    ...                         {"id": "same", "expression": "treated.OCa / treated.OCa"}]})
    >>> from pybrainbone.sensitivity.objective import make_objective
    >>> objective = make_objective(exp, "dCTX@365", ["D_OCp", "A_OCa"])
    >>> start, values, failed = run_chunk(objective, 10, np.array([[0.0021, 0.7], [0.0042, 0.7]]))
    >>> start, values.round(3).tolist(), failed
    (10, [[17.854], [17.012]], [])
    """
    simulator = _simulator(objective)
    out = np.full((len(samples), objective.width), np.nan)
    failed: list[tuple[int, str]] = []
    output = _capturing()
    for i, row in enumerate(samples):
        try:
            with output.capture() if output is not None else contextlib.nullcontext():
                out[i] = objective.evaluate(simulator, row)
        except (PyBrainBoneError, RuntimeError, ValueError, ArithmeticError) as exc:  # solver trouble
            said = output.text() if output is not None else ""
            failed.append((start + i, _reason(exc) + (f" (solver output: {said})" if said else "")))
    return start, out, failed


# ---- process pool ----------------------------------------------------------------------------------
def _exit_with_parent(parent: int) -> None:
    """Make this worker exit when the process that started it dies (even by SIGKILL)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):  # the kernel's way: SIGKILL when the parent exits
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:  # everywhere else (and as a second line): poll the parent's pid
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="pybrainbone-parent-watch", daemon=True).start()


def _init_process(objective: Objective, parent: int | None = None) -> None:
    # Ctrl-C reaches the whole process group; the parent decides what stops, and stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent(parent if parent is not None else os.getppid())
    _LOCAL.objective = objective
    _LOCAL.capture = True
    _simulator(objective)  # compile once, before the first task


def _process_chunk(start: int, samples: np.ndarray) -> tuple[int, np.ndarray, list[tuple[int, str]]]:
    return run_chunk(_LOCAL.objective, start, samples)


def _chunks(
    samples: np.ndarray, size: int, todo: np.ndarray | None = None
) -> Iterator[tuple[int, np.ndarray]]:
    """Chunks of at most ``size`` consecutive rows, of the rows in ``todo`` (default: all)."""
    indices = np.arange(len(samples)) if todo is None else np.asarray(todo, dtype=int)
    if not len(indices):
        return
    for run in np.split(indices, np.flatnonzero(np.diff(indices) != 1) + 1):
        for k in range(0, len(run), size):
            start = int(run[k])
            yield start, samples[start : start + len(run[k : k + size])]


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT while workers are started: they inherit it, so Ctrl-C reaches only the parent."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals are not ours to change
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _stop_pool(pool: ProcessPoolExecutor, grace: float = 3.0) -> None:
    """Cancel what has not started and end every worker now (terminate, then kill)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)  # shutdown() forgets it
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join(1.0)
    # Wait for the pool's manager thread to see its workers gone and close its wake-up pipe. Left running,
    # it races the interpreter's exit hook, which writes to that pipe: Python 3.11 then prints an
    # "OSError: Bad file descriptor" traceback after our one-line message (CPython gh-125451 adds a lock;
    # Python 3.11 does not have it).
    if manager is not None:
        manager.join(max(0.5, deadline + 1.0 - time.monotonic()))


def default_chunk_size(n_samples: int, workers: int) -> int:
    """About ten chunks per worker (load balance, a live progress bar), 1 to 100 samples each.

    Examples
    --------
    >>> default_chunk_size(1000, workers=4), default_chunk_size(5, workers=4)
    (25, 1)
    >>> default_chunk_size(10**6, workers=1)
    100
    """
    return max(1, min(100, math.ceil(n_samples / max(1, 10 * workers))))


def _progress(total: int, enabled: bool, label: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="sample", disable=not enabled, smoothing=0.1)


Collect = Callable[[int, np.ndarray, list[tuple[int, str]]], None]


class Engine(Protocol):
    """Where samples are evaluated. Every engine returns the same numbers for the same samples.

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> exp = Experiment.model_validate({
    ...     "id": "pth", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
    ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"},
    ...                         {"id": "same", "expression": "treated.OCa / treated.OCa"}]})
    >>> from pybrainbone.sensitivity.objective import make_objective
    >>> objective = make_objective(exp, "dCTX@365", ["D_OCp", "A_OCa"])
    >>> engine: Engine = SerialEngine()
    >>> engine.name, engine.size()
    ('serial', 1)
    """

    @property
    def name(self) -> str:
        """What the engine is called in results and summaries (``serial``, ``processes``, ``dask``).

        Examples
        --------
        >>> SerialEngine().name, ProcessEngine(2).name, DaskEngine(scheduler="tcp://10.0.0.5:8786").name
        ('serial', 'processes', 'dask')
        """
        ...

    def size(self) -> int:
        """How many samples it evaluates at once (for chunking).

        Examples
        --------
        >>> SerialEngine().size(), ProcessEngine(workers=3).size()
        (1, 3)
        """
        ...

    def run(self, objective: Objective, chunks: list[tuple[int, np.ndarray]], collect: Collect) -> None:
        """Evaluate every chunk and hand each result to ``collect`` (any order).

        Examples
        --------
        >>> from pybrainbone.experiments.spec import Experiment
        >>> exp = Experiment.model_validate({
        ...     "id": "pth", "model": "bone_remodeling",
        ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
        ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
        ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"},
        ...                         {"id": "same", "expression": "treated.OCa / treated.OCa"}]})
        >>> from pybrainbone.sensitivity.objective import make_objective
        >>> objective = make_objective(exp, "dCTX@365", ["D_OCp", "A_OCa"])
        >>> seen = []
        >>> chunks = [(0, np.array([[0.0021, 0.7]]))]
        >>> SerialEngine().run(objective, chunks, lambda start, values, failed: seen.append(start))
        >>> seen
        [0]
        """
        ...


@dataclass(frozen=True)
class SerialEngine:
    """In this process, one chunk after another.

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> exp = Experiment.model_validate({
    ...     "id": "pth", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
    ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"},
    ...                         {"id": "same", "expression": "treated.OCa / treated.OCa"}]})
    >>> from pybrainbone.sensitivity.objective import make_objective
    >>> objective = make_objective(exp, "dCTX@365", ["D_OCp", "A_OCa"])
    >>> evaluate(objective, [[0.0021, 0.7]], SerialEngine()).values.round(3).tolist()
    [[17.854]]
    """

    name: str = "serial"

    def size(self) -> int:
        """One sample at a time.

        Examples
        --------
        >>> SerialEngine().size()
        1
        """
        return 1

    def run(self, objective: Objective, chunks: list[tuple[int, np.ndarray]], collect: Collect) -> None:
        # In the main thread, solver output of a failing sample goes into its reason (other threads share
        # the file descriptor with whoever else is writing, so they leave it alone).
        """Evaluate the chunks one after another in this process (see :meth:`Engine.run`).

        Examples
        --------
        >>> from pybrainbone.experiments.spec import Experiment
        >>> exp = Experiment.model_validate({
        ...     "id": "pth", "model": "bone_remodeling",
        ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
        ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
        ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"},
        ...                         {"id": "same", "expression": "treated.OCa / treated.OCa"}]})
        >>> from pybrainbone.sensitivity.objective import make_objective
        >>> objective = make_objective(exp, "dCTX@365", ["D_OCp", "A_OCa"])
        >>> results = {}
        >>> def collect(start, values, failed):
        ...     results[start] = values.round(3).tolist()
        >>> SerialEngine().run(objective, [(0, np.array([[0.0021, 0.7]])), (1, np.array([[0.0042, 0.7]]))],
        ...                    collect)
        >>> results
        {0: [[17.854]], 1: [[17.012]]}
        """
        main = threading.current_thread() is threading.main_thread()
        previous = getattr(_LOCAL, "capture", False), getattr(_LOCAL, "output", None)
        output = _SolverOutput() if main else None
        _LOCAL.capture, _LOCAL.output = main, output
        try:
            for start, chunk in chunks:
                collect(*run_chunk(objective, start, chunk))
        finally:
            _LOCAL.capture, _LOCAL.output = previous
            if output is not None:
                output.close()


@dataclass(frozen=True)
class ProcessEngine:
    """A pool of spawned processes; each builds its simulator once, from the compiled-model cache.

    Examples
    --------
    >>> ProcessEngine(workers=4)
    ProcessEngine(workers=4, name='processes')
    """

    workers: int | None = None
    name: str = "processes"

    def size(self) -> int:
        """The number of worker processes (default: every core).

        Examples
        --------
        >>> ProcessEngine(workers=4).size()
        4
        >>> ProcessEngine().size() >= 1
        True
        """
        return self.workers or os.cpu_count() or 1

    def run(self, objective: Objective, chunks: list[tuple[int, np.ndarray]], collect: Collect) -> None:
        """Evaluate the chunks in spawned worker processes (see :meth:`Engine.run`).

        Examples
        --------
        >>> from pybrainbone.experiments.spec import Experiment
        >>> exp = Experiment.model_validate({
        ...     "id": "pth", "model": "bone_remodeling",
        ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
        ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
        ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"},
        ...                         {"id": "same", "expression": "treated.OCa / treated.OCa"}]})
        >>> from pybrainbone.sensitivity.objective import make_objective
        >>> objective = make_objective(exp, "dCTX@365", ["D_OCp", "A_OCa"])
        >>> samples = np.array([[0.0021, 0.7], [0.0042, 0.7]])
        >>> pooled = evaluate(objective, samples, ProcessEngine(workers=1), chunk_size=1)  # starts one worker
        >>> bool((pooled.values == evaluate(objective, samples, SerialEngine()).values).all())
        True
        """
        if not chunks:
            return
        # spawn: a clean interpreter per worker (fork after LLVM/thread start-up is unsafe)
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(
            min(self.size(), max(1, len(chunks))),
            mp_context=context,
            initializer=_init_process,
            initargs=(objective, os.getpid()),
        )
        try:
            with _sigint_ignored():  # workers start during the first submits
                futures = [pool.submit(_process_chunk, start, chunk) for start, chunk in chunks]
            for future in as_completed(futures):
                collect(*future.result())
        except BrokenProcessPool:
            _stop_pool(pool)
            raise SimulationError(
                "a worker process stopped unexpectedly (it crashed, ran out of memory or was killed); "
                "run with --workers 1 to see why"
            ) from None
        except BaseException:  # Ctrl-C, SIGTERM, a failing collect: stop the workers now, not later
            _stop_pool(pool)
            raise
        pool.shutdown(wait=True)


@dataclass(frozen=True)
class DaskEngine:
    """A Dask cluster: an existing ``client``, a ``scheduler`` address, or a local cluster of its own.

    Examples
    --------
    >>> engine = DaskEngine(scheduler="tcp://10.0.0.5:8786")  # connects only when it runs
    >>> engine.name, engine.scheduler
    ('dask', 'tcp://10.0.0.5:8786')
    """

    client: Any = None
    scheduler: str | None = None
    name: str = "dask"

    def size(self) -> int:
        """Threads of the client's workers (every core for a local cluster of its own).

        Examples
        --------
        >>> DaskEngine().size() >= 1
        True
        """
        return (os.cpu_count() or 1) if self.client is None else _dask_threads(self.client)

    def run(self, objective: Objective, chunks: list[tuple[int, np.ndarray]], collect: Collect) -> None:
        """Evaluate the chunks on the Dask cluster (see :meth:`Engine.run`).

        Examples
        --------
        >>> from pybrainbone.experiments.spec import Experiment
        >>> exp = Experiment.model_validate({
        ...     "id": "pth", "model": "bone_remodeling",
        ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
        ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
        ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"},
        ...                         {"id": "same", "expression": "treated.OCa / treated.OCa"}]})
        >>> from pybrainbone.sensitivity.objective import make_objective
        >>> objective = make_objective(exp, "dCTX@365", ["D_OCp", "A_OCa"])
        >>> # A cluster (or a local one of its own) is needed, so this does not run in the test suite:
        >>> evaluation = evaluate(objective, [[0.0021, 0.7]], DaskEngine())  # doctest: +SKIP
        >>> evaluation.engine  # doctest: +SKIP
        'dask'
        """
        client = self.client if self.client is not None else _dask_client(self.scheduler)
        try:
            from distributed import as_completed as dask_completed

            shared = client.scatter(objective, broadcast=True)
            futures = client.map(
                run_chunk, [shared] * len(chunks), [s for s, _ in chunks], [c for _, c in chunks], pure=False
            )
            try:
                for future in dask_completed(futures):  # type: ignore[no-untyped-call]
                    collect(*future.result())
            except BaseException:
                with contextlib.suppress(Exception):
                    client.cancel(futures)
                raise
        finally:
            if self.client is None:
                client.close()


def _dask_client(scheduler: str | None) -> Any:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - optional dependency
        raise PyBrainBoneError(
            "the dask engine needs dask[distributed]: pip install 'pybrainbone[distributed]'"
        ) from None
    try:
        return Client(scheduler, timeout="20s")  # type: ignore[no-untyped-call]
    except OSError as exc:
        raise PyBrainBoneError(f"cannot connect to the Dask scheduler at {scheduler}: {exc}") from None


def _dask_threads(client: Any) -> int:
    return max(1, int(sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values())))


def default_engine(workers: int | None = None, scheduler: str | None = None) -> Engine:
    """Dask with a scheduler address, else processes on more than one worker (default: all cores),
    else serial.

    Examples
    --------
    >>> default_engine(workers=1), default_engine(workers=4)
    (SerialEngine(name='serial'), ProcessEngine(workers=4, name='processes'))
    >>> default_engine(scheduler="tcp://10.0.0.5:8786")
    DaskEngine(client=None, scheduler='tcp://10.0.0.5:8786', name='dask')
    """
    if scheduler:
        return DaskEngine(scheduler=scheduler)
    count = workers or os.cpu_count() or 1
    return ProcessEngine(count) if count > 1 else SerialEngine()


class EnsembleInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped :func:`evaluate`; ``evaluation`` holds what had finished.

    ``evaluation.values`` has NaN rows for samples that did not run; ``finished`` marks the rows that did.

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> exp = Experiment.model_validate({
    ...     "id": "pth", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
    ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"},
    ...                         {"id": "same", "expression": "treated.OCa / treated.OCa"}]})
    >>> from pybrainbone.sensitivity.objective import make_objective
    >>> objective = make_objective(exp, "dCTX@365", ["D_OCp", "A_OCa"])
    >>> class Impatient:  # an engine stopped by Ctrl-C after its first chunk
    ...     name = "impatient"
    ...     def size(self):
    ...         return 1
    ...     def run(self, objective, chunks, collect):
    ...         collect(*run_chunk(objective, *chunks[0]))
    ...         raise KeyboardInterrupt
    >>> try:
    ...     evaluate(objective, [[0.0021, 0.7], [0.0042, 0.7], [0.0021, 1.4]], Impatient(), chunk_size=1)
    ... except EnsembleInterrupted as stop:
    ...     print(stop, stop.finished.tolist(), stop.terminated)
    stopped after 1 of 3 samples [True, False, False] False
    """

    def __init__(self, message: str, evaluation: Evaluation, finished: np.ndarray, terminated: bool) -> None:
        super().__init__(message)
        self.evaluation = evaluation
        self.finished = finished
        self.terminated = terminated


#: Results of samples already evaluated, by sample index: their output row and failure reason (or None).
Done = Mapping[int, tuple[np.ndarray, str | None]]


def evaluate(  # long: one loop with its resume, progress and interruption bookkeeping
    objective: Objective,
    samples: np.ndarray,
    engine: Engine | None = None,
    *,
    chunk_size: int | None = None,
    progress: bool = False,
    label: str = "samples",
    done: Done | None = None,
    record: Collect | None = None,
) -> Evaluation:
    """Evaluate every row of ``samples`` (parameter values in model units, columns = ``objective.names``).

    Results come back in sample order whatever the engine; failed samples are NaN rows and each is
    recorded with its parameters and reason. ``engine`` defaults to :func:`default_engine`. Samples in
    ``done`` are not run again; ``record(start, values, failed)`` sees every chunk as it finishes. Ctrl-C
    or SIGTERM raises :class:`EnsembleInterrupted` carrying what had finished.

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> exp = Experiment.model_validate({
    ...     "id": "pth", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
    ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"},
    ...                         {"id": "same", "expression": "treated.OCa / treated.OCa"}]})
    >>> from pybrainbone.sensitivity.objective import make_objective
    >>> objective = make_objective(exp, "dCTX@365", ["D_OCp", "A_OCa"])
    >>> evaluation = evaluate(objective, [[0.0021, 0.7], [-10.0, 0.7]], SerialEngine())
    >>> evaluation.values.round(3).tolist()  # in sample order; NaN where the simulation failed
    [[17.854], [nan]]
    >>> [(f.index, f.reason.split(":")[0]) for f in evaluation.failures]
    [(1, "simulation of 'bone_remodeling' failed")]
    """
    samples = np.atleast_2d(np.asarray(samples, dtype=float))
    if samples.shape[1] != len(objective.names):
        raise InvalidValueError(
            f"samples have {samples.shape[1]} columns, objective has {len(objective.names)} parameters"
        )
    if chunk_size is not None and (
        isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1
    ):
        raise InvalidValueError(f"chunk size must be an integer >= 1, got {chunk_size!r}")
    engine = engine or default_engine()
    n = len(samples)
    size = chunk_size or default_chunk_size(n, engine.size())
    values = np.full((n, objective.width), np.nan)
    finished = np.zeros(n, dtype=bool)
    reasons: dict[int, str] = {}
    for i, (row, reason) in (done or {}).items():
        values[i], finished[i] = row, True
        if reason is not None:
            reasons[i] = reason

    def collect(start: int, chunk: np.ndarray, failed: list[tuple[int, str]]) -> None:
        values[start : start + len(chunk)] = chunk
        finished[start : start + len(chunk)] = True
        reasons.update(failed)
        if record is not None:
            record(start, chunk, failed)
        bar.update(len(chunk))

    def result(seconds: float) -> Evaluation:
        failures = [
            Failure(i, dict(zip(objective.names, map(float, samples[i]), strict=True)), reasons[i])
            for i in sorted(reasons)
        ]
        return Evaluation(values, failures, engine.name, engine.size(), seconds, size)

    started = time.perf_counter()
    bar = _progress(n, progress, label)
    bar.update(int(finished.sum()))
    chunks = list(_chunks(samples, size, np.flatnonzero(~finished)))
    try:
        if chunks:
            engine.run(objective, chunks, collect)
    except KeyboardInterrupt as exc:
        count = int(finished.sum())
        raise EnsembleInterrupted(
            f"stopped after {count} of {n} samples",
            result(time.perf_counter() - started),
            finished.copy(),
            isinstance(exc, Terminated) or bool(getattr(exc, "terminated", False)),
        ) from None
    finally:
        bar.close()
    return result(time.perf_counter() - started)
