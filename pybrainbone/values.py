"""One value-checking helper: what the package accepts as a number from a user."""

from __future__ import annotations

import math
import numbers

from pybrainbone.errors import InvalidValueError


def check_value(name: str, value: object) -> float:
    """Return ``value`` as a finite float, or raise :class:`InvalidValueError` saying why not.

    Booleans and strings are refused: a switch is set with 0 or 1, and text must be parsed by the caller.

    Examples
    --------
    >>> check_value("k", 2)
    2.0
    >>> check_value("on_HPA", True)
    Traceback (most recent call last):
    ...
    pybrainbone.errors.InvalidValueError: value for 'on_HPA' must be a number, got True
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidValueError(f"value for {name!r} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidValueError(f"value for {name!r} must be finite, got {number}")
    return number
