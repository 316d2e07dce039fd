"""Slow test tiers that the default run (and so CI) includes whenever what they check has changed.

A tier's tests are marked with its name. The default run skips them only while the tier's inputs are
byte for byte those of its last recorded full pass (``tests/data/tier_passes.json``): the package, the
models, the experiment specs and the versions of the simulators involved. Change any of them and the
next run, CI's included, runs the whole tier again. Record a pass with
``python tests/tools/record_tier_pass.py <tier>`` (it runs ``pytest -m <tier>`` and writes the digest only
if every test passed); force a tier with ``pytest -m <tier>``.
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PASSES = Path(__file__).parent / "data" / "tier_passes.json"

#: Tier -> (file patterns under the repository, distributions whose versions matter).
TIERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "exchange_library": (
        (
            "pybrainbone/**/*.py",
            "models/*.ant",
            "experiments/**/*.yaml",
            "tests/test_sedml_exchange.py",
            "tests/test_timed_interventions.py",
            "pyproject.toml",
        ),
        (
            "tellurium",
            "libroadrunner",
            "copasi-basico",
            "python-copasi",
            "python-libsbml",
            "python-libsedml",
            "antimony",
            "numpy",
            "pandas",
        ),
    ),
}


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "absent"


def tier_digest(tier: str) -> str:
    """SHA-256 over the tier's input files (path and bytes, in sorted order) and tool versions."""
    patterns, distributions = TIERS[tier]
    digest = hashlib.sha256(f"python {platform.python_version()}\n".encode())
    files = sorted({p for pattern in patterns for p in REPO.glob(pattern) if p.is_file()})
    for path in files:
        digest.update(path.relative_to(REPO).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for distribution in distributions:
        digest.update(f"{distribution}=={_version(distribution)}\n".encode())
    return digest.hexdigest()


def recorded_passes() -> dict[str, Any]:
    """The recorded full passes, by tier (empty if none was recorded)."""
    if not PASSES.is_file():
        return {}
    passes: dict[str, Any] = json.loads(PASSES.read_text(encoding="utf-8"))
    return passes


def unchanged_since_pass(tier: str) -> dict[str, Any] | None:
    """The recorded pass of ``tier`` if its inputs are unchanged since then, else None."""
    recorded = recorded_passes().get(tier)
    if recorded is not None and recorded.get("digest") == tier_digest(tier):
        return dict(recorded)
    return None
