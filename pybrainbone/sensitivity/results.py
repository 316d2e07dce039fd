"""Results of sensitivity analyses, below the modules that compute, write or plot them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from pybrainbone.sensitivity.executors import Evaluation, Failure
from pybrainbone.sensitivity.problem import Problem

MethodName = Literal["morris", "sobol", "efast"]


@dataclass(frozen=True)
class LocalSensitivities:
    """Sensitivities at each time (axis 0) of each output (axis 2) to each parameter (axis 1).

    Examples
    --------
    >>> from pybrainbone.simulator import Simulator
    >>> from pybrainbone.sensitivity.local import time_sensitivities
    >>> local = time_sensitivities(Simulator("bone_remodeling"), ["D_OCp", "A_OCa"], ["OCa", "CTX_rel"],
    ...                            end=365, points=3, changes={"P_PTH_ext": 100.0})
    >>> local.unscaled.shape, local.parameters, local.outputs, local.method
    ((3, 2, 2), ['D_OCp', 'A_OCa'], ['OCa', 'CTX_rel'], 'fd')
    >>> local.at(365).round(3)  # OCa ~ D_OCp / A_OCa: equal and opposite
                OCa  CTX_rel
    parameter
    D_OCp      0.44     0.44
    A_OCa     -0.44    -0.44
    """

    times: np.ndarray
    parameters: list[str]
    outputs: list[str]
    values: np.ndarray  # (time, output): the nominal trajectory
    nominal: dict[str, float]
    unscaled: np.ndarray  # (time, parameter, output)
    method: str
    relative_step: float | None = None

    @property
    def semi_scaled(self) -> np.ndarray:
        """``p dy/dp``: change of each output per relative change of each parameter.

        Examples
        --------
        >>> from pybrainbone.simulator import Simulator
        >>> from pybrainbone.sensitivity.local import time_sensitivities
        >>> local = time_sensitivities(Simulator("bone_remodeling"), ["D_OCp", "A_OCa"], ["OCa", "CTX_rel"],
        ...                            end=365, points=3, changes={"P_PTH_ext": 100.0})
        >>> local.semi_scaled[-1, :, 1].round(3)  # CTX_rel per relative change of D_OCp and A_OCa
        array([ 0.519, -0.519])
        """
        p = np.array([self.nominal[name] for name in self.parameters])
        semi: np.ndarray = self.unscaled * p[None, :, None]
        return semi

    @property
    def scaled(self) -> np.ndarray:
        """``d ln y / d ln p`` (NaN where the output is 0).

        Examples
        --------
        >>> from pybrainbone.simulator import Simulator
        >>> from pybrainbone.sensitivity.local import time_sensitivities
        >>> local = time_sensitivities(Simulator("bone_remodeling"), ["D_OCp", "A_OCa"], ["OCa", "CTX_rel"],
        ...                            end=365, points=3, changes={"P_PTH_ext": 100.0})
        >>> local.scaled[-1].round(3)  # at 365 days: parameters x outputs
        array([[ 0.44,  0.44],
               [-0.44, -0.44]])
        """
        y = self.values[:, None, :]
        with np.errstate(all="ignore"):
            scaled: np.ndarray = np.where(y != 0, self.semi_scaled / np.where(y != 0, y, 1.0), np.nan)
        return scaled

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: time, parameter, output, value, unscaled, semi_scaled, scaled.

        Examples
        --------
        >>> from pybrainbone.simulator import Simulator
        >>> from pybrainbone.sensitivity.local import time_sensitivities
        >>> local = time_sensitivities(Simulator("bone_remodeling"), ["D_OCp", "A_OCa"], ["OCa", "CTX_rel"],
        ...                            end=365, points=3, changes={"P_PTH_ext": 100.0})
        >>> table = local.to_frame()
        >>> list(table.columns), len(table)
        (['time', 'parameter', 'output', 'value', 'unscaled', 'semi_scaled', 'scaled'], 12)
        """
        t, p, o = np.meshgrid(
            np.arange(len(self.times)),
            np.arange(len(self.parameters)),
            np.arange(len(self.outputs)),
            indexing="ij",
        )
        return pd.DataFrame(
            {
                "time": self.times[t.ravel()],
                "parameter": np.array(self.parameters, dtype=object)[p.ravel()],
                "output": np.array(self.outputs, dtype=object)[o.ravel()],
                "value": self.values[t.ravel(), o.ravel()],
                "unscaled": self.unscaled.ravel(),
                "semi_scaled": self.semi_scaled.ravel(),
                "scaled": self.scaled.ravel(),
            }
        )

    def at(self, time: float, scaling: str = "scaled") -> pd.DataFrame:
        """Parameter x output matrix at the output time nearest ``time``.

        Examples
        --------
        >>> from pybrainbone.simulator import Simulator
        >>> from pybrainbone.sensitivity.local import time_sensitivities
        >>> local = time_sensitivities(Simulator("bone_remodeling"), ["D_OCp", "A_OCa"], ["OCa", "CTX_rel"],
        ...                            end=365, points=3, changes={"P_PTH_ext": 100.0})
        >>> local.at(300, scaling="scaled").round(3)  # the output time nearest 300 days: 365
                    OCa  CTX_rel
        parameter
        D_OCp      0.44     0.44
        A_OCa     -0.44    -0.44
        """
        i = int(np.argmin(np.abs(self.times - time)))
        data = getattr(self, scaling)[i]
        return pd.DataFrame(data, index=pd.Index(self.parameters, name="parameter"), columns=self.outputs)


@dataclass(frozen=True)
class GlobalResult:
    """Indices of one global analysis, with everything needed to reproduce and audit it.

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
    >>> result.method, result.output, result.samples.shape, result.handling
    ('morris', 'pth:dCTX@365', (12, 2), 'no failures')
    >>> result.indices[["parameter", "rank"]].values.tolist()
    [['A_OCa', 1], ['D_OCp', 2]]
    """

    method: MethodName
    output: str
    problem: Problem
    indices: pd.DataFrame
    samples: np.ndarray  # model units, one row per sample
    values: np.ndarray  # output per sample (NaN where it failed)
    failures: list[Failure]
    handling: str
    seed: int
    settings: dict[str, Any]
    evaluation: Evaluation
    second_order: pd.DataFrame | None = None

    def summary(self) -> dict[str, Any]:
        """What the analysis was and how it ran: method, seed, settings, ranges, failures, engine.

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
        >>> summary = result.summary()
        >>> summary["method"], summary["seed"], summary["samples"], summary["failed"], summary["engine"]
        ('morris', 1, 12, 0, 'serial')
        >>> summary["settings"]
        {'trajectories': 4, 'num_levels': 4, 'num_resamples': 1000, 'conf_level': 0.95}
        """
        ev = self.evaluation
        return {
            "method": self.method,
            "output": self.output,
            "seed": self.seed,
            "settings": self.settings,
            "parameters": self.problem.table(),
            "samples": len(self.samples),
            "failed": len(self.failures),
            "failure_handling": self.handling,
            "engine": ev.engine,
            "workers": ev.workers,
            "chunk_size": ev.chunk_size,
            "seconds": round(ev.seconds, 3),
            "samples_per_second": round(ev.samples_per_second, 2),
            "tolerance_check": ev.tolerance_check,
        }
