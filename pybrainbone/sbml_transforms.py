"""Rewrites of the flat SBML that keep its mathematics: faster to evaluate, and annotated for other tools.

Annotations: each parameter's description and source in its notes (:func:`annotate_from_model_files`),
a ``bqbiol:isDescribedBy`` reference to each published paper its source cites (:func:`annotate_references`,
papers and DOIs from ``data/references.yaml``), SBO terms of the constant parameters
(:func:`annotate_sbo_terms`) and the model's name, notes and creators from ``CITATION.cff``
(:func:`annotate_model_metadata`); the MIRIAM identities of the quantities are written in the model files
and survive Antimony's flattening.

Sub-expressions:

libRoadRunner (and code generators generally) inline assignment rules into every use. A rule that refers
to another rule's variable twice, as saturable forms do (``x / (x + K)``), therefore doubles that whole
sub-tree, and the doublings compound through the chains from hormones through ports to the bone cells:
the whole model's right-hand side grew to ~41,700 expression nodes from the model's ~2,300. Arguments of
an SBML function definition are evaluated once per call, so each such rule becomes a call of a function
definition holding its own expression, with the symbols it reads as arguments:

    core_pi_act_OCp = core_RANKL_RANK / (core_RANKL_RANK + core_K_D8_RANKL)
    becomes  core_pi_act_OCp = rule_core_pi_act_OCp(core_RANKL_RANK, core_K_D8_RANKL)
    with     rule_core_pi_act_OCp = lambda(core_RANKL_RANK, core_K_D8_RANKL, <the same expression>)

The rule's value is the same expression evaluated on the same values, in every SBML tool
(``benchmarks/bench_core.py`` measures nodes and microseconds per evaluation before and after).
"""

from __future__ import annotations

import html
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libsbml

from pybrainbone.errors import ModelBuildError
from pybrainbone.model_text import ParameterRecord
from pybrainbone.paths import citation_file
from pybrainbone.references import Reference, cited_references
from pybrainbone.yaml_files import read_yaml

#: Prefix of the generated function definitions (``rule_<variable>``, ``rate_<reaction>``).
RULE_PREFIX, RATE_PREFIX = "rule_", "rate_"


def _names(ast: libsbml.ASTNode, out: list[str]) -> list[str]:
    if ast.getType() == libsbml.AST_NAME:
        out.append(ast.getName())
    for i in range(ast.getNumChildren()):
        _names(ast.getChild(i), out)
    return out


def _as_function(
    model: libsbml.Model, function_id: str, math: libsbml.ASTNode, rule_variables: set[str]
) -> libsbml.ASTNode | None:
    """A call of a new function definition equal to ``math``, or None when no rule variable repeats."""
    refs = _names(math, [])
    repeats = Counter(r for r in refs if r in rule_variables)
    if not any(n > 1 for n in repeats.values()):
        return None
    arguments = list(dict.fromkeys(refs))
    body = libsbml.formulaToL3String(math)
    definition = model.createFunctionDefinition()
    lam = libsbml.parseL3Formula(f"lambda({', '.join(arguments)}, {body})")
    call = libsbml.parseL3Formula(f"{function_id}({', '.join(arguments)})")
    if lam is None or call is None or definition.setId(function_id) != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise ModelBuildError(f"could not share the sub-expressions of {function_id!r}: {body}")
    if definition.setMath(lam) != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise ModelBuildError(f"could not share the sub-expressions of {function_id!r}: {body}")
    return call


def share_repeated_subexpressions(document: libsbml.SBMLDocument) -> int:
    """Make each rule and kinetic law that reads a rule variable twice a function call; return the count.

    Examples
    --------
    >>> document = libsbml.SBMLDocument(3, 2)
    >>> model = document.createModel()
    >>> for pid in ("RANKL", "K", "occupancy"):
    ...     _ = model.createParameter().setId(pid)
    >>> rule = model.createAssignmentRule()
    >>> _ = rule.setVariable("occupancy"), rule.setMath(libsbml.parseL3Formula("RANKL / (RANKL + K)"))
    >>> rule = model.createAssignmentRule()
    >>> _ = rule.setVariable("RANKL"), rule.setMath(libsbml.parseL3Formula("2 * K"))
    >>> share_repeated_subexpressions(document)  # the occupancy rule reads the rule variable RANKL twice
    1
    >>> libsbml.formulaToL3String(model.getRule("occupancy").getMath())
    'rule_occupancy(RANKL, K)'
    >>> libsbml.formulaToL3String(model.getFunctionDefinition("rule_occupancy").getMath())
    'lambda(RANKL, K, RANKL / (RANKL + K))'
    """
    model = document.getModel()
    taken = {f.getId() for f in model.getListOfFunctionDefinitions()}
    rule_variables = {r.getVariable() for r in model.getListOfRules() if r.isAssignment()}
    targets: list[tuple[str, libsbml.SBase]] = [
        (RULE_PREFIX + r.getVariable(), r) for r in model.getListOfRules()
    ]
    targets += [
        (RATE_PREFIX + rx.getId(), rx.getKineticLaw())
        for rx in model.getListOfReactions()
        if rx.isSetKineticLaw()
    ]
    changed = 0
    for function_id, element in targets:
        if function_id in taken:
            raise ModelBuildError(f"function definition id {function_id!r} is already used in the model")
        call = _as_function(model, function_id, element.getMath(), rule_variables)
        if call is not None:
            element.setMath(call)
            changed += 1
    return changed


def _xhtml_notes(paragraphs: list[str]) -> str:
    body = "".join(f"<p>{html.escape(text)}</p>" for text in paragraphs)
    return f'<notes><body xmlns="http://www.w3.org/1999/xhtml">{body}</body></notes>'


def annotate_from_model_files(document: libsbml.SBMLDocument, records: Mapping[str, ParameterRecord]) -> int:
    """Write each parameter's description and source from the model files into its SBML notes, so the
    SBML anyone loads carries them; return how many were annotated.

    The SBML ``name`` stays unset: COPASI (and scripts through basico) address global quantities by
    their name, which would then be a sentence instead of the id every spec uses.

    Examples
    --------
    >>> document = libsbml.SBMLDocument(3, 2)
    >>> parameter = document.createModel().createParameter()
    >>> _ = parameter.setId("k_toy")
    >>> record = ParameterRecord(line=7, description="signal turnover", source="Assumed: test value")
    >>> annotate_from_model_files(document, {"k_toy": record})
    1
    >>> print(parameter.getNotesString())
    <notes>
      <body xmlns="http://www.w3.org/1999/xhtml">
        <p>signal turnover</p>
        <p>Source: Assumed: test value</p>
      </body>
    </notes>
    """
    model = document.getModel()
    done = 0
    for parameter in model.getListOfParameters():
        record = records.get(parameter.getId())
        if record is None or not (record.description or record.source):
            continue
        paragraphs = [record.description] if record.description else []
        paragraphs += [f"Source: {record.source}"] if record.source else []
        if parameter.setNotes(_xhtml_notes(paragraphs)) != libsbml.LIBSBML_OPERATION_SUCCESS:
            raise ModelBuildError(f"could not write the notes of parameter {parameter.getId()!r}")
        done += 1
    return done


def _free_metaid(document: libsbml.SBMLDocument, wanted: str) -> str:
    candidate, n = wanted, 1
    while document.getElementByMetaId(candidate) is not None:
        candidate, n = f"{wanted}_{n}", n + 1
    return candidate


def annotate_references(
    document: libsbml.SBMLDocument,
    records: Mapping[str, ParameterRecord],
    references: Mapping[str, Reference],
) -> int:
    """Give each parameter whose source cites papers of ``references`` a MIRIAM ``bqbiol:isDescribedBy``
    term with the papers' identifiers.org URIs (DOI, else PubMed); return how many parameters got one.

    Sources of assumed or derived values cite no paper (:func:`pybrainbone.references.cites_papers`). A
    parameter without a metaid gets ``<model id>.<parameter id>``, the form Antimony gives the others.

    Examples
    --------
    >>> document = libsbml.SBMLDocument(3, 2)
    >>> model = document.createModel()
    >>> _ = model.setId("toy")
    >>> for pid in ("k_toy", "g_toy"):
    ...     _ = model.createParameter().setId(pid)
    >>> paper = Reference("toy2001", "Toy 2001 J Toy 1:1", ("Toy 2001",), "A toy", 2001, "J Toy",
    ...                   "https://example.org/toy", doi="10.1000/toy.1")
    >>> records = {"k_toy": ParameterRecord(line=3, description="turnover", source="Toy 2001, table 2"),
    ...            "g_toy": ParameterRecord(line=4, description="gain", source="Assumed: as in Toy 2001")}
    >>> annotate_references(document, records, {"toy2001": paper})
    1
    >>> term = model.getParameter("k_toy").getCVTerm(0)
    >>> term.getBiologicalQualifierType() == libsbml.BQB_IS_DESCRIBED_BY, term.getResourceURI(0)
    (True, 'https://identifiers.org/doi:10.1000/toy.1')
    >>> model.getParameter("k_toy").getMetaId(), model.getParameter("g_toy").getNumCVTerms()
    ('toy.k_toy', 0)
    """
    model = document.getModel()
    done = 0
    for parameter in model.getListOfParameters():
        record = records.get(parameter.getId())
        papers = cited_references(record.source, references) if record is not None else ()
        if not papers:
            continue
        if not parameter.isSetMetaId():
            parameter.setMetaId(_free_metaid(document, f"{model.getId()}.{parameter.getId()}"))
        term = libsbml.CVTerm(libsbml.BIOLOGICAL_QUALIFIER)
        results = [term.setBiologicalQualifierType(libsbml.BQB_IS_DESCRIBED_BY)]
        results += [term.addResource(paper.uri) for paper in papers]
        results.append(parameter.addCVTerm(term))
        if any(r != libsbml.LIBSBML_OPERATION_SUCCESS for r in results):
            raise ModelBuildError(f"could not write the references of parameter {parameter.getId()!r}")
        done += 1
    return done


#: SBO terms the build gives the constant parameters the model files leave without one: a kinetic constant
#: when the unit is one over time (turnover, clearance, differentiation rates), else a quantitative systems
#: description parameter. Rule and event variables (hormone levels, signals) get none: they are quantities
#: of entities, which their MIRIAM annotations in the model files name.
SBO_KINETIC_CONSTANT, SBO_PARAMETER = 9, 2


def freeze_derived_parameters(document: libsbml.SBMLDocument) -> list[str]:
    """Give each constant parameter computed by an initial assignment its value, and drop the assignment.

    Module files derive some parameters from others so that the reference is a steady state
    (``NE_ref = NE_spill_ref / CL_NE``). Left as initial assignments, tools read a change differently:
    COPASI re-evaluates the assignment when what it reads changes (or re-applies it to the parameter
    itself), libRoadRunner keeps the value it has. Computed here, from the model files' values, the
    parameter is a number like any other in every tool: changing what it was derived from leaves it as it
    is, and it can be changed itself. Initial assignments of states and of switches that events set stay.
    Returns the ids frozen.

    Examples
    --------
    >>> document = libsbml.readSBMLFromString(
    ...     '<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2"><model>'
    ...     '<listOfParameters><parameter id="a" value="6" constant="true"/>'
    ...     '<parameter id="b" constant="true"/></listOfParameters><listOfInitialAssignments>'
    ...     '<initialAssignment symbol="b"><math xmlns="http://www.w3.org/1998/Math/MathML">'
    ...     '<apply><divide/><ci>a</ci><cn>4</cn></apply></math></initialAssignment>'
    ...     '</listOfInitialAssignments></model></sbml>')
    >>> freeze_derived_parameters(document), document.getModel().getParameter("b").getValue()
    (['b'], 1.5)
    >>> document.getModel().getNumInitialAssignments()
    0
    """
    model = document.getModel()
    set_by_events = {a.getVariable() for e in model.getListOfEvents() for a in e.getListOfEventAssignments()}
    derived = {}
    # All values first: libSBML evaluates a chain of assignments (a derived parameter read by another)
    # from the model as it stands, and caches what it read.
    for assignment in model.getListOfInitialAssignments():
        pid = assignment.getSymbol()
        parameter = model.getParameter(pid)
        if parameter is None or not parameter.getConstant() or pid in set_by_events:
            continue
        value = libsbml.SBMLTransforms.evaluateASTNode(assignment.getMath(), model)
        if not math.isfinite(value):
            formula = libsbml.formulaToL3String(assignment.getMath())
            raise ModelBuildError(f"derived parameter {pid!r} = {formula} is not a finite number ({value})")
        derived[pid] = value
    for pid, value in derived.items():
        model.getParameter(pid).setValue(value)
        model.removeInitialAssignment(pid)
    return list(derived)


def annotate_sbo_terms(document: libsbml.SBMLDocument) -> int:
    """Give every constant parameter without an SBO term one (see :data:`SBO_PARAMETER`); return how many.

    Examples
    --------
    >>> document = libsbml.SBMLDocument(3, 2)
    >>> model = document.createModel()
    >>> per_day = model.createUnitDefinition()
    >>> _ = per_day.setId("per_day")
    >>> unit = per_day.createUnit()
    >>> _ = unit.setKind(libsbml.UNIT_KIND_SECOND), unit.setExponent(-1), unit.setScale(0)
    >>> _ = unit.setMultiplier(86400)
    >>> for pid, units in (("k_out", "per_day"), ("K_half", "dimensionless")):
    ...     p = model.createParameter()
    ...     _ = p.setId(pid), p.setConstant(True), p.setValue(1), p.setUnits(units)
    >>> annotate_sbo_terms(document)
    2
    >>> model.getParameter("k_out").getSBOTermID(), model.getParameter("K_half").getSBOTermID()
    ('SBO:0000009', 'SBO:0000002')
    """
    from pybrainbone.units import signature  # local: units imports nothing from here, keep it that way

    model = document.getModel()
    done = 0
    for parameter in model.getListOfParameters():
        if parameter.isSetSBOTerm() or not parameter.getConstant():
            continue
        definition = model.getUnitDefinition(parameter.getUnits()) if parameter.isSetUnits() else None
        per_time = definition is not None and signature(definition)[0] == (("second", -1.0),)
        if parameter.setSBOTerm(SBO_KINETIC_CONSTANT if per_time else SBO_PARAMETER) != 0:
            raise ModelBuildError(f"could not set the SBO term of parameter {parameter.getId()!r}")
        done += 1
    return done


@dataclass(frozen=True)
class ProjectMetadata:
    """What every compiled SBML model says about the project, read from ``CITATION.cff`` (one source).

    Examples
    --------
    >>> meta = project_metadata()
    >>> meta.short_title, meta.licence, meta.creators
    ('pybrainbone', 'MIT', ('pybrainbone developers',))
    >>> meta.scope.startswith("the review")
    True
    """

    title: str
    version: str
    licence: str
    creators: tuple[str, ...]
    abstract: str
    #: The review whose scope the model follows, as one sentence (empty if CITATION.cff names none).
    scope: str

    @property
    def short_title(self) -> str:
        """The project's name: the title up to its colon.

        Examples
        --------
        >>> ProjectMetadata("toy: a model", "1.0", "MIT", ("us",), "", "").short_title
        'toy'
        """
        return self.title.partition(":")[0].strip()


def _person(entry: Mapping[str, Any]) -> str:
    if entry.get("name"):
        return str(entry["name"])
    return " ".join(str(entry[k]) for k in ("given-names", "family-names") if entry.get(k))


def project_metadata(path: Path | None = None) -> ProjectMetadata:
    """Title, version, licence, creators, abstract and the scope review, read from ``CITATION.cff``.

    Examples
    --------
    >>> meta = project_metadata()
    >>> meta.title.startswith("pybrainbone: "), meta.version == __import__("pybrainbone").__version__
    (True, True)
    """
    path = path or citation_file()
    data = read_yaml(path, ModelBuildError, "citation file")
    review = next((r for r in data.get("references", ()) if r.get("scope")), None)
    scope = ""
    if review is not None:
        venue = ", ".join(str(review[k]) for k in ("journal", "year") if review.get(k))
        scope = f"the review \u201c{review['title']}\u201d ({venue}). {review['scope']}"
    return ProjectMetadata(
        title=str(data["title"]),
        version=str(data["version"]),
        licence=str(data["license"]),
        creators=tuple(_person(a) for a in data["authors"]),
        abstract=" ".join(str(data.get("abstract", "")).split()),
        scope=scope,
    )


def annotate_model_metadata(
    document: libsbml.SBMLDocument, metadata: ProjectMetadata, description: tuple[str, ...] = ()
) -> None:
    """Write the model's name, its notes (the module's description, the project, its scope and licence)
    and its creators (an SBML model history) from ``metadata``.

    Examples
    --------
    >>> document = libsbml.SBMLDocument(3, 2)
    >>> _ = document.createModel().setId("toy")
    >>> meta = ProjectMetadata("toy: a model", "1.0", "MIT", ("toy developers",), "About toy.", "")
    >>> annotate_model_metadata(document, meta, ("A toy pathway.",))
    >>> model = document.getModel()
    >>> model.getName(), model.getModelHistory().getCreator(0).getName()
    ('toy (toy 1.0)', 'toy developers')
    >>> print(model.getNotesString())
    <notes>
      <body xmlns="http://www.w3.org/1999/xhtml">
        <p>A toy pathway.</p>
        <p>Part of toy: a model, version 1.0. About toy.</p>
        <p>Creators: toy developers. Licence: MIT (the LICENSE file of the project).</p>
      </body>
    </notes>
    """
    model = document.getModel()
    paragraphs = [*description, f"Part of {metadata.title}, version {metadata.version}. {metadata.abstract}"]
    paragraphs = [p.strip() for p in paragraphs]
    if metadata.scope:
        paragraphs.append(f"Scope: {metadata.scope}")
    creators = ", ".join(metadata.creators)
    paragraphs.append(f"Creators: {creators}. Licence: {metadata.licence} (the LICENSE file of the project).")
    if not model.isSetMetaId():
        model.setMetaId(model.getId())
    history = libsbml.ModelHistory()
    for name in metadata.creators:
        creator = libsbml.ModelCreator()
        creator.setName(name)
        history.addCreator(creator)
    results = (
        model.setName(f"{model.getId()} ({metadata.short_title} {metadata.version})"),
        model.setNotes(_xhtml_notes(paragraphs)),
        model.setModelHistory(history),
    )
    if any(r != libsbml.LIBSBML_OPERATION_SUCCESS for r in results):
        raise ModelBuildError(f"could not write the metadata of model {model.getId()!r}")
