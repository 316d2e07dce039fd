"""Data-generator expressions: arithmetic over ``arm.variable`` names, parsed safely with :mod:`ast`.

>>> expr = parse_expression("100 * (treated.BMD / control.BMD - 1)")
>>> sorted(expr.references)
[('control', 'BMD'), ('treated', 'BMD')]
>>> round(expr.evaluate({("treated", "BMD"): 95.0, ("control", "BMD"): 100.0}), 9)
-5.0
>>> expr.infix()
'100 * (treated_BMD / control_BMD - 1)'

Everything that can be known without the simulation results is checked when the text is parsed (so a bad
spec is refused when it is loaded, before any simulation runs): the syntax, the functions and how many
arguments they take, the size and nesting depth, and every constant sub-expression, which is evaluated
then with the same floating-point rules as at run time:

>>> def refusal(text: str) -> str:
...     try:
...         parse_expression(text)
...     except ExpressionError as exc:
...         return str(exc)
...     return "accepted"
>>> refusal("9**9**9")
"the exponent '9**9' (= 387420489) is outside [-100, 100] in '9**9**9'"
>>> refusal("a.x / (2 - 2)")
"division by zero in 'a.x / (2 - 2)'"

Evaluation is in float64 with numpy's error checks: an overflow, a division by zero or an invalid value
(the log of a negative number, a negative base to a fractional power) raises :class:`ExpressionError`
naming the operation, never returns inf or NaN (``on_invalid="nan"`` returns NaN there instead):

>>> parse_expression("log(a.x)").evaluate({("a", "x"): -1.0})
Traceback (most recent call last):
...
pybrainbone.experiments.expressions.ExpressionError: log of a negative number in 'log(a.x)'
>>> parse_expression("log(a.x)").evaluate({("a", "x"): -1.0}, on_invalid="nan")
nan
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np

from pybrainbone.errors import PyBrainBoneError

#: Longest expression text accepted (characters); checked before the text is parsed at all.
MAX_LENGTH = 10_000
#: Most nodes in an expression: numbers, ``arm.variable`` references, operators and calls.
MAX_NODES = 500
#: Deepest nesting of nodes (``a.x`` is depth 1, ``-a.x`` 2; each operator of a chain ``a + b + c``
#: counts as one level). It bounds every recursion over the tree.
MAX_DEPTH = 50
#: Largest magnitude of a constant exponent (``x ** 100``); larger powers overflow or underflow for any
#: base that is not within a few percent of 1.
MAX_EXPONENT = 100.0
#: Largest magnitude of any constant or constant sub-expression (float64 overflows just above 1.8e308).
MAX_MAGNITUDE = 1e300

_BINARY: dict[type[ast.operator], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", np.add),
    ast.Sub: ("-", np.subtract),
    ast.Mult: ("*", np.multiply),
    ast.Div: ("/", np.divide),
    ast.Pow: ("^", np.power),
}
#: Functions by name: numpy's function of the same name (elementwise) and its number of arguments.
_FUNCTIONS: dict[str, tuple[Callable[[Any], Any], int]] = {
    "log": (np.log, 1),
    "exp": (np.exp, 1),
    "abs": (np.abs, 1),
    "sqrt": (np.sqrt, 1),
}
_ALLOWED_NODES = (
    ast.BinOp,
    ast.UnaryOp,
    ast.Constant,
    ast.Attribute,
    ast.Name,
    ast.Call,
    ast.Load,
    ast.USub,
    ast.UAdd,
    *_BINARY,
)
_HINTS: dict[type[ast.AST], str] = {
    ast.BitXor: "; write powers as x ** y",
    ast.FloorDiv: "; only + - * / ** are allowed",
    ast.Mod: "; only + - * / ** are allowed",
}
#: What went wrong, by operation and numpy's floating-point error class.
_FAILURES: dict[tuple[str, str], str] = {
    ("/", "divide by zero"): "division by zero",
    ("/", "invalid value"): "0 / 0",
    ("^", "divide by zero"): "zero to a negative power",
    ("^", "invalid value"): "a negative base to a fractional power",
    ("log", "divide by zero"): "log of zero",
    ("log", "invalid value"): "log of a negative number",
    ("sqrt", "invalid value"): "square root of a negative number",
}


def _checked() -> np.errstate:
    """Floating-point errors raise (FloatingPointError), except underflow to zero or a subnormal."""
    return np.errstate(over="raise", divide="raise", invalid="raise", under="ignore")


class ExpressionError(PyBrainBoneError, ValueError):
    """An expression that is not plain arithmetic over ``arm.variable`` references, or has no value.

    Examples
    --------
    >>> parse_expression("treated.BMD // 2")
    Traceback (most recent call last):
    ...
    pybrainbone.experiments.expressions.ExpressionError: FloorDiv is not allowed in 'treated.BMD // 2'; ...
    >>> issubclass(ExpressionError, ValueError)
    True
    """


@dataclass(frozen=True)
class Expression:
    """A parsed and checked data-generator expression (make one with :func:`parse_expression`).

    Examples
    --------
    >>> expression = parse_expression("sqrt(treated.OCa * control.OCa)")
    >>> expression.text, type(expression.tree).__name__
    ('sqrt(treated.OCa * control.OCa)', 'Call')
    """

    text: str
    tree: ast.expr

    @property
    def references(self) -> set[tuple[str, str]]:
        """The (arm, variable) pairs the expression reads.

        Examples
        --------
        >>> sorted(parse_expression("100 * (treated.BMD / control.BMD - 1) + treated.BV").references)
        [('control', 'BMD'), ('treated', 'BMD'), ('treated', 'BV')]
        """
        return {
            (n.value.id, n.attr)
            for n in ast.walk(self.tree)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
        }

    def evaluate(
        self, values: Mapping[tuple[str, str], Any], on_invalid: Literal["raise", "nan"] = "raise"
    ) -> Any:
        """Evaluate with ``values[(arm, variable)]`` (floats or numpy arrays) in float64.

        A float for scalar values, else an array. Where a value is not finite (an overflow, a division
        by zero, an invalid operation, or a non-finite input) ``on_invalid="raise"`` raises
        :class:`ExpressionError` naming the sub-expression and the operation; ``"nan"`` returns NaN
        there (evaluate with ``"raise"`` first to learn the reason).

        Examples
        --------
        >>> expression = parse_expression("100 * (treated.BMD / control.BMD - 1)")
        >>> expression.evaluate({("treated", "BMD"): np.array([100.0, 95.0]), ("control", "BMD"): 100.0})
        array([ 0., -5.])
        >>> expression.evaluate({("treated", "BMD"): 1.0, ("control", "BMD"): 0.0})
        Traceback (most recent call last):
        ...
        pybrainbone.experiments.expressions.ExpressionError: division by zero in 'treated.BMD / control.BMD'
        of ...
        >>> expression.evaluate({("treated", "BMD"): 1.0, ("control", "BMD"): 0.0}, on_invalid="nan")
        nan
        """
        if on_invalid not in ("raise", "nan"):
            raise ValueError(f"on_invalid must be 'raise' or 'nan', not {on_invalid!r}")
        inputs = {key: np.asarray(values[key], dtype=float) for key in self.references}
        if on_invalid == "nan":
            with np.errstate(all="ignore"):
                result = np.asarray(_Evaluator(self.text, inputs).value(self.tree))
                result = np.where(np.isfinite(result), result, np.nan)
        else:
            for (arm, variable), value in sorted(inputs.items()):
                if not np.all(np.isfinite(value)):
                    bad = np.flatnonzero(~np.isfinite(value))[0]
                    at = f" (first at index {bad})" if value.ndim else ""
                    raise ExpressionError(f"{arm}.{variable} is {value.flat[bad]}{at} in {_quote(self.text)}")
            with _checked():
                result = np.asarray(_Evaluator(self.text, inputs).value(self.tree))
            if not np.all(np.isfinite(result)):  # not reachable with finite inputs; kept as a guard
                raise ExpressionError(f"{_quote(self.text)} is not finite")
        return float(result) if result.ndim == 0 else result

    def infix(self, name: Callable[[str, str], str] = lambda arm, var: f"{arm}_{var}") -> str:
        """SBML L3 infix text with each ``arm.variable`` renamed (for SED-ML MathML).

        Examples
        --------
        >>> parse_expression("-treated.x ** 2 / log(control.x)").infix()
        '-(treated_x ^ 2) / ln(control_x)'
        >>> parse_expression("a.x + (b.x + 1)").infix(lambda arm, variable: f"{variable}_of_{arm}")
        'x_of_a + (x_of_b + 1)'
        """
        return _infix(self.tree, name)


# Cached: every spec's expressions are parsed by validation, the runner and the exporters alike; the
# returned Expression is frozen and nobody mutates its tree.
@lru_cache(maxsize=1024)
def parse_expression(text: str) -> Expression:
    """Parse and check ``text``; raise :class:`ExpressionError` saying what is not allowed.

    Examples
    --------
    >>> parse_expression("exp(-treated.t / 365)").text
    'exp(-treated.t / 365)'
    >>> parse_expression("treated.OCa / 0")
    Traceback (most recent call last):
    ...
    pybrainbone.experiments.expressions.ExpressionError: division by zero in 'treated.OCa / 0'
    >>> parse_expression("OCa + 1")
    Traceback (most recent call last):
    ...
    pybrainbone.experiments.expressions.ExpressionError: OCa: write model variables as arm.variable (e.g.
    treated.BMD) in 'OCa + 1'
    """
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression {_quote(text)} is longer than {MAX_LENGTH} characters")
    # No warnings.catch_warnings() around the parser: it is not thread-safe (objectives evaluate in threads).
    # A warning the parser gives (an invalid escape in a string literal) is about text refused anyway; where
    # warnings are errors it arrives as a SyntaxError.
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        reason = " ".join(str(exc.msg).split())
        raise ExpressionError(f"not a valid expression: {_quote(text)} ({reason})") from None
    except (RecursionError, MemoryError):  # the parser's own stack limits
        raise ExpressionError(
            f"expression {_quote(text)} is too long or nested too deeply to parse"
        ) from None
    except ValueError as exc:  # e.g. null bytes in older Pythons
        raise ExpressionError(f"not a valid expression: {_quote(text)} ({exc})") from None
    _check_shape(tree, text)
    _Checker(text).constant(tree)
    return Expression(text=text, tree=tree)


def _quote(text: str) -> str:
    """``text`` quoted on one line, shortened if long."""
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _segment(node: ast.AST, text: str) -> str:
    """The sub-expression ``node`` as written, quoted."""
    return _quote(ast.get_source_segment(text, node) or text)


def _where(node: ast.AST, text: str) -> str:
    """The sub-expression ``node`` as written, and the whole expression if that is not all of it."""
    segment = ast.get_source_segment(text, node) or text
    return _quote(segment) if segment == text else f"{_quote(segment)} of {_quote(text)}"


def _check_shape(tree: ast.expr, text: str) -> None:
    """Allowed node types, calls and references, size and depth; iterative, for any tree ``ast`` makes."""
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    nodes = deepest = 0
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, _ALLOWED_NODES):
            hint = _HINTS.get(type(node), "")
            raise ExpressionError(f"{type(node).__name__} is not allowed in {_where(node, text)}{hint}")
        if not isinstance(node, ast.expr):
            continue  # an operator or a context
        nodes, deepest = nodes + 1, max(deepest, depth)
        if nodes > MAX_NODES:
            raise ExpressionError(
                f"expression {_quote(text)} has more than {MAX_NODES} nodes (numbers, variables, operations)"
            )
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise ExpressionError(f"only numbers may appear as constants in {_where(node, text)}")
            continue
        if isinstance(node, ast.Attribute):
            if not isinstance(node.value, ast.Name):
                raise ExpressionError(f"write model variables as arm.variable in {_where(node, text)}")
            continue  # arm.variable: one reference, one node
        if isinstance(node, ast.Name):  # reached only where it is neither an arm nor a called function
            if node.id in _FUNCTIONS:
                raise ExpressionError(
                    f"the function {node.id} must be called, as {node.id}(...), in {_where(node, text)}"
                )
            raise ExpressionError(
                f"{node.id}: write model variables as arm.variable (e.g. treated.BMD) in {_quote(text)}"
            )
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS):
                raise ExpressionError(
                    f"only the functions {sorted(_FUNCTIONS)} may be called in {_where(node, text)}"
                )
            arity = _FUNCTIONS[node.func.id][1]
            if node.keywords or len(node.args) != arity:
                raise ExpressionError(
                    f"{node.func.id} takes {arity} argument{'s' if arity > 1 else ''} (no keywords) in "
                    f"{_where(node, text)}"
                )
            stack.extend((arg, depth + 1) for arg in node.args)  # a Starred argument is refused there
            continue
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    if deepest > MAX_DEPTH:
        raise ExpressionError(
            f"expression {_quote(text)} is nested {deepest} levels deep, more than {MAX_DEPTH} "
            "(each operation of a chain such as a + b + c is one level)"
        )


def _is_literal(segment: str | None, value: float) -> bool:
    """Whether ``segment`` is ``value`` written as a number (so it needs no ``(= value)``)."""
    try:
        return segment is not None and float(segment) == value
    except ValueError:
        return False


def _number(node: ast.Constant) -> int | float:
    """The number a checked constant holds."""
    if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
        raise ExpressionError(f"not a number: {node.value!r}")  # not reachable for checked trees
    return node.value


class _Checker:
    """Evaluates every constant sub-expression at parse time, refusing what can have no value."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.evaluator = _Evaluator(text, {})

    def constant(self, node: ast.expr) -> float | None:
        """``node``'s value if it is constant (no references), else None; raises where it has none."""
        if isinstance(node, ast.Constant):
            number = _number(node)
            if abs(number) > MAX_MAGNITUDE:  # exact for ints too: no conversion that could overflow
                raise ExpressionError(f"the number {self.where(node)} is larger than {MAX_MAGNITUDE:g}")
            return float(number)
        if isinstance(node, ast.Attribute):
            return None
        if isinstance(node, ast.UnaryOp):
            operands = [self.constant(node.operand)]
        elif isinstance(node, ast.BinOp):
            operands = [self.constant(node.left), self.constant(node.right)]
            right = operands[1]
            if isinstance(node.op, ast.Div) and right == 0:
                raise ExpressionError(f"division by zero in {self.where(node)}")
            if isinstance(node.op, ast.Pow) and right is not None and abs(right) > MAX_EXPONENT:
                exponent, limit = _segment(node.right, self.text), f"{MAX_EXPONENT:g}"
                if not _is_literal(ast.get_source_segment(self.text, node.right), right):
                    exponent += f" (= {right:.10g})"
                raise ExpressionError(
                    f"the exponent {exponent} is outside [-{limit}, {limit}] in {self.where(node)}"
                )
        else:
            assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)  # as _check_shape ensured
            operands = [self.constant(a) for a in node.args]
            argument = operands[0]
            if node.func.id in ("log", "sqrt") and argument is not None and argument <= 0:
                if node.func.id == "log":
                    raise ExpressionError(
                        f"log of {'zero' if argument == 0 else 'a negative number'} in {self.where(node)}"
                    )
                if argument < 0:
                    raise ExpressionError(f"square root of a negative number in {self.where(node)}")
        if any(v is None for v in operands):
            return None
        with _checked():
            value = float(self.evaluator.apply(node, [np.float64(v) for v in operands]))
        if not abs(value) <= MAX_MAGNITUDE:
            raise ExpressionError(f"{self.where(node)} = {value:.3g} is larger than {MAX_MAGNITUDE:g}")
        return value

    def where(self, node: ast.expr) -> str:
        return _where(node, self.text)


class _Evaluator:
    """Evaluates a checked tree in float64, under :func:`_checked` (or ``np.errstate(all="ignore")``)."""

    def __init__(self, text: str, inputs: Mapping[tuple[str, str], Any]) -> None:
        self.text = text
        self.inputs = inputs

    def value(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            return np.float64(_number(node))  # a float, so no Python int is ever raised to a power
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            return self.inputs[(node.value.id, node.attr)]
        if isinstance(node, ast.UnaryOp):
            return self.apply(node, [self.value(node.operand)])
        if isinstance(node, ast.BinOp):
            return self.apply(node, [self.value(node.left), self.value(node.right)])
        if isinstance(node, ast.Call):
            return self.apply(node, [self.value(a) for a in node.args])
        raise ExpressionError(f"cannot evaluate {ast.dump(node)}")  # not reachable for checked trees

    def apply(self, node: ast.expr, operands: list[Any]) -> Any:
        """``node``'s operation on its operands' values, naming it in an ExpressionError if that fails."""
        if isinstance(node, ast.UnaryOp):
            return -operands[0] if isinstance(node.op, ast.USub) else +operands[0]
        function: Callable[..., Any]
        if isinstance(node, ast.BinOp):
            symbol, function = _BINARY[type(node.op)]
        else:
            assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            symbol, function = node.func.id, _FUNCTIONS[node.func.id][0]
        try:
            return function(*operands)
        except FloatingPointError as exc:
            kind = next((k for k in ("divide by zero", "invalid value", "overflow") if k in str(exc)), "")
            what = _FAILURES.get((symbol, kind), kind or str(exc))
            where = ""
            if any(np.ndim(o) for o in operands):
                with np.errstate(all="ignore"):
                    bad = np.flatnonzero(~np.isfinite(function(*operands)))
                where = f" (first at index {bad[0]})" if bad.size else ""
            raise ExpressionError(f"{what} in {_where(node, self.text)}{where}") from None


def _infix(node: ast.expr, name: Callable[[str, str], str]) -> str:
    if isinstance(node, ast.Constant):
        return repr(node.value)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return name(node.value.id, node.attr)
    if isinstance(node, ast.UnaryOp):
        return (
            f"-({_infix(node.operand, name)})"
            if isinstance(node.op, ast.USub)
            else _infix(node.operand, name)
        )
    if isinstance(node, ast.BinOp):
        symbol = _BINARY[type(node.op)][0]
        return f"{_wrap(node.left, node, name)} {symbol} {_wrap(node.right, node, name, right=True)}"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        func = "ln" if node.func.id == "log" else node.func.id
        return f"{func}({', '.join(_infix(a, name) for a in node.args)})"
    raise ExpressionError(f"cannot write {ast.dump(node)}")


_PRECEDENCE = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2, ast.Pow: 3}


def _wrap(child: ast.expr, parent: ast.BinOp, name: Callable[[str, str], str], right: bool = False) -> str:
    """``child`` as an operand of ``parent``, parenthesised wherever L3 infix would group it otherwise."""
    while isinstance(child, ast.UnaryOp) and isinstance(child.op, ast.UAdd):
        child = child.operand  # unary plus is written as nothing, so its operand decides
    text = _infix(child, name)
    if isinstance(parent.op, ast.Pow) and not right and isinstance(child, (ast.BinOp, ast.UnaryOp)):
        return f"({text})"  # L3's ^ groups to the right and binds tighter than unary minus: (-x)^2, (x^2)^3
    if isinstance(child, ast.BinOp):
        mine, theirs = _PRECEDENCE[type(child.op)], _PRECEDENCE[type(parent.op)]
        # A right operand of equal precedence keeps its parentheses even where they change nothing
        # mathematically (a + (b + c), a * (b / c)): floating point is not associative.
        if mine < theirs or (right and mine == theirs and not isinstance(parent.op, ast.Pow)):
            return f"({text})"
    return text
