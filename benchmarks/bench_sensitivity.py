"""Sensitivity engines: samples/second serial vs local processes vs a Dask LocalCluster, and our per-sample
overhead against a bare libRoadRunner loop doing the same simulations.

    python benchmarks/bench_sensitivity.py [--samples N] [--workers K] [--spec FILE] [--output DG[@T]]

The workload is the Morris screen's objective (default: experiments/menopause_morris_screen.yaml,
BMD_change_5y, two arms of the whole brain-bone axis per sample) on the first 20 eligible parameters,
+-20 % uniform. Engine timings are wall time including worker start-up and the one compile per worker;
start-up alone is reported separately (a 2-sample run). Not a test: numbers depend on the machine, the
ratios are what to compare.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import roadrunner

from pybrainbone import SolverOptions
from pybrainbone.experiments.expressions import parse_expression
from pybrainbone.experiments.runner import Runner
from pybrainbone.experiments.spec import UniformTimeCourse, load_experiment
from pybrainbone.sensitivity import (
    DaskEngine,
    ProcessEngine,
    SerialEngine,
    derive_problem,
    eligible_parameters,
    evaluate,
    make_objective,
)
from pybrainbone.sensitivity.objective import Objective, arm_set_parameters, experiment_nominal

ROOT = Path(__file__).resolve().parents[1]


def bare_loop(objective: Objective, samples: np.ndarray) -> tuple[float, np.ndarray]:
    """The same simulations with a bare RoadRunner: reset, set values, simulate, evaluate the expression."""
    rr = roadrunner.RoadRunner(objective.model.sbml)
    options = SolverOptions()  # the wrapper's defaults, so both loops integrate alike
    rr.integrator.relative_tolerance = options.relative_tolerance
    rr.integrator.absolute_tolerance = options.absolute_tolerance
    rr.integrator.maximum_num_steps = options.maximum_num_steps
    sim = objective.experiment.simulation
    assert isinstance(sim, UniformTimeCourse)
    dg = next(d for d in objective.experiment.data_generators if d.id == objective.output.data_generator)
    expression = parse_expression(dg.expression)
    plan = objective.plan
    when = sim.end if objective.output.time is None else objective.output.time
    out = np.empty(len(samples))
    started = time.perf_counter()
    for i, row in enumerate(samples):
        values: dict[tuple[str, str], np.ndarray] = {}
        for run in plan.runs:
            rr.resetToOrigin()
            # The same changes in the same order as the package (written out: organism, shared, sample, arm).
            changes = {**plan.preset, **plan.shared, **dict(zip(objective.names, row, strict=True))}
            changes.update(plan.arm_changes[run.arm])
            for name, value in changes.items():
                rr.setValue(name, float(value))
            rr.reset()
            variables = list(run.variables)
            arm = run.task
            data = np.asarray(rr.simulate(sim.start, sim.end, sim.points, selections=["time", *variables]))
            for j, var in enumerate(variables):
                values[(arm, var)] = data[:, 1 + j]
            grid = data[:, 0]
        series = np.asarray(expression.evaluate(values), dtype=float)
        out[i] = np.interp(when, grid, series)
    return time.perf_counter() - started, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default=str(ROOT / "experiments" / "menopause_morris_screen.yaml"))
    parser.add_argument("--output", default="BMD_change_5y")
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--parameters", type=int, default=20)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    experiment = load_experiment(args.spec)
    runner = Runner()
    nominal = experiment_nominal(runner.plan(experiment), runner.simulator(experiment.model))
    names = eligible_parameters(nominal, exclude=arm_set_parameters(experiment))[: args.parameters]
    problem = derive_problem(nominal, names, relative=0.2)
    objective = make_objective(experiment, args.output, names, runner=runner)
    rng = np.random.default_rng(1)
    unit = rng.random((args.samples, len(names)))
    bounds = np.array(problem.salib()["bounds"])
    samples = bounds[:, 0] + unit * (bounds[:, 1] - bounds[:, 0])

    print(
        f"model {experiment.model}, output {objective.label}, {len(names)} parameters, "
        f"{args.samples} samples, {args.workers} workers, libroadrunner {roadrunner.__version__}"
    )
    bare_s, bare_y = bare_loop(objective, samples)
    evaluate(objective, samples[:1], SerialEngine())  # compile this process's simulator first
    rows = [("bare libRoadRunner loop", bare_s, None)]
    results = {}
    for engine in ("serial", "processes", "dask"):
        if engine == "dask":
            from distributed import Client, LocalCluster

            with (
                LocalCluster(
                    n_workers=args.workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                ) as cluster,
                Client(cluster) as client,
            ):
                start_up = evaluate(objective, samples[:2], DaskEngine(client)).seconds
                client.restart()  # fresh workers: the timed run pays its compile like the others
                ev = evaluate(objective, samples, DaskEngine(client))
        else:
            chosen = SerialEngine() if engine == "serial" else ProcessEngine(args.workers)
            start_up = evaluate(objective, samples[:2], chosen).seconds
            ev = evaluate(objective, samples, chosen)
        results[engine] = ev.values[:, 0]
        rows.append((f"{engine} ({ev.workers} worker(s))", ev.seconds, start_up))
    print(f"{'engine':<28}{'wall s':>9}{'samples/s':>11}{'vs serial':>11}{'start-up s':>12}{'excl. s/s':>11}")
    serial_s = rows[1][1]
    for label, seconds, start_up in rows:
        startup = f"{start_up:12.2f}" if start_up is not None else f"{'':>12}"
        steady = args.samples / max(seconds - (start_up or 0.0), 1e-9)
        print(
            f"{label:<28}{seconds:9.2f}{args.samples / seconds:11.1f}{serial_s / seconds:11.2f}{startup}"
            f"{steady:11.1f}"
        )
    print(
        f"per-sample: bare {1e3 * bare_s / args.samples:.2f} ms, ours (serial) "
        f"{1e3 * serial_s / args.samples:.2f} ms, overhead x{serial_s / bare_s:.2f}"
    )
    same = all(np.array_equal(results["serial"], results[e], equal_nan=True) for e in ("processes", "dask"))
    print(
        f"engines identical: {same}; max |ours - bare| = {np.nanmax(np.abs(results['serial'] - bare_y)):.2e}"
    )


if __name__ == "__main__":
    main()
