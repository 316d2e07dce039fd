"""Generate one documentation page per module in ``models/*.ant``, at documentation build time.

Values and units come from the public API (``pybrainbone.Simulator(name).parameters()``: the reference
value of every changeable parameter, initial assignments evaluated); description and source come from each
parameter's trailing comment or the ``// @source`` block above it in the ``.ant`` file (convention:
``docs/modelling-conventions.md``), read with :func:`pybrainbone.model_text.read_module`, the
same reader the tests use to require a source for every parameter.

MkDocs runs this through ``docs/hooks.py``; to look at the pages without MkDocs::

    PYBRAINBONE_CACHE=/tmp/pbcache python docs/gen_model_pages.py /tmp/model-pages
"""

from __future__ import annotations

import sys
from pathlib import Path

from pybrainbone import Simulator, available_models
from pybrainbone.model_text import ParameterRecord, read_module
from pybrainbone.paths import model_path

#: Where the generated pages live inside the documentation.
SECTION = "model"
#: Above this many outputs a page gives their number, not the list.
MAX_LISTED_OUTPUTS = 80


def cell(text: object) -> str:
    """``text`` safe inside a Markdown table cell (no pipes, emphasis, raw HTML or link brackets)."""
    out = str(text).replace("\\", "\\\\")
    for char in "|*_`[]":
        out = out.replace(char, "\\" + char)
    return out.replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


def number(value: float) -> str:
    return f"{value:.10g}"


def header_comment(path: Path) -> str:
    """The comment block at the top of a module file (its description), without the ``//`` markers."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped.startswith("//"):
            if stripped:
                break
            lines.append("")
            continue
        text = stripped[2:]
        lines.append(text[1:] if text.startswith(" ") else text)
    return "\n".join(lines).strip()


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def _parameter_rows(sim: Simulator, names: list[str], records: dict[str, ParameterRecord]) -> list[list[str]]:
    table = sim.parameters()
    rows = []
    for name in names:
        record = records.get(name, ParameterRecord(0, "", ""))
        rows.append(
            [
                f"`{name}`",
                number(float(table.loc[name, "value"])),
                cell(table.loc[name, "unit"]),
                cell(record.description),
                cell(record.source),
            ]
        )
    return rows


def module_page(name: str) -> str:
    """Markdown of the page for module ``name``."""
    path = model_path(name)
    sim = Simulator(name)
    parameters = sim.parameter_ids
    text = read_module(name)
    records = dict(text.parameters)
    instances = dict(text.instances)
    units = sim.units
    initial = sim.initial_values()

    lines = [
        f"# {name}",
        "",
        f"Generated at build time from `models/{path.name}`: {len(sim.state_ids)} states, "
        f"{len(parameters)} changeable parameters, {len(sim.output_ids)} outputs. Values are the reference "
        "(healthy steady-state) values that `Simulator(" + repr(name) + ").parameters()` reports.",
        "",
        "## Description",
        "",
        "From the header of the module file:",
        "",
        "```text",
        header_comment(path),
        "```",
        "",
    ]

    own = parameters
    if instances:
        prefixed = {inst: [p for p in parameters if p.startswith(f"{inst}_")] for inst in instances}
        claimed = {p for names in prefixed.values() for p in names}
        own = [p for p in parameters if p not in claimed or p in records]
        rows = [
            [f"`{inst}`", f"[{module}]({module}.md)", f"`{inst}_`", str(len(prefixed[inst]))]
            for inst, module in instances.items()
        ]
        lines += [
            "## Submodels",
            "",
            "Every submodel's parameters keep its instance name as a prefix in the flat SBML "
            "(e.g. `HPG_OVX`); their descriptions and sources are on the module pages.",
            "",
            *_table(["instance", "module", "prefix", "parameters"], rows),
            "",
        ]

    lines += [
        "## Parameters" if not instances else "## Parameters of the composition",
        "",
        *_table(["parameter", "value", "unit", "description", "source"], _parameter_rows(sim, own, records)),
        "",
        "## States",
        "",
        *_table(
            ["state", "reference value", "unit"],
            [[f"`{s}`", number(float(initial[s])), cell(units.get(s, ""))] for s in sim.state_ids],
        ),
        "",
        "## Outputs",
        "",
    ]
    outputs = sim.output_ids
    if len(outputs) <= MAX_LISTED_OUTPUTS:
        lines += _table(
            ["output", "reference value", "unit"],
            [[f"`{o}`", number(float(initial[o])), cell(units.get(o, ""))] for o in outputs],
        )
    else:
        lines.append(
            f"{len(outputs)} outputs (assignment-rule variables); `pybrainbone list {name}` prints them "
            "with their units."
        )
    lines.append("")
    return "\n".join(lines)


def module_table() -> str:
    """Markdown table of every module with links to its page (for the model overview)."""
    rows = []
    for name in available_models():
        sim = Simulator(name)
        about = header_comment(model_path(name)).split("\n\n")[0].replace("\n", " ")
        rows.append(
            [
                f"[{name}]({name}.md)",
                cell(about),
                str(len(sim.state_ids)),
                str(len(sim.parameter_ids)),
                str(len(sim.output_ids)),
            ]
        )
    return "\n".join(_table(["module", "what it is (file header)", "states", "parameters", "outputs"], rows))


def model_pages() -> dict[str, str]:
    """Documentation path (relative to ``docs/``) -> Markdown, one page per module."""
    return {f"{SECTION}/{name}.md": module_page(name) for name in available_models()}


def write_pages(pages: dict[str, str], argv: list[str], script: str) -> int:
    """Write generated pages under the directory given on the command line (``script OUT_DIR``)."""
    if len(argv) != 1:
        print(f"usage: python docs/{script} OUT_DIR", file=sys.stderr)
        return 2
    for relative, text in pages.items():
        target = Path(argv[0]) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(target)
    return 0


def main(argv: list[str]) -> int:
    return write_pages(model_pages(), argv, "gen_model_pages.py")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
