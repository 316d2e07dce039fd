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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from pybrainbone.atomic import atomic_path
from pybrainbone.errors import InvalidValueError

#: File types a figure can be written as.
FIGURE_FORMATS = ("png", "svg", "pdf")


def new_figure(**kwargs: Any) -> Figure:
    """A figure that belongs to no pyplot state machine (and so needs no backend).

    Examples
    --------
    >>> fig = new_figure(figsize=(4, 3))
    >>> type(fig).__name__, fig.get_size_inches().tolist()
    ('Figure', [4.0, 3.0])
    """
    return Figure(**kwargs)


def check_figure_path(target: str | os.PathLike[str]) -> str:
    """The format a figure path asks for; a clear error before anything runs if it is not one we write.

    Examples
    --------
    >>> check_figure_path("results/pth.PNG")
    'png'
    >>> check_figure_path("results/pth.jpg")
    Traceback (most recent call last):
    ...
    pybrainbone.errors.InvalidValueError: cannot write a figure as 'results/pth.jpg': use a .png, .svg or .pdf
    file name
    """
    suffix = Path(str(target)).suffix.lower().lstrip(".")
    if suffix not in FIGURE_FORMATS:
        raise InvalidValueError(
            f"cannot write a figure as {str(target)!r}: use a .png, .svg or .pdf file name"
        )
    return suffix


def figure_png(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes (for inline display).

    Examples
    --------
    >>> figure_png(new_figure(figsize=(2, 1)))[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=dpi, format="png")
    return buffer.getvalue()


def save_figure(fig: Figure, target: str | os.PathLike[str], dpi: int = 120) -> Path:
    """Write ``fig`` atomically as PNG, SVG or PDF (by the file name) and return the path.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_figure(new_figure(figsize=(2, 1)), Path(folder) / "empty.svg")
    ...     print(path.name, path.read_text(encoding="utf-8").startswith("<?xml"))
    empty.svg True
    """
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

    Examples
    --------
    >>> from pybrainbone import Simulator
    >>> course = Simulator("bone_remodeling").simulate(
    ...     end=3650, points=11, changes={"P_PTH_ext": 100.0}, selections=["OBa", "OCa", "CTX_rel"])
    >>> fig = plot_time_course(course, title="PTH infusion")
    >>> len(fig.axes), [ax.get_visible() for ax in fig.axes]  # 2 x 2 panels, the fourth hidden
    (4, [True, True, True, False])
    >>> fig.axes[0].get_ylabel(), fig.axes[2].get_xlabel()
    ('OBa [pM]', 'time [years]')
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


#: Columns of the network diagram, left to right, and their colours.
SYSTEMS = (("neural", "#dbe9f6"), ("endocrine", "#fdebd0"), ("immune", "#e8f6e3"), ("drug", "#f2e6f7"))
SIGN_COLOURS = {"+": "#2e7d32", "-": "#c62828", "0": "#9e9e9e"}


def _system_positions(edges: pd.DataFrame, systems: Mapping[str, str]) -> dict[str, tuple[float, float]]:
    """(x, y) of every module box: one column per system, modules spread down each column."""
    modules = sorted(set(edges.source) | set(edges[edges.kind == "link"].target), key=str.lower)
    positions: dict[str, tuple[float, float]] = {}
    for column, (system, _) in enumerate(SYSTEMS):
        members = [m for m in modules if systems.get(m, "endocrine") == system]
        for row, module in enumerate(members):
            positions[module] = (0.05 + 0.17 * column, 0.92 - row * 0.84 / max(len(members) - 1, 1))
    # Bone modules that feed back to pathways (the core's markers drive the sensory and mineral modules)
    # sit under the port column, where their effects arrive.
    bone = [m for m in modules if systems.get(m, "endocrine") == "bone"]
    for row, module in enumerate(bone):
        positions[module] = (0.9 - 0.08 * row, 0.03)
    return positions


def _draw_network_edges(
    ax: Any, edges: pd.DataFrame, where: Mapping[str, tuple[float, float]], port_y: Mapping[str, float]
) -> None:
    for edge in edges.itertuples():
        start = where[edge.source]
        end = (0.86, port_y[edge.target]) if edge.kind == "port" else where[edge.target]
        ax.annotate(
            "",
            xy=end,
            xytext=start,
            arrowprops={
                "arrowstyle": "-|>" if edge.sign != "-" else "-[",
                "color": SIGN_COLOURS.get(str(edge.sign), "0.5"),
                "lw": 0.9 if edge.kind == "port" else 1.6,
                "alpha": 0.55 if edge.kind == "port" else 0.95,
                "linestyle": "-" if edge.on else "--",
                "connectionstyle": "arc3,rad=0.0" if edge.kind == "port" else "arc3,rad=0.35",
                "shrinkA": 12,
                "shrinkB": 12,
            },
        )


def _draw_network_labels(
    ax: Any, where: Mapping[str, tuple[float, float]], port_y: Mapping[str, float], systems: Mapping[str, str]
) -> None:
    colour = dict(SYSTEMS)
    for module, (x, y) in where.items():
        face = colour.get(systems.get(module, "endocrine"), "white")
        ax.text(x, y, module, ha="center", va="center", fontsize=10, bbox={"fc": face, "ec": "0.4"})
    for port, y in port_y.items():
        label = port.split(".")[-1]
        ax.text(0.88, y, label, ha="left", va="center", fontsize=10, bbox={"fc": "#eeeeee", "ec": "0.4"})
    for column, (system, face) in enumerate(SYSTEMS):
        box = {"fc": face, "ec": "none"}
        ax.text(0.05 + 0.17 * column, 1.0, system, ha="center", fontsize=11, weight="bold", bbox=box)
    ax.text(0.9, 1.0, "bone-cell ports", ha="center", fontsize=11, weight="bold")
    meanings = (("activates", "+"), ("inhibits", "-"), ("no measured effect", "0"))
    handles = [Line2D([], [], color=SIGN_COLOURS[sign], lw=2, label=text) for text, sign in meanings]
    handles.append(Line2D([], [], color="0.3", lw=1.5, ls="--", label="off by default (hypothesis)"))
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.45, -0.08), ncol=4, frameon=False)


def plot_network(edges: pd.DataFrame, systems: Mapping[str, str] | None = None) -> Figure:
    """The network of :func:`pybrainbone.network.network_edges` in layers: neural, endocrine, immune and
    drug modules (columns, as each module declares with ``// @system``) acting on the bone core's ports
    (right); green activates, red inhibits, grey no measured effect; dashed edges are off by default.

    Examples
    --------
    >>> from pybrainbone.network import module_systems, network_edges
    >>> fig = plot_network(network_edges(), module_systems())
    >>> fig.axes[0].get_title()
    'brain-bone axis: cross-links between pathways and their actions on bone cells'
    """
    systems = systems or {}
    where = _system_positions(edges, systems)
    ports = sorted(set(edges[edges.kind == "port"].target))
    port_y = {p: 0.92 - i * 0.84 / max(len(ports) - 1, 1) for i, p in enumerate(ports)}
    fig = new_figure(figsize=(12, 7.5))
    ax = fig.subplots()
    _draw_network_edges(ax, edges, where, port_y)
    _draw_network_labels(ax, where, port_y, systems)
    ax.set_xlim(-0.05, 1.02)
    ax.set_ylim(0.0, 1.05)
    ax.axis("off")
    ax.set_title("brain-bone axis: cross-links between pathways and their actions on bone cells")
    fig.tight_layout()
    return fig
