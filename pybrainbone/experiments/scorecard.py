"""The literature scorecard: every target of every experiment, measured and judged."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from pybrainbone.experiments.results import TargetResult
from pybrainbone.experiments.runner import run_all
from pybrainbone.experiments.spec import SpecError, load_experiment
from pybrainbone.paths import experiments_dir


def library_specs() -> list[Path]:
    """Every spec in the experiment library (``experiments/*.yaml``)."""
    return sorted(experiments_dir().glob("*.yaml"))


def scorecard(paths: Sequence[Path] | None = None, progress: bool = True) -> list[TargetResult]:
    """Run the experiments that have targets and return one row per target.

    ``paths=None`` scores the experiment library; an empty list of paths is an error, never the library.
    """
    if paths is not None and not paths:
        raise SpecError("no experiment specs to score; give spec files or a directory holding *.yaml specs")
    chosen = [p for p in (library_specs() if paths is None else paths) if load_experiment(p).targets]
    return [row for result in run_all(chosen, progress=progress) for row in result.targets]


def scorecard_from_results(results_dir: Path, paths: Sequence[Path] | None = None) -> list[TargetResult]:
    """The scorecard read from the summaries a ``run`` wrote into ``results_dir`` (nothing re-runs).

    Each summary must be of the spec as it is now (same spec hash in its provenance), so a stale result
    is never scored: the error says which experiment to run again.
    """
    from pybrainbone.experiments.results import expected_text
    from pybrainbone.run_record import content_hash

    if paths is not None and not paths:
        raise SpecError("no experiment specs to score; give spec files or a directory holding *.yaml specs")
    rows: list[TargetResult] = []
    for path in library_specs() if paths is None else paths:
        spec = load_experiment(path)
        if not spec.targets:
            continue
        summary_path = results_dir / f"{spec.id}.summary.json"
        try:
            saved = json.loads(summary_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise SpecError(
                f"{summary_path}: no readable results of {spec.id!r}; "
                f"run `pybrainbone run {path} -o {results_dir}`"
            ) from None
        current = content_hash(json.dumps(spec.model_dump(mode="json"), sort_keys=True))
        if saved.get("provenance", {}).get("spec_sha256") != current or len(saved["targets"]) != len(
            spec.targets
        ):
            raise SpecError(
                f"{summary_path}: the results are of another version of {path.name}; run it again "
                f"(`pybrainbone run {path} -o {results_dir}`)"
            )
        for target, row in zip(spec.targets, saved["targets"], strict=True):
            value = float("nan") if row["value"] is None else float(row["value"])
            rows.append(TargetResult(target, spec.id, value, bool(row["passed"]), expected_text(target)))
    return rows


def known_failures_text(rows: Sequence[TargetResult]) -> str:
    """How many misses are documented known failures, e.g. ``1 missed, a documented known failure (x)``."""
    missed = [r for r in rows if not r.passed]
    if not missed:
        return "all met"
    known = [r.target.id for r in missed if r.target.status == "known_failure"]
    text = f"{len(missed)} missed"
    if known:
        text += f", {len(known)} of them documented known failure(s): {', '.join(known)}"
    unexpected = len(missed) - len(known)
    return text + (f"; {unexpected} unexpected" if unexpected else "")


def scorecard_table(rows: Sequence[TargetResult]) -> str:
    """Plain-text table: target, experiment, value, expected, verdict, source."""
    header = ("target", "experiment", "value", "expected", "result", "source")
    lines = [header]
    for row in rows:
        if row.passed:
            verdict = "pass"
        elif row.target.status == "known_failure":
            verdict = "known failure"
        else:
            verdict = "FAIL"
        lines.append(
            (row.target.id, row.experiment, f"{row.value:.4g}", row.expected, verdict, row.target.source)
        )
    widths = [max(len(line[i]) for line in lines) for i in range(5)]
    text = [
        "  ".join(cell.ljust(w) for cell, w in zip(line[:5], widths, strict=False)) + "  " + line[5]
        for line in lines
    ]
    met = sum(r.passed for r in rows)
    text.append(f"\n{met}/{len(rows)} targets met ({known_failures_text(rows)})")
    return "\n".join(text)
