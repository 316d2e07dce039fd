"""Data-generator expressions refuse hostile and careless input when parsed, and never compute inf or NaN.

Every test runs under a SIGALRM time limit, so a hang fails instead of blocking the suite (a signal is
handled between Python bytecodes: it cannot interrupt one long C call such as a Python-int power, which
is why the module never raises a Python int to a power).
"""

from __future__ import annotations

import math
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pybrainbone.experiments.expressions import (
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_MAGNITUDE,
    MAX_NODES,
    Expression,
    ExpressionError,
    parse_expression,
)


class Timeout(Exception):
    """Raised by the SIGALRM handler."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise Timeout("time limit exceeded")


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def five_seconds() -> Iterator[None]:
    """A 5 s limit for one test (not for hypothesis tests: they time each example themselves)."""
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(5)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


X, Y, Z = ("a", "x"), ("b", "y"), ("c", "z")

# ---- refused when parsed ----------------------------------------------------------------------------------
REFUSED = [
    # the measured problems
    ("9**9**9", r"the exponent '9\*\*9' \(= 387420489\) is outside \[-100, 100\] in '9\*\*9\*\*9'"),
    ("10**1000", r"the exponent '1000' is outside \[-100, 100\]"),
    ("1/0", r"division by zero in '1/0'"),
    ("log(a.x, b.y)", r"log takes 1 argument \(no keywords\) in 'log\(a.x, b.y\)'"),
    ("log", r"the function log must be called, as log\(\.\.\.\), in 'log'"),
    ("+".join(["a.x"] * 3000), r"is longer than 10000 characters"),
    ("+".join(["1"] * 3000), r"too long or nested too deeply to parse"),
    ("log(-1)", r"log of a negative number in 'log\(-1\)'"),
    ("(-8)**0.5", r"a negative base to a fractional power in '\(-8\)\*\*0.5'"),
    # syntax
    ("", r"not a valid expression: ''"),
    ("a.x +", r"not a valid expression: 'a.x \+'"),
    ("(a.x", r"not a valid expression"),
    ("a.x b.y", r"not a valid expression"),
    (" a.x", r"not a valid expression"),
    ("a.x\x00", r"not a valid expression: 'a.x\\x00'"),
    ("1" * 5000, r"not a valid expression.*4300 digits"),
    # constructs that are not arithmetic
    ("a.x if b.y else 1", r"IfExp is not allowed"),
    ("lambda: 1", r"Lambda is not allowed"),
    ("[a.x]", r"List is not allowed"),
    ("a.x < b.y", r"Compare is not allowed"),
    ("a.x and b.y", r"BoolOp is not allowed"),
    ("not a.x", r"Not is not allowed"),
    ("~a.x", r"Invert is not allowed"),
    ("a.x % 2", r"Mod is not allowed in 'a.x % 2'; only \+ - \* / \*\* are allowed"),
    ("a.x // 2", r"FloorDiv is not allowed"),
    ("a.x ^ 2", r"BitXor is not allowed in 'a.x \^ 2'; write powers as x \*\* y"),
    ("a.x @ b.y", r"MatMult is not allowed"),
    ("a.x[0]", r"Subscript is not allowed"),
    ("f'{a.x}'", r"JoinedStr is not allowed"),
    ("(x := 1)", r"NamedExpr is not allowed"),
    ("[v for v in a.x]", r"ListComp is not allowed"),
    # constants that are not numbers
    ("'s'", r"only numbers may appear as constants in \"'s'\""),
    ("True + a.x", r"only numbers may appear as constants in 'True' of 'True \+ a.x'"),
    ("None", r"only numbers"),
    ("1j * a.x", r"only numbers"),
    ("...", r"only numbers"),
    # names, references and calls
    ("x", r"x: write model variables as arm.variable"),
    ("a + a.x", r"a: write model variables as arm.variable"),
    ("a.b.c", r"write model variables as arm.variable in 'a.b.c'"),
    ("(a.x).y", r"write model variables as arm.variable"),
    ("a.x * exp", r"the function exp must be called, as exp\(\.\.\.\), in 'exp' of 'a.x \* exp'"),
    ("sqrt + 1", r"the function sqrt must be called"),
    ("foo(a.x)", r"only the functions \['abs', 'exp', 'log', 'sqrt'\] may be called in 'foo\(a.x\)'"),
    ("np.log(a.x)", r"only the functions"),
    ("a.x(1)", r"only the functions"),
    ("__import__('os')", r"only the functions"),
    ("log()", r"log takes 1 argument"),
    ("exp(a.x, 2)", r"exp takes 1 argument"),
    ("exp(x=a.x)", r"exp takes 1 argument \(no keywords\)"),
    ("abs(*a.x)", r"Starred is not allowed in '\*a.x' of 'abs\(\*a.x\)'"),
    # size and depth
    ("+".join(["a.x"] * (MAX_NODES // 2 + 1)), rf"has more than {MAX_NODES} nodes"),
    ("+".join(["a.x"] * (MAX_DEPTH + 1)), rf"nested {MAX_DEPTH + 1} levels deep, more than {MAX_DEPTH}"),
    ("-" * MAX_DEPTH + "a.x", rf"nested {MAX_DEPTH + 1} levels deep"),
    ("exp(" * MAX_DEPTH + "a.x" + ")" * MAX_DEPTH, rf"nested {MAX_DEPTH + 1} levels deep"),
    ("-" * 5000 + "a.x", r"too long or nested too deeply to parse"),
    ("(" * 300 + "a.x" + ")" * 300, r"not a valid expression.*too many nested parentheses"),
    # exponents
    ("a.x ** 101", r"the exponent '101' is outside \[-100, 100\] in 'a.x \*\* 101'"),
    ("a.x ** -101", r"the exponent '-101' is outside"),
    ("a.x ** (50 * 3)", r"the exponent '50 \* 3' \(= 150\) is outside"),
    ("2 ** 2 ** 7", r"the exponent '2 \*\* 7' \(= 128\) is outside"),
    ("a.x ** 1e10", r"the exponent '1e10' is outside"),
    # magnitudes and overflow of constants
    ("1e999", r"the number '1e999' is larger than 1e\+300"),
    ("-1e301 + a.x", r"the number '1e301' of '-1e301 \+ a.x' is larger than 1e\+300"),
    ("1" + "0" * 301, r"the number '10+\.\.\.' is larger than 1e\+300"),
    ("1e300 * 10 + a.x", r"'1e300 \* 10' of '1e300 \* 10 \+ a.x' = 1e\+301 is larger than 1e\+300"),
    ("1e200 * 1e200", r"overflow in '1e200 \* 1e200'"),
    ("exp(1000)", r"overflow in 'exp\(1000\)'"),
    ("exp(700) * a.x", r"'exp\(700\)' of 'exp\(700\) \* a.x' = 1.01e\+304 is larger than 1e\+300"),
    ("1e300 ** 2", r"overflow in '1e300 \*\* 2'"),
    ("10.0 ** 100 * 10.0 ** 100 * 10.0 ** 100 * 10", r"= 1e\+301 is larger than 1e\+300"),
    # division by a constant zero
    ("a.x / 0", r"division by zero in 'a.x / 0'"),
    ("a.x / 0.0", r"division by zero"),
    ("a.x / -0.0", r"division by zero"),
    ("a.x / (1 - 1)", r"division by zero in 'a.x / \(1 - 1\)'"),
    ("0 / 0", r"division by zero"),
    ("0 ** -1", r"zero to a negative power in '0 \*\* -1'"),
    # log and sqrt of constants outside their domain
    ("log(0)", r"log of zero in 'log\(0\)'"),
    ("log(-0.0)", r"log of zero"),
    ("log(1 - 2) + a.x", r"log of a negative number in 'log\(1 - 2\)' of 'log\(1 - 2\) \+ a.x'"),
    ("sqrt(-1)", r"square root of a negative number in 'sqrt\(-1\)'"),
    ("sqrt(-1e-300) * a.x", r"square root of a negative number"),
    ("a.x * (-2) ** 0.5", r"a negative base to a fractional power in '\(-2\) \*\* 0.5'"),
]


@pytest.mark.usefixtures("five_seconds")
@pytest.mark.parametrize(("text", "message"), REFUSED, ids=[repr(t[:30]) for t, _ in REFUSED])
def test_refused_when_parsed(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message) as info:
        parse_expression(text)
    assert "\n" not in str(info.value) and len(str(info.value)) < 400


@pytest.mark.usefixtures("five_seconds")
def test_refused_without_a_traceback_through_pydantic() -> None:
    """The spec validator turns the refusal into its own message (a ValueError, as pydantic expects)."""
    from pybrainbone.experiments.spec import DataGenerator

    with pytest.raises(ValueError, match=r"the exponent '9\*\*9'"):
        DataGenerator(id="d", expression="9**9**9 * a.x")


@pytest.mark.usefixtures("five_seconds")
@pytest.mark.parametrize(
    "text",
    [
        "sqrt(0)",
        "a.x ** 100",
        "a.x ** -100",
        "a.x ** (25 * 4)",
        "1e300 * a.x",
        "-1e300",
        "a.x ** b.y",
        "2 ** a.x",
        "exp(-1000)",  # underflows to 0: allowed
        "log(1e-300)",
        "(-8) ** 3",
        "(-8) ** -3.0",
        "log.x + abs.y",  # arms may be named like functions
        "+".join(["a.x"] * MAX_DEPTH),
        "-" * (MAX_DEPTH - 1) + "a.x",
        "(a.x\n + b.y)",
    ],
)
def test_accepted(text: str) -> None:
    assert isinstance(parse_expression(text), Expression)


@pytest.mark.usefixtures("five_seconds")
def test_not_text() -> None:
    with pytest.raises(ExpressionError, match="must be text, not int"):
        parse_expression(3)


# ---- refused when evaluated ----------------------------------------------------------------------------
EVALUATION_ERRORS: list[tuple[str, dict[tuple[str, str], Any], str]] = [
    ("1 / a.x", {X: 0.0}, r"^division by zero in '1 / a.x'$"),
    ("a.x / b.y + 1", {X: 0.0, Y: 0.0}, r"^0 / 0 in 'a.x / b.y' of 'a.x / b.y \+ 1'$"),
    ("log(a.x)", {X: -1.0}, r"^log of a negative number in 'log\(a.x\)'$"),
    ("log(a.x)", {X: 0.0}, r"^log of zero in 'log\(a.x\)'$"),
    ("sqrt(a.x)", {X: -1e-9}, r"^square root of a negative number in 'sqrt\(a.x\)'$"),
    ("a.x ** 0.5", {X: -8.0}, r"^a negative base to a fractional power in 'a.x \*\* 0.5'$"),
    ("a.x ** b.y", {X: -8.0, Y: 1 / 3}, r"a negative base to a fractional power"),
    ("a.x ** -1", {X: 0.0}, r"zero to a negative power in 'a.x \*\* -1'"),
    ("a.x * a.x", {X: 1e200}, r"^overflow in 'a.x \* a.x'$"),
    ("a.x + a.x", {X: 1.7e308}, r"^overflow in 'a.x \+ a.x'$"),
    ("exp(a.x)", {X: 1000.0}, r"^overflow in 'exp\(a.x\)'$"),
    ("2 ** a.x", {X: 1e6}, r"^overflow in '2 \*\* a.x'$"),
    ("9 ** a.x", {X: 9**9}, r"^overflow in '9 \*\* a.x'$"),  # an int value: a float power, no hang
    ("a.x ** 100", {X: 1e10}, r"overflow"),
    ("a.x + 1", {X: math.nan}, r"^a.x is nan in 'a.x \+ 1'$"),
    ("a.x + 1", {X: math.inf}, r"^a.x is inf in 'a.x \+ 1'$"),
    ("1 / a.x", {X: np.array([1.0, 2.0, 0.0, 4.0])}, r"^division by zero in '1 / a.x' \(first at index 2\)$"),
    (
        "log(a.x)",
        {X: np.array([1.0, -1.0])},
        r"^log of a negative number in 'log\(a.x\)' \(first at index 1\)$",
    ),
    ("a.x - b.y", {X: np.array([1.0, np.nan]), Y: 1.0}, r"^a.x is nan \(first at index 1\)"),
]


@pytest.mark.usefixtures("five_seconds")
@pytest.mark.parametrize(("text", "values", "message"), EVALUATION_ERRORS)
def test_refused_when_evaluated(text: str, values: dict[tuple[str, str], Any], message: str) -> None:
    expression = parse_expression(text)
    with pytest.raises(ExpressionError, match=message):
        expression.evaluate(values)
    # a caller's own error state changes nothing
    with np.errstate(all="ignore"), pytest.raises(ExpressionError, match=message):
        expression.evaluate(values)
    result = np.asarray(expression.evaluate(values, on_invalid="nan"))
    assert np.isnan(result).any() and not np.isinf(result).any()


@pytest.mark.usefixtures("five_seconds")
def test_nan_instead_of_an_error_marks_only_the_invalid_points() -> None:
    expression = parse_expression("log(a.x) + 1 / b.y")
    values = {X: np.array([1.0, -1.0, 2.0, 3.0]), Y: np.array([1.0, 1.0, 0.0, 2.0])}
    result = expression.evaluate(values, on_invalid="nan")
    np.testing.assert_array_equal(np.isnan(result), [False, True, True, False])
    assert result[0] == 1.0 and result[3] == math.log(3.0) + 0.5
    with pytest.raises(ValueError, match="on_invalid must be 'raise' or 'nan'"):
        expression.evaluate(values, on_invalid="ignore")  # type: ignore[arg-type]


@pytest.mark.usefixtures("five_seconds")
def test_values_are_floats_and_shapes_are_kept() -> None:
    assert parse_expression("a.x ** 3").evaluate({X: 10**20}) == 1e60  # no exact Python-int power
    assert isinstance(parse_expression("a.x ** 3").evaluate({X: 2}), float)
    assert parse_expression("3 ** 2 / 2").evaluate({}) == 4.5
    array = parse_expression("2 * a.x - b.y").evaluate({X: np.arange(3.0), Y: 1.0})
    np.testing.assert_array_equal(array, [-1.0, 1.0, 3.0])
    assert parse_expression("exp(-a.x)").evaluate({X: 1000.0}) == 0.0  # underflow is not an error


@pytest.mark.usefixtures("five_seconds")
@pytest.mark.parametrize(
    ("text", "infix"),
    [  # what the module wrote before these checks; the SED-ML writer depends on it
        ("100 * (ovx.core_BV / sham.core_BV - 1)", "100 * (ovx_core_BV / sham_core_BV - 1)"),
        ("(-a.x)**2", "(-(a_x)) ^ 2"),
        ("a.x**2**0.5", "a_x ^ 2 ^ 0.5"),
        ("2**-a.x**2", "2 ^ -(a_x ^ 2)"),
        ("+(a.x+b.y)*c.z", "(a_x + b_y) * c_z"),
        ("a.x-(b.y-c.z)", "a_x - (b_y - c_z)"),
        ("log(a.x) / log(10) + sqrt(abs(b.y))", "ln(a_x) / ln(10) + sqrt(abs(b_y))"),
        ("a.x ** (1 / 3)", "a_x ^ (1 / 3)"),
        ("-a.x ** -0.5 * 1e-05", "-(a_x ^ -(0.5)) * 1e-05"),
        ("(3/4)*a.x", "3 / 4 * a_x"),
        ("exp(-(a.x - 2.5) ** 2)", "exp(-((a_x - 2.5) ^ 2))"),
    ],
)
def test_infix_unchanged(text: str, infix: str) -> None:
    assert parse_expression(text).infix() == infix


# ---- (a) random text: an Expression or an ExpressionError, quickly -----------------------------------------
# Three sources: near-valid expressions from a grammar mixing valid and hostile atoms and operators; deep or
# long repetitions; and soups of tokens.
_ATOMS = st.sampled_from(
    [
        *["a.x", "b.y", "c.z", "0", "1", "2", "9", "100", "0.5", "1e-300", "1e300", "1e308", "-8"],
        *["1e999", "x", "a", "log", "a.b.c", "'s'", "True", "None", "1j", "[1]", "foo(a.x)", "_", "é"],
    ]
)
_OPERATORS = st.sampled_from([*"+-*/" * 2, "**", "**", "**", "^", "%", "//", "<", "and", ",", ""])
_FUNCTIONS = st.sampled_from(["log", "exp", "abs", "sqrt", "log", "exp", "sqrt", "foo", "np.log", ""])


def _grow(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, _OPERATORS, children).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        children.map(lambda c: f"({c})"),
        st.tuples(st.sampled_from(["-", "+", "-", "~", "not "]), children).map("".join),
        st.tuples(_FUNCTIONS, children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(_FUNCTIONS, children, children).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
    )


_REPEATED = st.tuples(
    st.sampled_from(["-", "(", "exp(", "a.x+", "1+", "9**", "2**-", "a.x*1e300*", "log(abs("]),
    st.integers(0, 4000),
    _ATOMS,
).map(lambda t: t[0] * t[1] + t[2] + ")" * (t[1] * t[0].count("(")))
_TOKENS = [
    *["a.x", "b.y", "a", ".x", ".", "log", "exp", "sqrt", "0", "1", "9", "1e308", "0x1F", "1_0", "'s'"],
    *["+", "-", "*", "/", "**", "^", "%", "//", "@", "~", "<", "=", ":=", "and", "if", "else", "lambda"],
    *["(", ")", "[", "]", "{", "}", ",", ":", ";", "\\", "\n", "\t", " ", "\x00", "#", "é"],
]
_SOUP = st.lists(st.sampled_from(_TOKENS), max_size=30).map("".join)
_GRAMMAR = st.recursive(_ATOMS, _grow, max_leaves=20)
_TEXT = st.one_of(_GRAMMAR, _GRAMMAR, _REPEATED, _SOUP)


@settings(max_examples=1000, derandomize=True, deadline=None)
@given(text=_TEXT)
def test_random_text_parses_or_is_refused(text: str) -> None:
    start = time.perf_counter()
    with _time_limit(2.0):
        try:
            expression = parse_expression(text)
        except ExpressionError as exc:
            assert "\n" not in str(exc)
        else:
            assert isinstance(expression, Expression)
            expression.infix()
            values = {ref: np.array([0.0, -1.5, 2.5]) for ref in expression.references}
            try:
                result = np.asarray(expression.evaluate(values))
            except ExpressionError:
                pass
            else:
                assert np.all(np.isfinite(result))
            assert not np.isinf(expression.evaluate(values, on_invalid="nan")).any()
    assert time.perf_counter() - start < 1.0


# ---- (b) random valid trees: the value of a reference evaluation in Python floats -----------------------
# A tree is ("var", name) | ("num", text) | ("bin", op, left, right) | ("neg" | "pos", child)
# | ("call", function, child).
Tree = tuple[Any, ...]
_VARIABLES = {"a.x": X, "b.y": Y, "c.z": Z}
_NUMBERS = st.one_of(
    st.sampled_from(
        ["0", "1", "2", "3", "12", "101", "150", "0.0", "0.5", "2.5", "1e-05", "1e-300", "1e300"]
    ),
    st.sampled_from(["3.25e+100", "6.02e+23", "1e+301", "1e200"]),
    st.integers(0, 200).map(str),
    st.floats(0.0, 1e3, allow_nan=False).map(repr),
)
_LEAVES = st.one_of(
    st.sampled_from(sorted(_VARIABLES)).map(lambda v: ("var", v)), _NUMBERS.map(lambda n: ("num", n))
)


def _extend(children: st.SearchStrategy[Tree]) -> st.SearchStrategy[Tree]:
    return st.one_of(
        st.tuples(st.just("bin"), st.sampled_from(["+", "-", "*", "/", "**"]), children, children),
        st.tuples(st.sampled_from(["neg", "pos"]), children),
        st.tuples(st.just("call"), st.sampled_from(["log", "exp", "abs", "sqrt"]), children),
    )


_TREES = st.recursive(_LEAVES, _extend, max_leaves=12)
_VALUES = st.tuples(
    *[st.one_of(st.floats(-20.0, 20.0), st.sampled_from([0.0, 1.0, -1.0, 0.5])) for _ in _VARIABLES]
).map(lambda v: dict(zip((X, Y, Z), v, strict=True)))


def _text(tree: Tree) -> str:
    kind = tree[0]
    if kind in ("var", "num"):
        return str(tree[1])
    if kind == "bin":
        return f"({_text(tree[2])}) {tree[1]} ({_text(tree[3])})"
    if kind == "call":
        return f"{tree[1]}({_text(tree[2])})"
    return f"{'-' if kind == 'neg' else '+'}({_text(tree[1])})"


class _NoValue(Exception):
    """The reference has no finite value, or the expression breaks a parse-time limit."""


def _finite(value: Any) -> float:
    if isinstance(value, complex) or not math.isfinite(value):
        raise _NoValue
    return float(value)


def _reference(tree: Tree, values: dict[tuple[str, str], float]) -> tuple[float, bool]:
    """(value, whether it is constant) in Python floats, under the documented limits."""
    kind = tree[0]
    if kind == "var":
        return values[_VARIABLES[tree[1]]], False
    if kind == "num":
        number = float(tree[1])
        if abs(number) > MAX_MAGNITUDE:
            raise _NoValue
        return number, True
    if kind in ("neg", "pos"):
        value, constant = _reference(tree[1], values)
        return (-value if kind == "neg" else value), constant
    if kind == "call":
        argument, constant = _reference(tree[2], values)
        functions: dict[str, Callable[[float], float]] = {
            "log": math.log,
            "exp": math.exp,
            "abs": abs,
            "sqrt": math.sqrt,
        }
        try:
            value = _finite(functions[tree[1]](argument))
        except (ValueError, OverflowError):  # math's domain and range errors
            raise _NoValue from None
    else:
        (left, left_constant), (right, right_constant) = (
            _reference(tree[2], values),
            _reference(tree[3], values),
        )
        if tree[1] == "**" and right_constant and abs(right) > MAX_EXPONENT:
            raise _NoValue
        operations = {
            "+": lambda a, b: a + b,
            "-": lambda a, b: a - b,
            "*": lambda a, b: a * b,
            "/": lambda a, b: a / b,
            "**": lambda a, b: a**b,  # a complex power (negative base) is no value
        }
        try:
            value = _finite(operations[tree[1]](left, right))
        except (ZeroDivisionError, OverflowError):
            raise _NoValue from None
        constant = left_constant and right_constant
    if constant and abs(value) > MAX_MAGNITUDE:
        raise _NoValue
    return value, constant


def _depth(tree: Tree) -> int:
    children = [c for c in tree[1:] if isinstance(c, tuple)]
    return 1 + max(map(_depth, children), default=0)


@settings(max_examples=1000, derandomize=True, deadline=None)
@given(tree=_TREES, values=_VALUES)
def test_random_trees_have_the_reference_value(tree: Tree, values: dict[tuple[str, str], float]) -> None:
    text = _text(tree)
    assert _depth(tree) <= MAX_DEPTH  # so only the value limits matter below
    try:
        expected: float | None = _reference(tree, values)[0]
    except _NoValue:
        expected = None
    with _time_limit(2.0):
        if expected is None:
            with pytest.raises(ExpressionError):
                parse_expression(text).evaluate(values)
        else:
            value = parse_expression(text).evaluate(values)
            assert math.isclose(value, expected, rel_tol=1e-12, abs_tol=0.0) or value == expected, text
