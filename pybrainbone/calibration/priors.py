"""Literature priors of estimated parameters: a published range read as a 95 % interval on the log10 scale.

A calibration estimates parameters as log10 values within bounds. Where the literature gives a range for
a parameter (the reference sheets' turnover of trabecular and cortical bone, say), the range becomes a
normal prior on that scale: mean the midpoint of log10(low) and log10(high), standard deviation the
half-width divided by 1.96. The objective is then the negative log posterior,

    NLL(θ) + Σ_k ½ log(2π s_k²) + ½ ((log10 θ_k - μ_k) / s_k)²,

which is what PEtab's ``parameterScaleNormal`` prior and pyPESTO compute, constant included. Parameters
without a prior keep the uniform prior within their bounds (no term).

The project's priors are ``data/priors.yaml``, one entry per model parameter id:

.. code-block:: yaml

    spine_rho:
      range: [8.2e-5, 6.8e-4]   # per_day, the parameter's unit in the model
      unit: per_day
      source: "literature.md §4: cortical ~3 %/yr, trabecular ~25 %/yr"

>>> prior = Prior("k", 0.1, 10.0, "per_day", "Assumed: a decade either side")
>>> prior.mean, round(prior.sd, 4)
(0.0, 0.5102)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pybrainbone.errors import PyBrainBoneError
from pybrainbone.yaml_files import read_yaml

__all__ = ["PRIORS_FILE", "Prior", "PriorError", "load_priors"]

#: The priors file's name inside a dataset directory.
PRIORS_FILE = "priors.yaml"
#: The standard normal's 97.5 % quantile: a range is read as the central 95 % interval.
_Z95 = 1.959963984540054


class PriorError(PyBrainBoneError):
    """A priors file or entry that cannot be used (names the file and the entry).

    Examples
    --------
    >>> Prior("k", 2.0, 1.0, "per_day", "Assumed: x")
    Traceback (most recent call last):
    ...
    pybrainbone.calibration.priors.PriorError: prior of k: range [2, 1] must be [low, high] with 0 < low <
    high
    """


@dataclass(frozen=True)
class Prior:
    """A normal prior on log10 of ``parameter`` whose central 95 % interval is ``low`` .. ``high``.

    Examples
    --------
    >>> p = Prior("spine_rho", 8.2e-5, 6.8e-4, "per_day", "literature.md §4")
    >>> round(10 ** p.mean, 7), round(p.sd, 4)
    (0.0002361, 0.2344)
    >>> round(p.nll(p.mean), 4) == round(0.5 * math.log(2 * math.pi * p.sd**2), 4)
    True
    """

    parameter: str
    low: float
    high: float
    unit: str
    source: str

    def __post_init__(self) -> None:
        finite = all(isinstance(v, float | int) and math.isfinite(v) for v in (self.low, self.high))
        if not finite or not 0 < self.low < self.high:
            raise PriorError(
                f"prior of {self.parameter}: range [{self.low:g}, {self.high:g}] must be [low, high] "
                "with 0 < low < high"
            )
        if len(self.source.strip()) < 3:
            raise PriorError(f"prior of {self.parameter}: give its source (paper and table/figure)")

    @property
    def mean(self) -> float:
        """Mean on the log10 scale (the midpoint of the range's logs).

        Examples
        --------
        >>> Prior("k", 0.01, 1.0, "per_day", "Assumed: x").mean
        -1.0
        """
        return (math.log10(self.low) + math.log10(self.high)) / 2

    @property
    def sd(self) -> float:
        """Standard deviation on the log10 scale (the range is the central 95 % interval).

        Examples
        --------
        >>> round(Prior("k", 0.01, 1.0, "per_day", "Assumed: x").sd, 4)
        0.5102
        """
        return (math.log10(self.high) - math.log10(self.low)) / (2 * _Z95)

    def nll(self, log10_value: float) -> float:
        """Minus the log of the normal density at ``log10_value`` (what PEtab's parameterScaleNormal adds).

        Examples
        --------
        >>> p = Prior("k", 0.01, 1.0, "per_day", "Assumed: x")
        >>> round(p.nll(-1.0 + p.sd) - p.nll(-1.0), 6)
        0.5
        """
        z = (log10_value - self.mean) / self.sd
        return 0.5 * math.log(2 * math.pi * self.sd**2) + 0.5 * z * z

    def describe(self) -> str:
        """The prior as text for a report or a model file's source.

        Examples
        --------
        >>> Prior("k", 0.01, 1.0, "per_day", "Smith 2001 Table 2").describe()
        'prior 95 % range 0.01-1 per_day (Smith 2001 Table 2)'
        """
        return f"prior 95 % range {self.low:g}-{self.high:g} {self.unit} ({self.source})"


def _entry(name: Any, entry: Any, origin: str) -> Prior:
    where = f"{origin}: {name}"
    if not isinstance(entry, dict):
        raise PriorError(f"{where}: expected a mapping with range, unit and source")
    unknown = sorted(set(entry) - {"range", "unit", "source"})
    if unknown:
        raise PriorError(f"{where}: unknown keys {unknown}; an entry has range, unit and source")
    missing = [k for k in ("range", "unit", "source") if k not in entry]
    if missing:
        raise PriorError(f"{where}: missing {', '.join(missing)}")
    span = entry["range"]
    if not (isinstance(span, list) and len(span) == 2 and all(isinstance(v, int | float) for v in span)):
        raise PriorError(f"{where}: range must be [low, high] (two numbers), got {span!r}")
    try:
        return Prior(str(name), float(span[0]), float(span[1]), str(entry["unit"]), str(entry["source"]))
    except PriorError as exc:
        raise PriorError(f"{origin}: {exc}") from None


def load_priors(path: str | Path) -> Mapping[str, Prior]:
    """The priors of a ``priors.yaml`` file, by parameter id (an absent file has none).

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = Path(tmp.name) / "priors.yaml"
    >>> _ = path.write_text("k: {range: [0.1, 10], unit: per_day, source: Smith 2001 Table 2}\\n")
    >>> sorted(load_priors(path)), dict(load_priors(Path(tmp.name) / "none.yaml"))
    (['k'], {})
    >>> _ = path.write_text("k: {range: [0.1], unit: per_day, source: Smith 2001}\\n")
    >>> load_priors(path)
    Traceback (most recent call last):
    ...
    pybrainbone.calibration.priors.PriorError: ...priors.yaml: k: range must be [low, high] (two numbers),
    got [0.1]
    >>> tmp.cleanup()
    """
    path = Path(path)
    if not path.is_file():
        return MappingProxyType({})
    data = read_yaml(path, PriorError, "priors file") or {}
    origin = str(path)
    if not isinstance(data, dict):
        raise PriorError(f"{origin}: expected a mapping parameter -> {{range, unit, source}}")
    return MappingProxyType({str(k): _entry(k, v, origin) for k, v in data.items()})
