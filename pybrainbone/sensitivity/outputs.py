"""Write sensitivity results: indices CSV, summary JSON, failures table, figure; each atomically."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from pybrainbone.atomic import atomic_open
from pybrainbone.plotting import save_figure
from pybrainbone.sensitivity.executors import Failure
from pybrainbone.sensitivity.plots import plot_global
from pybrainbone.sensitivity.results import GlobalResult


def write_failures(failures: Sequence[Failure], out_dir: str | os.PathLike[str], stem: str) -> Path:
    """Write ``<stem>.failures.csv``: one row per failed sample (index, parameter values, reason).

    Examples
    --------
    >>> import tempfile
    >>> from pybrainbone.sensitivity.executors import Failure
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_failures([Failure(3, {"D_OCp": -10.0}, "simulation failed")], folder, "pth.morris")
    ...     print(path.name)
    ...     print(path.read_text(encoding="utf-8"), end="")
    pth.morris.failures.csv
    sample,D_OCp,reason
    3,-10.0,simulation failed
    """
    path = Path(out_dir) / f"{stem}.failures.csv"
    with atomic_open(path) as handle:
        pd.DataFrame([f.as_dict() for f in failures]).to_csv(handle, index=False)
    return path


def write_global(
    result: GlobalResult,
    out_dir: str | os.PathLike[str],
    stem: str,
    figure: bool = True,
    provenance: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write ``<stem>.csv`` (indices), ``<stem>.json`` (seed, settings, failures), optional figure,
    ``<stem>.failures.csv`` when samples failed and ``<stem>.S2.csv`` for second-order indices.

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> exp = Experiment.model_validate({
    ...     "id": "pth", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
    ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"},
    ...                         {"id": "same", "expression": "treated.OCa / treated.OCa"}]})
    >>> from pybrainbone.sensitivity.objective import make_objective
    >>> from pybrainbone.sensitivity.problem import derive_problem
    >>> from pybrainbone.sensitivity.executors import SerialEngine
    >>> objective = make_objective(exp, "dCTX@365", ["D_OCp", "A_OCa"])
    >>> problem = derive_problem(objective.nominal, objective.names, relative=0.2)
    >>> from pybrainbone.sensitivity.global_ import morris
    >>> result = morris(objective, problem, n=4, engine=SerialEngine(), seed=1)
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     print([path.name for path in write_global(result, folder, "pth.morris", figure=False)])
    ['pth.morris.csv', 'pth.morris.json']
    """
    out = Path(out_dir)
    paths = [out / f"{stem}.csv", out / f"{stem}.json"]
    with atomic_open(paths[0]) as handle:
        result.indices.to_csv(handle, index=False, float_format="%.6g")
    with atomic_open(paths[1]) as handle:
        json.dump(
            {**result.summary(), "provenance": dict(provenance or {})}, handle, indent=2, allow_nan=True
        )
        handle.write("\n")
    if result.failures:
        paths.append(write_failures(result.failures, out, stem))
    if result.second_order is not None:
        paths.append(out / f"{stem}.S2.csv")
        with atomic_open(paths[-1]) as handle:
            result.second_order.to_csv(handle, index=False, float_format="%.6g")
    if figure:
        paths.append(save_figure(plot_global(result), out / f"{stem}.png", dpi=130))
    return paths
