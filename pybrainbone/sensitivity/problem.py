"""Parameter ranges for global sensitivity analysis: a YAML problem file, or ranges derived from the model.

A problem file names parameters and their ranges; defaults apply to every entry that gives none::

    relative: 0.2              # default range: nominal * (1 -+ 0.2)
    distribution: uniform      # or log-uniform (sampled uniformly in log10 p)
    parameters:
      core_A_OBa: {low: 0.1, high: 0.3}
      core_D_OCp: {relative: 0.5}
      HPG_g_E2_RANKL: {factor: 2, distribution: log-uniform}   # nominal / 2 .. nominal * 2
      core_kout_BMD: {}                                        # the defaults

A plain list of names (``parameters: [core_A_OBa, core_D_OCp]``) uses the defaults for all of them.

>>> problem = derive_problem({"k1": 2.0, "k2": 0.5}, relative=0.1)
>>> [(p.name, round(p.low, 6), round(p.high, 6)) for p in problem.parameters]
[('k1', 1.8, 2.2), ('k2', 0.45, 0.55)]
>>> problem.salib()["bounds"]
[[1.8, 2.2], [0.45, 0.55]]
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from pybrainbone.errors import InvalidValueError, PyBrainBoneError, shorten, unknown_name
from pybrainbone.yaml_files import read_yaml

Distribution = Literal["uniform", "log-uniform"]
_DISTRIBUTIONS: tuple[str, ...] = ("uniform", "log-uniform")
_ENTRY_KEYS = {"low", "high", "relative", "factor", "distribution"}
_TOP_KEYS = {"relative", "factor", "distribution", "parameters", "model"}

#: Names that are switches or intervention settings, not rates: left out of derived ("--all") problems.
SWITCH_PATTERN = re.compile(r"^(on_|link_)|(_KO|_on|_ab)$|_KO_|(^|_)t_[A-Za-z0-9]")


class ProblemError(PyBrainBoneError):
    """A problem file or range that cannot be used; the message names the file and the parameter.

    Examples
    --------
    >>> derive_problem({"k": 0.0})
    Traceback (most recent call last):
    ...
    pybrainbone.sensitivity.problem.ProblemError: k: empty or non-finite range [0, 0] (its nominal value is 0;
    give low and high)
    """


@dataclass(frozen=True)
class ParameterRange:
    """One uncertain parameter: its range in model units, its nominal value and how it is sampled.

    Examples
    --------
    >>> rate = ParameterRange("k_res", low=0.5, high=2.0, nominal=1.0, distribution="log-uniform")
    >>> rate.name, rate.nominal, rate.distribution
    ('k_res', 1.0, 'log-uniform')
    """

    name: str
    low: float
    high: float
    nominal: float
    distribution: Distribution = "uniform"

    @property
    def sample_bounds(self) -> tuple[float, float]:
        """Bounds in the space SALib samples: the value, or log10 of it for log-uniform ranges.

        Examples
        --------
        >>> ParameterRange("k", 0.1, 10.0, 1.0, "log-uniform").sample_bounds
        (-1.0, 1.0)
        >>> ParameterRange("k", 0.1, 10.0, 1.0).sample_bounds
        (0.1, 10.0)
        """
        if self.distribution == "log-uniform":
            return (math.log10(self.low), math.log10(self.high))
        return (self.low, self.high)


@dataclass(frozen=True)
class Problem:
    """An ordered set of parameter ranges.

    Examples
    --------
    >>> a, b = ParameterRange("a", 1.0, 3.0, 2.0), ParameterRange("b", 0.1, 10.0, 1.0, "log-uniform")
    >>> problem = Problem((a, b))
    >>> len(problem), problem.names
    (2, ['a', 'b'])
    """

    parameters: tuple[ParameterRange, ...]

    @property
    def names(self) -> list[str]:
        """Parameter names, in order (the columns of every sample).

        Examples
        --------
        >>> derive_problem({"k2": 2.0, "k1": 1.0}).names
        ['k2', 'k1']
        """
        return [p.name for p in self.parameters]

    def __len__(self) -> int:
        return len(self.parameters)

    def salib(self) -> dict[str, Any]:
        """SALib's problem dictionary, in sampling space (log10 for log-uniform parameters).

        Examples
        --------
        >>> a, b = ParameterRange("a", 1.0, 3.0, 2.0), ParameterRange("b", 0.1, 10.0, 1.0, "log-uniform")
        >>> problem = Problem((a, b))
        >>> problem.salib()
        {'num_vars': 2, 'names': ['a', 'b'], 'bounds': [[1.0, 3.0], [-1.0, 1.0]]}
        """
        return {
            "num_vars": len(self.parameters),
            "names": self.names,
            "bounds": [list(p.sample_bounds) for p in self.parameters],
        }

    def to_model_space(self, samples: np.ndarray) -> np.ndarray:
        """Map SALib samples (rows) to parameter values: ``10**x`` in log-uniform columns.

        Examples
        --------
        >>> a, b = ParameterRange("a", 1.0, 3.0, 2.0), ParameterRange("b", 0.1, 10.0, 1.0, "log-uniform")
        >>> problem = Problem((a, b))
        >>> problem.to_model_space(np.array([[1.5, -1.0], [2.5, 0.5]])).round(4)
        array([[1.5   , 0.1   ],
               [2.5   , 3.1623]])
        """
        values = np.array(samples, dtype=float, copy=True)
        for j, p in enumerate(self.parameters):
            if p.distribution == "log-uniform":
                values[:, j] = np.power(10.0, values[:, j])
        return values

    def table(self) -> list[dict[str, Any]]:
        """One row per parameter (name, nominal, range, distribution): what summaries record.

        Examples
        --------
        >>> derive_problem({"k": 2.0}, relative=0.5).table()
        [{'parameter': 'k', 'nominal': 2.0, 'low': 1.0, 'high': 3.0, 'dist': 'uniform'}]
        """
        return [
            {"parameter": p.name, "nominal": p.nominal, "low": p.low, "high": p.high, "dist": p.distribution}
            for p in self.parameters
        ]


def _range(
    name: str,
    nominal: float,
    *,
    low: float | None = None,
    high: float | None = None,
    relative: float | None = None,
    factor: float | None = None,
    distribution: str = "uniform",
) -> ParameterRange:
    if distribution not in _DISTRIBUTIONS:
        raise ProblemError(
            f"{name}: distribution must be one of {', '.join(_DISTRIBUTIONS)}, got {shorten(distribution)}"
        )
    given = [
        k
        for k, v in (
            ("low/high", low if low is not None else high),
            ("relative", relative),
            ("factor", factor),
        )
        if v is not None
    ]
    if len(given) > 1:
        raise ProblemError(f"{name}: give one of low/high, relative or factor, not {' and '.join(given)}")
    if low is not None or high is not None:
        if low is None or high is None:
            raise ProblemError(f"{name}: give both low and high")
        lo, hi = float(low), float(high)
    elif factor is not None:
        if not factor > 1:
            raise ProblemError(f"{name}: factor must be > 1, got {factor}")
        lo, hi = nominal / float(factor), nominal * float(factor)
    else:
        rel = 0.2 if relative is None else float(relative)
        if not 0 < rel < 1 or not math.isfinite(rel):
            raise ProblemError(f"{name}: relative range must be in (0, 1), got {rel}")
        lo, hi = nominal * (1 - rel), nominal * (1 + rel)
    if lo > hi:
        lo, hi = hi, lo  # a negative nominal value gives a reversed relative range
    if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
        reason = "its nominal value is 0; give low and high" if nominal == 0 and low is None else ""
        raise ProblemError(
            f"{name}: empty or non-finite range [{lo:g}, {hi:g}]" + (f" ({reason})" if reason else "")
        )
    if distribution == "log-uniform" and lo <= 0:
        raise ProblemError(f"{name}: a log-uniform range needs low > 0, got {lo:g}")
    return ParameterRange(name, lo, hi, float(nominal), distribution)  # type: ignore[arg-type]


def derive_problem(
    nominal: Mapping[str, float],
    names: Iterable[str] | None = None,
    *,
    relative: float = 0.2,
    factor: float | None = None,
    distribution: Distribution = "uniform",
) -> Problem:
    """Ranges around nominal values: ``nominal*(1 -+ relative)``, or ``nominal/factor .. nominal*factor``.

    Examples
    --------
    >>> problem = derive_problem({"k1": 2.0, "k2": 0.5}, factor=2, distribution="log-uniform")
    >>> [(p.name, p.low, p.high, p.distribution) for p in problem.parameters]
    [('k1', 1.0, 4.0, 'log-uniform'), ('k2', 0.25, 1.0, 'log-uniform')]
    >>> derive_problem({"k1": 2.0}, ["k1"], relative=1.5)
    Traceback (most recent call last):
    ...
    pybrainbone.sensitivity.problem.ProblemError: k1: relative range must be in (0, 1), got 1.5
    """
    chosen = list(names) if names is not None else list(nominal)
    if not chosen:
        raise ProblemError("no parameters to vary")
    ranges = [
        _range(n, nominal[n], relative=None if factor else relative, factor=factor, distribution=distribution)
        for n in chosen
    ]
    return Problem(tuple(ranges))


def eligible_parameters(nominal: Mapping[str, float], exclude: Iterable[str] = ()) -> list[str]:
    """Parameters a derived problem varies: non-zero rates and constants, not switches or onset times.

    Left out: parameters whose nominal value is 0 (doses and switched-off effects, which a relative range
    cannot move), names that look like switches (``on_*``, ``link_*``, ``*_KO``, ``*_on``, ``*_ab``),
    intervention onset times (``t_*``) and everything in ``exclude`` (e.g. what the experiment's arms set).

    Examples
    --------
    >>> nominal = {"A_OCa": 0.7, "P_PTH_ext": 0.0, "on_hpa": 1.0, "CART_KO": 0.0, "t_ovx": 3650.0,
    ...            "D_OCp": 2.1}
    >>> eligible_parameters(nominal, exclude=["D_OCp"])
    ['A_OCa']
    """
    excluded = set(exclude)
    return [
        n
        for n, v in nominal.items()
        if n not in excluded and v != 0 and math.isfinite(v) and not SWITCH_PATTERN.search(n)
    ]


def _number(origin: str, name: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProblemError(f"{origin}: parameters.{name}.{key} must be a number, got {shorten(value)}")
    if not math.isfinite(value):
        raise ProblemError(f"{origin}: parameters.{name}.{key} must be finite, got {value}")
    return float(value)


def problem_from_data(
    data: Any, nominal: Mapping[str, float], model: str, origin: str = "problem"
) -> Problem:
    """Validate parsed problem-file data against the model's parameters (``nominal``: name -> value).

    Examples
    --------
    >>> nominal = {"A_OCa": 0.7, "D_OCp": 2.1, "k_res": 1.0}
    >>> data = {"relative": 0.1, "parameters": {"A_OCa": {}, "D_OCp": {"low": 1.0, "high": 3.0},
    ...                                         "k_res": {"factor": 10, "distribution": "log-uniform"}}}
    >>> problem = problem_from_data(data, nominal, "toy")
    >>> [(p.name, round(p.low, 3), round(p.high, 3)) for p in problem.parameters]
    [('A_OCa', 0.63, 0.77), ('D_OCp', 1.0, 3.0), ('k_res', 0.1, 10.0)]
    >>> problem_from_data({"parameters": ["A_OCA"]}, nominal, "toy", "problem.yaml")
    Traceback (most recent call last):
    ...
    pybrainbone.sensitivity.problem.ProblemError: problem.yaml: unknown parameter 'A_OCA' in model 'toy'; did
    you mean A_OCa, D_OCp?
    """
    if not isinstance(data, dict):
        raise ProblemError(
            f"{origin}: a problem file must be a mapping with 'parameters', got {type(data).__name__}"
        )
    unknown_keys = sorted(set(data) - _TOP_KEYS)
    if unknown_keys:
        raise ProblemError(f"{origin}: unknown keys {unknown_keys}; allowed: {sorted(_TOP_KEYS)}")
    if "model" in data and data["model"] != model:
        raise ProblemError(
            f"{origin}: written for model {shorten(data['model'])}, but the experiment uses {model!r}"
        )
    defaults: dict[str, Any] = {k: data[k] for k in ("relative", "factor", "distribution") if k in data}
    entries = data.get("parameters")
    if isinstance(entries, list):
        entries = _names_as_entries(entries, origin)
    if not isinstance(entries, dict) or not entries:
        raise ProblemError(f"{origin}: 'parameters' must be a non-empty mapping or list of parameter names")
    ranges: list[ParameterRange] = []
    for name, entry in entries.items():
        if not isinstance(name, str):
            raise ProblemError(f"{origin}: parameters: {shorten(name)} is not a parameter name")
        if name not in nominal:
            raise ProblemError(f"{origin}: {unknown_name('parameter', str(name), nominal, model)}")
        entry = entry or {}
        if not isinstance(entry, dict):
            raise ProblemError(f"{origin}: parameters.{name} must be a mapping like {{low: 1, high: 2}}")
        bad = sorted(set(entry) - _ENTRY_KEYS)
        if bad:
            raise ProblemError(
                f"{origin}: parameters.{name}: unknown keys {bad}; allowed: {sorted(_ENTRY_KEYS)}"
            )
        range_keys = ("low", "high", "relative", "factor")
        source = entry if any(k in entry for k in range_keys) else defaults
        kwargs: dict[str, Any] = {
            k: _number(origin, str(name), k, source[k]) for k in range_keys if k in source
        }
        distribution = entry.get("distribution", defaults.get("distribution", "uniform"))
        if not isinstance(distribution, str):
            raise ProblemError(
                f"{origin}: parameters.{name}.distribution must be one of {', '.join(_DISTRIBUTIONS)}, "
                f"got {shorten(distribution)}"
            )
        try:
            ranges.append(_range(str(name), nominal[name], distribution=distribution, **kwargs))
        except ProblemError as exc:
            raise ProblemError(f"{origin}: parameters.{exc}") from None
    return Problem(tuple(ranges))


def _names_as_entries(names: list[Any], origin: str) -> dict[str, Any]:
    """A ``parameters:`` list of names as entries with the defaults; each item must be a name, once."""
    entries: dict[str, Any] = {}
    for i, item in enumerate(names):
        if not isinstance(item, str):
            raise ProblemError(f"{origin}: parameters[{i}] must be a parameter name, got {shorten(item)}")
        if item in entries:
            raise ProblemError(f"{origin}: parameters lists {shorten(item)} twice; give each parameter once")
        entries[item] = {}
    return entries


def load_problem(path: str | Path, nominal: Mapping[str, float], model: str) -> Problem:
    """Read and validate a YAML problem file.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "problem.yaml"
    ...     _ = path.write_text("relative: 0.5\\nparameters: [A_OCa]\\n")
    ...     problem = load_problem(path, {"A_OCa": 0.7, "D_OCp": 2.1}, "toy")
    >>> [(p.name, round(p.low, 3), round(p.high, 3)) for p in problem.parameters]
    [('A_OCa', 0.35, 1.05)]
    """
    return problem_from_data(read_yaml(path, ProblemError, "problem file"), nominal, model, str(path))


def positive_int(name: str, value: object, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum`` or a clear error.

    Examples
    --------
    >>> positive_int("n (trajectories)", 10, minimum=2)
    10
    >>> positive_int("n (trajectories)", 1, minimum=2)
    Traceback (most recent call last):
    ...
    pybrainbone.errors.InvalidValueError: n (trajectories) must be an integer >= 2, got 1
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < minimum:
        raise InvalidValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
