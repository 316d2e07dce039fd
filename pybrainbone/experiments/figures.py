"""The figure of an experiment: one panel per plot output, targets drawn where they are checked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from matplotlib.figure import Figure

from pybrainbone.experiments.spec import Plot
from pybrainbone.plotting import new_figure

if TYPE_CHECKING:  # results display themselves with this figure, so it cannot import them at run time
    from pybrainbone.experiments.results import ExperimentResult


def plot_experiment(result: ExperimentResult) -> Figure:
    """Every plot output (or every data generator if there is none), targets drawn where they are checked.

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
    >>> fig = plot_experiment(result)
    >>> [ax.get_title() for ax in fig.axes], fig.axes[0].get_ylabel()
    (['dCTX'], 'value [%]')
    """
    exp = result.experiment
    plots = [o for o in exp.outputs if isinstance(o, Plot)]
    if not plots:
        plots = [Plot(id=dg.id, title=dg.name or dg.id, y=[dg.id]) for dg in exp.data_generators]
    n = max(len(plots), 1)
    fig = new_figure(figsize=(7, 3.0 * n))
    axes = fig.subplots(n, 1, squeeze=False)
    units = {dg.id: dg.unit for dg in exp.data_generators}
    labels = {dg.id: dg.name or dg.id for dg in exp.data_generators}
    for ax, plot in zip(axes[:, 0], plots, strict=False):
        years = False
        for dg_id in plot.y:
            series = result.series(dg_id)
            if series.index.name == "scan_value":
                rows = result.data[result.data["data_generator"] == dg_id]
                final = rows.groupby("scan_value")["value"].last()
                ax.plot(final.index, final.to_numpy(), "o-", label=labels[dg_id])
                ax.set_xlabel(next((s.parameter for s in exp.scans), "scan value"))
                continue
            years = series.index.max() > 730
            x = series.index / 365.25 if years else series.index
            ax.plot(x, series.to_numpy(), lw=1.8, label=labels[dg_id])
            for checked in result.targets:
                t = checked.target
                if t.data_generator != dg_id:
                    continue
                when = t.time if t.time is not None else float(series.index.max())
                xt = when / 365.25 if years else when
                colour = "tab:green" if checked.passed else "tab:red"
                if t.range is not None:
                    ax.vlines(xt, t.range[0], t.range[1], colors=colour, lw=6, alpha=0.35)
                if t.value is not None:
                    ax.plot([xt], [t.value], "D", color=colour, ms=7, label=f"{t.id} (literature)")
                ax.plot([xt], [checked.value], "o", mfc="none", mec=colour, ms=9)
            ax.set_xlabel("time [years]" if years else "time [days]")
        ax.axhline(0.0, color="0.6", lw=0.8, ls=":")
        unit = units.get(plot.y[0], "")
        ax.set_ylabel(f"value [{unit}]" if unit else "value")
        ax.set_title(plot.title or plot.id)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(exp.name or exp.id)
    fig.tight_layout()
    return fig
