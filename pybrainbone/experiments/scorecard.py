"""The literature scorecard: every target of every experiment, measured and judged."""

from __future__ import annotations

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
    text.append(f"\n{met}/{len(rows)} targets met")
    return "\n".join(text)
