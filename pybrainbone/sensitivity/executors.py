"""Evaluate an :class:`~pybrainbone.sensitivity.objective.Objective` over many parameter vectors.

Engines are objects (:class:`Engine`), passed to :func:`evaluate` and to every analysis:

* :class:`SerialEngine`: in this process;
* :class:`ProcessEngine`: a :class:`concurrent.futures.ProcessPoolExecutor` whose initializer builds one
  simulator per worker, loaded from the compiled-model cache (no compiling per sample or per task);
* :class:`DaskEngine`: a :class:`distributed.Client` (or a scheduler address); the objective is scattered
  to every worker once and each worker thread keeps its own simulator in a cache.

Samples travel in chunks (many per task); results are put back in sample order, so every engine returns
the same array for the same samples. A sample whose simulation fails is recorded with its parameters and
the reason, and its output is NaN: never silently dropped.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from pybrainbone.errors import InvalidValueError, PyBrainBoneError
from pybrainbone.sensitivity.objective import Objective
from pybrainbone.simulator import Simulator

_LOCAL = threading.local()


@dataclass(frozen=True)
class Failure:
    """A sample whose simulation failed: its index, its parameter values and why."""

    index: int
    parameters: dict[str, float]
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"sample": self.index, **self.parameters, "reason": self.reason}


@dataclass(frozen=True)
class Evaluation:
    """Outputs of every sample (rows in sample order; NaN where it failed) and how they were computed."""

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
        return len(self.values) / self.seconds if self.seconds > 0 else math.inf


def _simulator(objective: Objective) -> Simulator:
    """This thread's simulator for the objective's model, built once from the compiled SBML."""
    cache: dict[str, Simulator] = getattr(_LOCAL, "simulators", None) or {}
    _LOCAL.simulators = cache
    key = objective.model.digest
    if key not in cache:
        cache[key] = Simulator(objective.model)
    return cache[key]


def run_chunk(
    objective: Objective, start: int, samples: np.ndarray
) -> tuple[int, np.ndarray, list[tuple[int, str]]]:
    """Evaluate rows of ``samples`` (model units); failures come back as (index, reason) with NaN rows."""
    simulator = _simulator(objective)
    out = np.full((len(samples), objective.width), np.nan)
    failed: list[tuple[int, str]] = []
    for i, row in enumerate(samples):
        try:
            out[i] = objective.evaluate(simulator, row)
        except PyBrainBoneError as exc:
            failed.append((start + i, str(exc)))
        except (RuntimeError, ValueError, ArithmeticError) as exc:  # solver or arithmetic trouble
            failed.append((start + i, f"{type(exc).__name__}: {exc}"))
    return start, out, failed


# ---- process pool ----------------------------------------------------------------------------------
def _init_process(objective: Objective) -> None:
    _LOCAL.objective = objective
    _simulator(objective)  # compile once, before the first task


def _process_chunk(start: int, samples: np.ndarray) -> tuple[int, np.ndarray, list[tuple[int, str]]]:
    return run_chunk(_LOCAL.objective, start, samples)


def _chunks(samples: np.ndarray, size: int) -> Iterator[tuple[int, np.ndarray]]:
    for start in range(0, len(samples), size):
        yield start, samples[start : start + size]


def default_chunk_size(n_samples: int, workers: int) -> int:
    """About ten chunks per worker (load balance, a live progress bar), 1 to 100 samples each."""
    return max(1, min(100, math.ceil(n_samples / max(1, 10 * workers))))


def _progress(total: int, enabled: bool, label: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="sample", disable=not enabled, smoothing=0.1)


Collect = Callable[[int, np.ndarray, list[tuple[int, str]]], None]


class Engine(Protocol):
    """Where samples are evaluated. Every engine returns the same numbers for the same samples."""

    @property
    def name(self) -> str: ...

    def size(self) -> int:
        """How many samples it evaluates at once (for chunking)."""
        ...

    def run(self, objective: Objective, chunks: list[tuple[int, np.ndarray]], collect: Collect) -> None:
        """Evaluate every chunk and hand each result to ``collect`` (any order)."""
        ...


@dataclass(frozen=True)
class SerialEngine:
    """In this process, one chunk after another."""

    name: str = "serial"

    def size(self) -> int:
        return 1

    def run(self, objective: Objective, chunks: list[tuple[int, np.ndarray]], collect: Collect) -> None:
        for start, chunk in chunks:
            collect(*run_chunk(objective, start, chunk))


@dataclass(frozen=True)
class ProcessEngine:
    """A pool of spawned processes; each builds its simulator once, from the compiled-model cache."""

    workers: int | None = None
    name: str = "processes"

    def size(self) -> int:
        return self.workers or os.cpu_count() or 1

    def run(self, objective: Objective, chunks: list[tuple[int, np.ndarray]], collect: Collect) -> None:
        # spawn: a clean interpreter per worker (fork after LLVM/thread start-up is unsafe)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            self.size(), mp_context=context, initializer=_init_process, initargs=(objective,)
        ) as pool:
            futures = [pool.submit(_process_chunk, start, chunk) for start, chunk in chunks]
            for future in as_completed(futures):
                collect(*future.result())


@dataclass(frozen=True)
class DaskEngine:
    """A Dask cluster: an existing ``client``, a ``scheduler`` address, or a local cluster of its own."""

    client: Any = None
    scheduler: str | None = None
    name: str = "dask"

    def size(self) -> int:
        return (os.cpu_count() or 1) if self.client is None else _dask_threads(self.client)

    def run(self, objective: Objective, chunks: list[tuple[int, np.ndarray]], collect: Collect) -> None:
        client = self.client if self.client is not None else _dask_client(self.scheduler)
        try:
            from distributed import as_completed as dask_completed

            shared = client.scatter(objective, broadcast=True)
            futures = client.map(
                run_chunk, [shared] * len(chunks), [s for s, _ in chunks], [c for _, c in chunks], pure=False
            )
            for future in dask_completed(futures):  # type: ignore[no-untyped-call]
                collect(*future.result())
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
    else serial."""
    if scheduler:
        return DaskEngine(scheduler=scheduler)
    count = workers or os.cpu_count() or 1
    return ProcessEngine(count) if count > 1 else SerialEngine()


def evaluate(
    objective: Objective,
    samples: np.ndarray,
    engine: Engine | None = None,
    *,
    chunk_size: int | None = None,
    progress: bool = False,
    label: str = "samples",
) -> Evaluation:
    """Evaluate every row of ``samples`` (parameter values in model units, columns = ``objective.names``).

    Results come back in sample order whatever the engine; failed samples are NaN rows and each is
    recorded with its parameters and reason. ``engine`` defaults to :func:`default_engine`.
    """
    samples = np.atleast_2d(np.asarray(samples, dtype=float))
    if samples.shape[1] != len(objective.names):
        raise InvalidValueError(
            f"samples have {samples.shape[1]} columns, objective has {len(objective.names)} parameters"
        )
    engine = engine or default_engine()
    n = len(samples)
    size = chunk_size or default_chunk_size(n, engine.size())
    started = time.perf_counter()
    bar = _progress(n, progress, label)
    results: dict[int, tuple[np.ndarray, list[tuple[int, str]]]] = {}

    def collect(start: int, values: np.ndarray, failed: list[tuple[int, str]]) -> None:
        results[start] = (values, failed)
        bar.update(len(values))

    try:
        engine.run(objective, list(_chunks(samples, size)), collect)
    finally:
        bar.close()
    seconds = time.perf_counter() - started
    values = (
        np.concatenate([results[s][0] for s in sorted(results)])
        if results
        else np.empty((0, objective.width))
    )
    failures = [
        Failure(i, dict(zip(objective.names, map(float, samples[i]), strict=True)), reason)
        for s in sorted(results)
        for i, reason in results[s][1]
    ]
    return Evaluation(values, failures, engine.name, engine.size(), seconds, size)
