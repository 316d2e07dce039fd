"""Hierarchical SBML (comp): it validates, and libSBML's flattening gives back the flat compiled model."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import libsbml
import numpy as np
import pytest

from pybrainbone import Simulator
from pybrainbone.build import CompiledModel, compile_model
from pybrainbone.cli import main
from pybrainbone.comp import flatten_hierarchical_sbml, hierarchical_sbml
from pybrainbone.validation import validate_document

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "models"
MENOPAUSE = {"HPG_menopause": 1.0}  # experiments/menopause.yaml, arm "menopause" (human preset)
COMPARED = [
    "core_BMD",
    "core_CTX_rel",
    "core_P1NP_rel",
    "HPG_E2_pg_per_mL",
    "HPG_FSH",
    "HPA_cortisol_rel",
    "SNS_SNS_rel",
    "MINERAL_PTH_rel",
    "spine_BMD",
    "hip_BMD",
]
RTOL = 1e-9


def _flatten_with_libsbml(text: str) -> libsbml.SBMLDocument:
    """Plain libSBML flattening, as any comp-aware tool does it."""
    document = libsbml.readSBMLFromString(text)
    properties = libsbml.ConversionProperties()
    properties.addOption("flatten comp", True)
    properties.addOption("performValidation", False)  # validated on its own above
    assert document.convert(properties) == libsbml.LIBSBML_OPERATION_SUCCESS
    return document


def _quantities(model: libsbml.Model) -> set[str]:
    lists = (
        model.getListOfParameters(),
        model.getListOfSpecies(),
        model.getListOfCompartments(),
        model.getListOfReactions(),
        model.getListOfEvents(),
    )
    ids = {element.getId() for elements in lists for element in elements}
    return (
        ids
        | {f"rule:{r.getVariable()}" for r in model.getListOfRules()}
        | {f"initial:{a.getSymbol()}" for a in model.getListOfInitialAssignments()}
    )


def _definitions(model: libsbml.Model) -> dict[str, str]:
    """Every rule, initial assignment and kinetic law as text, function definitions expanded, no units."""
    functions = model.getListOfFunctionDefinitions()

    def text(ast: libsbml.ASTNode) -> str:
        copy = ast.deepCopy()
        libsbml.SBMLTransforms.replaceFD(copy, functions)
        return str(libsbml.formulaToL3String(copy))

    found = {f"rule:{r.getVariable()}": text(r.getMath()) for r in model.getListOfRules()}
    found |= {f"initial:{a.getSymbol()}": text(a.getMath()) for a in model.getListOfInitialAssignments()}
    found |= {f"rate:{r.getId()}": text(r.getKineticLaw().getMath()) for r in model.getListOfReactions()}
    return found


def _as_compiled(flat: CompiledModel, sbml: str) -> CompiledModel:
    return CompiledModel(flat.name, flat.source, sbml, hashlib.sha256(sbml.encode()).hexdigest())


@pytest.fixture(scope="module")
def axis() -> tuple[CompiledModel, str, str]:
    """The flat compiled axis, its hierarchical SBML and that document flattened back."""
    text = hierarchical_sbml("brain_bone_axis")
    return compile_model("brain_bone_axis"), text, flatten_hierarchical_sbml(text)


@pytest.fixture(scope="module")
def simulators(axis: tuple[CompiledModel, str, str]) -> tuple[Simulator, Simulator]:
    flat, _, flattened = axis
    return Simulator(flat), Simulator(_as_compiled(flat, flattened))


def test_the_hierarchical_document_validates(axis: tuple[CompiledModel, str, str]) -> None:
    document = libsbml.readSBMLFromString(axis[1])
    assert document.getPackageRequired("comp")
    assert document.getPlugin("comp").getNumModelDefinitions() == 23  # one per module
    assert document.getPlugin("comp").getNumExternalModelDefinitions() == 0  # self-contained
    report = validate_document(document)
    assert report.errors == ()
    assert report.unit_warnings == ()
    # Only "modelling practice" notes remain: the top-level stand-ins for submodel outputs
    # (HPA_F_RANKL, ...) have no value of their own, since their submodel's element replaces them.
    assert {m.category for m in report.other_warnings} <= {"Modeling practice"}


def test_the_composition_lives_in_the_top_model(axis: tuple[CompiledModel, str, str]) -> None:
    document = libsbml.readSBMLFromString(axis[1])  # keep it: its model dies with it
    top, hpg = document.getModel(), document.getPlugin("comp").getModelDefinition("hpg")
    assert "cortisol_in" in {p.getIdRef() for p in hpg.getPlugin("comp").getListOfPorts()}
    assert top.getNumRules() == 53  # every cross-link and port rule
    assert top.getParameter("on_hpa").getValue() == 1.0
    assert top.getParameter("link_leptin_npy").getValue() == 0.0
    replaced = top.getParameter("HPG_cortisol_in").getPlugin("comp").getReplacedElement(0)
    assert (replaced.getSubmodelRef(), replaced.getPortRef()) == ("HPG", "cortisol_in")
    stand_in = top.getParameter("HPA_cortisol_rel").getPlugin("comp").getReplacedBy()
    assert (stand_in.getSubmodelRef(), stand_in.getPortRef()) == ("HPA", "cortisol_rel")
    overrides = {
        "hip_rho": 9.603e-5,
        "hip_w_surface": 0.0,
        "hip_f_MBF": 0.3248,
        "spine_rho": 2.132e-4,
        "spine_f_MBF": 0.3248,
        "PRL_w_e2_local": 0.0,
        "SENSORY_w_sns_local": 0.0,
    }
    assert {k: top.getParameter(k).getValue() for k in overrides} == pytest.approx(overrides, rel=1e-14)


def test_libsbml_flattening_gives_the_flat_ids_and_mathematics(axis: tuple[CompiledModel, str, str]) -> None:
    documents = [libsbml.readSBMLFromString(axis[0].sbml), _flatten_with_libsbml(axis[1])]
    documents.append(libsbml.readSBMLFromString(axis[2]))
    flat, plain, flattened = (document.getModel() for document in documents)
    # libSBML names submodel elements <instance>__<id>, the flat SBML <instance>_<id>: otherwise the same.
    assert {re.sub(r"^(\w+?:)?([A-Za-z0-9]+)__", r"\1\2_", i) for i in _quantities(plain)} == _quantities(
        flat
    )
    assert _quantities(flattened) == _quantities(flat)
    assert _definitions(flattened) == _definitions(flat)
    for parameter in flat.getListOfParameters():
        twin = flattened.getParameter(parameter.getId())
        value = parameter.getValue() if parameter.isSetValue() else None
        assert (twin.getValue() if twin.isSetValue() else None, twin.getConstant(), twin.getUnits()) == (
            value,
            parameter.getConstant(),
            parameter.getUnits(),
        )


def test_menopause_runs_identically(simulators: tuple[Simulator, Simulator]) -> None:
    flat, flattened = simulators
    expected = flat.simulate(3652.5, 121, changes=MENOPAUSE, selections=COMPARED)
    actual = flattened.simulate(3652.5, 121, changes=MENOPAUSE, selections=COMPARED)
    assert expected["core_BMD"].iloc[-1] < 90  # the cross-links act (Antimony's own comp output: 100)
    np.testing.assert_allclose(actual.to_numpy(), expected.to_numpy(), rtol=RTOL, atol=0)


def test_the_healthy_steady_state_is_the_same(simulators: tuple[Simulator, Simulator]) -> None:
    flat, flattened = simulators
    expected, actual = flat.steady_state(selections=COMPARED), flattened.steady_state(selections=COMPARED)
    np.testing.assert_allclose(actual.to_numpy(), expected.to_numpy(), rtol=RTOL, atol=0)


@pytest.fixture
def with_toy_axis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped modules plus the fixture pathway and its composition (toy_axis), in one directory."""
    for path in [*(ROOT / "models").glob("*.ant"), *FIXTURES.glob("*.ant")]:
        shutil.copy(path, tmp_path)
    monkeypatch.setenv("PYBRAINBONE_MODELS", str(tmp_path))
    return tmp_path


def test_a_small_composition_round_trips(with_toy_axis: Path) -> None:
    tmp_path = with_toy_axis
    text = hierarchical_sbml("toy_axis", tmp_path)
    assert validate_document(libsbml.readSBMLFromString(text)).errors == ()
    flat = compile_model("toy_axis", tmp_path)
    flattened = flatten_hierarchical_sbml(text)
    documents = [libsbml.readSBMLFromString(s) for s in (flat.sbml, flattened)]
    flat_model, model = (document.getModel() for document in documents)
    assert _quantities(model) == _quantities(flat_model)
    assert _definitions(model) == _definitions(flat_model)
    columns = ["core_OBa", "core_OCa", "core_BMD", "TOY_F_OC_apop"]
    change = {"on_toy": 0.0}
    expected = Simulator(flat).simulate(365, 5, changes=change, selections=columns)
    actual = Simulator(_as_compiled(flat, flattened)).simulate(365, 5, changes=change, selections=columns)
    np.testing.assert_allclose(actual.to_numpy(), expected.to_numpy(), rtol=RTOL, atol=0)


def test_build_writes_hierarchical_sbml_on_request(
    with_toy_axis: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = with_toy_axis / "sbml"
    assert main(["build", "toy", "toy_axis", "--comp", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "toy.xml",
        "toy_axis.comp.xml",
        "toy_axis.xml",
    ]  # toy: no submodels
    assert "toy_axis.comp.xml (hierarchical SBML L3V2, comp package" in capsys.readouterr().out
    assert (out / "toy_axis.comp.xml").read_text(encoding="utf-8") == hierarchical_sbml(
        "toy_axis", with_toy_axis
    )
