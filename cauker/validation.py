"""The checks of arguments and config fields, shared by every layer.

Each returns the value (normalised: a numpy integer becomes an ``int``) or
raises :class:`~cauker.errors.ParameterError` with one message shape, which
names the parameter, the bad value and what is allowed::

    length must be >= 2, got 1
    num_nodes must be in [1, 1024], got 0
    num_proc must be >= 1 or None, got 0
    multivariate must be True or False, got 'yes'
    format must be one of ['parquet', 'arrow', 'gluonts'], got 'csv'

Examples
--------
>>> from cauker.validation import check_int
>>> check_int("num_nodes", 18, 1, 1024)
18
>>> check_int("num_proc", None, 1, optional=True) is None
True
>>> check_int("num_nodes", 0, 1, 1024)
Traceback (most recent call last):
    ...
cauker.errors.ParameterError: num_nodes must be in [1, 1024], got 0
"""

from __future__ import annotations

from collections.abc import Collection
from numbers import Integral
from typing import Any

from cauker.errors import ParameterError


def check_int(
    name: str, value: Any, low: int | None = None, high: int | None = None, *, optional=False
) -> int | None:
    """``value`` as an ``int``, if it is an integer in ``[low, high]`` (either bound
    may be None: unbounded); None passes if ``optional``.

    Raises
    ------
    ParameterError
        If ``value`` is not an integer (``True`` and ``2.0`` are not), or out of bounds.

    Examples
    --------
    >>> import numpy as np
    >>> check_int("seed", np.int64(7), 0)
    7
    """
    if value is None and optional:
        return None
    or_none = " or None" if optional else ""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ParameterError(f"{name} must be an integer{or_none}, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        if high is None:
            allowed = f">= {low}"
        elif low is None:
            allowed = f"<= {high}"
        else:
            allowed = f"in [{low}, {high}]"
        raise ParameterError(f"{name} must be {allowed}{or_none}, got {value!r}")
    return int(value)


def check_bool(name: str, value: Any) -> bool:
    """``value`` if it is ``True`` or ``False`` (not 0, 1 or a string).

    Raises
    ------
    ParameterError
        If ``value`` is not a bool.
    """
    if not isinstance(value, bool):
        raise ParameterError(f"{name} must be True or False, got {value!r}")
    return value


def check_choice(name: str, value: Any, allowed: Collection) -> Any:
    """``value`` if it is one of ``allowed``.

    Raises
    ------
    ParameterError
        If it is not; the message lists ``allowed``.
    """
    try:
        known = value in allowed
    except TypeError:  # unhashable
        known = False
    if not known:
        raise ParameterError(f"{name} must be one of {list(allowed)}, got {value!r}")
    return value


def check_rows(
    split: str, size: int | None, start: Any, stop: Any, endless: str
) -> tuple[int, int]:
    """``(start, stop)``: rows ``[start, stop)`` of ``split``, a split of ``size`` rows
    (None: endless, and ``stop`` must be given; ``endless`` names such a corpus in
    the message). ``stop`` None is the end of the split.

    >>> check_rows("train", 10, 2, None, "an endless corpus")
    (2, 10)
    >>> check_rows("train", 10, 4, 11, "an endless corpus")
    Traceback (most recent call last):
        ...
    cauker.errors.ParameterError: rows [start, stop) = [4, 11) must satisfy 0 <= start <= stop <= 10 (the size of split 'train')
    """  # noqa: E501
    if stop is None:
        if size is None:
            raise ParameterError(f"stop must be given for split {split!r} of {endless}")
        stop = size
    start, stop = check_int("start", start), check_int("stop", stop)
    if not 0 <= start <= stop or (size is not None and stop > size):
        bound = "" if size is None else f" <= {size} (the size of split {split!r})"
        raise ParameterError(
            f"rows [start, stop) = [{start}, {stop}) must satisfy 0 <= start <= stop{bound}"
        )
    return start, stop
