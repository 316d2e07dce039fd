"""Figures for time courses (matplotlib, headless)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no display on clusters and CI; set before pyplot is imported
import matplotlib.pyplot as plt
import pandas as pd

from pybrainbone.atomic import atomic_path


def plot_time_course(
    frame: pd.DataFrame,
    target: str | os.PathLike[str],
    columns: Sequence[str] | None = None,
    title: str | None = None,
) -> None:
    """Plot each column of a :meth:`Simulator.simulate` result in its own panel and save it atomically.

    Time is shown in years when the course is longer than two years.
    """
    columns = list(columns or frame.columns)
    units = frame.attrs.get("units", {})
    years = frame.index.max() > 730
    time = frame.index / 365.25 if years else frame.index
    ncols = 2 if len(columns) > 1 else 1
    nrows = (len(columns) + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.5 * ncols, 2.6 * nrows), squeeze=False, sharex=True)
    for ax, column in zip(axes.flat, columns, strict=False):
        ax.plot(time, frame[column], lw=1.6)
        unit = units.get(column, "")
        ax.set_ylabel(f"{column} [{unit}]" if unit else column)
        ax.grid(alpha=0.3)
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4), useOffset=False)
    for ax in list(axes.flat)[len(columns) :]:
        ax.set_visible(False)
    for col in range(ncols):
        # The lowest visible panel of each column carries the time axis.
        visible = [axes[row][col] for row in range(nrows) if axes[row][col].get_visible()]
        if visible:
            visible[-1].set_xlabel("time [years]" if years else "time [days]")
            visible[-1].tick_params(labelbottom=True)
    fig.suptitle(title or frame.attrs.get("model", ""))
    fig.tight_layout()
    suffix = os.path.splitext(str(target))[1] or ".png"
    with atomic_path(target, suffix=suffix) as tmp:
        fig.savefig(tmp, dpi=120, format=suffix.lstrip("."))
    plt.close(fig)
