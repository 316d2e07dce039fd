"""The compiled SBML says what its quantities are and where it comes from, for the tools that load it.

* MIRIAM identities (written in the model files, docs/modelling-conventions.md "Annotations"): every
  species, every state (rate-rule variable) and each module's ``@main_signal`` carries one, except the
  quantities in :data:`NO_IDENTIFIER` (with the reason); every identifiers.org URI is well formed.
* SBO terms: every constant parameter has one, and every SBO term is of the branch its element needs.
* Model metadata from ``CITATION.cff``: name, notes (the module's description, licence, scope review) and
  creators, in every module.
* Names: a parameter a user can change carries no SBML ``name`` (COPASI and basico address quantities by
  name; a description there broke the cross-simulator test), so parameters are not given names.
* References: every paper of ``data/references.yaml`` is cited by a parameter source, the table refuses
  malformed entries, and in the composed model every parameter whose source cites a paper of the table
  carries a ``bqbiol:isDescribedBy`` term with that paper's DOI (or PubMed id), and no other parameter
  does. These terms are references, not identities: the MIRIAM counts below leave them out.
* README.md states the composed model's annotation counts as computed here.

Each parameter's description and source in its notes are checked by
``tests/test_models_discovered.py::test_the_sbml_carries_every_parameter_source_and_description``.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import libsbml
import pytest

from pybrainbone import available_models, compile_model
from pybrainbone.errors import ModelBuildError
from pybrainbone.model_text import flat_parameter_records, module_description, read_module
from pybrainbone.paths import model_path
from pybrainbone.references import load_references, model_sources
from pybrainbone.sbml_transforms import project_metadata
from tests.conftest import REPO

MODELS = available_models()
COMPOSED = "brain_bone_axis"

#: Species, states and main signals left without a MIRIAM identity, and why (module -> id -> reason).
NO_IDENTIFIER: dict[str, dict[str, str]] = {
    "bone_remodeling": {
        "BMD": "lumbar-spine areal BMD, % of reference: a measurement, no entity identifier",
        "BMD_hip": "total-hip areal BMD, % of reference: a measurement, no entity identifier",
        "BV": "trabecular bone volume, % of reference: a tissue quantity, no entity identifier",
        "OM": "osteomorphs (McDonald 2021): no Cell Ontology term yet",
        "OPG_ocy_rel": "young-osteocyte OPG source, relative to reference: a tissue quantity",
    },
    "bone_matrix": {
        "RS_rel": "remodelling space (open cavities): a tissue quantity",
        "V_o_rel": "osteoid volume: a tissue quantity",
        "V_m_rel": "mineralised-matrix volume: a tissue quantity",
        "M_rel": "site mineral mass: bone mineral has no ChEBI accession verified here",
    },
    "hpa": {
        "P_cort": "corticotroph functional mass: a gland quantity (Cell Ontology term not verified)",
        "A_adr": "adrenal-cortex functional mass: a gland quantity",
    },
    "hpg": {"O_ov": "ovarian (follicular) capacity: an organ quantity"},
    "hpgm": {"R_GnRH": "pituitary GnRH-receptor responsiveness (GNRHR accession not verified)"},
    "mineral": {
        "R_abs": "gut calcium-absorption capacity: a tissue property",
        "HAp": "bone hydroxyapatite signal (ChEBI accession not verified)",
        "PT_pool": "parathyroid gland secretory pool: a gland quantity",
        "PT_max": "parathyroid gland maximal capacity: a gland quantity",
        "AOH": "renal 1-alpha-hydroxylase activity (CYP27B1 accession not verified)",
    },
    "ocy": {"DKK_rel": "Wnt-antagonist compensation (DKK1 accession not verified)"},
    "romo": {
        name: "romosozumab amount: no ChEBI entry known, DrugBank accession not verified"
        for name in ("A_central", "A_periph", "A_depot")
    },
    "sns": {"SNS_rel": "sympathetic outflow: nerve activity, not an entity"},
    "vagus": {
        "vagal_tone": "efferent vagal tone: nerve activity, not an entity",
        "vagal_rel": "efferent vagal tone: nerve activity, not an entity",
    },
}

#: identifiers.org namespaces used, with the form of their accessions (UniProt's published pattern).
URI_FORMS = {
    "CHEBI": r"CHEBI:\d+",
    "uniprot": r"uniprot:(?:[OPQ][0-9][A-Z0-9]{3}[0-9]|[A-NR-Z][0-9](?:[A-Z][A-Z0-9]{2}[0-9]){1,2})",
    "CL": r"CL:\d{7}",
    "GO": r"GO:\d{7}",
    "drugbank": r"drugbank:DB\d{5}",
}
URI = re.compile(r"http://identifiers\.org/(?:" + "|".join(URI_FORMS.values()) + ")")
#: The form of a bqbiol:isDescribedBy reference: a DOI or a PubMed id.
REFERENCE_URI = re.compile(r"https://identifiers\.org/(?:doi:10\.\d{4,9}/\S+|pubmed:[1-9]\d*)")


_DOCUMENTS: dict[str, libsbml.SBMLDocument] = {}  # a Model lives only as long as its document


def _model(name: str) -> libsbml.Model:
    if name not in _DOCUMENTS:
        _DOCUMENTS[name] = libsbml.readSBMLFromString(compile_model(name).sbml)
    return _DOCUMENTS[name].getModel()


def _elements(model: libsbml.Model) -> list[libsbml.SBase]:
    return [
        *model.getListOfParameters(),
        *model.getListOfSpecies(),
        *model.getListOfReactions(),
        *model.getListOfCompartments(),
    ]


def _is_reference(term: libsbml.CVTerm) -> bool:
    return bool(
        term.getQualifierType() == libsbml.BIOLOGICAL_QUALIFIER
        and term.getBiologicalQualifierType() == libsbml.BQB_IS_DESCRIBED_BY
    )


def _uris(element: libsbml.SBase, *, references: bool = False) -> list[str]:
    """The element's identity URIs (or, with ``references``, its bqbiol:isDescribedBy URIs)."""
    terms = [t for t in element.getCVTerms() or [] if _is_reference(t) == references]
    return [term.getResourceURI(i) for term in terms for i in range(term.getNumResources())]


def _has_identity(element: libsbml.SBase | None) -> bool:
    return element is not None and any(
        t.getQualifierType() == libsbml.BIOLOGICAL_QUALIFIER and not _is_reference(t)
        for t in element.getCVTerms() or []
    )


def _required(name: str) -> tuple[set[str], dict[str, str]]:
    """(ids that need an identity, exempt ids with reasons) in the flat SBML of ``name``."""
    text = read_module(name)
    model = _model(name)
    required = {s.getId() for s in model.getListOfSpecies()}
    required |= {r.getVariable() for r in model.getListOfRules() if r.isRate()}
    main = text.declared("main_signal")
    required |= {main[0]} if main else set()
    exempt = dict(NO_IDENTIFIER.get(name, {}))
    for instance, module in text.instances.items():
        sub = read_module(module).declared("main_signal")
        required |= {f"{instance}_{sub[0]}"} if sub else set()
        exempt |= {f"{instance}_{k}": v for k, v in NO_IDENTIFIER.get(module, {}).items()}
    return required, exempt


@dataclass(frozen=True)
class Coverage:
    """Annotation counts of one compiled model (what README.md reports for the composed model)."""

    parameters: int  # parameters with a MIRIAM identity
    species: int
    reactions: int
    required: int  # species, states and main signals
    covered: int  # ... of which carry an identity
    constant_parameters: int
    with_sbo: int  # constant parameters with an SBO term


def coverage(name: str) -> Coverage:
    model = _model(name)
    required, _ = _required(name)
    constant = [p for p in model.getListOfParameters() if p.getConstant()]
    return Coverage(
        parameters=sum(map(_has_identity, model.getListOfParameters())),
        species=sum(map(_has_identity, model.getListOfSpecies())),
        reactions=sum(map(_has_identity, model.getListOfReactions())),
        required=len(required),
        covered=sum(_has_identity(model.getElementBySId(i)) for i in required),
        constant_parameters=len(constant),
        with_sbo=sum(p.isSetSBOTerm() for p in constant),
    )


@pytest.mark.parametrize("name", MODELS)
def test_every_species_state_and_main_signal_has_a_miriam_identity(name: str) -> None:
    required, exempt = _required(name)
    model = _model(name)
    missing = sorted(i for i in required - exempt.keys() if not _has_identity(model.getElementBySId(i)))
    assert not missing, f"{name}: without a MIRIAM identity (annotate, or list in NO_IDENTIFIER): {missing}"
    stale = sorted(i for i in exempt if i not in required or _has_identity(model.getElementBySId(i)))
    assert not stale, f"{name}: NO_IDENTIFIER lists ids that are not required or are annotated: {stale}"
    found = coverage(name)
    print(f"{name}: {found}")  # the coverage report (pytest -s)


@pytest.mark.parametrize("name", MODELS)
def test_identifiers_org_uris_are_well_formed(name: str) -> None:
    elements = _elements(_model(name))
    uris = [(e.getId(), uri, URI) for e in elements for uri in _uris(e)]
    uris += [(e.getId(), uri, REFERENCE_URI) for e in elements for uri in _uris(e, references=True)]
    bad = [(element, uri) for element, uri, form in uris if not form.fullmatch(uri)]
    assert not bad, f"{name}: malformed or unexpected identifiers.org URIs: {bad}"


@pytest.mark.parametrize("name", MODELS)
def test_sbo_terms_are_set_and_of_the_right_branch(name: str) -> None:
    model = _model(name)
    unset = [p.getId() for p in model.getListOfParameters() if p.getConstant() and not p.isSetSBOTerm()]
    assert not unset, f"{name}: constant parameters without an SBO term: {unset}"
    branch = {
        libsbml.SBML_PARAMETER: libsbml.SBO.isQuantitativeSystemsDescriptionParameter,
        libsbml.SBML_SPECIES: libsbml.SBO.isMaterialEntity,
        libsbml.SBML_COMPARTMENT: libsbml.SBO.isMaterialEntity,
        libsbml.SBML_REACTION: libsbml.SBO.isOccurringEntityRepresentation,
    }
    wrong = [
        (e.getId(), e.getSBOTermID())
        for e in _elements(model)
        if e.isSetSBOTerm() and not branch[e.getTypeCode()](e.getSBOTerm())
    ]
    assert not wrong, f"{name}: SBO terms outside their element's branch: {wrong}"
    warnings = compile_model(name).validation.other_warnings
    sbo_warnings = [m.one_line() for m in warnings if "SBO" in m.category]
    assert not sbo_warnings, f"{name}: libSBML SBO warnings: {sbo_warnings}"


@pytest.mark.parametrize("name", MODELS)
def test_model_metadata_comes_from_citation_cff(name: str) -> None:
    model, meta = _model(name), project_metadata()
    assert model.getName() == f"{name} ({meta.short_title} {meta.version})"
    history = model.getModelHistory()
    creators = tuple(history.getCreator(i).getName() for i in range(history.getNumCreators()))
    assert creators == meta.creators
    notes = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", model.getNotesString())).split())
    description = module_description(model_path(name))
    for text in (*description, meta.title, f"Licence: {meta.licence}", meta.scope):
        assert text and " ".join(text.split()) in notes, f"{name}: the model notes lack {text!r}"


@pytest.mark.parametrize("name", MODELS)
def test_changeable_parameters_carry_no_name(name: str) -> None:
    # The parameters a user changes are the ones with a source in the notes; COPASI/basico would address
    # them by a name if they had one. (Rule variables of bone_matrix keep their Antimony display names.)
    parameters = _model(name).getListOfParameters()
    named = [p.getId() for p in parameters if p.isSetName() and "Source:" in p.getNotesString()]
    assert not named, f"{name}: changeable parameters with an SBML name: {named}"


def test_readme_states_the_composed_models_annotation_counts() -> None:
    found = coverage(COMPOSED)
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    expected = (
        f"{found.parameters + found.species + found.reactions} quantities carry MIRIAM identities "
        f"({found.parameters} parameters, {found.species} species, {found.reactions} reactions), among them "
        f"{found.covered} of its {found.required} species, states and main signals (the other "
        f"{found.required - found.covered}"
    )
    sbo = f"{found.with_sbo} of {found.constant_parameters} constant parameters have SBO terms"
    assert expected in readme, f"README.md should say: {expected}"
    assert sbo in readme, f"README.md should say: {sbo}"


# --- references (data/references.yaml) -------------------------------------------------------------

#: Sources that give an assumed or derived value cite no paper for it (pybrainbone.references).
NOT_A_CITATION = re.compile(r"\s*(?:assumed|derived|source: derived)", re.IGNORECASE)


def test_the_reference_table_loads_and_every_paper_is_cited_by_a_parameter_source() -> None:
    table = load_references(REPO / "data" / "references.yaml", sources=model_sources())
    assert len(table) >= 20
    for key, paper in table.items():
        assert paper.doi or paper.pmid, key
        assert paper.verified_at.startswith("http"), (
            f"{key}: verified_at is the page the identifier was read on"
        )
        assert paper.cited_as and paper.title and paper.journal and paper.year > 1900, key
    assert len({p.uri for p in table.values()}) == len(table)


_ENTRY = (
    "{key}:\n  citation: Toy 2001 J Toy 1:1\n  cited_as: ['{cited}']\n  title: A toy\n  year: 2001\n"
    "  journal: J Toy\n  {identifier}\n  verified_at: https://example.org/toy\n"
)


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            [dict(key="toy2001", cited="Karin et al. 2020", identifier="doi: https://doi.org/10.1/x")],
            r"references\.yaml: reference 'toy2001': 'https://doi.org/10.1/x' is not a DOI",
        ),
        (
            [
                dict(key="toy2001", cited="Karin et al. 2020", identifier="doi: 10.1000/one"),
                dict(key="toy2001", cited="Baldock 2002", identifier="doi: 10.1000/two"),
            ],
            r"references\.yaml:\d+: not valid YAML: .*duplicate key 'toy2001'",
        ),
        (
            [dict(key="toy2001", cited="Nobody 1999 J None 1:1", identifier="doi: 10.1000/toy")],
            r"references\.yaml: reference 'toy2001' is cited by no parameter source of the model files",
        ),
        (
            [dict(key="toy2001", cited="Karin et al. 2020", identifier="note: no identifier")],
            r"references\.yaml: reference 'toy2001': give its doi or pmid",
        ),
        (
            [
                dict(key="toy2001", cited="Karin et al. 2020", identifier="doi: 10.1000/same"),
                dict(key="toy2002", cited="Baldock 2002", identifier="doi: 10.1000/SAME"),
            ],
            r"reference 'toy2002': DOI '10.1000/same' is already that of 'toy2001'",
        ),
    ],
    ids=["bad-doi", "duplicate-key", "cited-by-no-source", "no-identifier", "same-paper-twice"],
)
def test_the_reference_table_refuses_bad_entries(
    tmp_path: Path, entries: list[dict[str, str]], message: str
) -> None:
    path = tmp_path / "references.yaml"
    path.write_text("".join(_ENTRY.format(**e) for e in entries), encoding="utf-8")
    with pytest.raises(ModelBuildError, match=message) as caught:
        load_references(path, sources=model_sources())
    assert "\n" not in str(caught.value)


def _expected_references(name: str) -> dict[str, set[str]]:
    """Parameter id -> URIs of the table's papers its source cites (recomputed here from the table)."""
    table = load_references()
    records = flat_parameter_records(name)
    expected = {}
    for parameter in _model(name).getListOfParameters():
        record = records.get(parameter.getId())
        if record is None or NOT_A_CITATION.match(record.source):
            continue
        uris = {p.uri for p in table.values() if any(c in record.source for c in p.cited_as)}
        if uris:
            expected[parameter.getId()] = uris
    return expected


def test_the_composed_models_parameters_are_described_by_the_papers_their_sources_cite() -> None:
    expected = _expected_references(COMPOSED)
    found = {p.getId(): set(_uris(p, references=True)) for p in _model(COMPOSED).getListOfParameters()}
    found = {pid: uris for pid, uris in found.items() if uris}
    missing = {pid: sorted(uris - found.get(pid, set())) for pid, uris in expected.items()}
    missing = {pid: uris for pid, uris in missing.items() if uris}
    assert not missing, (
        f"{COMPOSED}: parameters without the isDescribedBy references of their sources: {missing}"
    )
    extra = sorted(set(found) - set(expected))
    assert not extra, (
        f"{COMPOSED}: isDescribedBy references on parameters whose sources cite no paper: {extra}"
    )
    assert found == expected
    assert compile_model(COMPOSED).validation.ok


def test_readme_states_how_many_parameters_carry_a_reference() -> None:
    expected = _expected_references(COMPOSED)
    papers = len(load_references())
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    sentence = (
        f"{len(expected)} parameters carry a `bqbiol:isDescribedBy` reference to one of the {papers} papers "
        "in `data/references.yaml`"
    )
    assert sentence in readme, f"README.md should say: {sentence}"
    assert len(set().union(*expected.values())) == papers, (
        "every paper of the table is cited in the composition"
    )
