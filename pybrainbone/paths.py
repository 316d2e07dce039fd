"""Where models, experiment specs and the build cache live."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def _first_existing(*candidates: Path) -> Path:
    for path in candidates:
        if path.is_dir():
            return path
    return candidates[0]


def models_dir() -> Path:
    """Directory holding the Antimony modules (``models/`` of the checkout, or the installed copy).

    ``PYBRAINBONE_MODELS`` overrides it, e.g. to build a private set of modules.
    """
    override = os.environ.get("PYBRAINBONE_MODELS")
    if override:
        return Path(override)
    return _first_existing(_PACKAGE_DIR.parent / "models", _PACKAGE_DIR / "_data" / "models")


def experiments_dir() -> Path:
    """Directory holding the experiment specs shipped with the project."""
    return _first_existing(_PACKAGE_DIR.parent / "experiments", _PACKAGE_DIR / "_data" / "experiments")


def cache_dir() -> Path:
    """Build cache for compiled SBML (``PYBRAINBONE_CACHE``, else ``$XDG_CACHE_HOME/pybrainbone``)."""
    override = os.environ.get("PYBRAINBONE_CACHE")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pybrainbone"
