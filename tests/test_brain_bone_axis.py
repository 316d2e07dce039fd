"""The whole brain-bone axis: healthy steady state by construction, switches, and the bone core inside."""

from __future__ import annotations

import re

import libsbml
import numpy as np
import pytest

from pybrainbone import Simulator
from tests.test_bone_core import PORTS

PATHWAYS = ["hpa", "hpg", "hpt", "gh", "oxt", "sns", "npy", "cart", "vagus", "immune", "dmab", "tptd"]
PATHWAYS += ["mineral", "sensory", "mel", "prl", "orexin", "hpgm", "ocy", "romo", "bp"]


@pytest.fixture(scope="module")
def axis() -> Simulator:
    return Simulator("brain_bone_axis")


def max_rate(sim: Simulator, changes: dict[str, float]) -> float:
    """Largest |dx/dt| relative to the state's reference value (per day), tested below 1e-11.

    Relative, because the mineral module's plasma PTH (54 pmol) turns over 9240 pmol/day: its balance
    closes to about 1e-14 of that flux in floating point, 8e-11 pmol/day in absolute terms.
    """
    scale = np.maximum(np.abs(sim.initial_values()[sim.state_ids].to_numpy()), 1e-12)
    return float(np.max(np.abs(sim.rates(changes).to_numpy()) / scale))


def link_switches(sim: Simulator) -> list[str]:
    return [p for p in sim.parameter_ids if p.startswith("link_")]


def test_every_module_is_composed(axis: Simulator) -> None:
    instances = ("core", "HPA", "HPG", "HPT", "GH", "OXT", "SNS", "NPY", "CART", "VAGUS", "IMMUNE")
    instances += ("Dmab", "TPTD", "MINERAL", "SENSORY", "MEL", "PRL", "OREXIN", "HPGm", "OCY", "ROMO", "BP")
    instances += ("spine", "hip", "trab")
    for instance in instances:
        assert any(v.startswith(f"{instance}_") for v in axis.variable_ids + axis.parameter_ids), instance


def test_ports_are_products_of_the_pathway_factors(axis: Simulator) -> None:
    # Guards against libantimony silently dropping a link while flattening (tooling.md §2.5).
    model = libsbml.readSBMLFromString(axis.model.sbml).getModel()
    rules = {r.getVariable(): libsbml.formulaToL3String(r.getMath()) for r in model.getListOfRules()}
    newer = {
        "SENSORY",
        "MEL",
        "PRL",
        "OREXIN",
        "HPGm",
        "OCY",
    }  # sensory, melatonin, prolactin, orexin, male axis, osteocytes
    expected = {
        "f_RANKL": {"HPA", "HPG", "SNS", "CART", "IMMUNE", "TPTD"} | newer,
        "f_OB_diff": {"HPA", "HPT", "GH", "OXT", "SNS", "NPY", "IMMUNE", "TPTD"} | newer,
        "f_OC_apop": {"HPG", "VAGUS", "IMMUNE", "PRL", "HPGm"},
        "f_formation": {"HPA", "HPT", "GH", "NPY", "SENSORY", "HPGm", "OCY"},
        "f_PTH": {"MINERAL"},
    }
    for port, modules in expected.items():
        found = set(re.findall(r"(\w+?)_F_" + port[2:], rules[f"core_{port}"]))
        assert found == modules, f"{port}: {found}"
    assert len(link_switches(axis)) == 32


def test_reference_is_a_steady_state(axis: Simulator) -> None:
    assert max_rate(axis, {}) < 1e-11
    state = axis.baseline()
    assert state["core_BMD"] == pytest.approx(100.0, rel=1e-9)
    for cell, value in {"core_OBp": 6.196e-4, "core_OBa": 5.584e-4, "core_OCa": 8.070e-4}.items():
        assert state[cell] == pytest.approx(value, rel=1e-3)
    for port in PORTS:
        assert state[f"core_{port}"] == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("pathway", PATHWAYS)
def test_switching_one_pathway_off_keeps_the_healthy_steady_state(axis: Simulator, pathway: str) -> None:
    assert max_rate(axis, {f"on_{pathway}": 0.0}) < 1e-11


def test_switching_any_link_off_keeps_the_healthy_steady_state(axis: Simulator) -> None:
    for link in link_switches(axis):
        assert max_rate(axis, {link: 0.0}) < 1e-11, link


def test_switching_any_link_on_keeps_the_healthy_steady_state(axis: Simulator) -> None:
    # The links that are off by default (contested: leptin -> NPY, IL-6 -> HPA, the mechanostat) too.
    off = [link for link in link_switches(axis) if axis.parameters().loc[link, "value"] == 0.0]
    assert {"link_leptin_npy", "link_il6_hpa", "link_bone_ocy"} <= set(off)
    for link in link_switches(axis):
        assert max_rate(axis, {link: 1.0}) < 1e-11, link


def test_all_pathways_off_leaves_the_bone_core_alone(axis: Simulator) -> None:
    off = {f"on_{p}": 0.0 for p in PATHWAYS}
    core = Simulator("bone_remodeling")
    alone = core.simulate(end=400, points=5, changes={"P_PTH_ext": 100.0}, selections=["OBa", "OCa", "BMD"])
    composed = axis.simulate(
        end=400,
        points=5,
        changes={**off, "core_P_PTH_ext": 100.0},
        selections=["core_OBa", "core_OCa", "core_BMD"],
    )
    np.testing.assert_allclose(composed.to_numpy(), alone.to_numpy(), rtol=1e-7)
    # ... and then a pathway intervention no longer reaches bone.
    ovx = axis.simulate(
        end=400, points=2, changes={**off, "HPG_OVX": 1.0}, selections=["core_BMD", "HPG_E2_rel"]
    )
    assert ovx["core_BMD"].iloc[-1] == pytest.approx(100.0, rel=1e-9)
    assert ovx["HPG_E2_rel"].iloc[-1] < 0.3  # the hormone still responds; only its bone effect is off


def test_a_pathway_switch_removes_only_that_pathway(axis: Simulator) -> None:
    with_hpg = axis.simulate(end=365, points=2, changes={"HPG_OVX": 1.0}, selections=["core_BMD"])
    without = axis.simulate(
        end=365, points=2, changes={"HPG_OVX": 1.0, "on_hpg": 0.0}, selections=["core_BMD"]
    )
    assert with_hpg["core_BMD"].iloc[-1] < 99.0
    # Estradiol still acts on bone through cytokines and oxytocin when the direct HPG factors are off.
    assert with_hpg["core_BMD"].iloc[-1] < without["core_BMD"].iloc[-1] < 100.0
