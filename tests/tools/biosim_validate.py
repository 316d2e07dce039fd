"""Validate COMBINE/OMEX archives with the BioSimulators validator (biosimulators-utils).

Runs in a *separate* venv that has biosimulators-utils (its pins conflict with ours), so it imports
nothing from pybrainbone. Prints one JSON object: ``{archive: {"errors": [...], "warnings": [...]}}``,
each message a leaf of the validator's nested lists, prefixed with its parents' messages.

    /tmp/biosim-venv/bin/python tests/tools/biosim_validate.py a.omex b.omex
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import warnings


def _leaves(nested: list, prefix: str = "") -> list[str]:
    """The validator nests messages as [message, [children...]]: one line per leaf, with its context."""
    out: list[str] = []
    i = 0
    while i < len(nested):
        item = nested[i]
        if isinstance(item, list):
            out += _leaves(item, prefix)
            i += 1
            continue
        message = " ".join(str(item).split())
        children = nested[i + 1] if i + 1 < len(nested) and isinstance(nested[i + 1], list) else None
        if children:
            out += _leaves(children, f"{prefix}{message} > ")
            i += 2
        else:
            out.append(prefix + message)
            i += 1 if children is None else 2
    return out


def validate(path: str) -> dict[str, list[str]]:
    from biosimulators_utils.combine.data_model import CombineArchiveContentFormat
    from biosimulators_utils.combine.io import CombineArchiveReader
    from biosimulators_utils.combine.validation import validate as validate_archive
    from biosimulators_utils.config import get_config

    config = get_config()
    tmp = tempfile.mkdtemp(prefix="biosim-validate-")
    try:
        reader = CombineArchiveReader()
        try:
            archive = reader.run(path, tmp, config=config)
        except Exception as exception:  # the validator's own CLI reports a refused archive the same way
            return {"errors": [f"archive cannot be read: {exception}"], "warnings": _leaves(reader.warnings)}
        errors, warns = validate_archive(
            archive,
            tmp,
            formats_to_validate=list(CombineArchiveContentFormat.__members__.values()),
            config=config,
        )
        return {"errors": _leaves(errors), "warnings": _leaves(reader.warnings) + _leaves(warns)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(paths: list[str]) -> int:
    warnings.simplefilter("ignore")
    result = {path: validate(path) for path in paths}
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
