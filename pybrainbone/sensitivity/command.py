"""``pybrainbone sensitivity local|morris|sobol|efast SPEC ...``: arguments and the command itself.

Kept here so that :mod:`pybrainbone.cli` only registers the sub-command.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pybrainbone.atomic import all_or_nothing, atomic_open, check_output_directory, check_target
from pybrainbone.errors import InvalidValueError, SimulationError
from pybrainbone.experiments.runner import Runner
from pybrainbone.experiments.spec import load_experiment
from pybrainbone.plotting import save_figure
from pybrainbone.run_record import run_record
from pybrainbone.sensitivity.checkpoint import Checkpoint
from pybrainbone.sensitivity.executors import EnsembleInterrupted, default_engine
from pybrainbone.sensitivity.global_ import DEFAULT_SEED, AnalysisFailed, run_global
from pybrainbone.sensitivity.local import DEFAULT_STEP, spec_time_sensitivities
from pybrainbone.sensitivity.objective import (
    Objective,
    arm_set_parameters,
    experiment_nominal,
    make_objective,
    parse_output,
)
from pybrainbone.sensitivity.outputs import write_failures, write_global
from pybrainbone.sensitivity.plots import plot_local
from pybrainbone.sensitivity.problem import Problem, derive_problem, eligible_parameters, load_problem
from pybrainbone.sensitivity.results import GlobalResult

METHODS = ("local", "morris", "sobol", "efast")


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The sub-command's arguments.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="pybrainbone sensitivity")
    >>> add_arguments(parser)
    >>> args = parser.parse_args(["morris", "pth.yaml", "--all", "--output", "dCTX@365", "-n", "20"])
    >>> args.method, args.spec, args.output, args.n, args.relative, args.out
    ('morris', 'pth.yaml', 'dCTX@365', 20, 0.2, 'results')
    """
    p.add_argument(
        "method", choices=METHODS, help="local (time-resolved, central differences), morris, sobol, efast"
    )
    p.add_argument("spec", metavar="SPEC", help="experiment spec (YAML) whose output is analysed")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--params", metavar="FILE", help="problem file (YAML): parameters and ranges")
    which.add_argument(
        "--all",
        action="store_true",
        help="every non-zero, non-switch parameter the arms do not set, +-RELATIVE of nominal",
    )
    p.add_argument(
        "--output",
        required=True,
        metavar="DG_ID[@TIME]",
        help="data generator of the spec, read at TIME days (default: the end)",
    )
    p.add_argument(
        "-n",
        type=int,
        default=None,
        help="Morris trajectories (10), Sobol base samples, a power of 2 (256), eFAST runs per "
        "parameter (256)",
    )
    p.add_argument("--relative", type=float, default=0.2, help="--all: range nominal*(1 -+ R) (default 0.2)")
    p.add_argument("--log-uniform", action="store_true", help="--all: sample ln p uniformly")
    p.add_argument("--second-order", action="store_true", help="Sobol: also second-order indices")
    p.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"sampling/bootstrap seed (default {DEFAULT_SEED})"
    )
    p.add_argument(
        "--workers", type=int, default=None, help="local processes (default: all cores; 1 = serial)"
    )
    p.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    p.add_argument(
        "--chunk-size",
        type=int,
        default=None,
        help="samples per task (default: ~10 tasks/worker, at most 100)",
    )
    p.add_argument("-o", "--out", default="results", help="output directory (default: results)")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted morris/sobol/efast run from <out>/<id>.<method>.partial.jsonl",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _engine(args: argparse.Namespace) -> dict[str, Any]:
    """The engine chosen on the command line (dask with a scheduler, else processes on more than one
    worker, else serial) and how samples are chunked and shown."""
    if args.workers is not None and args.workers < 1:
        raise InvalidValueError(f"--workers must be >= 1, got {args.workers}")
    engine = default_engine(args.workers, args.scheduler)
    return {"engine": engine, "chunk_size": args.chunk_size, "progress": not args.quiet}


def run_command(args: argparse.Namespace) -> int:
    """Run one analysis; writes ``<spec id>.<method>.csv/.json/.png`` into ``--out``.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> spec = Path(tmp.name) / "pth.yaml"
    >>> _ = spec.write_text(
    ...     "id: pth\\nmodel: bone_remodeling\\n"
    ...     "simulation: {type: uniform_time_course, end: 365, points: 5}\\n"
    ...     "arms: [{id: control}, {id: treated, changes: {P_PTH_ext: 100}}]\\n"
    ...     "data_generators: [{id: dCTX, expression: '100*(treated.CTX_rel/control.CTX_rel - 1)'}]\\n")
    >>> params = Path(tmp.name) / "problem.yaml"
    >>> _ = params.write_text("relative: 0.2\\nparameters: [D_OCp, A_OCa]\\n")
    >>> parser = argparse.ArgumentParser(prog="pybrainbone sensitivity")
    >>> add_arguments(parser)
    >>> args = parser.parse_args(["morris", str(spec), "--params", str(params), "--output", "dCTX@365",
    ...                           "-n", "4", "--workers", "1", "--seed", "1", "-q",
    ...                           "-o", f"{tmp.name}/results"])
    >>> run_command(args)
    pth: morris on pth:dCTX@365, 2 parameters, 12 runs (serial, 1 worker(s), ... s, seed 1); failed: 0 (no
    failures)
    top by mu_star: ...
    wrote .../pth.morris.csv, .../pth.morris.json, .../pth.morris.png
    0
    >>> tmp.cleanup()
    """
    experiment = load_experiment(args.spec)
    runner = Runner()
    output = parse_output(args.output)
    nominal = experiment_nominal(runner.plan(experiment), runner.simulator(experiment.model))
    model = experiment.model
    if args.params:
        problem: Problem = load_problem(args.params, nominal, model)
    else:
        names = eligible_parameters(nominal, exclude=arm_set_parameters(experiment))
        problem = derive_problem(
            nominal,
            names,
            relative=args.relative,
            distribution="log-uniform" if args.log_uniform else "uniform",
        )
    engine = _engine(args)
    stem = f"{experiment.id}.{args.method}"
    out = _check_outputs(Path(args.out), stem)
    if args.method == "local":
        if args.resume:
            raise InvalidValueError("--resume applies to morris, sobol and efast (local runs 2P+1 samples)")
        objective = make_objective(experiment, output, problem.names, runner=runner, series=True)
        local = spec_time_sensitivities(objective, relative_step=DEFAULT_STEP, **engine)
        csv = out / f"{stem}.csv"
        with all_or_nothing():
            with atomic_open(csv) as handle:
                local.to_frame().to_csv(handle, index=False, float_format="%.6g")
            save_figure(plot_local(local), out / f"{stem}.png", dpi=130)
        final = local.at(float(local.times[-1]), "semi_scaled").iloc[:, 0]
        top = final.abs().sort_values(ascending=False).head(5)
        print(
            f"{experiment.id}: local sensitivities of {output.data_generator} to {len(problem)} parameters "
            f"({2 * len(problem) + 1} runs); wrote {csv} and {out / f'{stem}.png'}"
        )
        print("largest p*dy/dp at the end: " + ", ".join(f"{k} {final[k]:+.3g}" for k in top.index))
        return 0
    objective = make_objective(experiment, output, problem.names, runner=runner)
    options: dict[str, Any] = {"seed": args.seed, **engine}
    if args.method == "sobol":
        options["second_order"] = args.second_order
    elif args.second_order:
        raise InvalidValueError("--second-order applies to sobol only")
    result, paths = _run_resumable(args, objective, problem, options, out, stem)
    summary = result.summary()
    print(
        f"{experiment.id}: {args.method} on {result.output}, {len(problem)} parameters, "
        f"{summary['samples']} runs "
        f"({summary['engine']}, {summary['workers']} worker(s), {summary['seconds']} s, seed {result.seed}); "
        f"failed: {summary['failed']} ({result.handling})"
    )
    key = "mu_star" if args.method == "morris" else "ST"
    head = result.indices.head(5)
    print(f"top by {key}: " + ", ".join(f"{r['parameter']} {r[key]:.3g}" for _, r in head.iterrows()))
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def _check_outputs(out: Path, stem: str) -> Path:
    """Refuse output paths that cannot be written before anything runs."""
    check_output_directory(out)
    for suffix in (".csv", ".json", ".png", ".failures.csv", ".S2.csv", ".partial.jsonl"):
        check_target(out / f"{stem}{suffix}")
    return out


def _run_resumable(
    args: argparse.Namespace,
    objective: Objective,
    problem: Problem,
    options: dict[str, Any],
    out: Path,
    stem: str,
) -> tuple[GlobalResult, list[Path]]:
    """Run the global method with a partial-results file; write the outputs (or, if it stops or fails,
    what finished and the failures table) and say how to go on."""
    checkpoint = Checkpoint(out / f"{stem}.partial.jsonl", resume=args.resume)
    try:
        result = run_global(args.method, objective, problem, args.n, checkpoint=checkpoint, **options)
    except AnalysisFailed as exc:
        checkpoint.remove()
        if not exc.evaluation.failures:
            raise
        path = write_failures(exc.evaluation.failures, out, stem)
        raise SimulationError(f"{exc}; the failures table is {path}") from None
    except EnsembleInterrupted as exc:
        failures = exc.evaluation.failures
        table = f"; {len(failures)} failed (see {write_failures(failures, out, stem)})" if failures else ""
        if not checkpoint.empty:
            where = f"; finished samples are in {checkpoint.path}: run the same command with --resume"
        else:
            checkpoint.remove()
            where = "" if failures else "; no output was written"
        raise EnsembleInterrupted(
            f"{exc}{table}{where}", exc.evaluation, exc.finished, exc.terminated
        ) from None
    except BaseException:
        if checkpoint.empty:
            checkpoint.remove()  # nothing worth keeping: leave no file behind
        raise
    with all_or_nothing():  # indices, summary, failures and figure appear together
        spec = objective.experiment
        record = run_record(
            objective.model, spec=spec, options=objective.plan.options, organism=spec.organism
        )
        paths = write_global(result, out, stem, provenance=record)
    checkpoint.remove()
    return result, paths
