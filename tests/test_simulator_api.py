"""The Simulator's contract: named results, clear errors, calls that never leak into each other."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from pybrainbone import (
    InvalidValueError,
    ModelNotFoundError,
    PyBrainBoneError,
    Simulator,
    SolverOptions,
    UnknownNameError,
)


def test_time_course_is_a_named_dataframe_with_units(core: Simulator) -> None:
    frame = core.simulate(end=30, points=31, selections=["OBa", "BMD", "RANKL"])
    assert isinstance(frame, pd.DataFrame)
    assert frame.index.name == "time"
    assert list(frame.columns) == ["OBa", "BMD", "RANKL"]
    assert frame.index[0] == 0 and frame.index[-1] == 30 and len(frame) == 31
    assert frame.attrs["units"] == {"time": "day", "OBa": "pM", "BMD": "percent", "RANKL": "pM"}


def test_default_selection_reports_every_state_and_output(core: Simulator) -> None:
    frame = core.simulate(end=1, points=2)
    assert set(core.state_ids) <= set(frame.columns)
    assert {"P1NP_rel", "CTX_rel", "RANKL", "OPG", "TGFb", "PTH"} <= set(frame.columns)


def test_changes_do_not_leak_into_later_calls(core: Simulator) -> None:
    core.simulate(end=100, points=2, changes={"P_RANKL_ext": 1e4})
    again = core.simulate(end=100, points=2, selections=["OCa"])
    assert again["OCa"].iloc[-1] == pytest.approx(core.baseline()["OCa"], rel=1e-9)
    assert core.parameters().loc["P_RANKL_ext", "value"] == 0.0


def test_initial_value_changes_start_from_them(core: Simulator) -> None:
    frame = core.simulate(end=10, points=2, changes={"OCa": 2e-3, "BMD": 90.0}, selections=["OCa", "BMD"])
    assert frame["OCa"].iloc[0] == pytest.approx(2e-3)
    assert frame["BMD"].iloc[0] == pytest.approx(90.0)


def test_per_call_options_do_not_mutate_the_simulator(core: Simulator) -> None:
    before = core.options
    core.simulate(end=10, points=2, options=SolverOptions(relative_tolerance=1e-6))
    assert core.options == before
    again = core.simulate(end=10, points=2)
    assert again.equals(core.simulate(end=10, points=2, options=before))


def test_baseline_is_cached_and_returned_as_copy(core: Simulator) -> None:
    first = core.baseline()
    first["OBa"] = -1.0
    assert core.baseline()["OBa"] > 0


def test_unknown_parameter_lists_near_matches(core: Simulator) -> None:
    with pytest.raises(UnknownNameError, match=r"unknown parameter 'P_PTH_EXT'.*P_PTH_ext"):
        core.simulate(end=10, changes={"P_PTH_EXT": 1.0})


def test_unknown_selection_lists_near_matches(core: Simulator) -> None:
    with pytest.raises(UnknownNameError, match=r"unknown variable 'OCA'.*OCa"):
        core.simulate(end=10, selections=["OCA"])


def test_rule_computed_variable_cannot_be_set(core: Simulator) -> None:
    with pytest.raises(PyBrainBoneError, match="assignment rule"):
        core.simulate(end=10, changes={"RANKL": 1.0})


@pytest.mark.parametrize("bad", [math.nan, math.inf, "abc", None, True])
def test_non_numeric_or_non_finite_values_are_rejected(core: Simulator, bad: object) -> None:
    with pytest.raises(InvalidValueError, match="P_PTH_ext"):
        core.simulate(end=10, changes={"P_PTH_ext": bad})  # type: ignore[dict-item]


@pytest.mark.parametrize(("end", "points"), [(-10, 11), (0, 11), (10, 1), (10, 2.5)])
def test_bad_time_grids_are_rejected(core: Simulator, end: float, points: int) -> None:
    with pytest.raises(InvalidValueError):
        core.simulate(end=end, points=points)


def test_unknown_model_names_near_matches() -> None:
    with pytest.raises(ModelNotFoundError, match="did you mean bone_remodeling"):
        Simulator("bone_remodelling")


def test_parameter_table_has_values_and_units(core: Simulator) -> None:
    table = core.parameters()
    assert table.loc["A_OBa", "value"] == pytest.approx(0.189)
    assert table.loc["A_OBa", "unit"] == "per_day"
    assert "OBp" not in table.index  # states are not parameters
    assert "RANKL" not in table.index  # nor are rule outputs


def test_parameter_table_reports_reference_values_after_a_changed_run(core: Simulator) -> None:
    # A run's changes stay in the RoadRunner instance until the next reset; the table must not show them.
    core.simulate(end=10, points=2, changes={"P_PTH_ext": 55.0, "A_OBa": 0.3})
    table = core.parameters()
    assert table.loc["P_PTH_ext", "value"] == 0.0
    assert table.loc["A_OBa", "value"] == pytest.approx(0.189)
