"""Figures: each plot function returns a :class:`matplotlib.figure.Figure`; writing it is the caller's choice.

Figures are built with ``matplotlib.figure.Figure`` directly, never through ``pyplot``: importing
pybrainbone changes no matplotlib state (a notebook keeps its inline backend), and a figure is freed
when it is no longer referenced. In a notebook a returned figure displays itself.

>>> from pybrainbone import Simulator
>>> from pybrainbone.plotting import plot_time_course
>>> fig = plot_time_course(Simulator("bone_remodeling").simulate(end=30, points=4, selections=["OBa"]))
>>> type(fig).__name__, len(fig.axes)
('Figure', 1)
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from pybrainbone.atomic import atomic_path
from pybrainbone.errors import InvalidValueError

#: File types a figure can be written as.
FIGURE_FORMATS = ("png", "svg", "pdf")


def new_figure(**kwargs: Any) -> Figure:
    """A figure that belongs to no pyplot state machine (and so needs no backend)."""
    return Figure(**kwargs)


def check_figure_path(target: str | os.PathLike[str]) -> str:
    """The format a figure path asks for; a clear error before anything runs if it is not one we write."""
    suffix = Path(str(target)).suffix.lower().lstrip(".")
    if suffix not in FIGURE_FORMATS:
        raise InvalidValueError(
            f"cannot write a figure as {str(target)!r}: use a .png, .svg or .pdf file name"
        )
    return suffix


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes (for inline display)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=dpi, format="png")
    return buffer.getvalue()


def save_figure(fig: Figure, target: str | os.PathLike[str], dpi: int = 120) -> Path:
    """Write ``fig`` atomically as PNG, SVG or PDF (by the file name) and return the path."""
    suffix = check_figure_path(target)
    with atomic_path(target, suffix=f".{suffix}") as tmp:
        fig.savefig(tmp, dpi=dpi, format=suffix)
    return Path(target)


def plot_time_course(
    frame: pd.DataFrame,
    columns: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Each column of a :meth:`Simulator.simulate` result in its own panel.

    Time is shown in years when the course is longer than two years.
    """
    columns = list(columns or frame.columns)
    units = frame.attrs.get("units", {})
    years = frame.index.max() > 730
    time = frame.index / 365.25 if years else frame.index
    ncols = 2 if len(columns) > 1 else 1
    nrows = (len(columns) + ncols - 1) // ncols
    fig = new_figure(figsize=(5.5 * ncols, 2.6 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True)
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
    return fig


def plot_network(edges: pd.DataFrame) -> Figure:
    """Modules (left), core ports (right) and cross-links (arcs between modules) of :func:`network_edges`."""
    modules = sorted(set(edges.source) | set(edges[edges.kind == "link"].target), key=str.lower)
    ports = sorted(set(edges[edges.kind == "port"].target))
    ym = {m: 1 - i / max(len(modules) - 1, 1) for i, m in enumerate(modules)}
    yp = {p: 1 - i / max(len(ports) - 1, 1) for i, p in enumerate(ports)}
    fig = new_figure(figsize=(10, 7))
    ax = fig.subplots()
    colour = {"+": "tab:green", "-": "tab:red", "0": "0.7", "?": "0.5"}
    for edge in edges.itertuples():
        if edge.kind == "port":
            ax.annotate(
                "",
                xy=(0.78, yp[edge.target]),
                xytext=(0.22, ym[edge.source]),
                arrowprops={
                    "arrowstyle": "-|>" if edge.sign != "-" else "-[",
                    "color": colour[edge.sign],
                    "lw": 1.0,
                    "alpha": 0.7,
                },
            )
        else:
            ax.annotate(
                "",
                xy=(0.04, ym[edge.target]),
                xytext=(0.04, ym[edge.source]),
                arrowprops={
                    "arrowstyle": "-|>" if edge.sign == "+" else "-[",
                    "color": colour[edge.sign],
                    "lw": 1.2,
                    "connectionstyle": "arc3,rad=0.5",
                    "linestyle": "-" if edge.on else ":",
                },
            )
    for m, y in ym.items():
        ax.text(0.2, y, m, ha="right", va="center", fontsize=11, bbox={"fc": "lightyellow", "ec": "0.5"})
    for p, y in yp.items():
        ax.text(
            0.8,
            y,
            p.removeprefix("core."),
            ha="left",
            va="center",
            fontsize=11,
            bbox={"fc": "lavender", "ec": "0.5"},
        )
    ax.set_xlim(-0.1, 1.05)
    ax.set_ylim(-0.08, 1.08)
    ax.axis("off")
    ax.set_title(
        "brain-bone axis: modules -> bone-core ports (green +, red -), cross-links on the left\n"
        "(dotted: off by default)"
    )
    fig.tight_layout()
    return fig
