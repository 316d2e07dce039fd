"""Generate the experiment-library page from ``experiments/*.yaml``, at documentation build time.

Each spec is read with :func:`pybrainbone.experiments.load_experiment` (so an invalid spec fails the
build); the page lists its id, question, model, organism, arms and literature targets with their sources.
Nothing is simulated here: ``pybrainbone scorecard`` gives the measured values.

MkDocs runs this through ``docs/hooks.py``; to look at the page without MkDocs::

    python docs/gen_experiment_pages.py /tmp/experiment-pages
"""

from __future__ import annotations

import sys
from pathlib import Path

from gen_model_pages import cell, number

from pybrainbone.experiments import Experiment, load_experiment
from pybrainbone.experiments.results import expected_text
from pybrainbone.experiments.spec import SteadyState
from pybrainbone.paths import experiments_dir

PAGE = "experiments/library.md"


def _changes(changes: dict[str, float]) -> str:
    return ", ".join(f"`{k}` = {number(v)}" for k, v in changes.items()) or "none"


def _simulation(experiment: Experiment) -> str:
    sim = experiment.simulation
    if isinstance(sim, SteadyState):
        return "steady state"
    return f"time course {number(sim.start)} to {number(sim.end)} days, {sim.points} points"


def experiment_section(path: Path) -> list[str]:
    exp = load_experiment(path)
    lines = [
        f"## {exp.id}",
        "",
        f"**{cell(exp.name)}**" if exp.name else "",
        "",
        f"*Question:* {cell(exp.question)}" if exp.question else "",
        "",
        f"`experiments/{path.name}` · model [{exp.model}](../model/{exp.model}.md) · organism "
        f"`{exp.organism}` · {_simulation(exp)}",
        "",
    ]
    if exp.changes:
        lines += [f"Shared changes: {_changes(exp.changes)}", ""]
    arms = [
        [f"`{a.id}`" + (" (control)" if a.id == exp.control else ""), cell(a.name), _changes(a.changes)]
        for a in exp.arms
    ]
    lines += ["| arm | name | changes |", "|---|---|---|", *("| " + " | ".join(r) + " |" for r in arms), ""]
    if exp.scans:
        for scan in exp.scans:
            values = ", ".join(number(v) for v in scan.values)
            lines += [f"Scan `{scan.id}`: `{scan.parameter}` over {values} (arm `{scan.arm}`).", ""]
    if exp.targets:
        rows = []
        reasons = []
        for t in exp.targets:
            status = "known failure" if t.status == "known_failure" else "expected"
            when = "end" if t.time is None else f"{number(t.time)} d"
            rows.append(
                [f"`{t.id}`", f"`{t.data_generator}`", when, cell(expected_text(t)), status, cell(t.source)]
            )
            if t.reason:
                reasons.append(f"- `{t.id}` (`{t.data_generator}`): {cell(' '.join(t.reason.split()))}")
        lines += [
            "| target | data generator | time | expected | status | source |",
            "|---|---|---|---|---|---|",
            *("| " + " | ".join(r) + " |" for r in rows),
            "",
        ]
        if reasons:
            lines += ["Known failures, as the spec explains them:", "", *reasons, ""]
    else:
        lines += ["No literature targets (used as an objective, e.g. for sensitivity analysis).", ""]
    return [line for i, line in enumerate(lines) if line or (i > 0 and lines[i - 1])]


def library_page() -> str:
    specs = sorted(experiments_dir().glob("*.yaml"))
    total = sum(len(load_experiment(p).targets) for p in specs)
    lines = [
        "# Experiment library",
        "",
        f"Generated at build time from the {len(specs)} specs in `experiments/` ({total} target checks). "
        "Run one with `pybrainbone run experiments/<file>.yaml -o results`, all of them with "
        "`pybrainbone run experiments/ -o results`, and see the measured value of every target with "
        "`pybrainbone scorecard`.",
        "",
    ]
    for path in specs:
        lines += experiment_section(path)
    return "\n".join(lines)


def experiment_pages() -> dict[str, str]:
    """Documentation path (relative to ``docs/``) -> Markdown."""
    return {PAGE: library_page()}


def main(argv: list[str]) -> int:
    from gen_model_pages import write_pages

    return write_pages(experiment_pages(), argv, "gen_experiment_pages.py")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
