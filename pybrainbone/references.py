"""The published papers the model files cite, from one curated table: ``data/references.yaml``.

Each parameter line of a module file ends with its source (``// ... Source: Karin et al. 2020 Mol Syst
Biol 16:e9510``). The table lists each cited paper once, with the strings by which the sources cite it
(``cited_as``), its bibliographic data, its DOI and/or PubMed id, and the page where that identifier was
read (``verified_at``). The build gives every parameter whose source cites a paper of the table a MIRIAM
``bqbiol:isDescribedBy`` term (:func:`pybrainbone.sbml_transforms.annotate_references`).

Sources that give an assumed or derived value (``Assumed: ...``, ``derived ...``) cite no paper for the
value itself, even when they name one for a direction or a comparison: :func:`cites_papers` leaves them out.

>>> table = load_references()
>>> table["karin2020"].uri
'https://identifiers.org/doi:10.15252/msb.20209510'
>>> [r.key for r in cited_references("Karin et al. 2020 Mol Syst Biol 16:e9510, model code", table)]
['karin2020']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pybrainbone.errors import ModelBuildError, shorten
from pybrainbone.model_text import read_module
from pybrainbone.paths import available_models, references_file
from pybrainbone.yaml_files import read_yaml

#: DOI syntax (Crossref's recommended pattern for modern DOIs) and PubMed ids.
DOI = re.compile(r"10\.\d{4,9}/\S+")
PMID = re.compile(r"[1-9]\d{0,8}")
#: Resolver prefix of the references' URIs.
IDENTIFIERS = "https://identifiers.org/"

_REQUIRED = ("citation", "cited_as", "title", "year", "journal", "verified_at")
_OPTIONAL = ("doi", "pmid", "authors", "volume", "pages", "note")
_KEY = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Reference:
    """One published paper of the table.

    Examples
    --------
    >>> paper = Reference("toy2001", "Toy 2001 J Toy 1:1", ("Toy 2001",), "A toy", 2001, "J Toy",
    ...                   "https://example.org/toy", pmid="123")
    >>> paper.uri, paper.cited_by("values from Toy 2001 (table 2)")
    ('https://identifiers.org/pubmed:123', True)
    """

    key: str
    citation: str
    cited_as: tuple[str, ...]
    title: str
    year: int
    journal: str
    verified_at: str
    doi: str = ""
    pmid: str = ""
    authors: str = ""
    volume: str = ""
    pages: str = ""
    note: str = ""

    @property
    def uri(self) -> str:
        """The identifiers.org URI of the paper: its DOI, else its PubMed id.

        Examples
        --------
        >>> Reference("a", "A 2000", ("A 2000",), "T", 2000, "J", "https://x", doi="10.1000/xyz").uri
        'https://identifiers.org/doi:10.1000/xyz'
        """
        return f"{IDENTIFIERS}doi:{self.doi}" if self.doi else f"{IDENTIFIERS}pubmed:{self.pmid}"

    def cited_by(self, source: str) -> bool:
        """Whether the source text ``source`` cites this paper (contains one of its ``cited_as`` strings).

        Examples
        --------
        >>> paper = Reference("a", "A 2000", ("A 2000 J 1:2",), "T", 2000, "J", "https://x", doi="10.1000/x")
        >>> paper.cited_by("A 2000 J 1:2 (value)"), paper.cited_by("A 2001")
        (True, False)
        """
        return any(pattern in source for pattern in self.cited_as)


def cites_papers(source: str) -> bool:
    """Whether ``source`` is a citation at all: not an assumed value, not a derived one.

    Examples
    --------
    >>> cites_papers("Peterson & Riggs 2010 Bone 46:49"), cites_papers("Assumed: magnitude (Wei 2014)")
    (True, False)
    >>> cites_papers("derived, steady state"), cites_papers("Source: derived from models/sns.ant")
    (False, False)
    """
    head = source.lstrip().lower()
    return not head.startswith(("assumed", "derived", "source: derived"))


def cited_references(source: str, references: Mapping[str, Reference]) -> tuple[Reference, ...]:
    """The papers of ``references`` that the parameter source ``source`` cites (none for assumed values).

    Examples
    --------
    >>> table = load_references()
    >>> [r.key for r in cited_references("literature.md §4; Considine 1996 NEJM 334:292", table)]
    ['considine1996']
    >>> cited_references("Assumed: as in Considine 1996", table)
    ()
    """
    if not cites_papers(source):
        return ()
    return tuple(r for r in references.values() if r.cited_by(source))


def model_sources(directory: Path | None = None) -> list[str]:
    """The source text of every parameter of every module file in ``directory`` (default: ``models/``).

    Examples
    --------
    >>> any(s.startswith("Karin et al. 2020") for s in model_sources())
    True
    """
    return [
        record.source
        for name in available_models(directory)
        for record in read_module(name, directory).parameters.values()
        if record.source
    ]


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _reference(key: Any, entry: Any, origin: str) -> Reference:
    where = f"{origin}: reference {shorten(key)}"
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ModelBuildError(f"{where}: a key is a lower-case identifier such as karin2020")
    if not isinstance(entry, dict):
        raise ModelBuildError(f"{where}: expected a mapping of fields ({', '.join(_REQUIRED)}, ...)")
    unknown = sorted(set(entry) - set(_REQUIRED) - set(_OPTIONAL))
    missing = [f for f in _REQUIRED if entry.get(f) in (None, "", [])]
    if unknown or missing:
        problem = f"unknown fields {unknown}" if unknown else f"missing {', '.join(missing)}"
        raise ModelBuildError(f"{where}: {problem}")
    cited_as = entry["cited_as"] if isinstance(entry["cited_as"], list) else [entry["cited_as"]]
    doi, pmid = _text(entry.get("doi")), _text(entry.get("pmid"))
    if doi and not DOI.fullmatch(doi):
        raise ModelBuildError(f"{where}: {doi!r} is not a DOI (10.<4-9 digits>/<suffix>, no 'doi:' or URL)")
    if pmid and not PMID.fullmatch(pmid):
        raise ModelBuildError(f"{where}: {pmid!r} is not a PubMed id (digits only)")
    if not (doi or pmid):
        raise ModelBuildError(f"{where}: give its doi or pmid (as read on the page in verified_at)")
    if not isinstance(entry["year"], int) or not _text(entry["verified_at"]).startswith("http"):
        raise ModelBuildError(
            f"{where}: year must be a number, verified_at the URL the identifier was read on"
        )
    return Reference(
        key=key,
        citation=_text(entry["citation"]),
        cited_as=tuple(_text(c) for c in cited_as if _text(c)),
        title=_text(entry["title"]),
        year=entry["year"],
        journal=_text(entry["journal"]),
        verified_at=_text(entry["verified_at"]),
        doi=doi,
        pmid=pmid,
        authors=_text(entry.get("authors")),
        volume=_text(entry.get("volume")),
        pages=_text(entry.get("pages")),
        note=_text(entry.get("note")),
    )


def _check_unique(references: Mapping[str, Reference], origin: str) -> None:
    """Refuse one paper listed twice (same DOI or PubMed id) and a cited_as string claimed by two papers."""
    seen: dict[str, str] = {}
    for ref in references.values():
        values = [("DOI", ref.doi.lower()), ("PubMed id", ref.pmid), *(("cited_as", c) for c in ref.cited_as)]
        for label, value in values:
            if not value:
                continue
            first = seen.setdefault(f"{label} {value}", ref.key)
            if first != ref.key:
                raise ModelBuildError(
                    f"{origin}: reference {ref.key!r}: {label} {value!r} is already that of {first!r}; "
                    "list each paper once"
                )


def load_references(path: Path | None = None, sources: Iterable[str] | None = None) -> dict[str, Reference]:
    """The validated reference table (default: :func:`~pybrainbone.paths.references_file`), by key.

    Keys are unique (a key given twice is a YAML error naming its line), every DOI has DOI syntax, no
    paper is listed twice, and, when ``sources`` (parameter source texts) are given, every entry is cited
    by at least one of them; a violation raises :class:`ModelBuildError` naming the file and the entry.

    Examples
    --------
    >>> table = load_references(sources=model_sources())
    >>> table["karin2020"].journal, table["karin2020"].year
    ('Mol Syst Biol', 2020)
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     bad = Path(folder) / "references.yaml"
    ...     _ = bad.write_text('toy2001: {citation: Toy 2001, cited_as: [Toy 2001], title: T, year: 2001,\\n'
    ...                        '  journal: J, verified_at: "https://x", doi: "doi:10.1/x"}\\n')
    ...     load_references(bad)
    Traceback (most recent call last):
    ...
    pybrainbone.errors.ModelBuildError: ...references.yaml: reference 'toy2001': 'doi:10.1/x' is not a DOI ...
    """
    path = path or references_file()
    data = read_yaml(path, ModelBuildError, "reference table") or {}
    if not isinstance(data, dict):
        raise ModelBuildError(f"{path}: the reference table is a mapping of keys to papers")
    references = {key: _reference(key, entry, str(path)) for key, entry in data.items()}
    _check_unique(references, str(path))
    if sources is not None:
        citing = [s for s in sources if cites_papers(s)]
        for ref in references.values():
            if not any(ref.cited_by(s) for s in citing):
                raise ModelBuildError(
                    f"{path}: reference {ref.key!r} is cited by no parameter source of the model files "
                    f"(cited_as {list(ref.cited_as)}); fix cited_as or remove the entry"
                )
    return references
