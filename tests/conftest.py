"""Shared fixtures. Builds go to a per-session cache so every run exercises the compile path once."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

# Set before pybrainbone is imported anywhere: a fresh, private build cache for this test session.
os.environ.setdefault("PYBRAINBONE_CACHE", tempfile.mkdtemp(prefix="pybrainbone-test-cache-"))

from pybrainbone import Simulator

# Module tests share one compiled simulator per model (the `simulator` fixture) and the generic checks.
pytest_plugins = ["pybrainbone.testing"]

DATA = Path(__file__).parent / "data"
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
