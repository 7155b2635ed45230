"""Input checks shared by the families, in the suite's one message format.

Every error reads ``field: problem (allowed: ...)`` (``docs/validation.md``): ``field`` is the
path a user wrote (``pairs[3].fidelity``), ``problem`` shows the value as plain Python (numpy
scalars and arrays through :func:`show`), ``allowed`` says what would be accepted. The errors are
:class:`FieldError`, a ``ValueError`` that also carries the three parts as attributes.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

import numpy as np

__all__ = [
    "FieldError",
    "check_choice",
    "check_flag",
    "check_integer",
    "check_number",
    "describe_range",
    "show",
]


class FieldError(ValueError):
    """A rejected input: ``"<field>: <problem> (allowed: <allowed>)"``."""

    def __init__(self, field: str, problem: str, allowed: str = "") -> None:
        message = f"{field}: {problem}" + (f" (allowed: {allowed})" if allowed else "")
        super().__init__(message)
        self.field, self.problem, self.allowed = field, problem, allowed


def show(value: Any) -> str:
    """``repr`` of ``value`` with numpy scalars and arrays written as plain Python values."""
    if isinstance(value, np.ndarray | np.generic):
        value = value.tolist()
    return repr(value)


def describe_range(
    low: float,
    high: float,
    *,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
) -> str:
    """``"a number in (0, 1]"``, ``"an integer >= 1"``, ``"a number < 5"``, ...; an infinite
    end is written as a one-sided bound (open or closed as given)."""
    what = "an integer" if integer else "a number"
    if math.isinf(low) and math.isinf(high):
        return what
    if math.isinf(high) and high_open:
        return f"{what} {'>' if low_open else '>='} {low:g}"
    if math.isinf(low) and low_open:
        return f"{what} {'<' if high_open else '<='} {high:g}"
    left, right = "(" if low_open else "[", ")" if high_open else "]"
    return f"{what} in {left}{low:g}, {high:g}{right}"


def check_number(
    field: str,
    value: Any,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a ``float`` if it is a real number (not a bool, not NaN) in the range.

    An infinite value passes only where the range includes it (``high=math.inf`` with
    ``high_open=False``)."""
    allowed = describe_range(low, high, low_open=low_open, high_open=high_open)
    if isinstance(value, bool | np.bool_) or not isinstance(
        value, int | float | np.integer | np.floating
    ):
        raise FieldError(field, f"{show(value)} is not a number", allowed)
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        number = math.inf if value > 0 else -math.inf
    if math.isnan(number):
        raise FieldError(field, "nan is not a number", allowed)
    too_low = number <= low if low_open else number < low
    too_high = number >= high if high_open else number > high
    if too_low or too_high:
        raise FieldError(field, f"{number:g} is out of range", allowed)
    return number


def check_integer(field: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as an ``int`` if it is an integer (not a bool) in ``[low, high]``."""
    allowed = describe_range(
        low, math.inf if high is None else high, high_open=high is None, integer=True
    )
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise FieldError(field, f"{show(value)} is not an integer", allowed)
    if value < low or (high is not None and value > high):
        raise FieldError(field, f"{show(value)} is out of range", allowed)
    return int(value)


def check_choice(field: str, value: Any, choices: Collection[Any]) -> Any:
    """``value`` if it is one of ``choices`` (compared with ``==``; unhashable values are
    rejected, not raised on)."""
    try:
        ok = value in choices
    except TypeError:
        ok = False
    if not ok:
        raise FieldError(field, f"got {show(value)}", f"one of {list(choices)}")
    return value


def check_flag(field: str, value: Any) -> bool:
    """``value`` if it is a ``bool`` (``True``/``False``, ``true``/``false`` in TOML)."""
    if not isinstance(value, bool | np.bool_):
        raise FieldError(field, f"got {show(value)}", "true or false")
    return bool(value)
