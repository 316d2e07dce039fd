"""Refactoring the package must not move a number: every library experiment against recorded outputs.

``tests/data/experiment_outputs.json`` holds 11 rows of every data generator and every target value of
every library experiment, recorded with ``tests/tools/record_experiment_outputs.py`` at the commit named in
the file (before the run path was unified into one plan). Re-record only for a change that is meant to
alter results, and say so in the commit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest

from pybrainbone.experiments.results import ExperimentResult
from pybrainbone.experiments.scorecard import library_specs
from pybrainbone.experiments.spec import load_experiment

RECORDED = json.loads(
    (Path(__file__).parent / "data" / "experiment_outputs.json").read_text(encoding="utf-8")
)
#: Same model, same solver, same changes: only floating-point noise may differ.
RTOL, ATOL = 1e-9, 1e-12


def _value(result: ExperimentResult, dg: str, time: float, scan: float | None) -> float:
    rows = result.data[result.data["data_generator"] == dg]
    rows = rows[rows["time"] == time] if math.isfinite(time) else rows[rows["time"].map(math.isinf)]
    if scan is not None:
        rows = rows[rows["scan_value"] == scan]
    (value,) = rows["value"].to_numpy()
    return float(value)


@pytest.mark.parametrize("path", library_specs(), ids=lambda p: p.stem)
def test_experiment_outputs_are_unchanged(
    path: Path, library_run: Callable[[Path], ExperimentResult]
) -> None:
    spec = load_experiment(path)
    if spec.id not in RECORDED["experiments"]:
        pytest.skip(f"{spec.id} was added after the recording (commit {RECORDED['recorded_at_commit'][:10]})")
    recorded = RECORDED["experiments"][spec.id]
    result = library_run(path)
    for dg, rows in recorded["data_generators"].items():
        for time, scan, value in rows:
            where = (dg, time, scan)
            assert _value(result, dg, time, scan) == pytest.approx(value, rel=RTOL, abs=ATOL), where
    now = [[t.target.id, t.target.data_generator, t.value, t.passed] for t in result.targets]
    assert [r[:2] + r[3:] for r in now] == [r[:2] + r[3:] for r in recorded["targets"]]
    for (_, _, value, _), (_, _, before, _) in zip(now, recorded["targets"], strict=True):
        assert value == pytest.approx(before, rel=RTOL, abs=ATOL)
