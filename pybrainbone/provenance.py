"""Parameter tables read from the module files: value, unit, description and source of every parameter.

Convention (docs/modelling-conventions.md): each constant parameter line carries a trailing comment with
``Source: ...`` or ``Assumed: ...``, or inherits the source of the last ``// @source ...`` line above it
in the same model.

>>> from pybrainbone.provenance import parameter_table
>>> table = parameter_table("bone_remodeling")
>>> table.loc["A_OBa", "unit"], table.loc["A_OBa", "source"].startswith("Pivonka")
('per_day', True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import libsbml
import pandas as pd

from pybrainbone.build import compile_model, model_path

_MODEL_START = re.compile(r"^\s*(?:model|module)\s+\*?\s*(\w+)")
_MODEL_END = re.compile(r"^\s*end\b")
_BLOCK_SOURCE = re.compile(r"^\s*//\s*@source\s+(.+?)\s*$")
_ASSIGNMENT = re.compile(r"^\s*(?:const\s+|var\s+)?([A-Za-z_]\w*)\s*=(?!=)")
_INLINE_SOURCE = re.compile(r"\b(Source|Assumed)\s*:\s*(.+)$", re.IGNORECASE)
_INSTANCE = re.compile(r"^\s*(\w+)\s*:\s*(\w+)\s*\(\s*\)")


@dataclass(frozen=True)
class ParameterRecord:
    """Where one parameter is defined and what its file says about it."""

    line: int
    description: str
    source: str


def _split_comment(line: str) -> tuple[str, str]:
    code, _, comment = line.partition("//")
    return code, comment.strip()


def read_parameter_comments(path: Path, module: str) -> dict[str, ParameterRecord]:
    """Map parameter id → (line, description, source) for definitions inside ``model <module>``."""
    records: dict[str, ParameterRecord] = {}
    inside = False
    block_source = ""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        start = _MODEL_START.match(line)
        if start:
            inside = start.group(1) == module
            block_source = ""
            continue
        if not inside:
            continue
        if _MODEL_END.match(line):
            inside = False
            continue
        block = _BLOCK_SOURCE.match(line)
        if block:
            block_source = block.group(1)
            continue
        code, comment = _split_comment(line)
        if ":=" in code or "'" in code:
            continue
        match = _ASSIGNMENT.match(code)
        if not match:
            continue
        inline = _INLINE_SOURCE.search(comment)
        description = comment[: inline.start()].rstrip(" .;") if inline else comment
        source = f"{inline.group(1).capitalize()}: {inline.group(2)}" if inline else block_source
        if inline and inline.group(1).lower() == "source":
            source = inline.group(2)
        records.setdefault(match.group(1), ParameterRecord(number, description, source))
    return records


def submodel_instances(path: Path, module: str) -> dict[str, str]:
    """Instance name → module name for ``X: module()`` lines inside ``model <module>``."""
    instances: dict[str, str] = {}
    inside = False
    for line in path.read_text(encoding="utf-8").splitlines():
        start = _MODEL_START.match(line)
        if start:
            inside = start.group(1) == module
            continue
        if inside and _MODEL_END.match(line):
            inside = False
        match = _INSTANCE.match(_split_comment(line)[0]) if inside else None
        if match:
            instances[match.group(1)] = match.group(2)
    return instances


def _records(name: str, path: Path) -> dict[str, ParameterRecord]:
    """Records for ``name`` and, under their flattened ``<instance>_`` ids, for its submodels."""
    records = read_parameter_comments(path, name)
    for instance, module in submodel_instances(path, name).items():
        sub = _records(module, model_path(module, path.parent))
        records.update({f"{instance}_{pid}": record for pid, record in sub.items()})
    return records


def parameter_table(name: str) -> pd.DataFrame:
    """All constant parameters of module ``name`` with value, unit, description, source and file line.

    Parameters with no recorded source have an empty ``source``; the tests reject such modules.
    """
    compiled = compile_model(name)
    document = libsbml.readSBMLFromString(compiled.sbml)
    model = document.getModel()
    assigned = {r.getVariable() for r in model.getListOfRules()}
    comments = _records(name, model_path(name))
    rows = []
    for parameter in model.getListOfParameters():
        pid = parameter.getId()
        if pid in assigned:
            continue
        record = comments.get(pid, ParameterRecord(0, "", ""))
        rows.append(
            {
                "parameter": pid,
                "value": parameter.getValue(),
                "unit": parameter.getUnits(),
                "description": record.description,
                "source": record.source,
                "line": record.line,
            }
        )
    return pd.DataFrame(rows).set_index("parameter")
