"""Run a COMBINE/OMEX archive through a BioSimulators runner and print its reports as JSON.

Runs in the runner's own venv (biosimulators-tellurium or biosimulators-copasi; their pins conflict with
ours), so it imports nothing from pybrainbone:

    /tmp/biosim-tellurium/bin/python tests/tools/biosim_run.py tellurium archive.omex out_dir

The runner writes HDF5 reports (CSV cannot hold a scan's 2-D data sets); this prints
``{"seconds": ..., "reports": {report_id: {data_set_label: nested list}}, "log": ...}``. Values that are
NaN are written as null.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path


def _clean(value):  # NaN is not JSON
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return None if isinstance(value, float) and math.isnan(value) else value


def main(tool: str, archive: str, out_dir: str) -> int:
    import h5py

    env = {**os.environ, "REPORT_FORMATS": "h5", "PLOT_FORMATS": "", "VIZ_FORMATS": ""}
    command = Path(sys.executable).parent / f"biosimulators-{tool}"
    start = time.perf_counter()
    done = subprocess.run(
        [str(command), "-i", archive, "-o", out_dir], env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    reports: dict[str, dict[str, list]] = {}
    h5 = Path(out_dir) / "reports.h5"
    if h5.is_file():
        with h5py.File(h5, "r") as file:

            def visit(name, node):
                if isinstance(node, h5py.Dataset):
                    labels = [str(x) for x in node.attrs["sedmlDataSetLabels"]]
                    data = node[()]
                    reports[str(node.attrs.get("sedmlId", name))] = {
                        label: _clean(data[i].tolist()) for i, label in enumerate(labels)
                    }

            file.visititems(visit)
    tail = (done.stdout + done.stderr)[-4000:]
    json.dump(
        {"returncode": done.returncode, "seconds": seconds, "reports": reports, "log": tail}, sys.stdout
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
