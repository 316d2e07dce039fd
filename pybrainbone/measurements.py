"""The curated literature dataset (``data/``): studies and their measurements, loaded and validated.

Named after PEtab's terms: a :class:`Measurement` is one row of ``data/measurements/<study>.csv`` (an
observable, in a condition, at a time, with its spread and source location); a :class:`Study` is one
entry of ``data/studies.yaml`` (citation, identifiers, arms); a :class:`Dataset` is a study with its
measurements. Everything is immutable and checked when it is read: a bad row is refused with one line
naming the file and the line (:class:`MeasurementError`), never loaded half-way. ``data/README.md``
documents the format and the controlled vocabularies repeated here.

>>> datasets = load_datasets()
>>> freedom = datasets["freedom_austin2012"]
>>> freedom.study.organism, sorted(freedom.study.arms)
('human', ['dmab60_q6m', 'placebo'])
>>> row = freedom.select("BMD_total_hip", "dmab60_q6m", "percent_change_from_baseline")[0]
>>> row.time, row.time_unit, row.mean, row.spread_type, round(row.standard_error(), 4)
(12.0, 'month', 3.2, 'CI95_low_high', 0.051)
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pybrainbone.errors import PyBrainBoneError, near_matches, shorten
from pybrainbone.yaml_files import read_text, read_yaml

_PACKAGE_DIR = Path(__file__).resolve().parent

#: The CSV header, in order (``data/README.md``, "CSV format").
COLUMNS = (
    "observable",
    "organism",
    "condition",
    "time",
    "time_unit",
    "mean",
    "spread",
    "spread_type",
    "n",
    "unit",
    "location",
    "value_kind",
    "note",
)
#: Controlled observables (``data/README.md``, "Controlled observables").
OBSERVABLES = (
    "BMD_lumbar_spine",
    "BMD_total_hip",
    "BMD_femoral_neck",
    "BMD_radius_one_third",
    "BMD_radius_ultradistal",
    "TBS_lumbar_spine",
    "CTX",
    "P1NP",
    "BSAP",
    "urine_NTX",
    "gonadotrophins",
    "FSH",
    "estradiol",
    "PTH",
    "serum_calcium",
    "trabecular_BV_TV",
    "mean_degree_of_mineralization_cancellous",
    "mean_degree_of_mineralization_compact",
    "vertebral_fracture_incidence",
    "clinical_vertebral_fracture_incidence",
    "nonvertebral_fragility_fracture_incidence",
    "osteoporotic_fracture_incidence",
    "new_or_worsening_vertebral_fracture_count",
    "nonvertebral_fracture_count",
    "morphometric_vertebral_fracture_count",
)
#: Controlled units (``data/README.md``, "Units").
UNITS = (
    "percent_change_from_baseline",
    "percentage_point_difference_vs_placebo",
    "percentage_point_difference_vs_comparator",
    "percent_difference_vs_comparator",
    "percent_difference_vs_reference",
    "ratio_to_reference",
    "ratio_to_sham",
    "percent_per_year",
    "percent",
    "percent_of_participants",
    "count",
)
SPREAD_TYPES = ("SD", "SE", "CI95_low_high", "IQR", "none")
ORGANISMS = ("human", "rat", "mouse")
VALUE_KINDS = ("reported", "digitised", "derived")
#: Days per time unit (a month is a twelfth of a Julian year, as in the experiment specs).
DAYS = {"day": 1.0, "week": 7.0, "month": 365.25 / 12, "year": 365.25}
#: Two-sided 95 % normal quantile: a 95 % CI spans 2 * 1.96 standard errors.
Z95 = 1.959963984540054
#: Interquartile range of a normal distribution in standard deviations.
IQR_PER_SD = 1.3489795003921634


class MeasurementError(PyBrainBoneError):
    """A studies file or measurement table that does not validate; the message names the file and line.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> studies = "s1: {citation: x, organism: human, arms: {a: b}}\\n"
    >>> _ = (Path(tmp.name) / "studies.yaml").write_text(studies)
    >>> (Path(tmp.name) / "measurements").mkdir()
    >>> _ = (Path(tmp.name) / "measurements" / "s1.csv").write_text(
    ...     ",".join(COLUMNS) + "\\nCTX,human,a,1,month,ten,,none,,percent,Table 1,reported,\\n")
    >>> load_datasets(tmp.name)
    Traceback (most recent call last):
    ...
    pybrainbone.measurements.MeasurementError: .../s1.csv:2: mean 'ten' is not a number
    >>> tmp.cleanup()
    """


def data_dir() -> Path:
    """The curated dataset: ``data/`` of the checkout (``PYBRAINBONE_DATA`` overrides it).

    Examples
    --------
    >>> (data_dir() / "studies.yaml").is_file()
    True
    """
    override = os.environ.get("PYBRAINBONE_DATA")
    if override:
        return Path(override)
    for candidate in (_PACKAGE_DIR.parent / "data", _PACKAGE_DIR / "_data" / "data"):
        if candidate.is_dir():
            return candidate
    return _PACKAGE_DIR.parent / "data"


@dataclass(frozen=True)
class Measurement:
    """One row of a measurement table: a reported summary of ``observable`` in ``condition`` at ``time``.

    ``spread`` holds the numbers of ``spread_type`` (one for SD, SE and IQR; low and high for a 95 % CI;
    none for ``none``). ``line`` is the row's line in ``file``, for messages.

    Examples
    --------
    >>> row = Measurement("s1", "CTX", "human", "a", 6.0, "month", -40.0, (5.0,), "SD", 25,
    ...                   "percent_change_from_baseline", "Table 2", "reported", "", "s1.csv", 2)
    >>> row.time_days, row.standard_error()
    (182.625, 1.0)
    """

    study: str
    observable: str
    organism: str
    condition: str
    time: float | None
    time_unit: str
    mean: float
    spread: tuple[float, ...]
    spread_type: str
    n: int | None
    unit: str
    location: str
    value_kind: str
    note: str
    file: str = ""
    line: int = 0

    @property
    def where(self) -> str:
        """``file:line`` of the row.

        Examples
        --------
        >>> Measurement("s1", "CTX", "human", "a", 6.0, "month", -40.0, (5.0,), "SD", 25,
        ...             "percent", "Table 2", "reported", "", "s1.csv", 7).where
        's1.csv:7'
        """
        return f"{self.file}:{self.line}"

    @property
    def time_days(self) -> float | None:
        """The time in days (``None`` for rates over a period and undated contrasts).

        Examples
        --------
        >>> Measurement("s1", "CTX", "human", "a", 2.0, "year", 1.0, (), "none", None,
        ...             "percent", "Table 2", "reported", "").time_days
        730.5
        """
        return None if self.time is None else self.time * DAYS[self.time_unit]

    def standard_error(self) -> float | None:
        """The standard error of :attr:`mean`, derived from the reported spread (``None`` without one).

        SE as given; a 95 % CI spans 2 x 1.96 SE; an SD (or an IQR, 1.349 SD) is divided by √n when n is
        known, and taken as it is otherwise (conservative: the SE is smaller).

        Examples
        --------
        >>> def row(spread, kind, n=None):
        ...     return Measurement("s", "CTX", "human", "a", 1.0, "month", 3.0, spread, kind, n, "percent",
        ...                        "Table 1", "reported", "")
        >>> row((0.5,), "SE").standard_error(), row((2.0,), "SD", 16).standard_error()
        (0.5, 0.5)
        >>> round(row((2.0, 4.0), "CI95_low_high").standard_error(), 4), row((), "none").standard_error()
        (0.5102, None)
        """
        if self.spread_type == "SE":
            return self.spread[0]
        if self.spread_type == "CI95_low_high":
            return (self.spread[1] - self.spread[0]) / (2 * Z95)
        if self.spread_type in ("SD", "IQR"):
            sd = self.spread[0] / (IQR_PER_SD if self.spread_type == "IQR" else 1.0)
            return sd / math.sqrt(self.n) if self.n else sd
        return None


@dataclass(frozen=True)
class Study:
    """One entry of ``studies.yaml``: the source of a measurement table and the arms it reports.

    Examples
    --------
    >>> study = load_datasets()["wronski1985_ovx"].study
    >>> study.organism, sorted(study.arms), study.doi
    ('rat', ['ovx', 'sham'], '10.1007/BF02554882')
    """

    id: str
    citation: str
    organism: str
    arms: Mapping[str, str]
    url: str = ""
    doi: str | None = None
    pmcid: str | None = None
    pmid: str | None = None
    design: str = ""
    population: str = ""
    source_note: str = ""
    #: ``held_back: true`` in studies.yaml: the study is never fitted, only predicted (validation).
    held_back: bool = False


@dataclass(frozen=True)
class Dataset:
    """A study and its measurements (the rows of ``measurements/<study id>.csv``, in file order).

    Examples
    --------
    >>> dataset = load_datasets()["freedom_austin2012"]
    >>> len(dataset.measurements), dataset.measurements[0].where.endswith("freedom_austin2012.csv:2")
    (21, True)
    """

    study: Study
    measurements: tuple[Measurement, ...] = field(default_factory=tuple)

    def select(self, observable: str, condition: str, unit: str | None = None) -> list[Measurement]:
        """The rows of ``observable`` in ``condition`` (and of ``unit``, if given).

        Examples
        --------
        >>> dataset = load_datasets()["freedom_austin2012"]
        >>> [row.time for row in dataset.select("BMD_total_hip", "placebo")]
        [12.0, 24.0, 36.0]
        """
        return [
            m
            for m in self.measurements
            if m.observable == observable and m.condition == condition and (unit is None or m.unit == unit)
        ]


# ---- reading ------------------------------------------------------------------------------------------
def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _study(study_id: Any, entry: Any, origin: str) -> Study:
    if not isinstance(study_id, str) or not study_id.isidentifier():
        raise MeasurementError(f"{origin}: study id {shorten(study_id)} must be an identifier")
    where = f"{origin}: study {study_id!r}"
    if not isinstance(entry, dict):
        raise MeasurementError(f"{where}: expected a mapping of fields, got {type(entry).__name__}")
    if not _text(entry.get("citation")):
        raise MeasurementError(f"{where}: no citation")
    organism = _text(entry.get("organism"))
    if organism not in ORGANISMS:
        raise MeasurementError(f"{where}: organism {organism!r} is not one of {', '.join(ORGANISMS)}")
    arms = entry.get("arms")
    if not isinstance(arms, dict) or not arms or not all(isinstance(k, str) for k in arms):
        raise MeasurementError(f"{where}: 'arms' must map arm ids to descriptions")
    identifiers = {key: (_text(entry.get(key)) or None) for key in ("doi", "pmcid", "pmid")}
    held_back = entry.get("held_back", False)
    if not isinstance(held_back, bool):
        raise MeasurementError(f"{where}: 'held_back' must be true or false, got {shorten(held_back)}")
    return Study(
        held_back=held_back,
        id=study_id,
        citation=_text(entry["citation"]),
        organism=organism,
        arms={k: _text(v) for k, v in arms.items()},
        url=_text(entry.get("url")),
        design=_text(entry.get("design")),
        population=_text(entry.get("population")),
        source_note=_text(entry.get("source_note")),
        **identifiers,
    )


def load_studies(path: str | os.PathLike[str]) -> dict[str, Study]:
    """Every study of a ``studies.yaml`` file, by id.

    Examples
    --------
    >>> studies = load_studies(data_dir() / "studies.yaml")
    >>> studies["neer2001"].organism
    'human'
    """
    data = read_yaml(Path(path), MeasurementError, "studies file")
    if not isinstance(data, dict) or not data:
        raise MeasurementError(f"{path}: a studies file maps study ids to their entries")
    return {str(k): _study(k, v, str(path)) for k, v in data.items()}


def _number(text: str, what: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise MeasurementError(f"{where}: {what} {shorten(text)} is not a number") from None
    if not math.isfinite(value):
        raise MeasurementError(f"{where}: {what} must be finite, got {text}")
    return value


def _choice(value: str, allowed: tuple[str, ...], what: str, where: str) -> str:
    if value in allowed:
        return value
    close = near_matches(value, allowed) if len(value) <= 60 else []
    hint = f"did you mean {', '.join(close)}?" if close else "see data/README.md for the controlled list"
    raise MeasurementError(f"{where}: unknown {what} {shorten(value)}; {hint}")


def _spread(text: str, kind: str, where: str) -> tuple[float, ...]:
    if kind == "none":
        if text:
            raise MeasurementError(f"{where}: spread {shorten(text)} given with spread_type none")
        return ()
    if kind == "CI95_low_high":
        parts = text.split(";")
        if len(parts) != 2:
            raise MeasurementError(f"{where}: a 95% CI is written 'low;high', got {shorten(text)}")
        low, high = (_number(p.strip(), "CI bound", where) for p in parts)
        if not low < high:
            raise MeasurementError(f"{where}: CI low {low:g} must be below high {high:g}")
        return (low, high)
    if not text:
        raise MeasurementError(f"{where}: spread_type {kind} needs a spread value")
    value = _number(text, kind, where)
    if value <= 0:
        raise MeasurementError(f"{where}: {kind} must be positive, got {value:g}")
    return (value,)


def _count(text: str, where: str) -> int | None:
    if not text:
        return None
    try:
        n = int(text)
    except ValueError:
        raise MeasurementError(f"{where}: n {shorten(text)} is not a whole number") from None
    if n < 1:
        raise MeasurementError(f"{where}: n must be at least 1, got {n}")
    return n


def _row(row: dict[str, str], study: Study, where: str) -> dict[str, Any]:
    """The checked fields of one CSV row (each error names ``where``)."""
    unit = row["unit"]
    if not unit:
        raise MeasurementError(f"{where}: no unit; every row needs one (see data/README.md, Units)")
    condition = row["condition"]
    if condition not in study.arms:
        raise MeasurementError(
            f"{where}: condition {shorten(condition)} is not an arm of study {study.id!r} "
            f"(arms: {', '.join(study.arms)})"
        )
    organism = _choice(row["organism"], ORGANISMS, "organism", where)
    if organism != study.organism:
        raise MeasurementError(f"{where}: organism {organism} but study {study.id!r} is in {study.organism}")
    if not row["location"]:
        raise MeasurementError(f"{where}: no location; say where in the source the number is")
    kind = _choice(row["spread_type"], SPREAD_TYPES, "spread_type", where)
    mean = _number(row["mean"], "mean", where)
    spread = _spread(row["spread"], kind, where)
    if kind == "CI95_low_high" and not spread[0] <= mean <= spread[1]:
        raise MeasurementError(f"{where}: mean {mean:g} lies outside its 95% CI {spread[0]:g};{spread[1]:g}")
    return {
        "observable": _choice(row["observable"], OBSERVABLES, "observable", where),
        "organism": organism,
        "condition": condition,
        "time": _number(row["time"], "time", where) if row["time"] else None,
        "time_unit": _choice(row["time_unit"], tuple(DAYS), "time_unit", where),
        "mean": mean,
        "spread": spread,
        "spread_type": kind,
        "n": _count(row["n"], where),
        "unit": _choice(unit, UNITS, "unit", where),
        "location": row["location"],
        "value_kind": _choice(row["value_kind"], VALUE_KINDS, "value_kind", where),
        "note": row["note"],
    }


def _rows(text: str, origin: str) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != COLUMNS:
            raise MeasurementError(f"{origin}:1: the header must be exactly: {','.join(COLUMNS)}")
        line = reader.line_num + 1
        for cells in reader:
            if any(c.strip() for c in cells):
                if len(cells) != len(COLUMNS):
                    raise MeasurementError(
                        f"{origin}:{line}: {len(cells)} fields, expected {len(COLUMNS)}; quote fields "
                        "that contain commas"
                    )
                yield line, dict(zip(COLUMNS, (c.strip() for c in cells), strict=True))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise MeasurementError(f"{origin}:{reader.line_num}: not a valid CSV row: {exc}") from None


def load_measurements(path: str | os.PathLike[str], study: Study) -> tuple[Measurement, ...]:
    """The rows of one measurement table of ``study``, each checked.

    Examples
    --------
    >>> studies = load_studies(data_dir() / "studies.yaml")
    >>> rows = load_measurements(data_dir() / "measurements" / "neer2001.csv", studies["neer2001"])
    >>> sorted({row.unit for row in rows})[:2]
    ['percent_of_participants', 'percentage_point_difference_vs_placebo']
    """
    origin = str(path)
    text = read_text(Path(path), MeasurementError, "measurement table")
    return tuple(
        Measurement(study=study.id, **_row(row, study, f"{origin}:{line}"), file=origin, line=line)
        for line, row in _rows(text, origin)
    )


def load_datasets(directory: str | os.PathLike[str] | None = None) -> dict[str, Dataset]:
    """Every study of ``directory`` (default :func:`data_dir`) with its measurements, by study id.

    Every table must belong to a study, and every study must have a table.

    Examples
    --------
    >>> datasets = load_datasets()
    >>> "freedom_austin2012" in datasets, all(d.measurements for d in datasets.values())
    (True, True)
    """
    root = Path(directory) if directory is not None else data_dir()
    studies = load_studies(root / "studies.yaml")
    tables = {p.stem: p for p in sorted((root / "measurements").glob("*.csv"))}
    orphans = sorted(set(tables) - set(studies))
    if orphans:
        raise MeasurementError(
            f"{tables[orphans[0]]}: no study {orphans[0]!r} in {root / 'studies.yaml'}; add its entry"
        )
    missing = sorted(set(studies) - set(tables))
    if missing:
        raise MeasurementError(
            f"{root / 'studies.yaml'}: study {missing[0]!r} has no table {root / 'measurements'}/"
            f"{missing[0]}.csv"
        )
    return {sid: Dataset(study, load_measurements(tables[sid], study)) for sid, study in studies.items()}
