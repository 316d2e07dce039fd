"""Solver settings: one immutable record that the simulator, the experiment specs and the SED-ML writer share.

>>> from pybrainbone.options import SolverOptions
>>> SolverOptions().with_(relative_tolerance=1e-7).relative_tolerance
1e-07
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any

from pybrainbone.errors import InvalidValueError


@dataclass(frozen=True)
class SolverOptions:
    """CVODE settings. Tight defaults: cross-simulator checks compare at 1e-4 relative.

    Examples
    --------
    >>> options = SolverOptions(relative_tolerance=1e-7)
    >>> options.relative_tolerance, options.absolute_tolerance, options.stiff
    (1e-07, 1e-15, True)
    >>> SolverOptions(relative_tolerance=2)
    Traceback (most recent call last):
    ...
    pybrainbone.errors.InvalidValueError: relative_tolerance must lie in (0, 1), got 2
    """

    relative_tolerance: float = 1e-9
    absolute_tolerance: float = 1e-15
    maximum_num_steps: int = 200_000
    stiff: bool = True
    #: First step after every (re)start, in days. CVODE's own estimate after a dosing event that fills an
    #: empty compartment is ~1e-13 days at an absolute tolerance of 1e-15, and SUNDIALS then prints
    #: "t + h = t" warnings on stdout; the error test shrinks a too-long first step anyway.
    initial_time_step: float = 1e-8

    def __post_init__(self) -> None:
        if not (isinstance(self.initial_time_step, (int, float)) and 0 < self.initial_time_step < 1):
            raise InvalidValueError(
                f"initial_time_step must lie in (0, 1) day, got {self.initial_time_step!r}"
            )
        for name in ("relative_tolerance", "absolute_tolerance"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise InvalidValueError(f"{name} must be a finite number, got {value!r}")
            if not 0 < value < 1:
                raise InvalidValueError(f"{name} must lie in (0, 1), got {value!r}")
        steps = self.maximum_num_steps
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise InvalidValueError(f"maximum_num_steps must be a positive integer, got {steps!r}")

    def with_(self, **kwargs: Any) -> SolverOptions:
        """Copy with some fields replaced (unknown names are refused).

        Examples
        --------
        >>> SolverOptions().with_(stiff=False).stiff
        False
        >>> SolverOptions().with_(rtol=1e-6)
        Traceback (most recent call last):
        ...
        pybrainbone.errors.InvalidValueError: unknown solver option(s) ['rtol']; known: [...]
        """
        known = {f.name for f in fields(self)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise InvalidValueError(f"unknown solver option(s) {unknown}; known: {sorted(known)}")
        return replace(self, **kwargs)

    def as_dict(self) -> dict[str, Any]:
        """Plain values, e.g. for provenance records.

        Examples
        --------
        >>> SolverOptions().as_dict()
        {'relative_tolerance': 1e-09, 'absolute_tolerance': 1e-15, 'maximum_num_steps': 200000, 'stiff': True,
         'initial_time_step': 1e-08}
        """
        return {f.name: getattr(self, f.name) for f in fields(self)}
