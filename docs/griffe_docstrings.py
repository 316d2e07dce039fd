"""Griffe extension for the API reference: make the package's docstrings read well as Markdown.

The docstrings are written for plain text and doctest, not for Markdown:

* doctest blocks (``>>> ...`` lines and their expected output) stand outside any "Examples" section,
  where Markdown would read ``>>>`` as nested block quotes and ``[a][b]`` in the output as reference
  links: each block (from a ``>>>`` line to the next blank line, as doctest delimits them) is fenced as
  ``pycon`` code;
* Sphinx roles (``:class:`~pybrainbone.runtime.ModelRuntime```) would show literally: each becomes inline
  code of the name it shows (the last component where the target starts with ``~``).

Loaded by mkdocstrings (``mkdocs.yml``); the package's files are not changed.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|obj|exc|const):`(~?)([^`]+)`")


def _role(match: re.Match[str]) -> str:
    target = match.group(2)
    return f"`{target.rsplit('.', 1)[-1] if match.group(1) else target}`"


def readable(text: str) -> str:
    """``text`` with doctest blocks fenced and Sphinx roles as inline code (fenced code left alone)."""
    out: list[str] = []
    lines = text.splitlines()
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if stripped.startswith("```"):
            in_fence = not in_fence
        if in_fence or not stripped.startswith(">>>"):
            out.append(line if in_fence else _ROLE.sub(_role, line))
            i += 1
            continue
        indent = line[: len(line) - len(stripped)]
        block = []
        while i < len(lines) and lines[i].strip():
            block.append(lines[i])
            i += 1
        out += [f"{indent}```pycon", *block, f"{indent}```"]
    return "\n".join(out)


class ReadableDocstrings(griffe.Extension):
    """Rewrite every docstring griffe loads (see the module docstring)."""

    def on_instance(self, *, node: Any, obj: griffe.Object, agent: Any, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = readable(obj.docstring.value)
