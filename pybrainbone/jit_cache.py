"""Compiled-model cache: libRoadRunner's machine code saved once, loaded in milliseconds afterwards.

JIT-compiling the whole model costs seconds of CPU in every process that loads it (every CLI call, every
worker of a sensitivity or calibration pool). ``RoadRunner.saveState`` writes the compiled model;
``RoadRunner() + loadState`` reads it back with bit-identical results. The cache sits beside the SBML cache
and is keyed by the SBML's digest, the libRoadRunner version and the machine architecture, because saved
state is only valid for the build that wrote it. A file that does not match its recorded checksum (a
crash mid-write, a partial copy) is ignored and rewritten, never loaded.

Compilation uses the LLJIT backend, which compiles several times faster than MCJIT for our models
(``benchmarks/bench_simulate.py``); the process-wide setting is changed only for the compile and restored.
"""

from __future__ import annotations

import contextlib
import hashlib
import platform
import threading
from collections.abc import Iterator
from pathlib import Path

import roadrunner

from pybrainbone.atomic import atomic_path, write_text_atomic
from pybrainbone.errors import SimulationError
from pybrainbone.paths import cache_dir

#: Bump when what is saved (or how it is loaded) changes.
CACHE_FORMAT = "1"

# libRoadRunner's Config is process-wide: serialise the compiles that switch it.
_CONFIG_LOCK = threading.Lock()


@contextlib.contextmanager
def _lljit() -> Iterator[None]:
    config = roadrunner.Config
    with _CONFIG_LOCK:
        previous = config.getValue(config.LLVM_BACKEND)
        config.setValue(config.LLVM_BACKEND, config.LLJIT)
        try:
            yield
        finally:
            config.setValue(config.LLVM_BACKEND, previous)


def cache_key(sbml_digest: str) -> str:
    """What a saved compiled model is valid for: this SBML, this libRoadRunner, this machine.

    Examples
    --------
    >>> key = cache_key("0" * 64)
    >>> len(key), key == cache_key("0" * 64), key == cache_key("1" * 64)
    (64, True, False)
    """
    parts = [CACHE_FORMAT, sbml_digest, roadrunner.__version__, platform.machine(), platform.system()]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def cache_file(name: str, sbml_digest: str) -> Path:
    """Where the compiled form of model ``name`` with this SBML digest is kept.

    Examples
    --------
    >>> from pybrainbone.build import compile_model
    >>> model = compile_model("bone_remodeling")
    >>> path = cache_file(model.name, model.digest)
    >>> path.parent == cache_dir() / "compiled", path.name.startswith("bone_remodeling-"), path.suffix
    (True, True, '.rr')
    """
    return cache_dir() / "compiled" / f"{name}-{cache_key(sbml_digest)[:24]}.rr"


def _checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def compile_roadrunner(sbml: str, model_name: str) -> roadrunner.RoadRunner:
    """JIT-compile SBML text (no cache).

    Examples
    --------
    >>> from pybrainbone.build import compile_model
    >>> rr = compile_roadrunner(compile_model("bone_remodeling").sbml, "bone_remodeling")
    >>> round(rr["OBa"] * 1e4, 3)  # pM, times 1e4
    5.584
    """
    try:
        with _lljit():
            return roadrunner.RoadRunner(sbml)
    except RuntimeError as exc:
        raise SimulationError(f"libRoadRunner could not load model {model_name!r}: {exc}") from None


def load_roadrunner(
    sbml: str, model_name: str, sbml_digest: str, use_cache: bool = True
) -> roadrunner.RoadRunner:
    """A RoadRunner for ``sbml``: from the compiled cache when a valid entry exists, else compiled and saved.

    Integrator settings are not part of the contract: callers apply their own after loading.

    Examples
    --------
    >>> from pybrainbone.build import compile_model
    >>> model = compile_model("bone_remodeling")
    >>> rr = load_roadrunner(model.sbml, model.name, model.digest)
    >>> cache_file(model.name, model.digest).is_file()  # the next process loads it in milliseconds
    True
    >>> round(rr["OBa"] * 1e4, 3)
    5.584
    """
    if not use_cache:
        return compile_roadrunner(sbml, model_name)
    path = cache_file(model_name, sbml_digest)
    stamp = path.with_suffix(".sha256")
    with contextlib.suppress(OSError):
        if path.is_file() and stamp.read_text(encoding="utf-8").strip() == _checksum(path):
            rr = roadrunner.RoadRunner()
            try:
                rr.loadState(str(path))
                return rr
            except RuntimeError:
                pass  # unreadable after all: recompile below and overwrite it
    rr = compile_roadrunner(sbml, model_name)
    _save(rr, path, stamp)
    return rr


def _save(rr: roadrunner.RoadRunner, path: Path, stamp: Path) -> None:
    # A read-only or full cache only costs a compile next time; it must never fail the load.
    with contextlib.suppress(OSError, RuntimeError):
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, output=False) as tmp:
            rr.saveState(str(tmp))
            # The stamp goes first: a reader that sees the old file with the new stamp recompiles.
            write_text_atomic(stamp, _checksum(tmp) + "\n", output=False)
