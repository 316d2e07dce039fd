"""Modules declare their interface in their files; the package derives the network map, the organism
presets and the plot defaults from the declarations, and a composition's wiring is checked against them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pybrainbone.model_text import declared_ids, read_module
from pybrainbone.network import network_edges, wiring_problems
from pybrainbone.organisms import organism

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "models"


def test_the_composed_model_is_fully_wired() -> None:
    assert wiring_problems("brain_bone_axis") == []


def test_every_module_reaching_a_port_declares_how_to_raise_its_main_signal() -> None:
    axis = read_module("brain_bone_axis")
    for instance in {f.instance for factors in axis.ports.values() for f in factors}:
        module = read_module(axis.instances[instance])
        signal, parameter, value = module.declared("main_signal")
        assert parameter in module.interface and signal in module.interface, module.name
        float(value)


def test_network_signs_are_all_measured() -> None:
    edges = network_edges()
    assert set(edges.sign) <= {"+", "-", "0"}  # never "?": a module without a main signal is an error
    assert ((edges.source == "TPTD") & (edges.target == "core.f_OB_diff") & (edges.sign == "+")).any()


@pytest.fixture()
def with_toy_pathway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped modules plus the fixture pathway and its composition, in one model directory."""
    for path in (ROOT / "models").glob("*.ant"):
        shutil.copy(path, tmp_path)
    for path in FIXTURES.glob("*.ant"):
        shutil.copy(path, tmp_path)
    monkeypatch.setenv("PYBRAINBONE_MODELS", str(tmp_path))
    return tmp_path


def test_a_new_pathway_is_picked_up_with_no_package_edit(with_toy_pathway: Path) -> None:
    assert wiring_problems("toy_axis") == []
    edges = network_edges("toy_axis")
    toy = edges[edges.source == "TOY"]
    assert list(zip(toy.target, toy.sign, strict=True)) == [("core.f_OC_apop", "+")]
    assert "core_D_OBu" in declared_ids("toy_axis", "organism_scaled")
    preset = organism("rat").changes("toy_axis", {"core_D_OBu": 7e-4, "TOY_k_toy": 1.0})
    assert preset == {"core_D_OBu": pytest.approx(2.8e-3)}


def test_a_declared_output_that_reaches_no_port_is_reported(with_toy_pathway: Path) -> None:
    composition = with_toy_pathway / "toy_axis.ant"
    text = composition.read_text(encoding="utf-8").replace("TOY.F_OC_apop^on_toy", "1 dimensionless")
    composition.write_text(text.replace("  core.f_OB_apop := 1 dimensionless\n", ""), encoding="utf-8")
    problems = wiring_problems("toy_axis")
    assert any("TOY.F_OC_apop (declared in @outputs) reaches no port" in p for p in problems)
    assert any("port core.f_OB_apop is not wired" in p for p in problems)


def test_a_pathway_going_by_two_names_is_reported(with_toy_pathway: Path) -> None:
    composition = with_toy_pathway / "toy_axis.ant"
    text = composition.read_text(encoding="utf-8").replace("on_toy", "on_toy_pathway")
    composition.write_text(text, encoding="utf-8")
    problems = wiring_problems("toy_axis")
    assert problems == [
        "toy_axis: TOY.F_OC_apop (port f_OC_apop) goes by 'TOY', models/toy.ant and 'on_toy_pathway'; "
        "give file, instance and switch one name (docs/modelling-conventions.md)"
    ]


def test_an_old_name_says_what_it_is_called_now() -> None:
    from pybrainbone import Simulator
    from pybrainbone.errors import ModelNotFoundError, UnknownNameError

    with pytest.raises(ModelNotFoundError, match="'denosumab' is now called 'dmab'"):
        Simulator("denosumab")
    axis = Simulator("brain_bone_axis")
    with pytest.raises(UnknownNameError, match="'cytokines_TNF_rel' is now called 'IMMUNE_TNF_rel'"):
        axis.simulate(end=1.0, points=2, selections=["cytokines_TNF_rel"])
    with pytest.raises(UnknownNameError, match="'on_hpg_male' is now called 'on_hpgm'"):
        axis.simulate(end=1.0, points=2, changes={"on_hpg_male": 1.0})
