"""Argument checks at the public boundary.

Every public function validates its input with these helpers so that every message reads
alike: which argument, of which function, what was expected, what came in. Example::

    `t` passed to SmoothedEmpirical.score must be finite and > 0; got -0.1.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "RidgeTheoryError",
    "PredictionWarning",
    "RidgeWarning",
    "check_array",
    "check_points",
    "check_times",
    "check_scalar",
    "check_int",
    "check_choice",
    "check_dtype",
    "check_seed",
]


class PredictionWarning(UserWarning):
    """A prediction excluded members; the counts are in the message and on the result.

    Members are excluded where their frame is undetermined or their projection does not
    converge (see ``SlidePrediction.excluded`` and ``AlignPrediction.meta["excluded"]``)."""


class RidgeWarning(UserWarning):
    """A ridge set or traced curve is incomplete; the counts are in the message and on the result.

    Walkers ran out of their update budget (``RidgeSet.dropped``, ``RidgeSet.n_unconverged``,
    ``RidgeTrace.n_unconverged``; raise ``max_iter`` or loosen ``tol``), or a d = 0 set holds
    no mode although every density has one."""


class RidgeTheoryError(ValueError):
    """The one exception of the package for bad arguments (a ``ValueError``)."""


def _show(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fail(name: str, where: str, expected: str, got: Any) -> RidgeTheoryError:
    return RidgeTheoryError(f"`{name}` passed to {where} must be {expected}; got {got}.")


def _first_bad(arr: np.ndarray) -> str:
    flat = arr.reshape(-1)
    idx = int(np.flatnonzero(~np.isfinite(flat))[0])
    pos = np.unravel_index(idx, arr.shape) if arr.ndim else ()
    return f"{flat[idx]} at index {tuple(int(i) for i in pos)}"


def check_array(
    value: Any,
    name: str,
    where: str,
    *,
    ndim: int | Iterable[int] | None = None,
    dtype: np.dtype | type = np.float64,
    finite: bool = True,
    min_rows: int = 0,
) -> np.ndarray:
    """Return ``value`` as a floating array after checking rank and finiteness.

    Integers and floats of any width are accepted and converted to ``dtype`` (float64 by
    default; integers beyond 2**53 round, and a float32 object narrows float64 input);
    complex, boolean, object and string input is rejected rather than coerced.
    """
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":
        raise _fail(name, where, "a real numeric array", f"dtype {arr.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            ranks = " or ".join(str(k) for k in allowed)
            raise _fail(name, where, f"an array of rank {ranks}", f"shape {arr.shape}")
    if min_rows and (arr.ndim == 0 or arr.shape[0] < min_rows):
        raise _fail(name, where, f"non-empty (at least {min_rows} row)", f"shape {arr.shape}")
    arr = arr.astype(dtype, copy=False)
    if arr.ndim and not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)
    # The sum is one cheap pass; only a bad sum pays for the element-wise search.
    if finite and arr.size and not np.isfinite(arr.sum(dtype=np.float64)):
        if not np.all(np.isfinite(arr)):
            raise _fail(name, where, "finite (no NaN or inf)", _first_bad(arr))
    return arr


def check_points(
    x: Any, name: str, where: str, dim: int, dtype: np.dtype | type = np.float64
) -> tuple[np.ndarray, bool]:
    """Return query points as an (M, D) array and whether the input was a single (D,) point."""
    arr = check_array(x, name, where, ndim=(1, 2), dtype=dtype)
    single = arr.ndim == 1
    arr2 = arr[None, :] if single else arr
    if arr2.shape[1] != dim:
        raise _fail(
            name,
            where,
            f"of shape (M, {dim}) or ({dim},) to match the data dimension",
            f"shape {arr.shape}",
        )
    return arr2, single


def check_times(
    t: Any,
    name: str,
    where: str,
    m: int,
    single: bool,
    dtype: np.dtype | type = np.float64,
    *,
    positive: bool = True,
) -> np.ndarray:
    """Return times as an (M,) array for ``m`` query points.

    A scalar is repeated; an array must have shape (M,) and the points must then be (M, D):
    nothing is broadcast silently.
    """
    arr = check_array(t, name, where, ndim=(0, 1), dtype=np.float64)
    if arr.ndim == 1:
        if single:
            raise _fail(name, where, "a scalar when x is a single (D,) point", f"shape {arr.shape}")
        if arr.shape[0] != m:
            raise _fail(
                name, where, f"a scalar or of shape ({m},) to match x", f"shape {arr.shape}"
            )
    if positive and arr.size and np.any(arr <= 0):
        bad = arr.reshape(-1)[np.argmax(arr.reshape(-1) <= 0)]
        raise _fail(name, where, "finite and > 0", f"{_show(float(bad))}")
    return np.broadcast_to(arr, (m,)).astype(dtype)


def check_scalar(
    value: Any,
    name: str,
    where: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_inf: bool = False,
) -> float:
    """Return a real scalar after a range check (the bounds are stated in the message)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        if not (isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf"):
            raise _fail(name, where, "a real number", _show(value))
    v = float(value)
    if np.isnan(v) or (np.isinf(v) and not allow_inf):
        raise _fail(name, where, "a finite real number", _show(value))
    parts = []
    if low is not None:
        parts.append(f"> {low}" if low_open else f">= {low}")
    if high is not None:
        parts.append(f"< {high}" if high_open else f"<= {high}")
    bad = (low is not None and (v <= low if low_open else v < low)) or (
        high is not None and (v >= high if high_open else v > high)
    )
    if bad:
        raise _fail(name, where, " and ".join(parts), _show(value))
    return v


def check_int(
    value: Any, name: str, where: str, *, low: int | None = None, high: int | None = None
) -> int:
    """Return an integer (bool and float are rejected, not truncated)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise _fail(name, where, "an integer", _show(value))
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        lo = "-inf" if low is None else str(low)
        hi = "inf" if high is None else str(high)
        raise _fail(name, where, f"an integer in [{lo}, {hi}]", v)
    return v


def check_choice(value: Any, name: str, where: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        listed = ", ".join(repr(c) for c in options)
        raise _fail(name, where, f"one of {listed}", _show(value))
    return value


def check_dtype(value: Any, where: str) -> np.dtype:
    """Return float32 or float64; any other dtype is an error."""
    try:
        dt = np.dtype(value)
    except TypeError as exc:
        raise _fail("dtype", where, "numpy.float64 or numpy.float32", _show(value)) from exc
    if dt not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise _fail("dtype", where, "numpy.float64 or numpy.float32", str(dt))
    return dt


def check_seed(value: Any, where: str, name: str = "seed") -> int:
    """Return a non-negative integer seed below 2**63 (explicit seeds only)."""
    return check_int(value, name, where, low=0, high=2**63 - 1)
