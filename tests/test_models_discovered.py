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
def test_amount_species_live_in_unit_volumes(name: str) -> None:
    # tellurium's SED-ML executor (and COPASI's import) apply a change to a species' initialAmount as an
    # initial concentration; in a compartment of size 1 the two are the same number, elsewhere an exported
    # start state would be off by the compartment's size.
    model = libsbml.readSBMLFromString(compile_model(name).sbml).getModel()
    sizes = {c.getId(): c.getSize() for c in model.getListOfCompartments()}
    off = {
        s.getId(): sizes[s.getCompartment()]
        for s in model.getListOfSpecies()
        if s.getHasOnlySubstanceUnits() and sizes[s.getCompartment()] != 1.0
    }
    assert not off, f"{name}: amount species in compartments of size other than 1: {off}"


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


_RELATIONS = {
    libsbml.AST_RELATIONAL_LT,
    libsbml.AST_RELATIONAL_LEQ,
    libsbml.AST_RELATIONAL_GT,
    libsbml.AST_RELATIONAL_GEQ,
}


def _comparisons(node: libsbml.ASTNode) -> list[libsbml.ASTNode]:
    """The relational parts of a trigger (through its and/or/not)."""
    if node.getType() in _RELATIONS:
        return [node]
    return [part for i in range(node.getNumChildren()) for part in _comparisons(node.getChild(i))]


def _mentions_time(node: libsbml.ASTNode) -> bool:
    if node.getType() == libsbml.AST_NAME_TIME:
        return True
    return any(_mentions_time(node.getChild(i)) for i in range(node.getNumChildren()))


def _value(node: libsbml.ASTNode, values: dict[str, float]) -> float:
    kind = node.getType()
    if kind in (libsbml.AST_INTEGER, libsbml.AST_REAL, libsbml.AST_REAL_E, libsbml.AST_RATIONAL):
        return float(node.getValue())
    if kind == libsbml.AST_NAME:
        return values[node.getName()]
    parts = [_value(node.getChild(i), values) for i in range(node.getNumChildren())]
    if kind == libsbml.AST_PLUS:
        return float(sum(parts))
    if kind == libsbml.AST_TIMES:
        return float(np.prod(parts))
    if kind == libsbml.AST_MINUS:
        return parts[0] - parts[1] if len(parts) == 2 else -parts[0]
    if kind == libsbml.AST_DIVIDE:
        return parts[0] / parts[1]
    raise AssertionError(f"unexpected operator in a trigger: {libsbml.formulaToL3String(node)}")


@pytest.mark.parametrize("name", MODELS)
def test_no_trigger_part_rests_at_exactly_zero(name: str) -> None:
    # AMICI roots a trigger `a && b` as min(a - ..., b - ...): a part without `time` that is exactly 0
    # while the event is off (`dose > 0` with no dose) gives a root function that stays at 0, and CVODE
    # stops ("root after reinitialization", status -99). docs/modelling-conventions.md, "Interventions".
    model = libsbml.readSBMLFromString(compile_model(name).sbml).getModel()
    values = {p.getId(): p.getValue() for p in model.getListOfParameters()}
    resting = []
    for event in model.getListOfEvents():
        for part in _comparisons(event.getTrigger().getMath()):
            if _mentions_time(part):
                continue
            gap = _value(part.getChild(0), values) - _value(part.getChild(1), values)
            if gap == 0.0:
                resting.append(f"{event.getId()}: {libsbml.formulaToL3String(part)}")
    assert not resting, f"{name}: trigger parts at exactly 0 at the reference: {resting}"
