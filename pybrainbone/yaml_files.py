"""Reading user YAML files with one-line errors that name the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pybrainbone.errors import PyBrainBoneError


def read_yaml(path: str | Path, error: type[PyBrainBoneError], what: str) -> Any:
    """Parse ``path``; raise ``error`` ("no <what> at ...", "<path>: not valid YAML: ...") otherwise."""
    path = Path(path)
    if not path.is_file():
        raise error(f"no {what} at {path}")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
