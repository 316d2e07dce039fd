"""The bone-remodelling core reproduces Pivonka et al. 2008 and behaves as its sources report."""

from __future__ import annotations

import numpy as np
import pytest

from pybrainbone import Simulator, SolverOptions
from tests.conftest import load_data

REF = load_data("pivonka2008_reference.yaml")
PORTS = [
    "f_OB_diff",
    "f_OB_apop",
    "f_OC_diff",
    "f_OC_apop",
    "f_RANKL",
    "f_OPG",
    "f_formation",
    "f_resorption",
]


def test_steady_state_matches_pivonka_2008(core: Simulator) -> None:
    state = core.baseline()
    for cell, value in REF["steady_state_pM"].items():
        assert state[cell] == pytest.approx(value, rel=REF["steady_state_tolerance_rel"])


def test_ligands_match_published_reconstruction(core: Simulator) -> None:
    state = core.baseline()
    for ligand, value in REF["ligands_pM"].items():
        assert state[ligand] == pytest.approx(value, rel=REF["ligands_tolerance_rel"])


def test_reference_parameters_are_the_solved_steady_state(core: Simulator) -> None:
    # The file's OBp_ref/OBa_ref/OCa_ref must be the model's own steady state, not just near it.
    state = core.baseline()
    params = core.parameters()["value"]
    for cell in ("OBp", "OBa", "OCa"):
        assert state[cell] == pytest.approx(params[f"{cell}_ref"], rel=1e-9)
    # and the osteomorph variant's thresholds are the reference's RANKL-RANK signal (no fission at rest)
    signals = core.simulate(1.0, 2, selections=["RANKL_RANK", "pi_act_OCp", "OM_fission_fraction"]).iloc[0]
    assert signals["RANKL_RANK"] == pytest.approx(params["RANKL_RANK_ref"], rel=1e-9)
    assert signals["pi_act_OCp"] == pytest.approx(params["pi_act_OCp_ref"], rel=1e-9)
    fission = core.simulate(1.0, 2, changes={"OM_on": 1}, selections=["OM_fission_fraction"]).iloc[0]
    assert fission["OM_fission_fraction"] < 1e-8


def test_outputs_at_reference(core: Simulator) -> None:
    state = core.baseline()
    assert state["BMD"] == pytest.approx(100.0, rel=1e-12)
    assert state["BV"] == pytest.approx(100.0, rel=1e-12)
    assert state["P1NP_rel"] == pytest.approx(1.0, rel=1e-9)
    assert state["CTX_rel"] == pytest.approx(1.0, rel=1e-9)
    for port in PORTS:
        assert core.parameters().loc[port, "value"] == 1.0


def test_eigenvalues_match_published_and_are_stable(core: Simulator) -> None:
    eig = core.eigenvalues()
    assert np.all(eig.real < 0)
    cells = sorted((e for e in eig if abs(e.real) > 0.05), key=lambda e: (e.real, e.imag))
    expected = sorted((complex(*pair) for pair in REF["eigenvalues_per_day"]), key=lambda e: (e.real, e.imag))
    assert len(cells) == 3
    for got, want in zip(cells, expected, strict=True):
        assert abs(got - want) < REF["eigenvalues_tolerance_abs"]


def test_continuous_pth_reaches_published_steady_state(core: Simulator) -> None:
    case = REF["continuous_pth_100"]
    state = core.steady_state({"P_PTH_ext": case["P_PTH_ext"]})
    for cell in ("OBp", "OBa", "OCa"):
        assert state[cell] == pytest.approx(case[cell], rel=REF["continuous_pth_tolerance_rel"])


@pytest.mark.parametrize(
    ("change", "oc_direction", "bone_direction"),
    [
        ({"P_PTH_ext": 100.0}, +1, -1),  # continuous PTH is catabolic (Lemaire 2004; Pivonka 2008)
        ({"P_RANKL_ext": 1e4}, +1, -1),  # RANKL dose raises osteoclasts, bone lost
        ({"P_OPG_ext": 2e5}, -1, +1),  # OPG dose lowers osteoclasts, bone gained
        ({"P_TGFb_ext": 1e-3}, -1, None),  # TGF-beta: more OC apoptosis (Pivonka 2008 Fig. 6)
    ],
)
def test_published_scenarios_move_cells_in_reported_directions(
    core: Simulator, change: dict[str, float], oc_direction: int, bone_direction: int | None
) -> None:
    base = core.baseline()
    after = core.simulate(end=365.0, points=2, changes=change).iloc[-1]
    assert np.sign(after["OCa"] - base["OCa"]) == oc_direction
    if bone_direction is not None:
        assert np.sign(after["BMD"] - base["BMD"]) == bone_direction
        assert np.sign(after["BV"] - base["BV"]) == bone_direction


@pytest.mark.parametrize(
    ("port", "bone_direction"),
    [
        ("f_OB_apop", -1),  # more osteoblast death, less formation
        ("f_OC_diff", -1),  # more osteoclastogenesis
        ("f_OC_apop", +1),  # shorter-lived osteoclasts
        ("f_RANKL", -1),
        ("f_OPG", +1),
        ("f_formation", +1),
        ("f_resorption", -1),
    ],
)
def test_each_port_moves_bone_in_its_direction(core: Simulator, port: str, bone_direction: int) -> None:
    after = core.steady_state({port: 1.2})
    assert np.sign(after["BMD"] - 100.0) == bone_direction
    assert np.sign(after["BV"] - 100.0) == bone_direction


def test_formation_port_has_closed_form_bmd_response(core: Simulator) -> None:
    # f_formation acts only on matrix formation, so cells stay at rest and, with a = f^gamma_OB,
    # BMD(t) = 100*a - (100*a - 100)*exp(-kout*t) exactly (analytic tier, tight tolerance).
    f = 1.1
    params = core.parameters()["value"]
    kout, gamma = params["kout_BMD"], params["g_OB_BMD"]
    tight = SolverOptions(relative_tolerance=1e-12, absolute_tolerance=1e-18)
    course = core.simulate(
        end=400.0, points=9, changes={"f_formation": f}, selections=["BMD", "BV", "OBa"], options=tight
    )
    t = course.index.to_numpy()
    a = f**gamma
    np.testing.assert_allclose(
        course["BMD"].to_numpy(), 100 * a - (100 * a - 100) * np.exp(-kout * t), rtol=1e-8
    )
    kout_bv = params["kout_BV"]
    np.testing.assert_allclose(
        course["BV"].to_numpy(), 100 * f - (100 * f - 100) * np.exp(-kout_bv * t), rtol=1e-8
    )
    np.testing.assert_allclose(course["OBa"].to_numpy(), core.baseline()["OBa"], rtol=1e-9)


def test_markers_follow_cells(core: Simulator) -> None:
    after = core.steady_state({"P_RANKL_ext": 1e4})
    base = core.baseline()
    assert after["CTX_rel"] == pytest.approx(after["OCa"] / base["OCa"], rel=1e-9)
    assert after["P1NP_rel"] == pytest.approx(after["OBa"] / base["OBa"], rel=1e-9)


def test_core_is_annotated_with_identifiers_org_terms(core: Simulator) -> None:
    sbml = core.model.sbml
    for term in ("CL:0007010", "CL:0000062", "CL:0000092", "uniprot:O14788", "uniprot:O00300"):
        assert f'rdf:resource="http://identifiers.org/{term}"' in sbml
    assert 'sboTerm="SBO:0000290"' in sbml


def test_initial_values_are_numbers_equal_to_the_references(core: Simulator) -> None:
    # No initial assignments on states: SED-ML initial-value changes must win in every tool.
    import libsbml

    model = libsbml.readSBMLFromString(core.model.sbml).getModel()
    assigned = {a.getSymbol() for a in model.getListOfInitialAssignments()}
    assert not assigned & set(core.state_ids)
    params = core.parameters()["value"]
    initial = core.initial_values()
    for state in ("OBp", "OBa", "OCa"):
        assert initial[state] == params[f"{state}_ref"]
    assert initial["BMD"] == params["BMD_ref"] and initial["BV"] == params["BV_ref"]


def test_hip_bmd_rests_at_reference_and_follows_the_femoral_neck_closed_form(core: Simulator) -> None:
    # BMD_hip uses OpenBoneMin's femoral-neck constants (kout 5.651e-6 /h, gamma_OC 0.3101, gamma_OB 0.0793).
    params = core.parameters()["value"]
    assert params["kout_BMD_hip"] == pytest.approx(5.651e-6 * 24, rel=1e-12)
    assert core.baseline()["BMD_hip"] == pytest.approx(100.0, rel=1e-12)
    fifty_years = core.simulate(end=50 * 365.25, points=3, selections=["BMD_hip"])
    np.testing.assert_allclose(fifty_years["BMD_hip"].to_numpy(), 100.0, rtol=1e-9)
    # f_formation leaves cells at rest, so BMD_hip(t) = 100a - (100a - 100) exp(-kout t) with a = f^gamma_OB.
    f = 1.1
    tight = SolverOptions(relative_tolerance=1e-12, absolute_tolerance=1e-18)
    course = core.simulate(
        end=3650.0, points=11, changes={"f_formation": f}, selections=["BMD_hip"], options=tight
    )
    t = course.index.to_numpy()
    a = f ** params["g_OB_BMD_hip"]
    expected = 100 * a - (100 * a - 100) * np.exp(-params["kout_BMD_hip"] * t)
    np.testing.assert_allclose(course["BMD_hip"].to_numpy(), expected, rtol=1e-8)


def test_hip_responds_more_to_resorption_but_slower_than_spine(core: Simulator) -> None:
    # gamma_OC 0.31 (hip) > 0.14 (spine): a larger steady-state loss; kout 70x smaller: a slower approach.
    state = core.steady_state({"f_resorption": 1.2})
    assert state["BMD_hip"] < state["BMD"] < 100.0
    # steady state of the OpenBoneMin form: BMD_hip = 100 * P1NP^gamma_OB / CTX^gamma_OC
    expected = 100 * state["P1NP_rel"] ** 0.0793 / state["CTX_rel"] ** 0.3101
    assert state["BMD_hip"] == pytest.approx(expected, rel=1e-6)
    one_year = core.simulate(
        end=365.25, points=2, changes={"f_resorption": 1.2}, selections=["BMD", "BMD_hip"]
    )
    assert 100 - one_year["BMD_hip"].iloc[-1] < 100 - one_year["BMD"].iloc[-1]


def test_rankl_binder_hook_is_neutral_at_zero_and_lowers_osteoclasts(core: Simulator) -> None:
    assert core.parameters().loc["RANKL_binder_ext", "value"] == 0.0
    base = core.baseline()
    state = core.steady_state({"RANKL_binder_ext": 20.0})
    # An exogenous binder with the capacity of the reference OPG + RANK term roughly halves free RANKL.
    denominator = 1 + 1e-3 * base["OPG"] + 3.411764705882353e-2 * 10
    assert denominator == pytest.approx(19.78, abs=0.01)
    assert state["RANKL"] < 0.6 * base["RANKL"]
    assert state["OCa"] < base["OCa"] and state["BMD"] > 100.0 and state["BMD_hip"] > 100.0


def test_trabecular_site_turnover_falls_with_the_bone_it_acts_on(core: Simulator) -> None:
    # Site resorption = CTX_rel * BV/100: with resorption raised, the site loses bone until
    # BV/100 = P1NP_rel/CTX_rel, where site resorption has come back down to site formation.
    changes = {"P_RANKL_ext": 1e4}
    course = core.simulate(
        end=20000.0,
        points=6,
        changes=changes,
        selections=["BV", "CTX_rel", "P1NP_rel", "BV_resorption_rel", "BV_formation_rel"],
    )
    np.testing.assert_allclose(
        course["BV_resorption_rel"], course["CTX_rel"] * course["BV"] / 100, rtol=1e-12
    )
    np.testing.assert_allclose(course["BV_formation_rel"], course["P1NP_rel"], rtol=1e-12)
    after = core.steady_state(changes)
    assert after["CTX_rel"] > 1.5 * after["P1NP_rel"]
    assert after["BV"] == pytest.approx(100 * after["P1NP_rel"] / after["CTX_rel"], rel=1e-9)
    assert after["BV_resorption_rel"] == pytest.approx(after["BV_formation_rel"], rel=1e-9)
