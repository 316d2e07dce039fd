"""``pybrainbone compare-variants SPEC|DIR --variants FILE [--parameters ...] -o DIR``: the command.

It fits every variant of the variants file (:mod:`pybrainbone.calibration.variants`) to the measurements
the specs link and writes, all together or none, into ``-o``:

* ``<stem>.variants.csv``: one row per variant, best first: log-likelihood, k, n, AIC, BIC, ΔAIC, ΔBIC,
  Akaike weight, χ² and its p-value, estimates, the variant's changes;
* ``<stem>.variants.json``: the same rows, each variant's χ² per dataset and held-back predictions, the
  one-line summary and the provenance (model and spec hashes, the variants file and its SHA-256);
* ``<stem>.variants.fit.csv``: every measurement against every variant's fitted model (and, for held-back
  rows, ``held_back = True``).

``<stem>`` is the spec id (``variants`` for several specs). The console gets the one-line summary. While it
runs, each fitted variant is appended to ``<stem>.variants.partial.jsonl``; ``--resume`` continues an
interrupted comparison from it (same variants, specs, data, model and settings, else a clear error).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pybrainbone.atomic import all_or_nothing, atomic_open, check_output_directory, check_target
from pybrainbone.calibration.command import ENGINES, _engine, _specs
from pybrainbone.calibration.estimate import DEFAULT_SEED, OPTIMIZERS
from pybrainbone.calibration.predictions import prediction_summary, prediction_table
from pybrainbone.calibration.variants import (
    Comparison,
    VariantFit,
    compare_variants,
    load_variants,
    variants_text_hash,
)
from pybrainbone.experiments.runner import load_specs
from pybrainbone.run_record import run_record
from pybrainbone.sensitivity.checkpoint import Checkpoint
from pybrainbone.simulator import Simulator

__all__ = ["add_compare_variants_arguments", "finite", "run_compare_variants", "write_comparison"]


def add_compare_variants_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``pybrainbone compare-variants``.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="pybrainbone compare-variants")
    >>> add_compare_variants_arguments(parser)
    >>> args = parser.parse_args(["fit.yaml", "--variants", "v.yaml", "--only", "a", "b", "-o", "out"])
    >>> args.variants, args.only, args.parameters, args.starts
    ('v.yaml', ['a', 'b'], [], 5)
    """
    p.add_argument(
        "specs", nargs="+", metavar="SPEC", help="spec files or directories (specs that link data)"
    )
    p.add_argument("--variants", required=True, metavar="FILE", help="variants file (YAML)")
    p.add_argument("--only", nargs="+", metavar="ID", help="compare only these variants (default: all)")
    p.add_argument(
        "--parameters", nargs="+", default=[], metavar="NAME[=LOW:HIGH]",
        help="parameters every variant estimates (default none: the likelihood at the nominal values)",
    )  # fmt: skip
    p.add_argument("--data", metavar="DIR", help="dataset directory (default: the project's data/)")
    p.add_argument(
        "--no-priors", action="store_true",
        help="uniform priors only (default: the literature priors of <data>/priors.yaml)",
    )  # fmt: skip
    p.add_argument("--starts", type=int, default=5, help="multi-start optimisations per variant (default 5)")
    p.add_argument("--engine", choices=ENGINES, default="serial", help="where starts run (default serial)")
    p.add_argument(
        "--workers", type=int, default=None, help="processes for --engine process (default: cores)"
    )
    p.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler for --engine dask (default: local)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="lbfgsb", help="local optimiser (pyPESTO)")
    p.add_argument("--max-evaluations", type=int, default=500, help="objective evaluations per start")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"start points (default {DEFAULT_SEED})")
    p.add_argument("-o", "--out", default="results", help="output directory (default: results)")
    p.add_argument(
        "--resume", action="store_true",
        help="go on from <out>/<stem>.variants.partial.jsonl (the variants an interrupted run finished)",
    )  # fmt: skip
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by ``None`` (JSON without NaN or Infinity).

    Examples
    --------
    >>> finite({"aic": float("inf"), "rows": [1.5, float("nan")], "id": "a"})
    {'aic': None, 'rows': [1.5, None], 'id': 'a'}
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return finite(value.item())
    return value


def _long_table(comparison: Comparison) -> tuple[pd.DataFrame, dict[str, list[dict[str, Any]]]]:
    """Every variant's fitted rows and held-back predictions (long format), and its prediction χ²."""
    frames, held_chi2 = [], {}
    simulators: dict[str, Simulator] = {}
    for fit in comparison.fits:
        rows = pd.DataFrame(fit.fit_rows).assign(held_back=False)
        likelihood = fit.likelihood
        if likelihood is not None and likelihood.predictions and math.isfinite(fit.nll):
            x = np.array([math.log10(fit.estimates[n]) for n in likelihood.names])
            simulator = simulators.setdefault(likelihood.model.name, Simulator(likelihood.model))
            held = prediction_table(likelihood, simulator, x)
            held_chi2[fit.variant.id] = prediction_summary(held).to_dict("records")
            rows = pd.concat(
                [rows, held.drop(columns=["ci_low", "ci_high", "inside_ci"]).assign(held_back=True)]
            )
        frames.append(rows.assign(variant=fit.variant.id))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    first = ["variant", "held_back"]
    return table[first + [c for c in table.columns if c not in first]], held_chi2


def _fit_record(fit: VariantFit, predictions_chi2: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": fit.variant.name, "source": fit.variant.source, "changes": fit.variant.changes,
            "estimates": fit.estimates, "starts": fit.starts, "converged": fit.converged,
            "seconds": round(fit.seconds, 3), "chi2": fit.chi2_per_dataset,
            "predictions_chi2": predictions_chi2}  # fmt: skip


def write_comparison(
    comparison: Comparison, out: str | Path, stem: str, *, variants_file: str | Path, label: str
) -> list[Path]:
    """Write the comparison table (CSV, JSON with provenance) and the long fit table, atomically.

    Examples
    --------
    >>> import tempfile
    >>> from pybrainbone.calibration import write_synthetic_problem
    >>> from pybrainbone.calibration.variants import Variant, VariantSet
    >>> from pybrainbone.experiments.spec import load_experiment
    >>> from pybrainbone.paths import experiments_dir
    >>> tmp = tempfile.TemporaryDirectory()
    >>> problem = write_synthetic_problem(tmp.name)
    >>> truth = Variant(id="truth", changes=dict(problem.truth))
    >>> variants = VariantSet(variants=[Variant(id="nominal"), truth])
    >>> comparison = compare_variants([load_experiment(problem.spec)], variants, data=problem.data)
    >>> written = write_comparison(comparison, f"{tmp.name}/out", "synthetic_pth", label="synthetic_pth",
    ...                            variants_file=experiments_dir() / "variants" / "brain_bone_axis.yaml")
    >>> [p.name for p in written]
    ['synthetic_pth.variants.csv', 'synthetic_pth.variants.json', 'synthetic_pth.variants.fit.csv']
    >>> tmp.cleanup()
    """
    directory = check_output_directory(out)
    paths = [check_target(directory / f"{stem}.variants.{ext}") for ext in ("csv", "json", "fit.csv")]
    table = comparison.table()
    long, held_chi2 = _long_table(comparison)
    first = next(f.likelihood for f in comparison.fits if f.likelihood is not None)
    experiments = [t.plan.experiment for t in first.terms]
    provenance = run_record(first.model, spec=experiments[0], options=first.terms[0].plan.options)
    provenance.update({"specs": ", ".join(e.id for e in experiments), "variants_file": str(variants_file),
                       "variants_sha256": variants_text_hash(variants_file)})  # fmt: skip
    summary = {
        "summary": comparison.summary_line(label),
        "best": comparison.best,
        "n": int(table["n"].iloc[0]),
        "datasets": sorted({o.dataset for o in first.observations}),
        "held_back_datasets": sorted({o.dataset for o in first.predictions}),
        "variants": table.to_dict("records"),
        "fits": {f.variant.id: _fit_record(f, held_chi2.get(f.variant.id, [])) for f in comparison.fits},
        "provenance": provenance,
    }  # fmt: skip
    with all_or_nothing():
        with atomic_open(paths[0]) as handle:
            table.to_csv(handle, index=False, float_format="%.8g")
        with atomic_open(paths[1]) as handle:
            json.dump(finite(summary), handle, indent=2, allow_nan=False)
            handle.write("\n")
        with atomic_open(paths[2]) as handle:
            long.to_csv(handle, index=False, float_format="%.8g")
    return paths


def run_compare_variants(args: argparse.Namespace) -> int:
    """Fit every variant, write the tables into ``--out`` and print the one-line summary.

    Examples
    --------
    >>> import tempfile
    >>> from pybrainbone.calibration import write_synthetic_problem
    >>> tmp = tempfile.TemporaryDirectory()
    >>> problem = write_synthetic_problem(tmp.name)
    >>> _ = (Path(tmp.name) / "variants.yaml").write_text("variants:\\n  - {id: nominal}\\n"
    ...     "  - {id: truth, changes: {D_OCp: 0.00315, kout_BMD: 0.004764}}\\n")
    >>> parser = argparse.ArgumentParser()
    >>> add_compare_variants_arguments(parser)
    >>> args = parser.parse_args([str(problem.spec), "--data", str(problem.data), "--variants",
    ...                           f"{tmp.name}/variants.yaml", "-q", "-o", f"{tmp.name}/out"])
    >>> run_compare_variants(args)
    synthetic_pth: the data favour truth over nominal by delta AIC ...
    wrote .../synthetic_pth.variants.csv, .../synthetic_pth.variants.json, .../synthetic_pth.variants.fit.csv
    0
    >>> tmp.cleanup()
    """
    variants = load_variants(args.variants).select(args.only)
    loaded = [spec for _, spec in load_specs(_specs(args.specs))]
    linked = [s.id for s in loaded if s.measurements]
    stem = linked[0] if len(linked) == 1 else "variants"
    label = ", ".join(linked)
    # Each fitted variant goes to the partial-results file at once, so an interrupted comparison resumes
    # (--resume) without fitting it again; the file goes when the outputs are written.
    checkpoint = Checkpoint(Path(args.out) / f"{stem}.variants.partial.jsonl", resume=args.resume)
    try:
        comparison = compare_variants(
            loaded, variants, args.parameters, data=args.data, priors={} if args.no_priors else None,
            starts=args.starts, engine=_engine(args),
            optimizer=args.optimizer, max_evaluations=args.max_evaluations, seed=args.seed,
            progress=not args.quiet, checkpoint=checkpoint,
        )  # fmt: skip
    except BaseException as exc:
        if checkpoint.empty:
            checkpoint.remove()
            raise
        checkpoint.close()
        if isinstance(exc, KeyboardInterrupt) and not str(exc):
            raise KeyboardInterrupt(
                f"the variants fitted so far are kept in {checkpoint.path}; run the same command with "
                "--resume to go on from them"
            ) from None
        raise
    checkpoint.close()
    written = write_comparison(comparison, args.out, stem, variants_file=args.variants, label=label)
    checkpoint.remove()
    print(comparison.summary_line(label))
    print("wrote " + ", ".join(str(p) for p in written))
    return 0
