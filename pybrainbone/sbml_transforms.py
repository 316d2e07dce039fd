"""Rewrites of the flat SBML that keep its mathematics and make every simulator evaluate it faster.

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
from collections import Counter
from collections.abc import Mapping

import libsbml

from pybrainbone.errors import ModelBuildError
from pybrainbone.model_text import ParameterRecord

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
