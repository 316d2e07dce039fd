"""Every docstring example in the package runs, and every public function, class and method has one.

* Each module's doctests run with ``ELLIPSIS | NORMALIZE_WHITESPACE`` (as ``doctest_optionflags`` in
  pyproject.toml sets them for ``pytest --doctest-modules``), in a temporary working directory, with the
  suite's warnings-as-errors filters; a failure shows doctest's own report.
* Public means: what the module's ``__all__`` exports, else every name not starting with ``_`` that the
  module defines, and the public methods and properties of those classes. Each needs an ``Examples``
  section holding ``>>>`` that the finder below actually collects (so a decorator cannot hide it).
"""

from __future__ import annotations

import doctest
import functools
import importlib
import inspect
import io
import pkgutil
import re
from pathlib import Path
from types import ModuleType

import pytest

import pybrainbone

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
MODULES = [
    "pybrainbone",
    *sorted(m.name for m in pkgutil.walk_packages(pybrainbone.__path__, "pybrainbone.")),
]

#: Public objects without an example, and why. Keep it short: prefer writing the example.
EXEMPT = {
    "pybrainbone.testing.simulator": "a pytest fixture: pytest refuses direct calls (the module docstring "
    "shows a test using it)",
}

_EXAMPLES = re.compile(r"^Examples\n-{8,}\n(?:.*\n)*?>>> ", re.MULTILINE)


class _Finder(doctest.DocTestFinder):
    """doctest's finder, also seeing through ``functools.wraps`` (``contextlib.contextmanager``,
    ``lru_cache``) and ``cached_property``: plain doctest attributes those to the decorator's module."""

    def _from_module(self, module: ModuleType | None, obj: object) -> bool:
        if isinstance(obj, functools.cached_property):
            obj = obj.func
        if hasattr(obj, "__wrapped__"):
            obj = inspect.unwrap(obj)  # type: ignore[arg-type]
        return bool(super()._from_module(module, obj))  # type: ignore[misc]


def _doctests(name: str) -> list[doctest.DocTest]:
    return [t for t in _Finder().find(importlib.import_module(name), name) if t.examples]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # an example that forgot its temporary directory writes nothing here
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report = io.StringIO()
    for test in _doctests(name):
        runner.run(test, out=report.write)
    assert runner.failures == 0, f"{runner.failures} of {runner.tries} examples failed:\n{report.getvalue()}"
    left = sorted(p.name for p in tmp_path.iterdir())
    assert not left, f"examples wrote {left} into the working directory; write into a temporary directory"


def _public_objects() -> dict[str, object]:
    """Qualified name -> object, for every public function, class, method and property of the package."""
    found: dict[str, object] = {}
    for name in MODULES:
        module = importlib.import_module(name)
        exported = getattr(module, "__all__", None)
        names = exported if exported is not None else [n for n in vars(module) if not n.startswith("_")]
        for attribute in names:
            obj = getattr(module, attribute)
            if not (inspect.isclass(obj) or inspect.isroutine(obj)):
                continue  # constants, type aliases, modules
            home = getattr(obj, "__module__", "") or ""
            if not home.startswith("pybrainbone") or (exported is None and home != name):
                continue  # imported from elsewhere: judged where it is defined
            qualified = f"{home}.{obj.__qualname__}"
            found[qualified] = obj
            if inspect.isclass(obj):
                found.update(_public_members(qualified, obj))
    return found


def _public_members(qualified: str, cls: type) -> dict[str, object]:
    members: dict[str, object] = {}
    for attribute, value in vars(cls).items():
        if attribute.startswith("_"):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if inspect.isfunction(value) or isinstance(value, (property, functools.cached_property)):
            members[f"{qualified}.{attribute}"] = value
    return members


def test_public_objects_have_examples() -> None:
    public = _public_objects()
    collected = {test.name for name in MODULES for test in _doctests(name)}
    missing = []
    for qualified, obj in sorted(public.items()):
        if qualified in EXEMPT:
            continue
        doc = inspect.cleandoc(getattr(obj, "__doc__", None) or "")
        if not _EXAMPLES.search(doc):
            missing.append(f"{qualified}: no 'Examples' section with '>>>'")
        elif qualified not in collected:
            missing.append(f"{qualified}: its examples are not collected by doctest")
    assert not missing, f"{len(missing)} of {len(public)} public objects:\n" + "\n".join(missing)
    stale = sorted(set(EXEMPT) - set(public))
    assert not stale, f"exemptions for objects that are not public (any more): {stale}"
