"""The network map is read from the composed model. Port signs are measured in each module; cross-link
signs come from the `// network:` comments, so for those rows this checks the declared sign (their effects
are checked by the experiments' targets, e.g. adrb2_knockout for SNS -> HPG)."""

from __future__ import annotations

import json
from pathlib import Path

import libsbml
import pytest

from pybrainbone import compile_model
from pybrainbone.cli import main
from pybrainbone.network import network_edges


@pytest.fixture(scope="module")
def edges():  # type: ignore[no-untyped-def]
    return network_edges()


@pytest.mark.parametrize(
    ("source", "target", "sign"),
    [
        ("HPG", "core.f_RANKL", "-"),  # estradiol lowers RANKL (Hofbauer 1999)
        ("HPG", "core.f_OC_apop", "+"),  # estradiol shortens osteoclast life (Nakamura 2007)
        ("HPA", "core.f_OB_apop", "+"),  # glucocorticoids kill osteoblasts (Weinstein 1998)
        ("HPA", "core.f_OPG", "-"),  # glucocorticoids lower OPG (Hofbauer 1999)
        ("SNS", "core.f_RANKL", "+"),  # beta2 -> ATF4 -> RANKL (Elefteriou 2005)
        ("SNS", "core.f_OB_diff", "-"),  # beta2 restrains proliferation (Takeda 2002)
        ("GH", "core.f_formation", "+"),  # IGF-1 anabolic
        ("NPY", "core.f_formation", "-"),  # hypothalamic Y2 restrains formation (Baldock 2002)
        ("CART", "core.f_RANKL", "-"),  # CART lowers RANKL (Elefteriou 2005)
        ("VAGUS", "core.f_OC_apop", "+"),  # ACh promotes osteoclast apoptosis (Bajayo 2012)
        ("IMMUNE", "core.f_RANKL", "+"),  # TNF/IL-1/IL-6 raise RANKL
        ("HPA", "HPG", "-"),  # cortisol -| GnRH/estradiol (DESIGN §2.4)
        ("HPA", "GH", "-"),  # cortisol -| GH/IGF-1
        ("HPG", "IMMUNE", "-"),  # estradiol -| cytokines
        ("VAGUS", "IMMUNE", "-"),  # vagal tone -| cytokines
        ("HPT", "SNS", "+"),  # thyroid hormone raises beta-adrenergic responsiveness
        ("HPG", "OXT", "+"),  # estradiol raises oxytocin
        ("SNS", "HPG", "+"),  # beta2-ATF4 needed for the gonadectomy resorption response (Elefteriou 2005)
    ],
)
def test_literature_signs(edges, source: str, target: str, sign: str) -> None:  # type: ignore[no-untyped-def]
    match = edges[(edges.source == source) & (edges.target == target)]
    assert not match.empty, f"no edge {source} -> {target}"
    assert sign in set(match.sign), f"{source} -> {target}: {set(match.sign)}"


def test_every_declared_link_is_a_rule_of_the_flat_model(edges) -> None:  # type: ignore[no-untyped-def]
    model = libsbml.readSBMLFromString(compile_model("brain_bone_axis").sbml).getModel()
    rules = {r.getVariable(): libsbml.formulaToL3String(r.getMath()) for r in model.getListOfRules()}
    for via in edges[edges.kind == "link"].via:
        source, target = (part.strip().replace(".", "_") for part in via.split("->"))
        assert target in rules, f"{target} has no rule"
        assert source in rules[target], f"{target} does not read {source}"


def test_cli_network_json_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    figure = tmp_path / "network.png"
    assert main(["network", "--json", "--plot", str(figure)]) == 0
    records = json.loads(capsys.readouterr().out)
    assert {"source", "target", "sign", "kind"} <= set(records[0])
    assert figure.read_bytes()[:4] == b"\x89PNG"


def test_edges_say_whether_their_switch_is_on_by_default(edges) -> None:  # type: ignore[no-untyped-def]
    # Hypothesis edges stay in the map but are flagged off (leptin -> NPY: Baldock 2005, distinct pathways).
    # Orexin -> leptin gives the opposite net sign to Wei 2014 in the composition, so it is off too.
    off = edges[~edges.on & (edges.kind == "link")]
    # The osteocyte mechanostat (bone mass -> sclerostin) is a hypothesis, off by default; so is IL-6 -> HPA
    # (acute IL-6 raises ACTH, chronic inflammation does not raise cortisol for its IL-6).
    assert set(zip(off.source, off.target, strict=True)) == {
        ("SNS", "NPY"),
        ("OREXIN", "SNS"),
        ("core", "OCY"),
        ("IMMUNE", "HPA"),
    }
    # The male axis reaches the ports only in a male run (on_hpgm = 1).
    ports_off = edges[~edges.on & (edges.kind == "port")]
    assert set(ports_off.source) == {"HPGm"}
