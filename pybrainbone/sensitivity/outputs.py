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
    """Write ``<stem>.failures.csv``: one row per failed sample (index, parameter values, reason)."""
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
    ``<stem>.failures.csv`` when samples failed and ``<stem>.S2.csv`` for second-order indices."""
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
