"""Data-generator maths: our expressions (:mod:`pybrainbone.experiments.expressions`) <-> SED-ML MathML.

Export writes :meth:`Expression.infix` - SBML L3 infix, parenthesised wherever L3's precedence differs
from the expression tree's - through libsedml's formula parser (:func:`parse_formula`). Import
(:func:`expression_from_math`) translates the MathML libsedml holds, element by element, into our
``arm.variable`` syntax. It does not go through ``libsedml.formulaToL3String``: that text is ambiguous
(it writes ``(2^-x)^2`` and ``2^-(x^2)`` both as ``2^-x^2``, and ``(x^2)^0.5`` as ``x^2^0.5``, which
libsedml's own parser reads as ``x^(2^0.5)``), so it only names formulas in messages.

>>> from pybrainbone.experiments.expressions import parse_expression
>>> math = math_of(parse_expression("(-a.x)**2 + 100*log(a.x/b.x)"))
>>> expression_from_math(math, {"a_x": ("a", "x"), "b_x": ("b", "x")}, "example")
'(-a.x) ** 2 + 100 * log(a.x / b.x)'
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any
from xml.etree import ElementTree

from pybrainbone.experiments.expressions import Expression, ExpressionError, parse_expression
from pybrainbone.experiments.sedml.common import SedmlError
from pybrainbone.experiments.sedml.compat import libsedml

#: What a MathML ``<ci>`` may name: an (arm or task, variable) pair, or a number (a data-generator
#: ``<parameter>``).
Name = tuple[str, str] | float

_MATHML = "{http://www.w3.org/1998/Math/MathML}"
#: MathML functions of one argument that are functions of our expressions, by our name.
_FUNCTIONS = {"ln": "log", "exp": "exp", "abs": "abs"}
_CONSTANTS = {"pi": math.pi, "exponentiale": math.e, "infinity": math.inf}
_SUPPORTED = "+ - * / ^, ln, log, exp, abs, sqrt, root, pi and exponentiale"


def default_name(arm: str, variable: str) -> str:
    """The SED-ML variable id of ``arm.variable`` in a data generator.

    Examples
    --------
    >>> default_name("treated", "BMD")
    'treated_BMD'
    """
    return f"{arm}_{variable}"


def parse_formula(formula: str) -> Any:
    """libsedml's AST of SBML L3 infix ``formula`` (what ``setMath`` takes).

    Examples
    --------
    >>> libsedml.formulaToL3String(parse_formula("100 * (treated_OCa / control_OCa - 1)"))
    '100 * (treated_OCa / control_OCa - 1)'
    >>> parse_formula("treated_OCa / ")
    Traceback (most recent call last):
    ...
    pybrainbone.experiments.sedml.common.SedmlError: libsedml could not parse the formula 'treated_OCa / ':
    ...
    """
    tree = libsedml.parseL3Formula(formula)
    if tree is None:
        reason = libsedml.getLastParseL3Error()
        raise SedmlError(f"libsedml could not parse the formula {formula!r}: {reason}")
    return tree


def math_of(expression: Expression, name: Callable[[str, str], str] = default_name) -> Any:
    """libsedml's AST of ``expression``, each ``arm.variable`` renamed by ``name``.

    Examples
    --------
    >>> from pybrainbone.experiments.expressions import parse_expression
    >>> tree = math_of(parse_expression("100 * (treated.OCa / control.OCa - 1)"))
    >>> libsedml.formulaToL3String(tree)
    '100 * (treated_OCa / control_OCa - 1)'
    """
    return parse_formula(expression.infix(name))


def expression_from_math(math_ast: Any, names: Mapping[str, Name], where: str) -> str:
    """Our expression text for libsedml AST ``math_ast`` (e.g. ``DataGenerator.getMath()``).

    Examples
    --------
    >>> tree = parse_formula("k * treated_OCa")
    >>> expression_from_math(tree, {"treated_OCa": ("treated", "OCa"), "k": 2.0}, "dataGenerator 'd'")
    '2.0 * treated.OCa'
    """
    text = str(libsedml.writeMathMLToString(math_ast))
    formula = str(libsedml.formulaToL3String(math_ast)).strip()
    return expression_from_mathml(text, names, f"{where} ({formula})")


def expression_from_mathml(mathml: str, names: Mapping[str, Name], where: str) -> str:
    """Our expression text for the MathML document ``mathml``; ``where`` starts every error message.

    Examples
    --------
    >>> mathml = ('<math xmlns="http://www.w3.org/1998/Math/MathML"><apply><root/><degree><cn>3</cn></degree>'
    ...           '<ci>a_x</ci></apply></math>')
    >>> expression_from_mathml(mathml, {"a_x": ("a", "x")}, "dataGenerator 'd'")
    'a.x ** (1 / 3.0)'
    >>> expression_from_mathml(mathml.replace("root", "sin"), {"a_x": ("a", "x")}, "dataGenerator 'd'")
    Traceback (most recent call last):
    ...
    pybrainbone.experiments.sedml.common.SedmlError: dataGenerator 'd': the math uses <sin>; pybrainbone ...
    """
    try:
        root = ElementTree.fromstring(mathml)
    except ElementTree.ParseError as exc:
        raise SedmlError(f"{where}: unreadable MathML ({exc})") from None
    children = list(root)
    if root.tag != f"{_MATHML}math" or len(children) != 1:
        raise SedmlError(f"{where}: expected one MathML <math> expression")
    tree = _Translator(names, where).expression(children[0])
    text = ast.unparse(ast.fix_missing_locations(tree))
    try:
        return parse_expression(text).text
    except ExpressionError as exc:
        raise SedmlError(f"{where}: {exc}") from None


def _tag(element: ElementTree.Element) -> str:
    return element.tag.removeprefix(_MATHML)


def _constant(value: float | int) -> ast.expr:
    """A number as our syntax writes it: negative numbers as unary minus (``ast.unparse`` needs that)."""
    if math.isnan(value):
        raise ValueError("not a number")
    if value < 0 or (value == 0 and math.copysign(1.0, value) < 0):
        return ast.UnaryOp(ast.USub(), ast.Constant(-value))
    return ast.Constant(value)


def _call(function: str, *args: ast.expr) -> ast.expr:
    return ast.Call(ast.Name(function, ast.Load()), list(args), [])


def _binary(left: ast.expr, op: ast.operator, right: ast.expr) -> ast.expr:
    return ast.BinOp(left, op, right)


class _Translator:
    """MathML content elements -> a Python AST in our expression syntax."""

    def __init__(self, names: Mapping[str, Name], where: str) -> None:
        self.names = names
        self.where = where

    def fail(self, what: str) -> SedmlError:
        return SedmlError(f"{self.where}: the math uses {what}; pybrainbone expressions allow {_SUPPORTED}")

    def expression(self, element: ElementTree.Element) -> ast.expr:
        tag = _tag(element)
        if tag == "ci":
            return self.name((element.text or "").strip())
        if tag == "cn":
            return self.number(element)
        if tag in _CONSTANTS:
            return ast.Constant(_CONSTANTS[tag])
        if tag == "apply":
            return self.apply(element)
        raise self.fail(f"<{tag}>")

    def name(self, sid: str) -> ast.expr:
        if sid not in self.names:
            raise SedmlError(f"{self.where}: the math uses {sid!r}, which is not a variable")
        target = self.names[sid]
        if isinstance(target, tuple):
            return ast.Attribute(ast.Name(target[0], ast.Load()), target[1], ast.Load())
        if math.isnan(target):
            raise SedmlError(f"{self.where}: the parameter {sid!r} is not a number")
        return _constant(target)

    def number(self, element: ElementTree.Element) -> ast.expr:
        kind = element.get("type", "real")
        parts = [(element.text or "").strip()] + [(sep.tail or "").strip() for sep in element]
        try:
            if kind == "integer" and len(parts) == 1:
                return _constant(int(parts[0], int(element.get("base", "10"))))
            if kind in ("real", "double") and len(parts) == 1:
                return _constant(float(parts[0]))
            if kind == "e-notation" and len(parts) == 2:
                return _constant(float(f"{parts[0]}e{parts[1]}"))
            if kind == "rational" and len(parts) == 2:
                ratio = Fraction(int(parts[0]), int(parts[1]))
                return _binary(_constant(ratio.numerator), ast.Div(), _constant(ratio.denominator))
        except (ValueError, ZeroDivisionError):
            pass
        raise SedmlError(f"{self.where}: cannot read the number <cn type={kind!r}> {' '.join(parts)!r}")

    def apply(self, element: ElementTree.Element) -> ast.expr:
        operator, *operands = list(element)
        op = _tag(operator)
        qualifiers = {_tag(e): e for e in operands if _tag(e) in ("degree", "logbase")}
        args = [self.expression(e) for e in operands if _tag(e) not in ("degree", "logbase")]
        if op in ("plus", "times") and not qualifiers:
            if not args:
                return ast.Constant(0 if op == "plus" else 1)
            result = args[0]
            for arg in args[1:]:
                result = _binary(result, ast.Add() if op == "plus" else ast.Mult(), arg)
            return result
        if op == "minus" and len(args) == 1 and not qualifiers:
            return ast.UnaryOp(ast.USub(), args[0])
        binary: dict[str, ast.operator] = {"minus": ast.Sub(), "divide": ast.Div(), "power": ast.Pow()}
        if op in binary and len(args) == 2 and not qualifiers:
            return _binary(args[0], binary[op], args[1])
        if op in _FUNCTIONS and len(args) == 1 and not qualifiers:
            return _call(_FUNCTIONS[op], args[0])
        if op == "root" and len(args) == 1:
            return self.root(args[0], qualifiers.get("degree"))
        if op == "log" and len(args) == 1:
            base = self.qualifier(qualifiers.get("logbase"), default=10)
            return _binary(_call("log", args[0]), ast.Div(), _call("log", base))
        raise self.fail(f"<{op}> with {len(args)} argument(s)" if op in _KNOWN_OPERATORS else f"<{op}>")

    def qualifier(self, element: ElementTree.Element | None, default: int) -> ast.expr:
        """The expression inside ``<degree>`` or ``<logbase>`` (``default`` when absent)."""
        if element is None:
            return ast.Constant(default)
        inner = list(element)
        if len(inner) != 1:
            raise self.fail(f"an empty <{_tag(element)}>")
        return self.expression(inner[0])

    def root(self, radicand: ast.expr, degree_element: ElementTree.Element | None) -> ast.expr:
        degree = self.qualifier(degree_element, default=2)
        if isinstance(degree, ast.Constant) and degree.value == 2:
            return _call("sqrt", radicand)
        return _binary(radicand, ast.Pow(), _binary(ast.Constant(1), ast.Div(), degree))


_KNOWN_OPERATORS = {"plus", "times", "minus", "divide", "power", "root", "log", *_FUNCTIONS}
