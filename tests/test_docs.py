"""The documentation site builds with warnings as errors and has a generated page per model module.

The build runs ``mkdocs build --strict`` in a subprocess (this interpreter) into a temporary directory;
``docs/hooks.py`` generates the module pages (``docs/gen_model_pages.py``) and the experiment library
(``docs/gen_experiment_pages.py``) during it. Skipped, with the reason, where the docs tooling (the
``docs`` extra) is not installed.
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pybrainbone import Simulator, available_models
from pybrainbone.paths import experiments_dir

ROOT = Path(__file__).resolve().parents[1]
TOOLING = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")


def _missing_tooling() -> list[str]:
    missing = []
    for module in TOOLING:
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:  # a parent package is missing
            found = False
        if not found:
            missing.append(module)
    return missing


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    missing = _missing_tooling()
    if missing:
        pytest.skip(f"docs tooling not installed ({', '.join(missing)}); pip install -e '.[docs]'")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # mkdocs-material's end-of-life banner
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml")]
    done = subprocess.run(
        [*command, "--site-dir", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    return out


def _text(page: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")))


def test_site_has_the_hand_written_pages(site: Path) -> None:
    for page in (
        "index.html",
        "getting-started/index.html",
        "model/index.html",
        "modelling-conventions/index.html",
        "experiments/index.html",
        "sensitivity/index.html",
        "exchange/index.html",
        "calibration/index.html",
        "notebooks/index.html",
    ):
        assert (site / page).is_file(), page


@pytest.mark.parametrize("name", available_models())
def test_a_page_per_module_with_its_parameter_table(site: Path, name: str) -> None:
    page = site / "model" / name / "index.html"
    assert page.is_file(), f"no generated page for module {name}"
    text = _text(page)
    assert re.search(r"parameter\s+value\s+unit\s+description\s+source", text), "no parameter table"
    if name != "brain_bone_axis":  # the composition's page lists its own switches and links to the rest
        missing = [p for p in Simulator(name).parameter_ids if p not in text]
        assert not missing, f"{name}: parameters missing from the page: {missing[:5]}"


def test_model_overview_links_every_module(site: Path) -> None:
    overview = (site / "model" / "index.html").read_text(encoding="utf-8")
    assert "<!-- module-table -->" not in overview
    for name in available_models():
        assert f'href="{name}/"' in overview, f"overview does not link {name}"


def test_experiment_library_lists_every_spec(site: Path) -> None:
    text = _text(site / "experiments" / "library" / "index.html")
    for spec in sorted(experiments_dir().glob("*.yaml")):
        assert spec.name in text, f"experiment library does not list {spec.name}"


def test_api_reference_is_generated_from_docstrings(site: Path) -> None:
    simulator = _text(site / "api" / "simulator" / "index.html")
    for member in ("Simulator", "simulate", "steady_state", "parameters", "SolverOptions"):
        assert member in simulator, member
    assert "make_objective" in _text(site / "api" / "sensitivity" / "index.html")
    assert "load_experiment" in _text(site / "api" / "experiments" / "index.html")
