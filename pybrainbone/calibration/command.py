"""``pybrainbone calibrate``, ``pybrainbone fit-report`` and ``pybrainbone export petab``: the commands.

Kept here so that :mod:`pybrainbone.cli` only registers the sub-commands.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pybrainbone.atomic import all_or_nothing, atomic_open, atomic_path, check_output_directory, check_target
from pybrainbone.calibration.estimate import DEFAULT_SEED, OPTIMIZERS, Estimate, estimate
from pybrainbone.calibration.likelihood import CalibrationError, Likelihood, build_likelihood, chi_square
from pybrainbone.calibration.priors import Prior
from pybrainbone.errors import InvalidValueError
from pybrainbone.experiments.runner import load_specs
from pybrainbone.experiments.spec import SpecError
from pybrainbone.plotting import save_figure
from pybrainbone.run_record import run_record
from pybrainbone.sensitivity.checkpoint import Checkpoint
from pybrainbone.sensitivity.executors import (
    DaskEngine,
    Engine,
    EnsembleInterrupted,
    ProcessEngine,
    SerialEngine,
)
from pybrainbone.simulator import Simulator

__all__ = ["add_calibrate_arguments", "add_fit_report_arguments", "run_calibrate", "run_fit_report"]

ENGINES = ("serial", "process", "dask")


def _specs(items: list[str]) -> list[Path]:
    """Spec files, and the ``*.yaml`` of each directory that link measurements."""
    paths: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.glob("*.yaml") if not p.name.startswith("."))
            if not found:
                raise SpecError(f"{path} holds no experiment specs (*.yaml files)")
            paths += found
        else:
            paths.append(path)
    return paths


def likelihood_from_args(args: argparse.Namespace, parameters: list[str]) -> Likelihood:
    """The likelihood of the specs named on the command line (only those with ``measurements:``).

    Examples
    --------
    >>> import tempfile
    >>> from pybrainbone.calibration import write_synthetic_problem
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     problem = write_synthetic_problem(folder)
    ...     args = argparse.Namespace(specs=[str(problem.spec)], data=problem.data)
    ...     print(likelihood_from_args(args, ["D_OCp"]).names)
    ('D_OCp',)
    """
    loaded = [spec for _, spec in load_specs(_specs(args.specs))]
    no_priors: dict[str, Prior] = {}  # None below: the dataset directory's priors.yaml
    priors = no_priors if getattr(args, "no_priors", False) else None
    return build_likelihood(loaded, parameters, data=args.data, priors=priors)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "specs", nargs="+", metavar="SPEC", help="spec files or directories (specs that link data)"
    )
    p.add_argument("--data", metavar="DIR", help="dataset directory (default: the project's data/)")
    p.add_argument(
        "--no-priors", action="store_true",
        help="uniform priors within the bounds only (default: the literature priors of <data>/priors.yaml "
        "for the estimated parameters it lists)",
    )  # fmt: skip


def add_fit_report_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``pybrainbone fit-report``.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="pybrainbone fit-report")
    >>> add_fit_report_arguments(parser)
    >>> parser.parse_args(["experiments/", "--json"]).json
    True
    """
    _add_common(p)
    p.add_argument("--json", action="store_true", help="rows and chi-square per dataset as JSON")
    p.add_argument(
        "--estimates", metavar="FILE",
        help="a calibrate result (<id>.calibration.json): report at its estimates, not the nominal values",
    )  # fmt: skip


def _at_estimates(args: argparse.Namespace) -> tuple[Likelihood, np.ndarray, str]:
    """The likelihood of the specs, the log10 vector to report at and a label for it."""
    path = getattr(args, "estimates", None)
    if not path:
        likelihood = likelihood_from_args(args, [])
        return likelihood, likelihood.nominal(), "nominal parameters"
    estimates = read_estimates(path)
    # Wide bounds: the vector is only evaluated here, never optimised.
    likelihood = likelihood_from_args(args, [f"{name}=1e-300:1e300" for name in estimates])
    x = np.log10([estimates[name] for name in likelihood.names])
    return likelihood, x, f"estimates of {path}"


def read_estimates(path: str | Path) -> dict[str, float]:
    """The estimated values (model units) of a ``<id>.calibration.json`` written by ``calibrate``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     target = Path(folder) / "fit.calibration.json"
    ...     _ = target.write_text('{"estimates": {"D_OCp": 0.003}}')
    ...     print(read_estimates(target))
    {'D_OCp': 0.003}
    """
    try:
        summary = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CalibrationError(f"cannot read estimates from {path}: {exc}") from None
    estimates = summary.get("estimates") if isinstance(summary, dict) else None
    if not isinstance(estimates, dict) or not all(
        isinstance(v, (int, float)) and v > 0 for v in estimates.values()
    ):
        raise CalibrationError(f"{path} holds no 'estimates' (positive values by parameter name)")
    return {str(k): float(v) for k, v in estimates.items()}


def run_fit_report(args: argparse.Namespace) -> int:
    """Print every linked measurement against the model at the nominal values (or ``--estimates``), and χ²
    per dataset; held-back rows follow apart, as predictions.

    Examples
    --------
    >>> import tempfile
    >>> from pybrainbone.calibration import write_synthetic_problem
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     problem = write_synthetic_problem(folder)
    ...     args = argparse.Namespace(specs=[str(problem.spec)], data=problem.data, json=False)
    ...     status = run_fit_report(args)
    experiment     dataset        observable ...
    ...
    chi-square per dataset (nominal parameters):
    ...synthetic_pth  synthetic_pth  24  ...
    >>> status
    0
    """
    from pybrainbone.calibration.predictions import prediction_summary, prediction_table

    likelihood, x, label = _at_estimates(args)
    simulator = Simulator(likelihood.model)
    table = likelihood.fit_table(simulator, x) if likelihood.observations else pd.DataFrame()
    chi2 = chi_square(table) if likelihood.observations else pd.DataFrame()
    held = prediction_table(likelihood, simulator, x)
    held_chi2 = prediction_summary(held)
    if args.json:
        report = {
            "rows": table.to_dict("records"),
            "chi2": chi2.to_dict("records"),
            "predictions": held.to_dict("records"),
            "predictions_chi2": held_chi2.to_dict("records"),
        }
        print(json.dumps(report, indent=2))
        return 0
    if likelihood.observations:
        print(table.drop(columns=["source"]).round(4).to_string(index=False))
        print(f"\nchi-square per dataset ({label}):")
        print(chi2.round(3).to_string(index=False))
    if not held.empty:
        print(f"\nheld back, not fitted: predictions ({label}):")
        print(held.drop(columns=["source", "ci_low", "ci_high"]).round(4).to_string(index=False))
        print("\nchi-square of the predictions per dataset (p-value on n degrees of freedom):")
        print(held_chi2.round(4).to_string(index=False))
    return 0


def add_calibrate_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``pybrainbone calibrate``.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="pybrainbone calibrate")
    >>> add_calibrate_arguments(parser)
    >>> args = parser.parse_args(["fit.yaml", "--parameters", "D_OCp=1e-4:1e-2", "kout_BMD", "--starts", "4"])
    >>> args.parameters, args.starts, args.engine, args.optimizer
    (['D_OCp=1e-4:1e-2', 'kout_BMD'], 4, 'serial', 'lbfgsb')
    """
    _add_common(p)
    p.add_argument(
        "--parameters", nargs="+", required=True, metavar="NAME[=LOW:HIGH]",
        help="parameters to estimate (log10 scale; default bounds nominal/10 .. nominal*10)",
    )  # fmt: skip
    p.add_argument("--starts", type=int, default=10, help="multi-start local optimisations (default 10)")
    p.add_argument("--engine", choices=ENGINES, default="serial", help="where starts run (default serial)")
    p.add_argument(
        "--workers", type=int, default=None, help="processes for --engine process (default: cores)"
    )
    p.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler for --engine dask (default: local)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="lbfgsb", help="local optimiser (pyPESTO)")
    p.add_argument("--max-evaluations", type=int, default=500, help="objective evaluations per start")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"start points (default {DEFAULT_SEED})")
    p.add_argument("--no-profile", action="store_true", help="skip the profile likelihoods")
    p.add_argument(
        "--profile-grid", type=int, metavar="N", default=None,
        help="profiles from the NLL on N points per parameter (at most 3 parameters, N**d evaluations on "
        "--engine); the best grid point is the first start",
    )  # fmt: skip
    p.add_argument(
        "--grid-zoom", type=int, default=2, metavar="K",
        help="with --profile-grid: K finer grids around the optimum, each (N-1)/2 times finer (default 2)",
    )  # fmt: skip
    p.add_argument("-o", "--out", default="results", help="output directory (default: results)")
    p.add_argument("--resume", action="store_true", help="go on from <out>/<stem>.calibration.partial.jsonl")
    p.add_argument(
        "--write-back", action="store_true",
        help="then write the estimates and their 95%% CIs into the model files (as apply-estimates does)",
    )  # fmt: skip
    p.add_argument(
        "--models", metavar="DIR", help="model directory --write-back edits (default: PYBRAINBONE_MODELS)"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _engine(args: argparse.Namespace) -> Engine:
    if args.workers is not None and args.workers < 1:
        raise InvalidValueError(f"--workers must be >= 1, got {args.workers}")
    if args.engine == "process":
        return ProcessEngine(args.workers)
    if args.engine == "dask":
        return DaskEngine(scheduler=args.scheduler)
    return SerialEngine()


def _outputs(out: Path, stem: str) -> dict[str, Path]:
    check_output_directory(out)
    names = {
        "summary": f"{stem}.calibration.json",
        "starts": f"{stem}.starts.csv",
        "fit": f"{stem}.fit.csv",
        "profiles": f"{stem}.profiles.csv",
        "figure": f"{stem}.profiles.png",
        "store": f"{stem}.pypesto.hdf5",
        "partial": f"{stem}.calibration.partial.jsonl",
        "predictions": f"{stem}.predictions.csv",
    }
    paths = {key: out / name for key, name in names.items()}
    for path in paths.values():
        check_target(path)
    return paths


def _write(likelihood: Likelihood, fit: Estimate, profiles: list[Any], paths: dict[str, Path]) -> list[Path]:
    from pybrainbone.calibration.predictions import prediction_summary, prediction_table
    from pybrainbone.calibration.profiles import plot_profiles, profile_table

    simulator = Simulator(likelihood.model)
    table = likelihood.fit_table(simulator, fit.x)
    summary = fit.summary()
    summary["chi2"] = chi_square(table).to_dict("records")
    summary["datasets"] = sorted({o.dataset for o in likelihood.observations})
    summary["held_back_datasets"] = sorted({o.dataset for o in likelihood.predictions})
    summary["priors"] = {p.name: p.prior.describe() for p in likelihood.parameters if p.prior is not None}
    held = prediction_table(likelihood, simulator, fit.x)
    if not held.empty:
        summary["predictions_chi2"] = prediction_summary(held).to_dict("records")
    experiments = [t.plan.experiment for t in likelihood.terms]
    summary["provenance"] = run_record(
        likelihood.model, spec=experiments[0], options=likelihood.terms[0].plan.options
    )
    written = [paths["summary"], paths["starts"], paths["fit"]]
    with all_or_nothing():
        if profiles:
            intervals = profile_table(profiles)
            summary["profiles"] = intervals.to_dict("records")
            with atomic_open(paths["profiles"]) as handle:
                intervals.to_csv(handle, index=False, float_format="%.8g")
            save_figure(plot_profiles(profiles), paths["figure"])
            written += [paths["profiles"], paths["figure"]]
        with atomic_open(paths["summary"]) as handle:
            json.dump(summary, handle, indent=2, default=float)
            handle.write("\n")
        with atomic_open(paths["starts"]) as handle:
            fit.table().to_csv(handle, index=False, float_format="%.10g")
        with atomic_open(paths["fit"]) as handle:
            table.to_csv(handle, index=False, float_format="%.8g")
        if not held.empty:
            with atomic_open(paths["predictions"]) as handle:
                held.to_csv(handle, index=False, float_format="%.8g")
            written.append(paths["predictions"])
        _store(likelihood, fit, profiles, simulator, paths["store"])
        written.append(paths["store"])
    return written


def _store(
    likelihood: Likelihood, fit: Estimate, profiles: list[Any], simulator: Simulator, target: Path
) -> None:
    """pyPESTO's HDF5 store of the starts (its ``Result`` format), written atomically."""
    import pypesto.store

    from pybrainbone.calibration.estimate import pypesto_problem
    from pybrainbone.calibration.profiles import _pypesto_result

    result = _pypesto_result(pypesto_problem(likelihood, simulator), fit)
    with atomic_path(target, suffix=".hdf5") as partial:
        partial.unlink()  # pyPESTO creates the file itself
        pypesto.store.write_result(result, str(partial), problem=False, optimize=True, profile=False)


def run_calibrate(args: argparse.Namespace) -> int:  # long: grid, starts, profiles and the report, in order
    """Estimate the parameters, profile them and write the outputs into ``--out``.

    Examples
    --------
    >>> import tempfile
    >>> from pybrainbone.calibration import write_synthetic_problem
    >>> tmp = tempfile.TemporaryDirectory()
    >>> problem = write_synthetic_problem(tmp.name)
    >>> parser = argparse.ArgumentParser()
    >>> add_calibrate_arguments(parser)
    >>> args = parser.parse_args([tmp.name, "--data", str(problem.data), "--parameters", "D_OCp",
    ...                           "--starts", "1",
    ...                           "-q", "-o", f"{tmp.name}/out"])
    >>> run_calibrate(args)
    synthetic_pth: 1 parameter(s), 24 measurements, 1 start(s) (serial, 1 worker(s)), best NLL ...
    D_OCp = 0.00313 (95% CI ... identifiable)
    wrote .../synthetic_pth.calibration.json, ...
    0
    >>> tmp.cleanup()
    """
    from pybrainbone.calibration.profiles import (
        grid_profiles,
        likelihood_grid,
        profile,
        profile_table,
        with_grid_best,
    )

    if getattr(args, "write_back", False) and args.no_profile:
        raise CalibrationError("--write-back needs the profile intervals; drop --no-profile")
    likelihood = likelihood_from_args(args, args.parameters)
    experiments = [t.plan.experiment.id for t in likelihood.terms]
    stem = experiments[0] if len(experiments) == 1 else "calibration"
    paths = _outputs(Path(args.out), stem)
    engine = _engine(args)
    grid = None
    if args.profile_grid is not None:
        if args.no_profile:
            raise CalibrationError("--profile-grid and --no-profile contradict each other; drop one")
        grid = likelihood_grid(likelihood, args.profile_grid, engine, progress=not args.quiet)
    checkpoint = Checkpoint(paths["partial"], resume=args.resume)
    try:
        fit = estimate(
            likelihood, args.starts, engine=engine, optimizer=args.optimizer,
            max_evaluations=args.max_evaluations, seed=args.seed, progress=not args.quiet,
            checkpoint=checkpoint, first=None if grid is None else grid.best(),
        )  # fmt: skip
    except EnsembleInterrupted as exc:  # Ctrl-C or SIGTERM: say where the finished starts are
        if checkpoint.empty:
            checkpoint.remove()
            raise
        checkpoint.close()
        where = f"; the finished starts are kept in {checkpoint.path}: run the same command with --resume"
        raise EnsembleInterrupted(f"{exc}{where}", exc.evaluation, exc.finished, exc.terminated) from None
    except BaseException:
        if checkpoint.empty:
            checkpoint.remove()
        else:
            checkpoint.close()
        raise
    checkpoint.close()
    if grid is not None:  # finer grids around the optimum, so the intervals are resolved
        fine = likelihood_grid(
            likelihood, args.profile_grid, engine, around=fit.x, zoom=args.grid_zoom, progress=not args.quiet
        )
        grid = grid.merged(fine)
        fit = with_grid_best(fit, grid)
        profiles = grid_profiles(grid, fit)
    else:
        profiles = [] if args.no_profile else profile(likelihood, fit)
    written = _write(likelihood, fit, profiles, paths)
    checkpoint.remove()
    priors = [f"{p.name} ({p.prior.describe()})" for p in likelihood.parameters if p.prior is not None]
    if priors:
        print("priors: " + "; ".join(priors))
    print(
        f"{', '.join(experiments)}: {len(likelihood.parameters)} parameter(s), "
        f"{len(likelihood.observations)} measurements, {len(fit.rows)} start(s) ({fit.engine}, "
        f"{fit.workers} worker(s)), best NLL "
        f"{fit.fvals[fit.best]:.6g} ({int((fit.rows[:, 2] > 0).sum())} converged)"
    )
    intervals = profile_table(profiles) if profiles else pd.DataFrame()
    for name, value in fit.estimates().items():
        line = f"{name} = {value:.3g}"
        if not intervals.empty:
            row = intervals.set_index("parameter").loc[name]
            line += f" (95% CI {row['ci_low']:.3g} .. {row['ci_high']:.3g}, {row['status']})"
        print(line)
    print("wrote " + ", ".join(str(p) for p in written))
    if getattr(args, "write_back", False):
        from pybrainbone.calibration.write_back import apply_estimates, describe_edits

        edits = apply_estimates(paths["summary"], getattr(args, "models", None))
        print(describe_edits(edits))
    return 0


def run_export_petab(args: argparse.Namespace) -> int:
    """``pybrainbone export petab SPEC|DIR --parameters ... -o DIR``.

    Examples
    --------
    >>> import tempfile
    >>> from pybrainbone.calibration import write_synthetic_problem
    >>> tmp = tempfile.TemporaryDirectory()
    >>> problem = write_synthetic_problem(tmp.name)
    >>> args = argparse.Namespace(specs=[tmp.name], data=problem.data, parameters=["D_OCp"],
    ...                           output=f"{tmp.name}/petab")
    >>> run_export_petab(args)
    wrote .../petab/problem.yaml (PEtab v1: model.xml, conditions, observables, 24 measurements, 1
    parameter(s); lint passed)
    0
    >>> tmp.cleanup()
    """
    from pybrainbone.calibration.petab_export import export_petab

    if not args.parameters:
        raise CalibrationError(
            "export petab needs the parameters to estimate: --parameters NAME[=LOW:HIGH] ..."
        )
    likelihood = likelihood_from_args(args, args.parameters)
    problem = export_petab(likelihood, args.output)
    print(
        f"wrote {problem} (PEtab v1: model.xml, conditions, observables, {len(likelihood.observations)} "
        f"measurements, {len(likelihood.parameters)} parameter(s); lint passed)"
    )
    return 0
