"""Local sensitivities: time-resolved d ln y / d ln p, and steady-state control coefficients.

Two ways to the time-resolved derivatives:

* ``method="fd"`` (default): central differences in ln p, ``(y(p(1+h)) - y(p(1-h))) / (2h)``. Works with
  events, rate rules and assignment-rule outputs (markers, BMD, hormones), and through experiment specs.
* ``method="forward"``: libRoadRunner's CVODES forward sensitivity solver (``timeSeriesSensitivities``),
  for state variables only. libRoadRunner 2.10.0 as installed here returns all-zero matrices even for a
  one-species model (checked against the closed form), so this method refuses an all-zero answer instead
  of returning it.

Results are labelled (time x parameter x output) and carry three scalings: ``unscaled`` dy/dp,
``semi_scaled`` p dy/dp (change in y per relative change in p; meaningful when y crosses 0, e.g. a
percent difference) and ``scaled`` d ln y / d ln p (NaN where y is 0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from pybrainbone.errors import InvalidValueError, SimulationError, unknown_name
from pybrainbone.sensitivity.executors import Engine, evaluate
from pybrainbone.sensitivity.objective import Objective
from pybrainbone.sensitivity.results import LocalSensitivities
from pybrainbone.simulator import Simulator

DEFAULT_STEP = 1e-3


def _nominal(sim: Simulator, parameters: Sequence[str], changes: Mapping[str, float]) -> dict[str, float]:
    reference = sim.parameters()["value"].to_dict()
    out = {}
    for name in parameters:
        if name not in reference:
            raise unknown_name("parameter", name, sim.parameter_ids, sim.name)
        out[name] = float(changes.get(name, reference[name]))
    return out


def _steps(nominal: Mapping[str, float], parameters: Sequence[str], h: float) -> dict[str, float]:
    """Absolute step per parameter: h * |p|, or h for a parameter that is 0."""
    return {n: h * abs(nominal[n]) if nominal[n] != 0 else h for n in parameters}


def time_sensitivities(
    sim: Simulator,
    parameters: Sequence[str],
    outputs: Sequence[str],
    end: float,
    points: int = 101,
    *,
    start: float = 0.0,
    changes: Mapping[str, float] | None = None,
    method: Literal["fd", "forward"] = "fd",
    relative_step: float = DEFAULT_STEP,
) -> LocalSensitivities:
    """Time-resolved sensitivities of model variables ``outputs`` to ``parameters`` around ``changes``.

    Examples
    --------
    >>> sim = Simulator("bone_remodeling")
    >>> local = time_sensitivities(
    ...     sim, ["D_OCp", "A_OCa"], ["OCa"], end=365, points=3, changes={"P_PTH_ext": 100.0})
    >>> local.times.tolist(), local.unscaled.shape
    ([0.0, 182.5, 365.0], (3, 2, 1))
    >>> local.at(365).round(3)
                OCa
    parameter
    D_OCp      0.44
    A_OCa     -0.44
    """
    changes = dict(changes or {})
    parameters, outputs = list(parameters), list(outputs)
    if not parameters or not outputs:
        raise InvalidValueError("give at least one parameter and one output")
    nominal = _nominal(sim, parameters, changes)
    base = sim.simulate(end, points, start=start, changes=changes, selections=outputs)
    times, values = base.index.to_numpy(), base.to_numpy()
    if method == "forward":
        unscaled = _forward(sim, parameters, outputs, start, end, points, changes)
        return LocalSensitivities(times, parameters, outputs, values, nominal, unscaled, "forward")
    if method != "fd":
        raise InvalidValueError(f"method must be 'fd' or 'forward', got {method!r}")
    steps = _steps(nominal, parameters, relative_step)
    unscaled = np.empty((len(times), len(parameters), len(outputs)))
    for j, name in enumerate(parameters):
        up = sim.simulate(
            end,
            points,
            start=start,
            changes={**changes, name: nominal[name] + steps[name]},
            selections=outputs,
        ).to_numpy()
        down = sim.simulate(
            end,
            points,
            start=start,
            changes={**changes, name: nominal[name] - steps[name]},
            selections=outputs,
        ).to_numpy()
        unscaled[:, j, :] = (up - down) / (2 * steps[name])
    return LocalSensitivities(times, parameters, outputs, values, nominal, unscaled, "fd", relative_step)


def _forward(
    sim: Simulator,
    parameters: list[str],
    outputs: list[str],
    start: float,
    end: float,
    points: int,
    changes: Mapping[str, float],
) -> np.ndarray:
    _, sens = sim.forward_sensitivities(
        parameters, outputs, start=start, end=end, points=points, changes=changes
    )
    if sens.size and not np.any(sens):
        raise SimulationError(
            "libRoadRunner's forward sensitivity solver returned only zeros (seen with libroadrunner 2.10.0 "
            "on models whose closed-form sensitivities are not zero); use method='fd'"
        )
    return sens


def spec_time_sensitivities(
    objective: Objective,
    *,
    relative_step: float = DEFAULT_STEP,
    engine: Engine | None = None,
    chunk_size: int | None = None,
    progress: bool = False,
) -> LocalSensitivities:
    """Central-difference sensitivities of a spec's data generator (``objective.series``) over time.

    The 2P+1 runs go through the same engines as the global methods (serial, processes, Dask).

    Examples
    --------
    >>> from pybrainbone.experiments.spec import Experiment
    >>> exp = Experiment.model_validate({
    ...     "id": "pth", "model": "bone_remodeling",
    ...     "simulation": {"type": "uniform_time_course", "end": 365, "points": 5},
    ...     "arms": [{"id": "control"}, {"id": "treated", "changes": {"P_PTH_ext": 100}}],
    ...     "data_generators": [{"id": "dCTX", "expression": "100*(treated.CTX_rel/control.CTX_rel - 1)"},
    ...                         {"id": "same", "expression": "treated.OCa / treated.OCa"}]})
    >>> from pybrainbone.sensitivity.executors import SerialEngine
    >>> from pybrainbone.sensitivity.objective import make_objective
    >>> objective = make_objective(exp, "dCTX", ["D_OCp", "A_OCa"], series=True)
    >>> local = spec_time_sensitivities(objective, engine=SerialEngine())
    >>> local.outputs, local.times.tolist()
    (['dCTX'], [0.0, 91.25, 182.5, 273.75, 365.0])
    >>> local.at(365, scaling="semi_scaled").round(3)  # percentage points per relative change
                dCTX
    parameter
    D_OCp     -1.481
    A_OCa      1.481
    """
    if not objective.series:
        raise InvalidValueError("spec_time_sensitivities needs an objective built with series=True")
    names = list(objective.names)
    nominal = {n: objective.nominal[n] for n in names}
    steps = _steps(nominal, names, relative_step)
    x0 = np.array([nominal[n] for n in names])
    rows = [x0]
    for j, name in enumerate(names):
        for sign in (1.0, -1.0):
            x = x0.copy()
            x[j] += sign * steps[name]
            rows.append(x)
    ev = evaluate(objective, np.array(rows), engine, chunk_size=chunk_size, progress=progress, label="local")
    if ev.failures:
        first = ev.failures[0]
        raise SimulationError(
            f"{len(ev.failures)} of {len(rows)} runs failed; first: sample {first.index}: {first.reason}"
        )
    values = ev.values[0][:, None]
    unscaled = np.empty((ev.values.shape[1], len(names), 1))
    for j, name in enumerate(names):
        unscaled[:, j, 0] = (ev.values[1 + 2 * j] - ev.values[2 + 2 * j]) / (2 * steps[name])
    return LocalSensitivities(
        objective.times(),
        names,
        [objective.output.data_generator],
        values,
        nominal,
        unscaled,
        "fd",
        relative_step,
    )


def control_coefficients(
    sim: Simulator,
    parameters: Sequence[str],
    outputs: Sequence[str] | None = None,
    *,
    changes: Mapping[str, float] | None = None,
    relative_step: float = DEFAULT_STEP,
) -> pd.DataFrame:
    """Scaled control coefficients d ln y_ss / d ln p at the steady state (default: the healthy baseline).

    Central differences over :meth:`Simulator.steady_state` (libRoadRunner's own MCA refuses models with
    rate rules, which our bone-mass outputs use). Rows: parameters; columns: outputs (default: all
    variables). Entries are NaN where the steady-state value is 0.

    Examples
    --------
    >>> sim = Simulator("bone_remodeling")
    >>> control_coefficients(sim, ["D_OCp", "A_OCa"], ["OBa", "OCa"]).round(3)
                 OBa    OCa
    parameter
    D_OCp      0.384  0.453
    A_OCa     -0.384 -0.453
    """
    changes = dict(changes or {})
    parameters = list(parameters)
    nominal = _nominal(sim, parameters, changes)
    base = sim.steady_state(changes)
    columns = list(outputs) if outputs is not None else list(base.index)
    for name in columns:
        if name not in base.index:
            raise unknown_name("variable", name, list(base.index), sim.name)
    steps = _steps(nominal, parameters, relative_step)
    y0 = base[columns].to_numpy()
    data = np.empty((len(parameters), len(columns)))
    for j, name in enumerate(parameters):
        up = sim.steady_state({**changes, name: nominal[name] + steps[name]}, columns).to_numpy()
        down = sim.steady_state({**changes, name: nominal[name] - steps[name]}, columns).to_numpy()
        with np.errstate(all="ignore"):
            data[j] = np.where(
                y0 != 0, (up - down) / (2 * steps[name]) * nominal[name] / np.where(y0 != 0, y0, 1), np.nan
            )
    return pd.DataFrame(data, index=pd.Index(parameters, name="parameter"), columns=columns)
