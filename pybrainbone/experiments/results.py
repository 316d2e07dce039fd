"""What a run of an experiment produced: result types that runners, writers and plots all share.

They sit below every module that makes or shows them (runner, output writers, figures), so no module has
to import the module that imports it.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import xarray as xr

from pybrainbone.experiments.spec import Experiment, Target

#: Signed values within this distance of zero count as "no change" for up/down targets.
_DIRECTION_EPSILON = 1e-9


@dataclass(frozen=True)
class TargetResult:
    """One target checked against the model.

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Target
    >>> target = Target(id="ctx_up", data_generator="dCTX", direction="up", source="Lemaire 2004")
    >>> met = TargetResult(target, "pth", 17.9, True, "up")
    >>> met.passed, met.target.id, met.expected
    (True, 'ctx_up', 'up')
    """

    target: Target
    experiment: str
    value: float
    passed: bool
    expected: str

    def as_dict(self) -> dict[str, Any]:
        """One flat record of the check (the row of summaries and ``scorecard --json``).

        Examples
        --------
        >>> from pybrainbone.experiments.spec import Target
        >>> target = Target(id="ctx_up", data_generator="dCTX", direction="up", source="Lemaire 2004")
        >>> met = TargetResult(target, "pth", 17.9, True, "up")
        >>> record = met.as_dict()
        >>> record["target"], record["passed"], record["value"], record["source"]
        ('ctx_up', True, 17.9, 'Lemaire 2004')
        """
        return {
            "target": self.target.id,
            "experiment": self.experiment,
            "passed": self.passed,
            "value": self.value,
            "expected": self.expected,
            "data_generator": self.target.data_generator,
            "time": self.target.time,
            "status": self.target.status,
            "reason": self.target.reason,
            "source": self.target.source,
        }


@dataclass(frozen=True)
class ExperimentResult:
    """Everything one run produced: raw arm courses, data generators (tidy) and target checks.

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
    >>> sorted(result.arms), list(result.data.columns)
    (['control', 'treated'], ['data_generator', 'time', 'scan_value', 'value', 'unit'])
    >>> result.targets[0].passed, result.provenance["model"]
    (True, 'bone_remodeling')
    """

    experiment: Experiment
    arms: Mapping[str, pd.DataFrame]
    data: pd.DataFrame
    targets: list[TargetResult] = field(default_factory=list)
    #: How it was made (:func:`pybrainbone.run_record.run_record`): versions, hashes, solver, date.
    provenance: Mapping[str, str] = field(default_factory=dict)

    def series(self, data_generator: str) -> pd.Series:
        """One data generator over time (time courses) or per scan value.

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
        >>> series = result.series("dCTX")
        >>> series.index.name, series.round(1).tolist()
        ('time', [0.0, 17.9, 17.9, 17.9, 17.9])
        """
        rows = self.data[self.data["data_generator"] == data_generator]
        key = "scan_value" if rows["scan_value"].notna().any() else "time"
        return rows.set_index(key)["value"]

    def to_xarray(self) -> xr.Dataset:
        """The data generators as an xarray Dataset: ``time`` (days) and, for scans, ``scan_value``
        dimensions; each variable carries its unit and name, the dataset its provenance.

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
        >>> dataset = result.to_xarray()
        >>> dataset["dCTX"].dims, dataset["dCTX"].attrs["units"], dataset["time"].attrs["units"]
        (('time',), '%', 'day')
        >>> dataset.attrs["experiment"], dataset.attrs["model"]
        ('pth', 'bone_remodeling')
        """
        variables: dict[str, xr.DataArray] = {}
        for dg in self.experiment.data_generators:
            rows = self.data[self.data["data_generator"] == dg.id]
            attrs = {"units": dg.unit, "long_name": dg.name or dg.id, "expression": dg.expression}
            if rows["scan_value"].notna().any():
                table = rows.pivot_table(index="scan_value", columns="time", values="value", sort=True)
                variables[dg.id] = xr.DataArray(
                    table.to_numpy(),
                    coords={"scan_value": table.index.to_numpy(), "time": table.columns.to_numpy()},
                    dims=("scan_value", "time"),
                    attrs=attrs,
                )
            else:
                variables[dg.id] = xr.DataArray(
                    rows["value"].to_numpy(),
                    coords={"time": rows["time"].to_numpy()},
                    dims="time",
                    attrs=attrs,
                )
        dataset = xr.Dataset(variables)
        if "time" in dataset.coords:
            dataset["time"].attrs["units"] = "day"
        dataset.attrs.update(
            {"experiment": self.experiment.id, "title": self.experiment.name or self.experiment.id}
        )
        dataset.attrs.update(self.provenance)
        return dataset

    def _repr_html_(self) -> str:
        """Notebook view: the targets as a table under the experiment's figure."""
        from pybrainbone.experiments.figures import plot_experiment
        from pybrainbone.plotting import figure_png

        rows = "".join(
            f"<tr><td>{html.escape(t.target.id)}</td><td>{t.value:.4g}</td><td>{html.escape(t.expected)}</td>"
            f"<td>{'met' if t.passed else 'missed'}</td></tr>"
            for t in self.targets
        )
        png = base64.b64encode(figure_png(plot_experiment(self))).decode("ascii")
        title = html.escape(self.experiment.name or self.experiment.id)
        table = f"<table><tr><th>target</th><th>value</th><th>expected</th><th></th></tr>{rows}</table>"
        return f"<h4>{title}</h4><img src='data:image/png;base64,{png}'/>{table if rows else ''}"


def expected_text(target: Target) -> str:
    """The target as a short human string, e.g. ``down, in [-65, -35]``.

    Examples
    --------
    >>> target = Target(id="t", data_generator="d", direction="down", range=(-65, -35), source="Smith 2001")
    >>> expected_text(target)
    'down, in [-65, -35]'
    >>> expected_text(Target(id="t", data_generator="d", direction="unchanged", source="Smith 2001"))
    'unchanged (|value| <= 1)'
    """
    text = target.direction.replace("_", " ")
    if target.direction == "unchanged":
        text += f" (|value| <= {target.unchanged_tolerance:g})"
    if target.range is not None:
        text += f", in [{target.range[0]:g}, {target.range[1]:g}]"
    elif target.value is not None:
        text += f", about {target.value:g}"
    return text


def check_target(target: Target, value: float) -> bool:
    """Whether ``value`` meets the target's direction and, if given, its range.

    Examples
    --------
    >>> target = Target(id="t", data_generator="d", direction="down", range=(-65, -35), source="Smith 2001")
    >>> check_target(target, -50.0), check_target(target, -10.0), check_target(target, float("nan"))
    (True, False, False)
    """
    if not math.isfinite(value):
        return False
    ok = {
        "up": value > _DIRECTION_EPSILON,
        "down": value < -_DIRECTION_EPSILON,
        "not_down": value > -target.unchanged_tolerance,
        "not_up": value < target.unchanged_tolerance,
        "unchanged": abs(value) <= target.unchanged_tolerance,
    }[target.direction]
    if target.range is not None:
        ok = ok and target.range[0] <= value <= target.range[1]
    return ok
