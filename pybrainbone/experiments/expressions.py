"""Data-generator expressions: arithmetic over ``arm.variable`` names, parsed safely with :mod:`ast`.

>>> expr = parse_expression("100 * (treated.BMD / control.BMD - 1)")
>>> sorted(expr.references)
[('control', 'BMD'), ('treated', 'BMD')]
>>> round(expr.evaluate({("treated", "BMD"): 95.0, ("control", "BMD"): 100.0}), 9)
-5.0
>>> expr.infix()
'100 * (treated_BMD / control_BMD - 1)'
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_BINARY: dict[type[ast.operator], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", lambda a, b: a + b),
    ast.Sub: ("-", lambda a, b: a - b),
    ast.Mult: ("*", lambda a, b: a * b),
    ast.Div: ("/", lambda a, b: a / b),
    ast.Pow: ("^", lambda a, b: a**b),
}
# evaluated with numpy's functions of the same names (elementwise over time courses)
_FUNCTIONS = frozenset({"log", "exp", "abs", "sqrt"})
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


class ExpressionError(ValueError):
    """An expression that is not plain arithmetic over ``arm.variable`` references."""


@dataclass(frozen=True)
class Expression:
    """A parsed data-generator expression."""

    text: str
    tree: ast.expr

    @property
    def references(self) -> set[tuple[str, str]]:
        """The (arm, variable) pairs the expression reads."""
        return {
            (n.value.id, n.attr)
            for n in ast.walk(self.tree)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
        }

    def evaluate(self, values: Mapping[tuple[str, str], Any]) -> Any:
        """Evaluate with ``values[(arm, variable)]`` (floats or numpy arrays)."""
        return _eval(self.tree, values)

    def infix(self, name: Callable[[str, str], str] = lambda arm, var: f"{arm}_{var}") -> str:
        """SBML L3 infix text with each ``arm.variable`` renamed (for SED-ML MathML)."""
        return _infix(self.tree, name)


# Cached: every spec's expressions are parsed by validation, the runner and the exporters alike; the
# returned Expression is frozen and nobody mutates its tree.
@lru_cache(maxsize=1024)
def parse_expression(text: str) -> Expression:
    """Parse and check ``text``; raise :class:`ExpressionError` saying what is not allowed."""
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise ExpressionError(f"not a valid expression: {text!r} ({exc.msg})") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ExpressionError(f"{type(node).__name__} is not allowed in expression {text!r}")
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            raise ExpressionError(f"only numbers may appear as constants in {text!r}")
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS
        ):
            raise ExpressionError(f"only the functions {sorted(_FUNCTIONS)} may be called in {text!r}")
        if isinstance(node, ast.Attribute) and not isinstance(node.value, ast.Name):
            raise ExpressionError(f"write model variables as arm.variable in {text!r}")
    bare = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - set(_FUNCTIONS)
    attribute_bases = {
        n.value.id for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
    }
    if bare - attribute_bases:
        missing = ", ".join(sorted(bare - attribute_bases))
        raise ExpressionError(
            f"{missing}: write model variables as arm.variable (e.g. treated.BMD) in {text!r}"
        )
    return Expression(text=text, tree=tree)


def _eval(node: ast.expr, values: Mapping[tuple[str, str], Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return values[(node.value.id, node.attr)]
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, values)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)][1](_eval(node.left, values), _eval(node.right, values))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        import numpy as np

        func = getattr(np, node.func.id)
        return func(*[_eval(a, values) for a in node.args])
    raise ExpressionError(f"cannot evaluate {ast.dump(node)}")


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
