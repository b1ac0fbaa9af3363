"""Argument validation shared by the whole package.

Every public function that takes a number with a physical or logical range calls one of these,
so that bad input raises a :class:`~rrampaper.errors.ParameterError` (a ``ValueError``) naming
the parameter, its value and what is valid.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from rrampaper.errors import ParameterError


def check_range(
    name: str,
    value: float,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
    unit: str = "",
) -> float:
    """Return ``value`` if it lies in the interval, else raise ``ValueError``.

    Parameters
    ----------
    name:
        Parameter name as the user wrote it (e.g. ``"keep_ratio"``).
    value:
        The value to check; must be a real number (not NaN).
    low, high:
        Interval bounds; infinite bounds mean "unbounded".
    low_open, high_open:
        Whether the bound itself is excluded.
    unit:
        Unit appended to the message, e.g. ``"V"``.

    Examples
    --------
    >>> check_range("keep_ratio", 0.5, 0, 1, low_open=True)
    0.5

    A string (``"0.5"``) or a bool is not a number here, even though ``float`` would convert it:
    it would come back unchanged and fail later, far from where it was given.
    """
    if isinstance(value, str | bytes | bool):
        raise ParameterError(f"{name}={value!r} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name}={value!r} is not a number") from None
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    suffix = f" {unit}" if unit else ""
    interval = f"{left}{low:g}, {high:g}{right}{suffix}"
    bad = (
        math.isnan(number)
        or (number < low or (low_open and number == low))
        or (number > high or (high_open and number == high))
    )
    if bad:
        raise ParameterError(f"{name}={value!r}{suffix} is outside the valid range {interval}")
    return value


def check_positive_int(name: str, value: Any, *, minimum: int = 1) -> int:
    """Return ``value`` as ``int`` if it is an integer >= ``minimum``, else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise ParameterError(f"{name}={value!r} must be an integer >= {minimum}")
    if value < minimum:
        raise ParameterError(f"{name}={value!r} must be an integer >= {minimum}")
    return int(value)


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise ``ValueError`` listing them."""
    options = list(choices)
    if value not in options:
        listed = ", ".join(repr(c) for c in options)
        raise ParameterError(f"{name}={value!r} is not valid; choose one of {listed}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is ``True`` or ``False``, else raise ``ValueError``.

    A string such as ``"yes"`` or ``"False"`` is refused: it is always true in an ``if``.
    """

    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise ParameterError(f"{name}={value!r} must be True or False")
