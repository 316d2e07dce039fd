"""Calibration: objective evaluations per second and the wall time of a small multi-start calibration.

    python benchmarks/bench_calibration.py [--starts N] [--workers K] [--evaluations N] [--freedom]

Workloads: the synthetic problem (pybrainbone.calibration.synthetic: bone core, one 1-year PTH arm,
24 measurements, D_OCp and kout_BMD on log10 scales) and, with --freedom, the FREEDOM hip-BMD fit
(experiments/denosumab_freedom_fit.yaml: whole brain-bone axis, two 13-year arms, 6 measurements,
Dmab_chi_dmab). Reported: NLL evaluations/s (serial, one simulator), wall time of N starts serial and on
K processes (including worker start-up), and the profile likelihoods' wall time. Not a test.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from pybrainbone.calibration import build_likelihood, write_synthetic_problem
from pybrainbone.calibration.estimate import estimate
from pybrainbone.calibration.likelihood import Likelihood
from pybrainbone.calibration.profiles import profile
from pybrainbone.experiments.spec import load_experiment
from pybrainbone.sensitivity.executors import ProcessEngine, SerialEngine
from pybrainbone.simulator import Simulator

ROOT = Path(__file__).resolve().parents[1]


def evaluations_per_second(likelihood: Likelihood, n: int) -> float:
    sim = Simulator(likelihood.model)
    x = likelihood.nominal()
    likelihood.nll(sim, x)  # warm up
    started = time.perf_counter()
    for _ in range(n):
        likelihood.nll(sim, x)
    return n / (time.perf_counter() - started)


def run(name: str, likelihood: Likelihood, args: argparse.Namespace) -> None:
    rate = evaluations_per_second(likelihood, args.evaluations)
    timings = {}
    for engine in (SerialEngine(), ProcessEngine(args.workers)):
        started = time.perf_counter()
        fit = estimate(likelihood, args.starts, engine=engine, seed=1)
        timings[engine.name] = (time.perf_counter() - started, int(fit.rows[:, 1].sum()))
    started = time.perf_counter()
    profile(likelihood, fit)
    profiled = time.perf_counter() - started
    print(
        f"| {name} | {rate:.0f} | {args.starts} | {timings['serial'][0]:.2f} ({timings['serial'][1]} evals) "
        f"| {timings['processes'][0]:.2f} | {profiled:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--evaluations", type=int, default=200)
    parser.add_argument("--freedom", action="store_true", help="also the FREEDOM fit (slower)")
    args = parser.parse_args()
    print("| problem | NLL evals/s | starts | serial wall s | processes wall s | profiles wall s |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        problem = write_synthetic_problem(folder)
        likelihood = build_likelihood(
            [load_experiment(problem.spec)], ["D_OCp", "kout_BMD"], data=problem.data
        )
        run("synthetic (bone core, 2 parameters)", likelihood, args)
    if args.freedom:
        spec = load_experiment(ROOT / "experiments" / "denosumab_freedom_fit.yaml")
        run(
            "FREEDOM hip BMD (brain_bone_axis, Dmab_chi_dmab)",
            build_likelihood([spec], ["Dmab_chi_dmab=0.1:10"]),
            args,
        )


if __name__ == "__main__":
    main()
