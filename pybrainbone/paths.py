"""Where models, experiment specs and the build cache live, and how a model name finds its file."""

from __future__ import annotations

import os
import re
from pathlib import Path

from pybrainbone.errors import ModelBuildError, ModelNotFoundError, near_matches, shorten
from pybrainbone.renamed import renamed_hint

_PACKAGE_DIR = Path(__file__).resolve().parent


def _first_existing(*candidates: Path) -> Path:
    for path in candidates:
        if path.is_dir():
            return path
    return candidates[0]


def models_dir() -> Path:
    """Directory holding the Antimony modules (``models/`` of the checkout, or the installed copy).

    ``PYBRAINBONE_MODELS`` overrides it, e.g. to build a private set of modules.

    Examples
    --------
    >>> (models_dir() / "bone_remodeling.ant").is_file()
    True
    """
    override = os.environ.get("PYBRAINBONE_MODELS")
    if override:
        return Path(override)
    return shipped_models_dir()


def shipped_models_dir() -> Path:
    """The project's own module directory (``models/``), whatever ``PYBRAINBONE_MODELS`` says.

    Examples
    --------
    >>> shipped_models_dir().name, (shipped_models_dir() / "brain_bone_axis.ant").is_file()
    ('models', True)
    """
    return _first_existing(_PACKAGE_DIR.parent / "models", _PACKAGE_DIR / "_data" / "models")


def experiments_dir() -> Path:
    """Directory holding the experiment specs shipped with the project.

    Examples
    --------
    >>> (experiments_dir() / "menopause.yaml").is_file()
    True
    """
    return _first_existing(_PACKAGE_DIR.parent / "experiments", _PACKAGE_DIR / "_data" / "experiments")


def citation_file() -> Path:
    """``CITATION.cff`` of the checkout (or the installed copy): the one source of the SBML model metadata.

    Examples
    --------
    >>> citation_file().name, citation_file().is_file()
    ('CITATION.cff', True)
    """
    for path in (_PACKAGE_DIR.parent / "CITATION.cff", _PACKAGE_DIR / "_data" / "CITATION.cff"):
        if path.is_file():
            return path
    return _PACKAGE_DIR.parent / "CITATION.cff"


def _data_file(name: str) -> Path:
    """``data/<name>`` of the checkout, else the installed copy (``_data/<name>``), else the checkout's."""
    for path in (_PACKAGE_DIR.parent / "data" / name, _PACKAGE_DIR / "_data" / name):
        if path.is_file():
            return path
    return _PACKAGE_DIR.parent / "data" / name


def references_file() -> Path:
    """``data/references.yaml`` of the checkout (or the installed copy): the papers the model sources cite.

    Examples
    --------
    >>> references_file().name, references_file().is_file()
    ('references.yaml', True)
    """
    return _data_file("references.yaml")


def organisms_file() -> Path:
    """``data/organisms.yaml`` of the checkout (or the installed copy): parameter values measured per species.

    Examples
    --------
    >>> organisms_file().name, organisms_file().is_file()
    ('organisms.yaml', True)
    """
    return _data_file("organisms.yaml")


def cache_dir() -> Path:
    """Build cache for compiled SBML (``PYBRAINBONE_CACHE``, else ``$XDG_CACHE_HOME/pybrainbone``).

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"PYBRAINBONE_CACHE": "/srv/pybrainbone-cache"}):
    ...     print(cache_dir())
    /srv/pybrainbone-cache
    """
    override = os.environ.get("PYBRAINBONE_CACHE")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pybrainbone"


def available_models(directory: Path | None = None) -> list[str]:
    """Names of all Antimony modules in the model directory (file stems of ``*.ant``).

    Examples
    --------
    >>> "bone_remodeling" in available_models()
    True
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = (Path(folder) / "toy.ant").write_text("model toy()\\nend\\n")
    ...     print(available_models(Path(folder)))
    ['toy']
    """
    return sorted(p.stem for p in (directory or models_dir()).glob("*.ant"))


_MODEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def model_path(name: str, directory: Path | None = None) -> Path:
    """Path of the module file for ``name``; a clear error naming near matches if there is none.

    Examples
    --------
    >>> model_path("bone_remodeling").name
    'bone_remodeling.ant'
    >>> model_path("bone_remodelling")
    Traceback (most recent call last):
    ...
    pybrainbone.errors.ModelNotFoundError: no model named 'bone_remodelling' in ...; did you mean
    bone_remodeling...?
    """
    directory = directory or models_dir()
    if not isinstance(name, str) or len(name) > 200 or not _MODEL_NAME.fullmatch(name):
        raise ModelNotFoundError(
            f"no model named {shorten(name)}: a model name is an identifier such as bone_remodeling "
            "(see `pybrainbone list`)"
        )
    path = directory / f"{name}.ant"
    if not path.is_file():
        known = available_models(directory)
        close = near_matches(name, known)
        hint = renamed_hint(name) or (
            f"did you mean {', '.join(close)}?" if close else f"available: {', '.join(known) or 'none'}"
        )
        raise ModelNotFoundError(f"no model named {name!r} in {directory}; {hint}")
    _check_utf8(path, path.read_bytes())  # before any reader meets it
    return path


def _check_utf8(path: Path, data: bytes) -> None:
    """Model files are UTF-8 (Antimony would accept other bytes, but every other reader would not)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ModelBuildError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save the model file as UTF-8"
        ) from None
