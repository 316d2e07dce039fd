"""Timed interventions are SBML events: the answer never depends on the output grid or on the instance.

Written as ``piecewise(dose, time >= t_on && time < t_off, 0)`` inside rules they were invisible to CVODE,
which stepped over whole dosing windows on coarse grids or with a warm integrator (the prednisolone
reproducer below gave BMD 100 % in a second simulator of the same process).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pybrainbone import Simulator
from pybrainbone.experiments.results import TargetResult
from pybrainbone.experiments.runner import Runner
from pybrainbone.experiments.scorecard import library_specs
from pybrainbone.experiments.spec import UniformTimeCourse, load_experiment

COURSE = {"HPA_pred_dose": 7.5, "HPA_t_pred": 365.25, "HPA_t_pred_end": 730.5}
END = 1095.75


@pytest.fixture(scope="module")
def two_simulators() -> tuple[Simulator, Simulator]:
    return Simulator("brain_bone_axis"), Simulator("brain_bone_axis")


def test_a_prednisolone_window_is_applied_on_every_grid_by_every_instance(
    two_simulators: tuple[Simulator, Simulator],
) -> None:
    ends, nadirs = [], []
    for sim in two_simulators:
        for points in (2, 11, 1097):
            course = sim.simulate(end=END, points=points, changes=COURSE, selections=["core_BMD", "HPA_Pred"])
            ends.append(course["core_BMD"].iloc[-1])
            if points == 1097:
                nadirs.append(course["core_BMD"].min())
                during = course.loc[(course.index > 400) & (course.index < 700), "HPA_Pred"]
                assert (during > 0).all()  # the drug is on during its window ...
                assert course.loc[course.index < 365, "HPA_Pred"].eq(0).all()  # ... and not before
    np.testing.assert_allclose(ends, ends[0], rtol=1e-6)
    np.testing.assert_allclose(nadirs, nadirs[0], rtol=1e-6)
    assert 85 < nadirs[0] < 97  # a year of 7.5 mg/day costs the spine a few per cent (not 0)


def test_denosumab_injections_are_given_on_a_two_point_grid(
    two_simulators: tuple[Simulator, Simulator],
) -> None:
    sim = two_simulators[0]
    regimen = {"Dmab_dose_dmab": 60.0, "Dmab_n_dmab": 4.0}
    coarse = sim.simulate(end=730.5, points=2, changes=regimen, selections=["core_BMD"])
    fine = sim.simulate(end=730.5, points=731, changes=regimen, selections=["core_BMD"])
    assert coarse["core_BMD"].iloc[-1] == pytest.approx(fine["core_BMD"].iloc[-1], rel=1e-6)
    assert coarse["core_BMD"].iloc[-1] > 102  # two years of denosumab add spine BMD


def test_the_steady_state_sees_a_window_open_at_t0(two_simulators: tuple[Simulator, Simulator]) -> None:
    sim = two_simulators[0]
    on = sim.steady_state({"HPA_pred_dose": 7.5})
    later = sim.steady_state({"HPA_pred_dose": 7.5, "HPA_t_pred": 10.0})
    assert on["HPA_Pred"] > 0
    assert later["HPA_Pred"] == 0  # the window has not opened at t = 0


def _specs() -> list[Path]:
    out = []
    for path in library_specs():
        spec = load_experiment(path)
        if isinstance(spec.simulation, UniformTimeCourse) and spec.targets:
            out.append(path)
    return out


#: Ten years of weekly doses (520 events an arm) take a minute on each grid: in the slow tier.
SLOW_GRIDS = {"alendronate_flex"}


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(p, id=p.stem, marks=[pytest.mark.exchange_library] if p.stem in SLOW_GRIDS else [])
        for p in _specs()
    ],
)
def test_targets_are_the_same_on_a_two_point_grid(path: Path) -> None:
    spec = load_experiment(path)
    assert isinstance(spec.simulation, UniformTimeCourse)
    runner = Runner()
    own = runner.run(spec)
    grid = np.linspace(spec.simulation.start, spec.simulation.end, spec.simulation.points)
    coarse_runs: dict[float, list[TargetResult]] = {}
    for index, checked in enumerate(own.targets):
        target = checked.target
        when = spec.simulation.end if target.time is None else target.time
        if when <= spec.simulation.start or not np.isclose(grid, when, rtol=0, atol=1e-9).any():
            continue  # at the start, or interpolated on its own grid: not the same quantity
        if when not in coarse_runs:
            simulation = spec.simulation.model_copy(update={"end": when, "points": 2})
            coarse_runs[when] = runner.run(spec.model_copy(update={"simulation": simulation})).targets
        again = coarse_runs[when][index]  # same spec, same target list
        assert again.target == target
        assert again.value == pytest.approx(checked.value, rel=1e-5, abs=1e-6), (
            target.id,
            target.data_generator,
        )


def test_window_flags_follow_changed_window_times() -> None:
    # A window opening later: its 'before' event (t0=false) holds the flag at 0 from t = 0 in every tool.
    sim = Simulator("hpa")
    course = sim.simulate(
        end=10, points=11, changes={"pred_dose": 7.5, "t_pred": 5.0, "t_pred_end": 8.0}, selections=["Pred"]
    )
    assert course.loc[:4.5, "Pred"].eq(0).all()
    assert course.loc[6.0, "Pred"] > 100
    assert course.loc[10.0, "Pred"] < 0.01
