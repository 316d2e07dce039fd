"""Record every library experiment's data generators (11 rows each) and target values to a JSON file.

Run at the commit *before* a change that must not alter behaviour; ``tests/test_behaviour_unchanged.py``
compares the library against the file afterwards. Usage (from the checkout to record):

    python tests/tools/record_experiment_outputs.py tests/data/experiment_outputs.json
    python tests/tools/record_experiment_outputs.py tests/data/experiment_outputs.json --only ID [ID ...]

``--only`` records just those experiments (a new spec) into the existing file and keeps every other entry
and the file's commit.
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


def record(only: set[str] | None = None) -> dict[str, object]:
    runner = Runner()
    experiments: dict[str, object] = {}
    for path in library_specs():
        spec = load_experiment(path)
        if only is not None and spec.id not in only:
            continue
        result = runner.run(spec)
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
    if "--only" in sys.argv[2:]:
        ids = set(sys.argv[sys.argv.index("--only") + 1 :])
        recorded = json.loads(out.read_text(encoding="utf-8"))
        new = record(ids)
        missing = ids - set(new["experiments"])  # type: ignore[arg-type]
        if missing:
            raise SystemExit(f"no library experiment with id {', '.join(sorted(missing))}")
        recorded["experiments"].update(new["experiments"])  # type: ignore[attr-defined]
    else:
        recorded = record()
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(recorded, indent=1, allow_nan=True) + "\n", encoding="utf-8")
    tmp.replace(out)
    print(f"wrote {out}")
