"""The package's shape: no import cycles, small functions, no global side effects at import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "pybrainbone"
#: Longest function allowed without a ``# long: <reason>`` comment on its ``def`` line (its docstring,
#: examples included, not counted: documentation does not make a function harder to read).
MAX_FUNCTION_LINES = 60


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Package modules ``name`` imports at run time (module level or inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in known else node.module)
    # A module's own package is imported implicitly by Python; that is not a dependency cycle.
    return {m for m in found if m in known and m != name and not name.startswith(f"{m}.")}


def test_no_import_cycles() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, set(modules)) for name, path in modules.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for name in sorted(graph):
        if name not in state:
            cycle = visit(name)
            assert cycle is None, "import cycle: " + " -> ".join(cycle)


def _docstring_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of the function's docstring (0 without one)."""
    first = node.body[0]
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)):
        return 0
    if not isinstance(first.value.value, str):
        return 0
    return (first.end_lineno or first.lineno) - first.lineno + 1


def test_functions_are_short_or_say_why() -> None:
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = (node.end_lineno or node.lineno) - node.lineno + 1 - _docstring_lines(node)
                if size > MAX_FUNCTION_LINES and "# long:" not in lines[node.lineno - 1]:
                    long.append(
                        f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name} ({size} lines)"
                    )
    message = "functions over 60 lines (docstring aside) without a '# long: <reason>' comment: "
    assert not long, message + "; ".join(long)


def test_importing_the_package_changes_no_matplotlib_or_roadrunner_state() -> None:
    probe = (
        "import matplotlib, roadrunner\n"
        "before = (matplotlib.get_backend(), roadrunner.Config.getValue(roadrunner.Config.LLVM_BACKEND))\n"
        "import pybrainbone, pybrainbone.plotting, pybrainbone.experiments.figures\n"
        "import pybrainbone.sensitivity.plots\n"
        "from pybrainbone import Simulator\n"
        "Simulator('bone_remodeling').simulate(end=10, points=2)\n"
        "after = (matplotlib.get_backend(), roadrunner.Config.getValue(roadrunner.Config.LLVM_BACKEND))\n"
        "import sys; sys.exit(0 if before == after else f'{before} -> {after}')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr or done.stdout
