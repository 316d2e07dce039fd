"""The ``pybrainbone`` command line: the same operations as the Python API.

Examples::

    pybrainbone list
    pybrainbone list bone_remodeling
    pybrainbone build --out build/sbml
    pybrainbone build brain_bone_axis --comp --out build/sbml
    pybrainbone simulate bone_remodeling --end 3650 --points 366 --set P_PTH_ext=100 \\
        -o results/pth.csv --plot results/pth.png
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from pybrainbone import __version__
from pybrainbone.atomic import all_or_nothing, atomic_open, check_target, write_text_atomic
from pybrainbone.boundary import guarded, report
from pybrainbone.build import compile_model, write_sbml
from pybrainbone.comp import write_hierarchical_sbml
from pybrainbone.errors import InvalidValueError, PyBrainBoneError
from pybrainbone.model_text import declared_ids, flat_parameter_records, read_module
from pybrainbone.options import SolverOptions
from pybrainbone.paths import available_models
from pybrainbone.plotting import check_figure_path, plot_network, plot_time_course, save_figure
from pybrainbone.run_record import run_record
from pybrainbone.simulator import Simulator
from pybrainbone.values import check_value


def _parse_assignment(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise InvalidValueError(f"--set expects NAME=VALUE, got {text!r}")
    try:
        number = float(value)
    except ValueError:
        raise InvalidValueError(f"--set {name.strip()}: {value!r} is not a number") from None
    return name.strip(), check_value(name.strip(), number)


def _add_solver_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rtol", type=float, help="CVODE relative tolerance (default 1e-9, or the spec's)")
    p.add_argument("--atol", type=float, help="CVODE absolute tolerance (default 1e-15, or the spec's)")


def _solver_changes(args: argparse.Namespace) -> dict[str, float]:
    """The solver settings given on the command line (validated like every other value)."""
    given = {"relative_tolerance": args.rtol, "absolute_tolerance": args.atol}
    chosen = {k: check_value(f"--{k}", v) for k, v in given.items() if v is not None}
    SolverOptions().with_(**chosen)  # refuses tolerances outside (0, 1) with a one-line error
    return chosen


def _cmd_list(args: argparse.Namespace) -> int:
    if not args.model:
        for name in available_models():
            print(name)
        return 0
    sim = Simulator(args.model)
    table = sim.parameters()
    counts = f"{len(sim.state_ids)} states, {len(table)} parameters, {len(sim.output_ids)} outputs"
    print(f"# model {sim.name}: {counts}")
    print("## states")
    for sid in sim.state_ids:
        print(f"{sid}\t{sim.units.get(sid, '')}")
    records = flat_parameter_records(sim.name) if sim.model.source.suffix == ".ant" else {}
    print("## parameters (value, unit, description, source)")
    for pid, row in table.iterrows():
        record = records.get(str(pid))
        about = f"\t{record.description}\t{record.source}" if record else ""
        print(f"{pid}\t{row['value']:.6g}\t{row['unit']}{about}")
    print("## outputs")
    for sid in sim.output_ids:
        print(f"{sid}\t{sim.units.get(sid, '')}")
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    names = args.models or available_models()
    for name in names:
        model = compile_model(name)
        path = write_sbml(model, Path(args.out))
        print(f"{name}: {path} (SBML L3V2, 0 errors, 0 unit warnings)")
        if args.comp and read_module(name).instances:
            path = write_hierarchical_sbml(name, Path(args.out))
            print(f"{name}: {path} (hierarchical SBML L3V2, comp package: one model definition per module)")
    return 0


#: Most output time points ``simulate`` writes (as in a spec's ``uniform_time_course``).
MAX_POINTS = 100_000


def _cmd_simulate(args: argparse.Namespace) -> int:
    # Every argument and output path is checked before anything runs or is written.
    check_target(args.output)
    if args.plot:
        check_figure_path(args.plot)
        check_target(args.plot)
    changes = dict(_parse_assignment(item) for item in args.set or [])
    if not math.isfinite(args.end) or args.end <= 0:
        raise InvalidValueError(f"--end must be a positive number of days, got {args.end}")
    if not 2 <= args.points <= MAX_POINTS:
        raise InvalidValueError(f"--points must be between 2 and {MAX_POINTS}, got {args.points}")
    options = SolverOptions().with_(**_solver_changes(args))
    sim = Simulator(args.model, organism=args.organism)
    selections = args.select or None
    frame = sim.simulate(
        end=args.end, points=args.points, changes=changes, selections=selections, options=options
    )
    units = frame.attrs["units"]
    out = frame.rename(columns=lambda c: f"{c} [{units[c]}]" if units.get(c) else c)
    out.index.name = "time [day]"
    with all_or_nothing():  # the CSV and the figure appear together, or neither does
        with atomic_open(args.output) as handle:
            out.to_csv(handle)
        record = run_record(sim.model, options=options, organism=sim.organism)
        record["changes"] = json.dumps(changes, sort_keys=True)
        with atomic_open(provenance_path(args.output)) as handle:
            json.dump(record, handle, indent=2)
            handle.write("\n")
        if args.plot:
            # What the model declares to show (// @plot; a composition shows its core's), else 8 columns.
            declared = declared_ids(sim.name, "plot") if sim.model.source.suffix == ".ant" else ()
            shown = selections or [c for c in declared if c in frame.columns] or list(frame.columns)[:8]
            title = f"{sim.name}" + (
                f" ({', '.join(f'{k}={v:g}' for k, v in changes.items())})" if changes else ""
            )
            save_figure(plot_time_course(frame, columns=shown, title=title), args.plot)
    print(
        f"wrote {args.output} ({len(frame)} time points x {len(frame.columns)} variables) and "
        f"{provenance_path(args.output)}"
    )
    if args.plot:
        print(f"wrote {args.plot}")
    return 0


def provenance_path(output: str | Path) -> Path:
    """Where ``simulate`` records how a CSV was made: ``x.csv`` -> ``x.provenance.json``.

    Examples
    --------
    >>> print(provenance_path("results/pth.csv"))
    results/pth.provenance.json
    """
    return Path(output).with_suffix(".provenance.json")


def _spec_paths(specs: Sequence[str]) -> list[Path]:
    """Spec files named, and every ``*.yaml`` in each directory named (a directory without any is an
    error: it is never silently nothing to do)."""
    from pybrainbone.experiments.spec import SpecError

    paths: list[Path] = []
    for item in specs:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.glob("*.yaml") if not p.name.startswith("."))
            if not found:
                raise SpecError(
                    f"{path} holds no experiment specs (*.yaml files); give spec files or a "
                    "directory of specs"
                )
            paths.extend(found)
        else:
            paths.append(path)
    return paths


def _cmd_run(args: argparse.Namespace) -> int:
    from pybrainbone.experiments.runner import run_all

    results = run_all(
        _spec_paths(args.specs), out_dir=args.out, progress=not args.quiet, solver=_solver_changes(args)
    )
    from pybrainbone.experiments.scorecard import known_failures_text

    for result in results:
        passed = sum(t.passed for t in result.targets)
        verdict = f" ({known_failures_text(result.targets)})" if passed < len(result.targets) else ""
        print(
            f"{result.experiment.id}: {passed}/{len(result.targets)} targets met{verdict}; "
            f"outputs in {args.out}/"
        )
    return 0


def _cmd_scorecard(args: argparse.Namespace) -> int:
    import json

    from pybrainbone.experiments.scorecard import scorecard, scorecard_from_results, scorecard_table

    paths = _spec_paths(args.specs) if args.specs else None
    if args.results:
        rows = scorecard_from_results(Path(args.results), paths)
    else:
        rows = scorecard(paths, progress=not args.json)
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], indent=2))
    else:
        print(scorecard_table(rows))
    return 0


def _cmd_network(args: argparse.Namespace) -> int:
    if args.plot:
        check_figure_path(args.plot)
    from pybrainbone.network import module_systems, network_edges

    edges = network_edges(args.model)
    if args.json:
        print(edges.to_json(orient="records", indent=2))
    else:
        print(edges.to_string(index=False))
    if args.plot:
        save_figure(plot_network(edges, module_systems(args.model)), args.plot, dpi=110)
        print(f"wrote {args.plot}", file=sys.stderr if args.json else sys.stdout)
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    import json

    from pybrainbone.experiments.spec import experiment_json_schema

    print(json.dumps(experiment_json_schema(), indent=2))
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    if args.format == "petab":
        from pybrainbone.calibration.command import run_export_petab

        return run_export_petab(argparse.Namespace(**{**vars(args), "specs": [args.spec]}))
    from pybrainbone.experiments.sedml import export_omex, export_sedml, sidecar_name, targets_sidecar
    from pybrainbone.experiments.spec import load_experiment

    experiment = load_experiment(args.spec)
    try:
        if args.format == "omex":
            export_omex(experiment, args.output)
            members = f"model.xml, {experiment.id}.sedml"
            members += f", {experiment.id}.targets.json" if targets_sidecar(experiment) else ""
            print(f"wrote {args.output} (COMBINE archive: {members}, metadata)")
            return 0
        text = export_sedml(experiment, model_source=args.model_source)
    except PyBrainBoneError as exc:
        raise PyBrainBoneError(f"{args.spec}: {exc}") from None
    # Targets (and measurement links) have no place in SED-ML: they go beside it, where import reads them.
    targets = targets_sidecar(experiment)
    beside = Path(args.output).with_name(sidecar_name(Path(args.output).name))
    with all_or_nothing():
        with atomic_open(args.output) as handle:
            handle.write(text)
        if targets is not None:
            write_text_atomic(beside, targets)
    print(f"wrote {args.output} (SED-ML L1V4; its models read {args.model_source})")
    if targets is not None:
        print(f"wrote {beside} (its targets, which SED-ML has no place for)")
    elif beside.is_file() and not beside.is_symlink():
        beside.unlink()  # an earlier export's: import would read it as this experiment's targets
        print(f"removed {beside} (the targets of an earlier export; this experiment has none)")
    return 0


def _cmd_import_sedml(args: argparse.Namespace) -> int:
    from pybrainbone.experiments.sedml import import_sedml

    text = import_sedml(args.file, model=args.model).to_yaml()
    if args.output is None:
        print(text, end="")
        return 0
    with atomic_open(args.output) as handle:
        handle.write(text)
    print(f"wrote {args.output}")
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from pybrainbone.calibration.command import run_calibrate

    return run_calibrate(args)


def _cmd_fit_report(args: argparse.Namespace) -> int:
    from pybrainbone.calibration.command import run_fit_report

    return run_fit_report(args)


def _cmd_compare_variants(args: argparse.Namespace) -> int:
    from pybrainbone.calibration.variant_command import run_compare_variants

    return run_compare_variants(args)


def _cmd_apply_estimates(args: argparse.Namespace) -> int:
    from pybrainbone.calibration.write_back import run_apply_estimates

    return run_apply_estimates(args)


def _cmd_sensitivity(args: argparse.Namespace) -> int:
    from pybrainbone.sensitivity.command import run_command

    return run_command(args)


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line (and the sub-commands built the same way)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())}; see `{self.prog} --help`\n")


def build_parser() -> argparse.ArgumentParser:  # long: one declarative table of the subcommands
    """The argument parser of ``pybrainbone`` and every sub-command.

    Examples
    --------
    >>> args = build_parser().parse_args(
    ...     ["simulate", "bone_remodeling", "--end", "365", "-o", "pth.csv", "--set", "P_PTH_ext=100"])
    >>> args.command, args.end, args.points, args.set
    ('simulate', 365.0, 201, ['P_PTH_ext=100'])
    """
    parser = _Parser(
        prog="pybrainbone",
        description="Build, list and simulate the brain-bone axis model (SBML, libRoadRunner).",
    )
    parser.add_argument("--version", action="version", version=f"pybrainbone {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list models, or one model's states, parameters and outputs")
    p.add_argument("model", nargs="?", help="model name (omit to list all models)")
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("build", help="compile Antimony modules to validated SBML L3V2 files")
    p.add_argument("models", nargs="*", help="model names (default: all)")
    p.add_argument("--out", default="build/sbml", help="output directory (default: build/sbml)")
    p.add_argument(
        "--comp",
        action="store_true",
        help="also write each composed model as hierarchical SBML (comp package), <name>.comp.xml",
    )
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser(
        "simulate",
        help="time course from the healthy reference state, written as CSV (and a plot)",
        description="Simulate MODEL from its healthy reference state with parameter changes applied at t=0.",
    )
    p.add_argument("model", help="model name, e.g. bone_remodeling (see `pybrainbone list`)")
    p.add_argument("--end", type=float, required=True, help="end time in days")
    p.add_argument("--points", type=int, default=201, help="number of output time points (default 201)")
    p.add_argument(
        "--set",
        action="append",
        metavar="NAME=VALUE",
        help="change a parameter or initial value (repeatable)",
    )
    p.add_argument("--select", nargs="+", metavar="NAME", help="variables to report (default: all)")
    p.add_argument("-o", "--output", required=True, help="CSV file to write")
    p.add_argument("--plot", help="PNG/SVG/PDF figure to write")
    p.add_argument("--organism", default="human", help="organism preset: human (default), rat or mouse")
    _add_solver_arguments(p)
    p.set_defaults(func=_cmd_simulate)

    p = sub.add_parser(
        "run",
        help="run experiment specs (YAML): tidy CSV, summary JSON and figure per experiment",
        description="Run experiment specs; a directory runs every *.yaml in it.",
    )
    p.add_argument("specs", nargs="+", metavar="SPEC", help="spec files or directories (e.g. experiments/)")
    p.add_argument("-o", "--out", default="results", help="output directory (default: results)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _add_solver_arguments(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser(
        "scorecard",
        help="check every literature target in the experiment library",
        description="Run every experiment with targets and report each target (exit 0 even when some fail).",
    )
    p.add_argument(
        "specs", nargs="*", metavar="SPEC", help="spec files or directories (default: the library)"
    )
    p.add_argument(
        "--json", action="store_true", help="JSON list of {target, experiment, passed, value, expected}"
    )
    p.add_argument(
        "--results", metavar="DIR", help="read the summaries a `run -o DIR` wrote instead of re-running"
    )
    p.set_defaults(func=_cmd_scorecard)

    p = sub.add_parser("network", help="print (and draw) the map of the network: who acts on what, with sign")
    p.add_argument(
        "model", nargs="?", default="brain_bone_axis", help="composed model (default brain_bone_axis)"
    )
    p.add_argument("--json", action="store_true", help="edges as JSON records")
    p.add_argument("--plot", help="figure file to write (PNG/SVG/PDF)")
    p.set_defaults(func=_cmd_network)

    p = sub.add_parser("schema", help="print the JSON Schema of the experiment spec format")
    p.set_defaults(func=_cmd_schema)

    p = sub.add_parser(
        "export",
        help="export an experiment spec as SED-ML L1V4 or a COMBINE/OMEX archive",
        description="Write SPEC as SED-ML (models read --model-source) or as an OMEX archive with the SBML.",
    )
    p.add_argument(
        "format",
        choices=["sedml", "omex", "petab"],
        help="sedml: SED-ML file; omex: COMBINE archive; petab: PEtab v1 problem directory",
    )
    p.add_argument("spec", metavar="SPEC", help="experiment spec (YAML; petab: a spec or a directory)")
    p.add_argument("-o", "--output", required=True, help="file to write (petab: directory)")
    p.add_argument("--parameters", nargs="+", metavar="NAME[=LOW:HIGH]", help="petab: parameters to estimate")
    p.add_argument("--data", metavar="DIR", help="petab: dataset directory (default: the project's data/)")
    p.add_argument(
        "--no-priors", action="store_true",
        help="petab: uniform priors only (default: the literature priors of <data>/priors.yaml)",
    )  # fmt: skip
    p.add_argument(
        "--model-source", default="model.xml", help="SBML file the SED-ML models read (default: model.xml)"
    )
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser(
        "import-sedml",
        help="read SED-ML (or an OMEX archive) back into an experiment spec (YAML)",
        description="Convert FILE (SED-ML or OMEX) to an experiment spec; prints YAML unless -o is given.",
    )
    p.add_argument("file", metavar="FILE", help="SED-ML file or OMEX archive")
    p.add_argument("-o", "--output", metavar="SPEC.yaml", help="spec file to write (default: stdout)")
    p.add_argument(
        "--model", help="model name to use (default: from the file's annotation or SBML file name)"
    )
    p.set_defaults(func=_cmd_import_sedml)

    p = sub.add_parser(
        "sensitivity",
        help="local, Morris, Sobol or eFAST sensitivity of a spec's output (CSV of indices + figure)",
        description="Sensitivity of one data generator of SPEC (at a time) to model parameters; serial, "
        "local processes or a Dask cluster (--scheduler).",
    )
    from pybrainbone.sensitivity.command import add_arguments as _sensitivity_arguments

    _sensitivity_arguments(p)
    p.set_defaults(func=_cmd_sensitivity)

    from pybrainbone.calibration.command import add_calibrate_arguments, add_fit_report_arguments

    p = sub.add_parser(
        "calibrate",
        help="estimate parameters from the measurements specs link (multi-start, profile likelihoods)",
        description="Maximum-likelihood estimation (pyPESTO) of model parameters from the measurements that "
        "the specs' measurements: sections link, with 95%% profile-likelihood intervals.",
    )
    add_calibrate_arguments(p)
    p.set_defaults(func=_cmd_calibrate)

    p = sub.add_parser(
        "fit-report",
        help="normalised residuals and chi-square of the linked measurements at the nominal parameters",
    )
    add_fit_report_arguments(p)
    p.set_defaults(func=_cmd_fit_report)
    _calibration_extras(sub)
    return parser


def _calibration_extras(sub: Any) -> None:
    """Register ``compare-variants`` and ``apply-estimates`` (issue 13, parts 6 and 8)."""
    from pybrainbone.calibration.variant_command import add_compare_variants_arguments
    from pybrainbone.calibration.write_back import add_apply_estimates_arguments

    p = sub.add_parser(
        "compare-variants",
        help="fit model variants (labelled parameter changes) to the same data; AIC, BIC, Akaike weights",
    )
    add_compare_variants_arguments(p)
    p.set_defaults(func=_cmd_compare_variants)
    p = sub.add_parser(
        "apply-estimates",
        help="write a calibration's estimates and 95%% CIs into the model files (one line each, atomically)",
    )
    add_apply_estimates_arguments(p)
    p.set_defaults(func=_cmd_apply_estimates)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status: 0 ok, 2 bad input or failure (one line on stderr, see
    :mod:`pybrainbone.boundary`), 130 interrupted, 143 terminated, 141 output pipe closed.

    Examples
    --------
    >>> import contextlib, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     status = main(["simulate", "bone_remodeling", "--end", "30", "--points", "4", "--select", "OBa",
    ...                    "-o", f"{folder}/pth.csv"])
    ...     written = sorted(p.name for p in Path(folder).iterdir())
    wrote .../pth.csv (4 time points x 1 variables) and .../pth.provenance.json
    >>> status, written
    (0, ['pth.csv', 'pth.provenance.json'])
    >>> with contextlib.redirect_stderr(sys.stdout):
    ...     main(["simulate", "bone_remodeling", "--end", "-1", "-o", "never-written.csv"])
    pybrainbone: error: --end must be a positive number of days, got -1.0
    2
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help and --version (0), usage errors (2, one line)
        return exc.code if isinstance(exc.code, int) else 0
    except BrokenPipeError as exc:  # --help into a closed pipe
        return report(exc, None, argv)
    return guarded(lambda: args.func(args), args, argv)


if __name__ == "__main__":
    sys.exit(main())
