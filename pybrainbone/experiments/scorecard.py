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
    """Every spec in the experiment library (``experiments/*.yaml``).

    Examples
    --------
    >>> specs = library_specs()
    >>> "menopause.yaml" in {path.name for path in specs}, all(path.suffix == ".yaml" for path in specs)
    (True, True)
    """
    return sorted(experiments_dir().glob("*.yaml"))


def scorecard(paths: Sequence[Path] | None = None, progress: bool = True) -> list[TargetResult]:
    """Run the experiments that have targets and return one row per target.

    ``paths=None`` scores the experiment library; an empty list of paths is an error, never the library.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> tmp = tempfile.TemporaryDirectory()
    >>> spec = Path(tmp.name) / "pth.yaml"
    >>> _ = spec.write_text(
    ...     "id: pth\\nmodel: bone_remodeling\\n"
    ...     "simulation: {type: uniform_time_course, end: 365, points: 5}\\n"
    ...     "arms: [{id: control}, {id: treated, changes: {P_PTH_ext: 100}}]\\ncontrol: control\\n"
    ...     "data_generators: [{id: dCTX, expression: '100*(treated.CTX_rel/control.CTX_rel - 1)'}]\\n"
    ...     "targets: [{id: ctx_up, data_generator: dCTX, direction: up, source: Lemaire 2004}]\\n")
    >>> [(row.target.id, row.passed) for row in scorecard([spec], progress=False)]
    [('ctx_up', True)]
    >>> scorecard([])
    Traceback (most recent call last):
    ...
    pybrainbone.experiments.spec.SpecError: no experiment specs to score; give spec files or a directory ...
    >>> tmp.cleanup()
    """
    if paths is not None and not paths:
        raise SpecError("no experiment specs to score; give spec files or a directory holding *.yaml specs")
    chosen = [p for p in (library_specs() if paths is None else paths) if load_experiment(p).targets]
    return [row for result in run_all(chosen, progress=progress) for row in result.targets]


def scorecard_from_results(results_dir: Path, paths: Sequence[Path] | None = None) -> list[TargetResult]:
    """The scorecard read from the summaries a ``run`` wrote into ``results_dir`` (nothing re-runs).

    Each summary must be of the spec as it is now (same spec hash in its provenance), so a stale result
    is never scored: the error says which experiment to run again.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> tmp = tempfile.TemporaryDirectory()
    >>> spec = Path(tmp.name) / "pth.yaml"
    >>> _ = spec.write_text(
    ...     "id: pth\\nmodel: bone_remodeling\\n"
    ...     "simulation: {type: uniform_time_course, end: 365, points: 5}\\n"
    ...     "arms: [{id: control}, {id: treated, changes: {P_PTH_ext: 100}}]\\ncontrol: control\\n"
    ...     "data_generators: [{id: dCTX, expression: '100*(treated.CTX_rel/control.CTX_rel - 1)'}]\\n"
    ...     "targets: [{id: ctx_up, data_generator: dCTX, direction: up, source: Lemaire 2004}]\\n")
    >>> from pybrainbone.experiments.runner import run_all
    >>> _ = run_all([spec], out_dir=Path(tmp.name) / "results", progress=False)
    >>> rows = scorecard_from_results(Path(tmp.name) / "results", [spec])
    >>> [(row.target.id, row.passed, round(row.value, 1)) for row in rows]
    [('ctx_up', True, 17.9)]
    >>> tmp.cleanup()
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
    """How many misses are documented known failures, e.g. ``1 missed, a documented known failure (x)``.

    Examples
    --------
    >>> from pybrainbone.experiments.results import TargetResult
    >>> from pybrainbone.experiments.spec import Target
    >>> up = Target(id="ctx_up", data_generator="dCTX", direction="up", source="Lemaire 2004")
    >>> known = Target(id="bv_down", data_generator="dBV", direction="down", source="Smith 2001",
    ...                status="known_failure", reason="the core has no bone volume yet")
    >>> rows = [TargetResult(up, "pth", 17.9, True, "up"), TargetResult(known, "pth", 0.0, False, "down")]
    >>> known_failures_text(rows[:1])
    'all met'
    >>> known_failures_text(rows)
    '1 missed, 1 of them documented known failure(s): bv_down'
    """
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
    """Plain-text table: target, experiment, value, expected, verdict, source.

    Examples
    --------
    >>> from pybrainbone.experiments.results import TargetResult
    >>> from pybrainbone.experiments.spec import Target
    >>> up = Target(id="ctx_up", data_generator="dCTX", direction="up", source="Lemaire 2004")
    >>> known = Target(id="bv_down", data_generator="dBV", direction="down", source="Smith 2001",
    ...                status="known_failure", reason="the core has no bone volume yet")
    >>> rows = [TargetResult(up, "pth", 17.9, True, "up"), TargetResult(known, "pth", 0.0, False, "down")]
    >>> print(scorecard_table(rows))
    target   experiment  value  expected  result         source
    ctx_up   pth         17.9   up        pass           Lemaire 2004
    bv_down  pth         0      down      known failure  Smith 2001
    <BLANKLINE>
    1/2 targets met (1 missed, 1 of them documented known failure(s): bv_down)
    """
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
