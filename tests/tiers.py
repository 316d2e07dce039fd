"""Slow test tiers that the default run (and so CI) includes whenever what they check has changed.

A tier's tests are marked with its name. The default run skips them only while the tier's inputs are
byte for byte those of its last recorded full pass (``tests/data/tier_passes.json``): the package, the
models, the experiment specs, the species presets and the versions of the simulators involved. Change any
of them and the next run, CI's included, runs the whole tier again. Record a pass with
``python tests/tools/record_tier_pass.py <tier>`` (it runs ``pytest -m <tier>`` and writes the digest only
if every test passed); force a tier with ``pytest -m <tier>``.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PASSES = Path(__file__).parent / "data" / "tier_passes.json"


@dataclass(frozen=True)
class Tier:
    """What a tier's verdict depends on.

    ``files``: patterns of repository files; ``distributions``: installed packages whose versions matter
    (tools a tier installs in venvs of its own are pinned in its test file, which is one of its files);
    ``compiled_models``: the SBML of every model as this checkout builds it (a tier that checks only the
    exported SBML need not rerun when code changes that leaves the SBML as it was).
    """

    files: tuple[str, ...]
    distributions: tuple[str, ...] = ()
    compiled_models: bool = False


TIERS: dict[str, Tier] = {
    "exchange_library": Tier(
        files=(
            "pybrainbone/**/*.py",
            "models/*.ant",
            "experiments/**/*.yaml",
            "tests/test_sedml_exchange.py",
            "tests/test_timed_interventions.py",
            "pyproject.toml",
            # species presets change what a rodent spec's archive sets; references annotate the SBML
            "data/organisms.yaml",
            "data/references.yaml",
        ),
        distributions=(
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
    # AMICI (pinned in the test) compiles the exported SBML and is compared with libRoadRunner on the same
    # file: only the SBML, the test, its driver script and libRoadRunner decide the outcome.
    "amici": Tier(
        files=("tests/test_amici.py", "tests/tools/amici_simulate.py"),
        distributions=("libroadrunner", "numpy"),
        compiled_models=True,
    ),
    # The validator and runners (pinned in the test) execute the archives pybrainbone exports and are
    # compared with `pybrainbone run`: the package, the models and the library specs all count.
    "biosimulators": Tier(
        files=(
            "pybrainbone/**/*.py",
            "models/*.ant",
            "experiments/*.yaml",
            "tests/test_biosimulators.py",
            "tests/tools/biosim_*.py",
            "pyproject.toml",
            "data/organisms.yaml",
            "data/references.yaml",
        ),
        distributions=(
            "libroadrunner",
            "python-libsbml",
            "python-libsedml",
            "python-libcombine",
            "antimony",
            "numpy",
            "pandas",
        ),
    ),
}


def _compiled_models() -> list[tuple[str, bytes]]:
    """Each model's SBML as built from this checkout (cached builds: a few seconds in all)."""
    from pybrainbone.build import compile_model
    from pybrainbone.paths import available_models

    return [(model, compile_model(model).sbml.encode()) for model in available_models()]


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "absent"


def tier_digest(tier: str) -> str:
    """SHA-256 over the tier's input files (path and bytes, in sorted order), tool versions and SBML."""
    spec = TIERS[tier]
    digest = hashlib.sha256(f"python {platform.python_version()}\n".encode())
    files = sorted({p for pattern in spec.files for p in REPO.glob(pattern) if p.is_file()})
    for path in files:
        digest.update(path.relative_to(REPO).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for distribution in spec.distributions:
        digest.update(f"{distribution}=={_version(distribution)}\n".encode())
    if spec.compiled_models:
        for model, sbml in _compiled_models():
            digest.update(f"model {model}\n".encode() + sbml + b"\0")
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
