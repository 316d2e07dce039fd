"""Measure, in one run, what our choices cost or save (not a test: numbers go to benchmarks/README.md).

1. Load (compile) time of each model with libRoadRunner's MCJIT vs LLJIT backends.
2. Per-simulation time of ``Simulator.simulate`` (reset protocol, checks, DataFrame) vs a bare
   libRoadRunner loop (``resetToOrigin`` + ``simulate``) on the same compiled model and grid.

Usage: python benchmarks/bench_simulate.py [--repeats N] [--models NAME ...]
"""

from __future__ import annotations

import argparse
import statistics
import time

import roadrunner

from pybrainbone import Simulator, available_models, compile_model


def load_time(sbml: str, backend: int, repeats: int) -> float:
    roadrunner.Config.setValue(roadrunner.Config.LLVM_BACKEND, backend)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        roadrunner.RoadRunner(sbml)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def per_run(fn: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--models", nargs="*", default=None)
    args = parser.parse_args()
    names = args.models or available_models()
    print(f"libroadrunner {roadrunner.__version__}; median of {args.repeats} repeats\n")
    print(
        f"{'model':<22}{'MCJIT load s':>14}{'LLJIT load s':>14}{'MCJIT/LLJIT':>13}"
        f"{'bare run ms':>13}{'ours run ms':>13}{'ours/bare':>11}"
    )
    for name in names:
        sbml = compile_model(name).sbml
        mc = load_time(sbml, roadrunner.Config.MCJIT, max(3, args.repeats // 5))
        ll = load_time(sbml, roadrunner.Config.LLJIT, max(3, args.repeats // 5))
        sim = Simulator(name)  # LLJIT, as the package uses
        selections = sim.state_ids
        bare = roadrunner.RoadRunner(sbml)
        bare.integrator.relative_tolerance = sim.options.relative_tolerance
        bare.integrator.absolute_tolerance = sim.options.absolute_tolerance

        def bare_run(bare: roadrunner.RoadRunner = bare, selections: list[str] = selections) -> None:
            bare.resetToOrigin()
            bare.simulate(0, 3650, 366, selections=["time", *selections])

        def our_run(sim: Simulator = sim, selections: list[str] = selections) -> None:
            sim.simulate(end=3650, points=366, selections=selections)

        b = per_run(bare_run, args.repeats)
        o = per_run(our_run, args.repeats)
        print(
            f"{name:<22}{mc:>14.3f}{ll:>14.3f}{mc / ll:>13.2f}{b * 1e3:>13.2f}{o * 1e3:>13.2f}{o / b:>11.2f}"
        )


if __name__ == "__main__":
    main()
