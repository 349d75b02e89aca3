"""Typed values of a claim: what ``predicted``, ``measured`` and ``tolerance`` hold in a report.

A claim check returns Python values (numbers, arrays, dicts, :class:`Interval`,
:class:`Undetermined`); :func:`typed` turns them into the JSON records of ``report.json``,
each with a ``type``:

=================  ===========================================================================
``number``         ``{"type": "number", "value": 0.93}`` (always finite)
``numbers``        ``{"type": "numbers", "values": [1.0, null, 2.5], "undetermined": 1}``:
                   a 1-D list; a non-finite entry is ``null`` and counted
``interval``       ``{"type": "interval", "low": 0.95, "high": null, "low_open": false,
                   "high_open": false}``: ``null`` is unbounded
``record``         ``{"type": "record", "fields": {"fraction": {...}, ...}}``
``list``           ``{"type": "list", "items": [{...}, ...]}``: a list of records
``boolean``        ``{"type": "boolean", "value": true}``
``text``           ``{"type": "text", "value": "ReLU"}``: a label inside a record
``undetermined``   ``{"type": "undetermined", "reason": "not finite (nan)"}``
``none``           ``{"type": "none"}``: the claim has no such value
=================  ===========================================================================

The phrase a person reads ("share memorized >= 0.95") is the claim's ``text``, never a value.
:func:`untyped` turns a typed value back into plain Python; :func:`leaves` flattens it to
``{path: number}``, what ``ridgetheory compare`` and the sweep tables read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np

__all__ = [
    "Interval",
    "Undetermined",
    "above",
    "at_least",
    "at_most",
    "below",
    "between",
    "leaves",
    "summarize",
    "typed",
    "untyped",
]


@dataclass(frozen=True)
class Interval:
    """A set of accepted values ``[low, high]``; ``None`` is unbounded, ``*_open`` excludes
    the end."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, x: float) -> bool:
        if self.low is not None and (x < self.low or (self.low_open and x == self.low)):
            return False
        return not (self.high is not None
                    and (x > self.high or (self.high_open and x == self.high)))


def at_least(x: float) -> Interval:
    return Interval(low=float(x))


def above(x: float) -> Interval:
    return Interval(low=float(x), low_open=True)


def at_most(x: float) -> Interval:
    return Interval(high=float(x))


def below(x: float) -> Interval:
    return Interval(high=float(x), high_open=True)


def between(low: float, high: float) -> Interval:
    return Interval(low=float(low), high=float(high))


@dataclass(frozen=True)
class Undetermined:
    """A value that could not be determined, and why (instead of NaN)."""

    reason: str


def _finite(x: float) -> dict[str, Any]:
    if math.isfinite(x):
        return {"type": "number", "value": x}
    return {"type": "undetermined", "reason": f"not finite ({x})"}


#: the keys of each typed form (``numbers`` may add ``undetermined``)
_KEYS = {"number": {"value"}, "numbers": {"values"}, "interval": {"low", "high", "low_open",
         "high_open"}, "record": {"fields"}, "list": {"items"}, "boolean": {"value"},
         "text": {"value"}, "undetermined": {"reason"}, "none": set()}


def _is_typed(value: Any) -> bool:
    """Whether ``value`` already is a typed record (read back from a report), not a plain dict
    that happens to have a ``type`` key."""
    if not isinstance(value, Mapping) or not isinstance(value.get("type"), str) \
            or value["type"] not in _KEYS:
        return False
    keys = set(value) - {"type"}
    want = _KEYS[value["type"]]
    return keys == want or (value["type"] == "numbers" and keys == want | {"undetermined"})


def typed(value: Any) -> dict[str, Any]:
    """The typed JSON record of a claim value (see the module docstring).

    Raises
    ------
    TypeError
        For a value with no typed form (a claim check returned something unexpected).
    """
    if _is_typed(value):
        return dict(value)  # already typed (a report read back)
    if value is None:
        return {"type": "none"}
    if isinstance(value, (bool, np.bool_)):
        return {"type": "boolean", "value": bool(value)}
    if isinstance(value, Real | np.number) and not isinstance(value, complex):
        return _finite(float(value))
    if isinstance(value, Interval):
        for end in (value.low, value.high):
            if end is not None and not math.isfinite(end):
                raise TypeError(f"interval ends must be finite or None; got {value}")
        return {"type": "interval", "low": value.low, "high": value.high,
                "low_open": value.low_open, "high_open": value.high_open}
    if isinstance(value, Undetermined):
        return {"type": "undetermined", "reason": value.reason}
    if isinstance(value, str):
        return {"type": "text", "value": value}
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return typed(value.item())
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"no typed form for a claim value of type {type(value).__name__}")
    if isinstance(value, Mapping):
        return {"type": "record", "fields": {str(k): typed(v) for k, v in value.items()}}
    if isinstance(value, np.ndarray) or isinstance(value, Sequence):
        arr = value if isinstance(value, np.ndarray) else None
        items = list(value)
        # an empty sequence is an empty list of numbers
        flat = (arr.ndim == 1 and arr.dtype.kind in "fiu") if arr is not None else all(
            isinstance(x, Real | np.number) and not isinstance(x, bool | np.bool_)
            for x in items)
        if flat:
            vals = [float(x) for x in items]
            out: dict[str, Any] = {"type": "numbers",
                                   "values": [v if math.isfinite(v) else None for v in vals]}
            bad = sum(not math.isfinite(v) for v in vals)
            if bad:
                out["undetermined"] = bad
            return out
        return {"type": "list", "items": [typed(x) for x in items]}
    raise TypeError(f"no typed form for a claim value of type {type(value).__name__}: {value!r}")


def leaves(value: Mapping[str, Any], prefix: str = "") -> dict[str, float | str]:
    """``{path: number}`` of a typed value's numbers (interval ends as ``.low``/``.high``, list
    entries as ``.0``, ``.1`` ...); undetermined values as the text ``"undetermined"``."""
    kind = value.get("type")
    out: dict[str, float | str] = {}

    def key(k: str) -> str:
        return f"{prefix}.{k}" if prefix else k

    if kind in ("number", "boolean"):
        out[prefix] = float(value["value"])
    elif kind == "undetermined":
        out[prefix] = "undetermined"
    elif kind == "numbers":
        for i, v in enumerate(value["values"]):
            out[key(str(i))] = "undetermined" if v is None else float(v)
    elif kind == "interval":
        for end in ("low", "high"):
            if value[end] is not None:
                out[key(end)] = float(value[end])
    elif kind == "record":
        for k, v in value["fields"].items():
            out.update(leaves(v, key(k)))
    elif kind == "list":
        for i, v in enumerate(value["items"]):
            out.update(leaves(v, key(str(i))))
    return out


def untyped(value: Mapping[str, Any]) -> Any:
    """A typed value back as plain Python, for scripts that read ``report.json``: numbers as
    floats, lists as lists (``None`` where undetermined), records as dicts, intervals as
    :class:`Interval`, undetermined values as :class:`Undetermined`, ``none`` as None.

    >>> untyped({"type": "record", "fields": {"n": {"type": "number", "value": 3.0}}})
    {'n': 3.0}
    """
    kind = value.get("type")
    if kind in ("number", "boolean", "text"):
        return value["value"]
    if kind == "numbers":
        return list(value["values"])
    if kind == "interval":
        return Interval(value["low"], value["high"], value["low_open"], value["high_open"])
    if kind == "record":
        return {k: untyped(v) for k, v in value["fields"].items()}
    if kind == "list":
        return [untyped(v) for v in value["items"]]
    if kind == "undetermined":
        return Undetermined(value["reason"])
    if kind == "none":
        return None
    raise TypeError(f"not a typed claim value: {value!r}")


def _g(x: float) -> str:
    return f"{x:.4g}"


def summarize(value: Mapping[str, Any], width: int = 60) -> str:
    """A typed value as a person reads it in a table: numbers to 4 significant digits, lists
    as ``n = …, first … last, median, max``, records as ``key = value`` pairs (cut at
    ``width`` characters); the full value stays in ``report.json``."""
    kind = value.get("type")
    if kind == "number":
        s = _g(value["value"])
    elif kind == "boolean":
        s = "yes" if value["value"] else "no"
    elif kind == "text":
        s = str(value["value"])
    elif kind == "none":
        s = "–"
    elif kind == "undetermined":
        s = f"undetermined ({value['reason']})"
    elif kind == "interval":
        lo, hi = value["low"], value["high"]
        if hi is None:
            s = f"{'>' if value['low_open'] else '≥'} {_g(lo)}"
        elif lo is None:
            s = f"{'<' if value['high_open'] else '≤'} {_g(hi)}"
        else:
            s = (f"{'(' if value['low_open'] else '['}{_g(lo)}, {_g(hi)}"
                 f"{')' if value['high_open'] else ']'}")
    elif kind == "numbers":
        vals = [v for v in value["values"] if v is not None]
        if len(value["values"]) <= 4:
            s = "[" + ", ".join("–" if v is None else _g(v) for v in value["values"]) + "]"
        else:
            s = (f"n = {len(value['values'])}: {_g(vals[0])} … {_g(vals[-1])}, median "
                 f"{_g(float(np.median(vals)))}, max {_g(max(vals))}") if vals else "none finite"
        if value.get("undetermined"):
            s += f" ({value['undetermined']} undetermined)"
    elif kind == "record":
        parts = [f"{k} = {summarize(v, width)}" for k, v in value["fields"].items()
                 if v.get("type") in ("number", "boolean", "text", "undetermined", "interval")]
        rest = len(value["fields"]) - len(parts)
        s = ", ".join(parts) + (f" (+{rest} more)" if rest else "")
    elif kind == "list":
        s = f"{len(value['items'])} entries"
    else:
        s = str(value)
    return s if len(s) <= width else s[: width - 1] + "…"
