"""Data-generator maths survive export to SED-ML MathML and import back: same tree, same value."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pybrainbone.experiments.expressions import parse_expression
from pybrainbone.experiments.sedml import SedmlError
from pybrainbone.experiments.sedml.compat import libsedml
from pybrainbone.experiments.sedml.maths import expression_from_math, expression_from_mathml, math_of

VARIABLES = [("a", "x"), ("b", "y"), ("c", "z")]


def _round_trip(text: str) -> str:
    """``text`` through a SED-ML data generator: export, write the document, read it, import the math."""
    expression = parse_expression(text)
    doc = libsedml.SedDocument(1, 4)
    dg = doc.createDataGenerator()
    assert dg.setId("d") == libsedml.LIBSEDML_OPERATION_SUCCESS
    for task, variable in sorted(expression.references):
        var = dg.createVariable()
        var.setId(f"{task}_{variable}")
        var.setTaskReference(task)
        var.setTarget(f"/sbml:sbml/sbml:model/sbml:listOfParameters/sbml:parameter[@id='{variable}']")
    assert dg.setMath(math_of(expression)) == libsedml.LIBSEDML_OPERATION_SUCCESS
    back = libsedml.readSedMLFromString(libsedml.writeSedMLToString(doc))
    names = {f"{t}_{v}": (t, v) for t, v in expression.references}
    return expression_from_math(back.getDataGenerator(0).getMath(), names, "test")


def _value(text: str, values: dict[tuple[str, str], float]) -> Any:
    """The expression's value, or None where it has none (non-finite, complex, not computable)."""
    try:
        with np.errstate(all="ignore"):
            value = parse_expression(text).evaluate({k: np.float64(v) for k, v in values.items()})
    except (ZeroDivisionError, OverflowError, TypeError, ValueError):
        return None
    if np.iscomplexobj(value) or not np.isfinite(value):
        return None
    return float(value)


# ---- random expression trees ---------------------------------------------------------------------------
# Float constants have at most 15 significant digits (what libsedml writes into MathML), and include ones
# written in e-notation; integer constants stay MathML integers. Exponents are float trees or small
# integers, so no integer power tower is ever evaluated (Python would compute 9**(9**9) exactly).
_variables = st.sampled_from([f"{arm}.{var}" for arm, var in VARIABLES])
_floats = st.one_of(
    st.integers(-4000, 4000).map(lambda n: repr(n / 1000)),
    st.sampled_from(["0.5", "0.1", "2.5", "1e-05", "3.25e-07", "6.02e+23", "1.5e+16", "0.0"]),
)
_integers = st.integers(0, 12).map(str)
_small_integers = st.integers(-3, 3).map(str)
_FUNCTIONS = ["log", "exp", "abs", "sqrt"]


def _trees(leaves: st.SearchStrategy[str], exponents: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(children, st.sampled_from(["+", "-", "*", "/"]), children).map(
                lambda t: f"({t[0]}) {t[1]} ({t[2]})"
            ),
            st.tuples(children, exponents).map(lambda t: f"({t[0]}) ** ({t[1]})"),
            children.map(lambda c: f"-({c})"),
            children.map(lambda c: f"+({c})"),
            st.tuples(st.sampled_from(_FUNCTIONS), children).map(lambda t: f"{t[0]}({t[1]})"),
        )

    return st.recursive(leaves, extend, max_leaves=10)


_float_trees: st.SearchStrategy[str] = st.deferred(
    lambda: _trees(st.one_of(_variables, _floats), st.one_of(_small_integers, _float_trees))
)
_any_trees = _trees(st.one_of(_variables, _floats, _integers), st.one_of(_small_integers, _float_trees))
_values = st.tuples(*[st.floats(0.05, 20.0) for _ in VARIABLES]).map(
    lambda v: dict(zip(VARIABLES, v, strict=True))
)


@settings(max_examples=1000, derandomize=True, deadline=None)
@given(text=_any_trees, values=_values)
def test_random_expressions_keep_their_value(text: str, values: dict[tuple[str, str], float]) -> None:
    ours = _value(text, values)
    if ours is None:
        return
    back = _round_trip(text)
    again = _value(back, values)
    assert again is not None and math.isclose(again, ours, rel_tol=1e-12, abs_tol=0.0), (text, back)


# ---- the measured bugs and each construct ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(-a.x)**2", "(-a.x) ** 2"),  # was written as -(x^2)
        ("(a.x**2)**0.5", "(a.x ** 2) ** 0.5"),  # was written as x^(2^0.5)
        ("a.x**2**0.5", "a.x ** 2 ** 0.5"),
        ("-a.x**2", "-a.x ** 2"),
        ("2**-a.x**2", "2 ** (-a.x ** 2)"),
        ("(2**-a.x)**2", "(2 ** (-a.x)) ** 2"),
        ("100*log(a.x/b.y)", "100 * log(a.x / b.y)"),  # log was refused on import
        ("exp(-a.x) + abs(b.y - 3) - sqrt(c.z)", "exp(-a.x) + abs(b.y - 3) - sqrt(c.z)"),
        ("a.x*(b.y/c.z)", "a.x * (b.y / c.z)"),  # kept as written: floating point is not associative
        ("a.x-(b.y-c.z)", "a.x - (b.y - c.z)"),
        ("a.x+(b.y+c.z)", "a.x + b.y + c.z"),  # libsedml's parser makes sums and products n-ary
        ("+(a.x+b.y)*c.z", "(a.x + b.y) * c.z"),  # unary plus dropped, not its parentheses
        ("a.x**-0.5 * 1e-05 - 2.5", "a.x ** (-0.5) * 1e-05 - 2.5"),
        ("(3/4)*a.x", "3 / 4 * a.x"),
    ],
)
def test_round_trip_examples(text: str, expected: str) -> None:
    assert _round_trip(text) == expected


MATHML = '<math xmlns="http://www.w3.org/1998/Math/MathML">{}</math>'
NAMES = {"a": ("t1", "A"), "b": ("t2", "B"), "k": 2.5}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("<apply><log/><ci>a</ci></apply>", "log(t1.A) / log(10)"),
        ("<apply><log/><logbase><cn>2</cn></logbase><ci>a</ci></apply>", "log(t1.A) / log(2.0)"),
        ("<apply><root/><degree><cn type='integer'>3</cn></degree><ci>a</ci></apply>", "t1.A ** (1 / 3)"),
        ("<apply><root/><ci>a</ci></apply>", "sqrt(t1.A)"),
        ("<apply><plus/><ci>a</ci><ci>b</ci><ci>k</ci></apply>", "t1.A + t2.B + 2.5"),
        ("<apply><times/><cn type='rational'>3<sep/>4</cn><ci>a</ci></apply>", "3 / 4 * t1.A"),
        ("<apply><times/><cn type='e-notation'>1.5<sep/>-3</cn><pi/></apply>", f"0.0015 * {math.pi!r}"),
        ("<apply><power/><exponentiale/><cn>-2</cn></apply>", f"{math.e!r} ** (-2.0)"),
        ("<apply><minus/><cn type='integer'>-4</cn></apply>", "--4"),
    ],
)
def test_third_party_mathml(content: str, expected: str) -> None:
    assert expression_from_mathml(MATHML.format(content), NAMES, "x.sedml") == expected


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("<apply><sin/><ci>a</ci></apply>", r"x\.sedml: the math uses <sin>"),
        ("<ci>c</ci>", r"x\.sedml: the math uses 'c', which is not a variable"),
        ("<csymbol definitionURL='http://www.sbml.org/sbml/symbols/time'>t</csymbol>", "<csymbol>"),
        ("<apply><divide/><ci>a</ci></apply>", r"<divide> with 1 argument"),
        ("<piecewise><otherwise><ci>a</ci></otherwise></piecewise>", "<piecewise>"),
        ("<notanumber/>", "<notanumber>"),
    ],
)
def test_unsupported_mathml_is_refused(content: str, message: str) -> None:
    with pytest.raises(SedmlError, match=message):
        expression_from_mathml(MATHML.format(content), NAMES, "x.sedml")
