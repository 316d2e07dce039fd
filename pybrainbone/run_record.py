"""What every output records about how it was made: package version, model hash, spec hash, solver
settings, organism and date, so a result can be traced and re-run.

>>> from pybrainbone.build import compile_model
>>> record = run_record(compile_model("bone_remodeling"))
>>> sorted(record)[:4]
['created', 'libroadrunner', 'model', 'model_sha256']
"""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

import roadrunner

from pybrainbone.build import CompiledModel
from pybrainbone.options import SolverOptions


def content_hash(text: str) -> str:
    """SHA-256 of a text (the compiled SBML, a spec's canonical JSON).

    Examples
    --------
    >>> content_hash("bone")[:16]
    'c8dacf657fe92b60'
    >>> len(content_hash("")), content_hash("a") == content_hash("a")
    (64, True)
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_record(
    model: CompiledModel,
    *,
    spec: Any = None,
    options: SolverOptions | None = None,
    organism: str = "human",
) -> dict[str, str]:
    """Provenance of one output: flat strings, so it fits JSON, NetCDF attributes and PNG metadata.

    Examples
    --------
    >>> from pybrainbone.build import compile_model
    >>> record = run_record(compile_model("bone_remodeling"), organism="rat")
    >>> record["model"], record["organism"], json.loads(record["solver"])["relative_tolerance"]
    ('bone_remodeling', 'rat', 1e-09)
    >>> all(isinstance(value, str) for value in record.values())
    True
    """
    from pybrainbone import __version__

    record = {
        "pybrainbone": __version__,
        "libroadrunner": str(roadrunner.__version__),
        "model": model.name,
        "model_sha256": content_hash(model.sbml),
        "organism": organism,
        "solver": json.dumps((options or SolverOptions()).as_dict(), sort_keys=True),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    if spec is not None:
        canonical = json.dumps(spec.model_dump(mode="json"), sort_keys=True)
        record["spec_id"] = str(spec.id)
        record["spec_sha256"] = content_hash(canonical)
    return record
