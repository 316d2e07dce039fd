"""A small calibration problem made from the model itself: data simulated at known values plus noise.

:func:`write_synthetic_problem` writes a dataset directory (``studies.yaml`` and one measurement table,
in the format of ``data/``) and a spec linking to it: the bone core under a PTH infusion, serum CTX (ratio
to the reference) and spine BMD (% change from baseline) monthly for a year, simulated at ``truth`` with
seeded Gaussian noise of known standard error. It is what the recovery tests, the documentation and the
benchmark calibrate.

>>> import tempfile
>>> tmp = tempfile.TemporaryDirectory()
>>> problem = write_synthetic_problem(tmp.name)
>>> sorted(p.name for p in Path(tmp.name).iterdir())
['data', 'synthetic_pth.yaml']
>>> problem.truth
{'D_OCp': 0.00315, 'kout_BMD': 0.004764}
>>> tmp.cleanup()
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pybrainbone.atomic import write_text_atomic
from pybrainbone.experiments.spec import Experiment
from pybrainbone.measurements import COLUMNS

__all__ = ["SyntheticProblem", "write_synthetic_problem"]

#: The true values the data are simulated at (the core's D_OCp x 1.5 and kout_BMD x 0.5).
TRUTH = {"D_OCp": 0.00315, "kout_BMD": 0.004764}
#: Standard errors of the simulated means: CTX ratio, BMD % change.
NOISE = {"CTX": 0.02, "BMD_lumbar_spine": 0.3}
_STUDY = "synthetic_pth"


@dataclass(frozen=True)
class SyntheticProblem:
    """Where a synthetic problem was written and what it was simulated at.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     problem = write_synthetic_problem(folder, seed=3)
    ...     print(problem.spec.name, problem.data == Path(folder) / "data", problem.seed)
    synthetic_pth.yaml True 3
    """

    spec: Path
    data: Path
    truth: Mapping[str, float]
    seed: int


def _experiment() -> Experiment:
    return Experiment.model_validate(
        {
            "id": _STUDY,
            "name": "Synthetic calibration problem: the bone core under PTH, data simulated from the model",
            "model": "bone_remodeling",
            "simulation": {"type": "uniform_time_course", "end": 365.25, "points": 13},
            "arms": [{"id": "pth", "changes": {"P_PTH_ext": 100.0}}],
            "data_generators": [
                {"id": "ctx", "expression": "pth.CTX_rel", "unit": "1"},
                {"id": "bmd", "expression": "pth.BMD", "unit": "%"},
            ],
            "measurements": [
                {"data_generator": "ctx", "dataset": _STUDY, "observable": "CTX", "condition": "pth"},
                {
                    "data_generator": "bmd",
                    "dataset": _STUDY,
                    "observable": "BMD_lumbar_spine",
                    "condition": "pth",
                    "transform": "percent_change",
                },
            ],
        }
    )


_STUDIES = f"""{_STUDY}:
  citation: "Synthetic data simulated from pybrainbone's bone_remodeling core (not a publication)"
  organism: human
  arms:
    pth: "Continuous PTH infusion P_PTH_ext = 100 pM/day from t = 0"
"""


def _table(values: Mapping[str, np.ndarray], rng: np.random.Generator) -> str:
    units = {"CTX": "ratio_to_reference", "BMD_lumbar_spine": "percent_change_from_baseline"}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for observable, series in values.items():
        sigma = NOISE[observable]
        for month, value in enumerate(series, start=1):
            mean = float(value + sigma * rng.standard_normal())
            writer.writerow(
                [observable, "human", "pth", month, "month", f"{mean:.10g}", sigma, "SE", "",
                 units[observable], "simulated", "derived", "model at the true values + N(0, SE^2)"]
            )  # fmt: skip
    return buffer.getvalue()


def write_synthetic_problem(
    directory: str | Path, *, truth: Mapping[str, float] | None = None, seed: int = 1
) -> SyntheticProblem:
    """Write the spec into ``directory`` and the dataset into ``directory/data``; the data are the model
    at ``truth`` plus noise.

    Examples
    --------
    >>> import tempfile
    >>> from pybrainbone.measurements import load_datasets
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     problem = write_synthetic_problem(folder)
    ...     rows = load_datasets(problem.data)["synthetic_pth"].measurements
    ...     print(len(rows), rows[0].observable, rows[-1].unit)
    24 CTX percent_change_from_baseline
    """
    from pybrainbone.experiments.plan import execute, resolve
    from pybrainbone.simulator import Simulator

    root = Path(directory)
    chosen = dict(TRUTH if truth is None else truth)
    experiment = _experiment()
    sim = Simulator(experiment.model)
    ((_, course),) = execute(resolve(experiment, sim), sim, chosen)
    bmd = course["BMD"].to_numpy()
    values = {"CTX": course["CTX_rel"].to_numpy()[1:], "BMD_lumbar_spine": 100 * (bmd[1:] / bmd[0] - 1)}
    data = root / "data"
    write_text_atomic(data / "studies.yaml", _STUDIES)
    write_text_atomic(data / "measurements" / f"{_STUDY}.csv", _table(values, np.random.default_rng(seed)))
    spec = root / f"{_STUDY}.yaml"
    write_text_atomic(spec, experiment.to_yaml())
    return SyntheticProblem(spec, data, chosen, seed)
