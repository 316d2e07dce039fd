"""MkDocs hooks: generate the per-module and experiment-library pages at build time.

* ``on_config`` adds one navigation entry per module under "The model" (the modules are whatever
  ``models/*.ant`` holds, so a new module gets its page without editing ``mkdocs.yml``);
* ``on_files`` adds the generated pages (``docs/gen_model_pages.py``, ``docs/gen_experiment_pages.py``)
  and the network diagram ``model/network.svg`` (:func:`pybrainbone.plotting.plot_network`, signs measured
  from the modules);
* ``on_page_markdown`` fills the module table of the model overview (marker ``<!-- module-table -->``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_experiment_pages
import gen_model_pages

from pybrainbone import available_models

MODEL_SECTION = "The model"
MARKER = "<!-- module-table -->"
NETWORK_SVG = "model/network.svg"


def on_config(config: Any) -> Any:
    for item in config["nav"]:
        if isinstance(item, dict) and MODEL_SECTION in item:
            pages = [{name: f"{gen_model_pages.SECTION}/{name}.md"} for name in available_models()]
            item[MODEL_SECTION] = [*item[MODEL_SECTION], {"Modules": pages}]
            return config
    raise ValueError(f"mkdocs.yml: nav has no section {MODEL_SECTION!r} for the generated module pages")


def on_files(files: Files, config: Any) -> Files:
    pages = {**gen_model_pages.model_pages(), **gen_experiment_pages.experiment_pages()}
    for path, text in pages.items():
        if files.get_file_from_path(path) is not None:
            raise ValueError(f"docs/{path} is generated at build time; remove the hand-written copy")
        files.append(File.generated(config, path, content=text))
    files.append(File.generated(config, NETWORK_SVG, content=network_svg()))
    return files


def network_svg() -> bytes:
    """The layered network diagram of the composed model as SVG."""
    import io

    from pybrainbone.network import module_systems, network_edges
    from pybrainbone.plotting import plot_network

    buffer = io.BytesIO()
    plot_network(network_edges(), module_systems()).savefig(buffer, format="svg", bbox_inches="tight")
    return buffer.getvalue()


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    if MARKER in markdown:
        return markdown.replace(MARKER, gen_model_pages.module_table())
    return markdown
