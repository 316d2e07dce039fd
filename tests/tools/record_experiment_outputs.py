"""Record every library experiment's data generators (11 rows each) and target values to a JSON file.

Run at the commit *before* a change that must not alter behaviour; ``tests/test_behaviour_unchanged.py``
compares the library against the file afterwards. Usage (from the checkout to record):

    python tests/tools/record_experiment_outputs.py tests/data/experiment_outputs.json
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from pybrainbone.experiments.runner import Runner
from pybrainbone.experiments.scorecard import library_specs
from pybrainbone.experiments.spec import load_experiment

ROWS = 11


def record() -> dict[str, object]:
    runner = Runner()
    experiments: dict[str, object] = {}
    for path in library_specs():
        result = runner.run(load_experiment(path))
        generators: dict[str, list[list[float | None]]] = {}
        for dg, rows in result.data.groupby("data_generator", sort=True):
            picked = rows.iloc[np.unique(np.linspace(0, len(rows) - 1, ROWS).round().astype(int))]
            generators[str(dg)] = [
                [float(r.time), None if np.isnan(r.scan_value) else float(r.scan_value), float(r.value)]
                for r in picked.itertuples()
            ]
        targets = [[t.target.id, t.target.data_generator, t.value, t.passed] for t in result.targets]
        experiments[result.experiment.id] = {"data_generators": generators, "targets": targets}
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    return {
        "recorded_at_commit": commit.stdout.strip(),
        "rows_per_generator": ROWS,
        "experiments": experiments,
    }


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.write_text(json.dumps(record(), indent=1, allow_nan=True) + "\n", encoding="utf-8")
    print(f"wrote {out}")
