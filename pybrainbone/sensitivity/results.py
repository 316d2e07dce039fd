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
    """Sensitivities at each time (axis 0) of each output (axis 2) to each parameter (axis 1)."""

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
        p = np.array([self.nominal[name] for name in self.parameters])
        semi: np.ndarray = self.unscaled * p[None, :, None]
        return semi

    @property
    def scaled(self) -> np.ndarray:
        y = self.values[:, None, :]
        with np.errstate(all="ignore"):
            scaled: np.ndarray = np.where(y != 0, self.semi_scaled / np.where(y != 0, y, 1.0), np.nan)
        return scaled

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: time, parameter, output, value, unscaled, semi_scaled, scaled."""
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
        """Parameter x output matrix at the output time nearest ``time``."""
        i = int(np.argmin(np.abs(self.times - time)))
        data = getattr(self, scaling)[i]
        return pd.DataFrame(data, index=pd.Index(self.parameters, name="parameter"), columns=self.outputs)


@dataclass(frozen=True)
class GlobalResult:
    """Indices of one global analysis, with everything needed to reproduce and audit it."""

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
