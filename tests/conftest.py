"""Shared fixtures. Builds go to a per-session cache so every run exercises the compile path once."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

# Set before pybrainbone is imported anywhere: a fresh, private build cache for this test session.
os.environ.setdefault("PYBRAINBONE_CACHE", tempfile.mkdtemp(prefix="pybrainbone-test-cache-"))

from pybrainbone import Simulator
from pybrainbone.experiments.results import ExperimentResult
from pybrainbone.experiments.runner import Runner
from pybrainbone.experiments.spec import load_experiment
from tests.tiers import TIERS, unchanged_since_pass

# Module tests share one compiled simulator per model (the `simulator` fixture) and the generic checks.
pytest_plugins = ["pybrainbone.testing"]

DATA = Path(__file__).parent / "data"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip a slow tier while its inputs are those of its recorded full pass (tests/tiers.py)."""
    asked = str(config.getoption("markexpr") or "")
    for tier in TIERS:
        tiered = [item for item in items if item.get_closest_marker(tier) is not None]
        if not tiered or tier in asked:
            continue
        recorded = unchanged_since_pass(tier)
        if recorded is None:
            continue  # something it checks has changed: run the whole tier
        reason = (
            f"{tier}: inputs unchanged since its full pass of {recorded['recorded']}; run: pytest -m {tier}"
        )
        for item in tiered:
            item.add_marker(pytest.mark.skip(reason=reason))


REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def load_data(name: str) -> Any:
    """Read a reference-data YAML file from tests/data."""
    with open(DATA / name, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="session")
def core() -> Simulator:
    """The bone-remodelling core, compiled once for the whole session."""
    return Simulator("bone_remodeling")


@pytest.fixture(scope="session")
def biomodels_dir() -> Path:
    path = SHARED / "reference" / "biomodels"
    if not path.is_dir():
        pytest.skip(f"third-party SBML not found at {path} (shared/ must sit beside the checkout)")
    return path


@pytest.fixture(scope="session")
def library_run() -> Callable[[Path], ExperimentResult]:
    """Each library experiment (experiments/*.yaml) run once per session, by one runner.

    Several test files judge the same runs (targets, recorded outputs, tellurium and COPASI
    re-execution); they read the result and never change it, so one run serves them all.
    """
    runner = Runner()
    results: dict[Path, ExperimentResult] = {}

    def run(path: Path) -> ExperimentResult:
        key = Path(path).resolve()
        if key not in results:
            results[key] = runner.run(load_experiment(key))
        return results[key]

    return run
