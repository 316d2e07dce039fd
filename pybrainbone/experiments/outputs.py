"""Write an experiment's results: tidy CSV, summary JSON and its figure, each atomically."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from pybrainbone.atomic import atomic_open, atomic_path
from pybrainbone.experiments.figures import plot_experiment
from pybrainbone.experiments.results import ExperimentResult
from pybrainbone.plotting import save_figure


def summary(result: ExperimentResult) -> dict[str, Any]:
    """The JSON summary of one run: the experiment, its targets, measured values, pass/fail.

    Examples
    --------
    >>> from pybrainbone.experiments.runner import Runner
    >>> from pybrainbone.experiments.spec import Experiment
    >>> exp = Experiment.model_validate({
    ...     "id": "pth", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
    ...     "control": "control",
    ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)",
    ...                          "unit": "%"}],
    ...     "targets": [{"id": "ctx_up", "data_generator": "dCTX", "direction": "up",
    ...                  "source": "Lemaire 2004"}]})
    >>> result = Runner().run(exp)
    >>> record = summary(result)
    >>> record["experiment"], record["passed"], record["failed"], record["targets"][0]["target"]
    ('pth', 1, 0, 'ctx_up')
    >>> round(record["targets"][0]["value"], 1)  # percent change of CTX after a year of PTH
    17.9
    """
    exp = result.experiment
    return {
        "experiment": exp.id,
        "name": exp.name,
        "question": exp.question,
        "model": exp.model,
        "organism": exp.organism,
        "targets": [_finite(t.as_dict()) for t in result.targets],
        "passed": sum(t.passed for t in result.targets),
        "failed": sum(not t.passed for t in result.targets),
        "provenance": dict(result.provenance),
    }


def _finite(row: dict[str, Any]) -> dict[str, Any]:
    """JSON has no NaN or Infinity: a value that is not finite becomes null with the reason beside it."""
    value = row.get("value")
    if isinstance(value, float) and not math.isfinite(value):
        return {**row, "value": None, "value_note": f"not finite ({value})"}
    return row


def write_outputs(result: ExperimentResult, out_dir: str | Path, figure: bool = True) -> list[Path]:
    """Write ``<id>.csv`` (tidy data generators), ``<id>.summary.json`` (targets and provenance),
    ``<id>.nc`` (NetCDF: the data generators with units and provenance) and ``<id>.png`` atomically.

    Examples
    --------
    >>> from pybrainbone.experiments.runner import Runner
    >>> from pybrainbone.experiments.spec import Experiment
    >>> exp = Experiment.model_validate({
    ...     "id": "pth", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
    ...     "control": "control",
    ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)",
    ...                          "unit": "%"}],
    ...     "targets": [{"id": "ctx_up", "data_generator": "dCTX", "direction": "up",
    ...                  "source": "Lemaire 2004"}]})
    >>> result = Runner().run(exp)
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     print([path.name for path in write_outputs(result, folder)])
    ['pth.csv', 'pth.summary.json', 'pth.nc', 'pth.png']
    """
    out = Path(out_dir)
    exp = result.experiment
    paths = [out / f"{exp.id}.csv", out / f"{exp.id}.summary.json", out / f"{exp.id}.nc"]
    with atomic_open(paths[0]) as handle:
        result.data.assign(experiment=exp.id).to_csv(handle, index=False)
    with atomic_open(paths[1]) as handle:
        json.dump(summary(result), handle, indent=2, allow_nan=False)
        handle.write("\n")
    with atomic_path(paths[2], suffix=".nc") as tmp:
        result.to_xarray().to_netcdf(tmp, engine="scipy")
    if figure:
        paths.append(save_figure(plot_experiment(result), out / f"{exp.id}.png", dpi=110))
    return paths
