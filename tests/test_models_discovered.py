"""Every module in models/ is discovered, compiled, validated, loaded, simulated and sits at rest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import libsbml
import numpy as np
import pytest

from pybrainbone import Simulator, available_models, compile_model
from pybrainbone.provenance import parameter_table
from pybrainbone.testing import assert_at_rest, assert_reference_factors_are_one
from tests.conftest import load_data

ROOT = Path(__file__).resolve().parents[1]

MODELS = available_models()
#: Reference ranges of the healthy (premenopausal) state; *_postmenopausal entries are checked where
#: the intervention is (tests/test_module_hpg.py).
RANGES = {
    k: v for k, v in load_data("hormone_reference_ranges.yaml")["ranges"].items() if "postmenopausal" not in k
}
SimulatorFactory = Callable[[str], Simulator]


def test_models_are_discovered() -> None:
    assert "bone_remodeling" in MODELS


@pytest.mark.parametrize("name", MODELS)
def test_compiles_to_valid_sbml_l3v2(name: str) -> None:
    model = compile_model(name)
    document = libsbml.readSBMLFromString(model.sbml)
    assert (document.getLevel(), document.getVersion()) == (3, 2)
    assert document.getModel().getId() == name, "the main module must be the one named after the file"
    report = model.validation
    assert report.errors == ()
    assert report.unit_warnings == ()
    assert not document.getPlugin("comp"), "exported SBML must be flat"


@pytest.mark.parametrize("name", MODELS)
def test_reference_state_is_a_steady_state_for_50_years(name: str, simulator: SimulatorFactory) -> None:
    assert_at_rest(simulator(name), years=50, tolerance=1e-4)  # 0.01 %


@pytest.mark.parametrize("name", MODELS)
def test_reference_state_is_stable(name: str) -> None:
    eigenvalues = Simulator(name).eigenvalues()
    assert np.all(eigenvalues.real < 0), f"{name}: unstable or neutral modes {eigenvalues}"


@pytest.mark.parametrize("name", MODELS)
def test_states_start_from_numbers_not_initial_assignments(name: str) -> None:
    # tellurium and COPASI apply a parameter change (an organism preset, an arm) without re-evaluating the
    # initial assignments that read it, so a state set by one would start from the file's value there.
    sim = Simulator(name)
    model = libsbml.readSBMLFromString(sim.model.sbml).getModel()
    assigned = {a.getSymbol() for a in model.getListOfInitialAssignments()} & set(sim.state_ids)
    assert not assigned, f"{name}: states with initial assignments: {sorted(assigned)}"


@pytest.mark.parametrize("name", MODELS)
def test_every_parameter_has_a_unit_and_a_source(name: str) -> None:
    table = parameter_table(name)
    no_unit = table.index[table["unit"].fillna("") == ""].tolist()
    no_source = table.index[table["source"].fillna("").str.strip() == ""].tolist()
    assert not no_unit, f"{name}: parameters without a unit: {no_unit}"
    assert not no_source, f"{name}: parameters without a source (add 'Source:' or 'Assumed:'): {no_source}"


@pytest.mark.parametrize("name", MODELS)
def test_factors_and_relative_signals_are_one_at_the_reference(
    name: str, simulator: SimulatorFactory
) -> None:
    # Every effect port and factor (f_*, F_*) and every normalised signal (*_rel) is exactly 1 in the
    # healthy reference state: what makes the composed model rest there by construction.
    assert_reference_factors_are_one(simulator(name), tolerance=1e-9)


@pytest.mark.parametrize("hormone", sorted(RANGES))
def test_hormone_baselines_are_inside_reference_ranges(hormone: str) -> None:
    spec = RANGES[hormone]
    value = Simulator(spec["module"]).initial_values()[spec["variable"]]
    assert spec["low"] <= value <= spec["high"], f"{hormone} = {value} {spec['unit']} ({spec['source']})"


@pytest.mark.parametrize("name", MODELS)
def test_the_sbml_carries_every_parameter_source_and_description(
    name: str, simulator: SimulatorFactory
) -> None:
    # One source of truth: the comments in models/*.ant, written into the SBML that other tools load.
    model = libsbml.readSBMLFromString(compile_model(name).sbml).getModel()
    changeable = set(simulator(name).parameter_ids)
    parameters = [p for p in model.getListOfParameters() if p.getId() in changeable]
    unsourced = [p.getId() for p in parameters if "Source:" not in p.getNotesString()]
    assert not unsourced, f"{name}: parameters without a source in the SBML notes: {unsourced}"
    described = sum(p.getNotesString().count("<p>") == 2 for p in parameters)  # description + source
    assert described >= 0.9 * len(parameters), f"{name}: {described} of {len(parameters)} described"
    if name == "brain_bone_axis":  # the README's numbers
        readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
        said = f"all {len(parameters)} changeable parameters are sourced and {described} described"
        assert said in readme, f"README.md should say: {said}"
