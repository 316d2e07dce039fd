"""Measure the simulation core in one run: steady states, model loading, right-hand side, pre-equilibration.

Not a test: numbers go to benchmarks/README.md. Every ratio compares two ways of doing the same thing on
the same model in the same process.

1. Steady state under sampled parameter changes: the previous method (libRoadRunner's ``steadyState()``,
   then Newton with one ``setValue`` per state element, reproduced here as it was) vs
   ``Simulator.steady_state`` (Newton on the full state with batch access).
2. Model load: JIT compile (LLJIT, no cache) vs ``RoadRunner() + loadState`` from the compiled cache.
3. Microseconds per right-hand side (``getRatesOfChange``) and expression nodes after inlining: the model
   as built vs the same SBML with its function definitions expanded (libSBML's converter), which is what
   every rule looked like before the repeated sub-expressions were given function definitions.
4. One sample of the menopause Morris objective with and without pre-equilibration.

Usage: python benchmarks/bench_core.py [--model brain_bone_axis] [--samples 5]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import libsbml
import numpy as np
import roadrunner

from pybrainbone import Simulator, compile_model
from pybrainbone.experiments.spec import PreEquilibration, load_experiment
from pybrainbone.jit_cache import compile_roadrunner, load_roadrunner
from pybrainbone.model_text import declared_ids, read_module
from pybrainbone.paths import experiments_dir
from pybrainbone.sensitivity.objective import make_objective, parse_output


def median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ---- 1. the previous steady-state method, as it was (simulator.py before the simulation-core change) ----
def legacy_steady_state(
    rr: roadrunner.RoadRunner, state_ids: list[str], changes: dict[str, float]
) -> np.ndarray:
    rr.resetToOrigin()
    for sid, value in changes.items():
        rr.setValue(sid, value)
    rr.reset()
    with contextlib.suppress(RuntimeError):
        rr.steadyState()

    def get() -> np.ndarray:
        return np.array([rr[s] for s in state_ids], dtype=float)

    def put(x: np.ndarray) -> None:
        for sid, value in zip(state_ids, x, strict=True):
            rr.setValue(sid, float(value))

    def rates() -> np.ndarray:
        return np.asarray(rr.getRatesOfChange(), dtype=float)

    x = get()
    for _ in range(50):
        f = rates()
        if np.all(np.abs(f) <= 1e-12 * np.maximum(np.abs(x), 1e-12) + 1e-300):
            break
        jac = np.empty((len(x), len(x)))
        for j in range(len(x)):
            h = 1e-6 * max(abs(x[j]), 1e-12)
            s = x.copy()
            s[j] = x[j] + h
            put(s)
            up = rates()
            s[j] = x[j] - h
            put(s)
            jac[:, j] = (up - rates()) / (2 * h)
        put(x)
        step = np.linalg.lstsq(jac, -f, rcond=None)[0]
        scale = 1.0
        while scale > 1e-4 and np.any((x > 0) & (x + scale * step <= 0)):
            scale /= 2
        x = x + scale * step
        put(x)
    return x


def sampled_changes(sim: Simulator, samples: int, seed: int = 20261201) -> list[dict[str, float]]:
    """Each sample moves 20 parameters (non-zero, not switches) by a factor in [0.8, 1.2]."""
    rng = np.random.default_rng(seed)
    table = sim.parameters()
    pool = [p for p, v in table["value"].items() if v != 0 and not str(p).startswith(("link_", "on_"))]
    out = []
    for _ in range(samples):
        chosen = rng.choice(pool, size=20, replace=False)
        out.append({str(p): float(table.loc[p, "value"]) * float(rng.uniform(0.8, 1.2)) for p in chosen})
    return out


def bench_steady_state(name: str, samples: int) -> None:
    sim = Simulator(name)
    roadrunner.Config.setValue(roadrunner.Config.ALLOW_EVENTS_IN_STEADY_STATE_CALCULATIONS, True)
    rr = compile_roadrunner(sim.model.sbml, name)
    rr.integrator.relative_tolerance = sim.options.relative_tolerance
    rr.integrator.absolute_tolerance = sim.options.absolute_tolerance
    # States without a restoring force (// @accumulates: a site's bone volume) are held by our steady state;
    # rr.steadyState() moves them to wherever its solver stops, and the site's other states (osteoid,
    # mineral, remodelling space) follow the volume: the skeletal sites are compared separately.
    held = set(declared_ids(name, "accumulates"))
    sites = tuple(f"{i}_" for i, m in read_module(name).instances.items() if m == "bone_matrix")
    free = np.array([s not in held and not s.startswith(sites) for s in sim.state_ids])
    old_t, new_t, diffs, zero_diffs, held_diffs = [], [], [], [], []
    for changes in sampled_changes(sim, samples):
        start = time.process_time()
        old = legacy_steady_state(rr, sim.state_ids, changes)
        old_t.append(time.process_time() - start)
        start = time.process_time()
        new = sim.steady_state(changes)[sim.state_ids].to_numpy()
        new_t.append(time.process_time() - start)
        # States resting at 0 (drug amounts with no dose) are exactly 0 here and solver noise about 0 from
        # rr.steadyState() (up to ~1e-6 in their own unit): a relative difference means nothing for them, so
        # they are compared in absolute terms and every other state relative to its value.
        at_zero = new == 0.0
        relative = np.abs(new - old) / np.maximum(np.abs(old), 1e-6)
        diffs.append(float(np.max(relative[free & ~at_zero], initial=0.0)))
        zero_diffs.append(float(np.max(np.abs(new - old)[free & at_zero], initial=0.0)))
        held_diffs.append(float(np.max(relative[~free], initial=0.0)))
    o, n = statistics.median(old_t), statistics.median(new_t)
    print(
        f"steady state ({samples} sampled changes, CPU s): previous {o:.3f}, now {n:.4f}, ratio {o / n:.0f}x;"
        f" max relative difference {max(diffs):.1e} outside the skeletal sites, states resting at 0 within"
        f" {max(zero_diffs):.1e} absolute ({int((~free).sum())} site states, {len(held)} of them held, differ"
        f" by up to {max(held_diffs):.1e})"
    )


_LOAD_SNIPPET = """
import sys, time
from pybrainbone.build import compile_model
from pybrainbone.jit_cache import compile_roadrunner, load_roadrunner
model = compile_model(sys.argv[1])
sbml = model.sbml
if sys.argv[2] == "compile_expanded":
    import libsbml
    document = libsbml.readSBMLFromString(sbml)
    props = libsbml.ConversionProperties()
    props.addOption("expandFunctionDefinitions", True)
    document.convert(props)
    sbml = libsbml.writeSBMLToString(document)
start = time.perf_counter()
if sys.argv[2].startswith("compile"):
    compile_roadrunner(sbml, model.name)
else:
    load_roadrunner(model.sbml, model.name, model.digest)
print(time.perf_counter() - start)
"""


def _load_in_fresh_process(name: str, how: str) -> float:
    # A new process is what pays: a CLI call, a worker of a sensitivity or calibration pool.
    out = subprocess.run(
        [sys.executable, "-c", _LOAD_SNIPPET, name, how], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def bench_load(name: str, repeats: int) -> None:
    model = compile_model(name)
    load_roadrunner(model.sbml, name, model.digest)  # fills the cache
    compile_s = statistics.median(_load_in_fresh_process(name, "compile") for _ in range(repeats))
    cached_s = statistics.median(_load_in_fresh_process(name, "cache") for _ in range(repeats))
    before_s = statistics.median(_load_in_fresh_process(name, "compile_expanded") for _ in range(repeats))
    a = compile_roadrunner(model.sbml, name)
    b = roadrunner.RoadRunner()
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "m.rr")
        a.saveState(path)
        b.loadState(path)
    same = np.array_equal(np.asarray(a.simulate(0, 3650, 11)), np.asarray(b.simulate(0, 3650, 11)))
    print(
        f"model load in a fresh process (wall s, median of {repeats}): JIT compile {compile_s:.3f}, "
        f"from the compiled cache {cached_s:.4f}, ratio {compile_s / cached_s:.0f}x; JIT compile of the "
        f"model with its shared sub-expressions expanded (as before) {before_s:.3f}, ratio "
        f"{before_s / cached_s:.0f}x; results bit-identical: {same}"
    )


def inlined_nodes(sbml: str) -> int:
    """Expression nodes of every rate after inlining assignment rules (what the code generator emits)."""
    model = libsbml.readSBMLFromString(sbml).getModel()
    rules = {r.getVariable(): r.getMath() for r in model.getListOfRules() if r.isAssignment()}
    # A function's arguments are evaluated once; its body (arguments as leaves) once per call.
    bodies = {f.getId(): f.getBody() for f in model.getListOfFunctionDefinitions()}
    sizes: dict[str, int] = {}

    def own(ast: libsbml.ASTNode) -> int:
        return 1 + sum(own(ast.getChild(i)) for i in range(ast.getNumChildren()))

    def size(ast: libsbml.ASTNode) -> int:
        if ast.getType() == libsbml.AST_NAME and ast.getName() in rules:
            name = ast.getName()
            if name not in sizes:
                sizes[name] = size(rules[name])
            return sizes[name]
        extra = own(bodies[ast.getName()]) if ast.getType() == libsbml.AST_FUNCTION else 0
        return 1 + extra + sum(size(ast.getChild(i)) for i in range(ast.getNumChildren()))

    tops = [r.getMath() for r in model.getListOfRules() if r.isRate()]
    tops += [rx.getKineticLaw().getMath() for rx in model.getListOfReactions()]
    return sum(size(a) for a in tops)


def expand_functions(sbml: str) -> str:
    document = libsbml.readSBMLFromString(sbml)
    props = libsbml.ConversionProperties()
    props.addOption("expandFunctionDefinitions", True)
    if document.convert(props) != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise RuntimeError("libSBML could not expand the function definitions")
    return libsbml.writeSBMLToString(document)


def bench_rhs(name: str) -> None:
    sbml = compile_model(name).sbml
    rows = []
    for label, text in (
        ("shared sub-expressions expanded (as before)", expand_functions(sbml)),
        ("as built", sbml),
    ):
        rr = compile_roadrunner(text, name)
        for _ in range(200):
            rr.getRatesOfChange()
        n = 5000
        start = time.perf_counter()
        for _ in range(n):
            rr.getRatesOfChange()
        rows.append((label, (time.perf_counter() - start) / n * 1e6, inlined_nodes(text)))
    for label, us, nodes in rows:
        print(f"right-hand side, {label}: {us:.1f} us per evaluation, {nodes} inlined nodes")
    print(f"right-hand side ratio: {rows[0][1] / rows[1][1]:.2f}x faster as built")


def bench_pre_equilibration(samples: int) -> None:
    spec = load_experiment(experiments_dir() / "menopause_morris_screen.yaml")
    equilibrated = spec.model_copy(update={"pre_equilibration": PreEquilibration()})
    times = {}
    for label, experiment in (("unequilibrated", spec), ("pre-equilibrated", equilibrated)):
        objective = make_objective(
            experiment, parse_output("BMD_change_5y@1826.25"), ["HPG_menoDUR", "HPG_E2_floor"]
        )
        sim = Simulator(objective.model)
        rng = np.random.default_rng(1)
        nominal = np.array([objective.nominal[n] for n in objective.names])
        rows = [nominal * rng.uniform(0.8, 1.2, len(nominal)) for _ in range(samples)]
        objective.evaluate(sim, rows[0])
        start = time.process_time()
        for row in rows:
            objective.evaluate(sim, row)
        times[label] = (time.process_time() - start) / samples
    ratio = times["pre-equilibrated"] / times["unequilibrated"]
    print(
        f"one Morris sample (CPU s): unequilibrated {times['unequilibrated']:.4f}, pre-equilibrated "
        f"{times['pre-equilibrated']:.4f}, ratio {ratio:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--model", default="brain_bone_axis")
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()
    print(f"libroadrunner {roadrunner.__version__}, model {args.model}\n")
    bench_steady_state(args.model, args.samples)
    bench_load(args.model, max(3, args.samples))
    bench_rhs(args.model)
    bench_pre_equilibration(max(10, args.samples))


if __name__ == "__main__":
    main()
