"""Compile an SBML file with AMICI and simulate it, once per condition; print the states as JSON.

Runs in a separate venv with ``amici`` (it builds from source), so it imports nothing from pybrainbone:

    /tmp/amici-venv/bin/python tests/tools/amici_simulate.py model.xml build_dir \
        '{"end": 3652.5, "points": 41, "conditions": {"baseline": {}, "ovx": {"HPG_OVX": 1}}}' out.json

Writes to ``out.json`` (the compiler prints to stdout) ``{"compile_seconds": s, "state_ids": [...],
"runs": {name: {"status": ..., "t": [...], "x": [[...]], "seconds": s}}}``; a condition naming a
parameter the model does not have is skipped.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def _call(obj, *names, args=()):
    """amici 1.x has snake_case methods, older releases camelCase: call whichever exists."""
    for name in names:
        method = getattr(obj, name, None)
        if method is not None:
            return method(*args)
    raise AttributeError(f"{type(obj).__name__} has none of {names}")


def main(sbml: str, build: str, request_text: str, result: str) -> int:
    import hashlib
    import os

    import numpy as np

    # The venv's own swig and cmake (pip packages amici depends on) must be found by the model build.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    # Compile on every core (AMICI's model builds go through CMake; older releases read their own variable).
    cores = str(os.cpu_count() or 1)
    os.environ.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", cores)
    os.environ.setdefault("AMICI_PARALLEL_COMPILE", cores)

    import amici
    import amici.sim.sundials

    request = json.loads(request_text)
    name = Path(sbml).stem
    # One build per SBML text, not per name: a cached build of an earlier version of the model would
    # otherwise be simulated (and compared) instead of the file given.
    digest = hashlib.sha256(Path(sbml).read_bytes()).hexdigest()[:16]
    out = Path(build) / f"{name}-{digest}"
    start = time.perf_counter()
    if not (out / ".compiled").is_file():
        importer = amici.SbmlImporter(sbml)
        importer.sbml2amici(
            name, str(out), generate_sensitivity_code=False, compute_conservation_laws=False, verbose=False
        )
        (out / ".compiled").write_text("ok", encoding="utf-8")
    compile_seconds = time.perf_counter() - start
    module = amici.import_model_module(name, str(out))
    model = _call(module, "get_model", "getModel")
    parameter_ids = set(_call(model, "get_free_parameter_ids", "get_parameter_ids", "getParameterIds"))
    fixed_ids = set(_call(model, "get_fixed_parameter_ids", "getFixedParameterIds"))
    state_ids = list(_call(model, "get_state_ids", "getStateIds"))
    times = np.linspace(0.0, float(request["end"]), int(request["points"]))
    runs = {}
    for condition, changes in request["conditions"].items():
        if any(sid not in parameter_ids | fixed_ids for sid in changes):
            continue
        model = _call(module, "get_model", "getModel")
        _call(model, "set_timepoints", "setTimepoints", args=(times,))
        for sid, value in changes.items():
            if sid in parameter_ids:
                _call(
                    model,
                    "set_free_parameter_by_id",
                    "set_parameter_by_id",
                    "setParameterById",
                    args=(sid, float(value)),
                )
            else:
                _call(model, "set_fixed_parameter_by_id", "setFixedParameterById", args=(sid, float(value)))
        solver = _call(model, "create_solver", "getSolver")
        _call(
            solver,
            "set_relative_tolerance",
            "setRelativeTolerance",
            args=(float(request.get("rtol", 1e-10)),),
        )
        _call(
            solver,
            "set_absolute_tolerance",
            "setAbsoluteTolerance",
            args=(float(request.get("atol", 1e-14)),),
        )
        _call(solver, "set_max_steps", "setMaxSteps", args=(10**7,))
        began = time.perf_counter()
        try:
            from amici.sim.sundials import run_simulation
        except ImportError:  # amici < 1
            run_simulation = amici.runAmiciSimulation
        rdata = run_simulation(model, solver)
        runs[condition] = {
            "status": int(rdata["status"]),
            "t": np.asarray(rdata["ts"]).tolist(),
            "x": np.asarray(rdata["x"]).tolist(),
            "seconds": time.perf_counter() - began,
        }
    answer = {"compile_seconds": compile_seconds, "state_ids": state_ids, "runs": runs}
    Path(result).write_text(json.dumps(answer), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
