"""Parameters declared once: frozen dataclasses whose fields carry type, default, bounds and doc.

Every experiment kind and every claim declares its settings as a frozen dataclass built with
:func:`param` (a value) and :func:`table` (a nested TOML table). From that one declaration come

* the strict parsing of a config (:func:`parse`): unknown keys are errors naming the closest
  valid key, wrong types and out-of-range values name the key and what was expected;
* the defaults recorded in ``report.json`` (:func:`plain` of the parsed instance);
* the parameter tables of ``docs/parameters.md`` (:func:`markdown_table`).

Example::

    @dataclass(frozen=True)
    class Settings:
        factor: float = param(2.0, "allowed ratio of measured to predicted", low=1.0)

    parse(Settings, {"factr": 3}, "`claims.x` in a.toml")
    # RidgeTheoryError: unknown key `claims.x.factr` in a.toml; did you mean `factor`? ...
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field
from typing import Any, Literal, Union

from .._checks import RidgeTheoryError

__all__ = [
    "param",
    "table",
    "parse",
    "plain",
    "merge",
    "ParamInfo",
    "describe",
    "markdown_table",
    "PointsValue",
]


class PointsValue:
    """Type marker of a training-set value: a layout name or call, a file, or an inline array
    (resolved by :func:`ridgetheory.experiments.layouts.resolve`)."""


def param(
    default: Any,
    doc: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    choices: tuple[str, ...] | None = None,
) -> Any:
    """A declared value: ``default``, a one-line ``doc``, optional numeric bounds and, for
    strings, the allowed ``choices`` (pass the package's own registry, for example
    ``tuple(SCHEMES)``, so the choices are stated once). Lists are ``list[...]`` annotations
    (mutable defaults are copied per instance)."""
    meta = {"doc": doc, "low": low, "high": high, "low_open": low_open, "high_open": high_open,
            "choices": None if choices is None else tuple(choices)}
    if isinstance(default, (list, dict)):
        frozen = copy.deepcopy(default)
        return field(default_factory=lambda: copy.deepcopy(frozen), metadata=meta)
    return field(default=default, metadata=meta)


def table(cls: type, doc: str) -> Any:
    """A nested TOML table declared by the frozen dataclass ``cls``."""
    return field(default_factory=cls, metadata={"doc": doc, "table": True})


@dataclass(frozen=True)
class ParamInfo:
    """One declared parameter, as the docs and error messages describe it."""

    path: str
    type: str
    default: Any
    doc: str


# -- type descriptions and checks ------------------------------------------------------------
def _args(tp: Any) -> tuple[Any, ...]:
    return typing.get_args(tp)


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (Union, types.UnionType)


def _expected(tp: Any, meta: Mapping[str, Any]) -> str:
    """What a value of annotation ``tp`` (with the field's bounds) must be, in words."""
    if _is_union(tp):
        parts = [_expected(a, meta) for a in _args(tp) if a is not type(None)]
        text = " or ".join(parts)
        return text + (" (or omitted)" if type(None) in _args(tp) else "")
    if typing.get_origin(tp) is Literal:
        return "one of " + ", ".join(repr(a) for a in _args(tp))
    if typing.get_origin(tp) is list:
        return f"a list of {_plural(_args(tp)[0], meta)}"
    if tp is PointsValue:
        return ("a layout name or call such as 'ring(6, 3.0)', a .npy/.csv file, or an inline "
                "array of points")
    if tp is bool:
        return "true or false"
    if tp is dict:
        return "a table"
    if tp is str and meta.get("choices"):
        return "one of " + ", ".join(repr(c) for c in meta["choices"])
    base = {int: "an integer", float: "a number", str: "a string"}.get(tp, getattr(tp, "__name__",
                                                                                   str(tp)))
    return base + _bounds(meta)


def _plural(tp: Any, meta: Mapping[str, Any]) -> str:
    if typing.get_origin(tp) is Literal:
        return "values in " + ", ".join(repr(a) for a in _args(tp))
    if typing.get_origin(tp) is list:
        return "lists"
    if tp is str and meta.get("choices"):
        return "values in " + ", ".join(repr(c) for c in meta["choices"])
    return {int: "integers", float: "numbers", str: "strings", dict: "tables"}.get(tp, str(tp))


def _bounds(meta: Mapping[str, Any]) -> str:
    out = []
    if meta.get("low") is not None:
        out.append(f"{'>' if meta.get('low_open') else '>='} {meta['low']:g}")
    if meta.get("high") is not None:
        out.append(f"{'<' if meta.get('high_open') else '<='} {meta['high']:g}")
    return (" " + " and ".join(out)) if out else ""


_NO = object()


def _coerce(value: Any, tp: Any, meta: Mapping[str, Any]) -> Any:
    """``value`` as annotation ``tp`` wants it, or ``_NO``. Only lossless widenings: an integer
    for a float; TOML has no other ambiguity."""
    if _is_union(tp):
        for a in _args(tp):
            if a is type(None):
                if value is None:
                    return None
                continue
            out = _coerce(value, a, meta)
            if out is not _NO:
                return out
        return _NO
    if typing.get_origin(tp) is Literal:
        return value if any(value == a and type(value) is type(a) for a in _args(tp)) else _NO
    if typing.get_origin(tp) is list:
        if not isinstance(value, list):
            return _NO
        items = [_coerce(v, _args(tp)[0], meta) for v in value]
        return _NO if any(v is _NO for v in items) else items
    if tp is PointsValue:
        return value if isinstance(value, (str, list)) else _NO
    if tp is bool:
        return value if isinstance(value, bool) else _NO
    if tp is dict:
        return dict(value) if isinstance(value, Mapping) else _NO
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return _NO
        return value if _in_bounds(value, meta) else _NO
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return _NO
        v = float(value)
        return v if math.isfinite(v) and _in_bounds(v, meta) else _NO
    if tp is str:
        if not isinstance(value, str):
            return _NO
        return value if not meta.get("choices") or value in meta["choices"] else _NO
    return _NO


def _in_bounds(v: float, meta: Mapping[str, Any]) -> bool:
    lo, hi = meta.get("low"), meta.get("high")
    if lo is not None and (v <= lo if meta.get("low_open") else v < lo):
        return False
    return not (hi is not None and (v >= hi if meta.get("high_open") else v > hi))


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _hints(cls: type) -> dict[str, Any]:
    import sys

    return typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))


def parse(cls: type, mapping: Mapping[str, Any] | None, where: str, prefix: str = "") -> Any:
    """An instance of the frozen dataclass ``cls`` from a TOML table, strictly.

    Parameters
    ----------
    cls : dataclass type
        The declaration (fields built with :func:`param` and :func:`table`).
    mapping : mapping or None
        The table as parsed from TOML (None: every default).
    where : str
        Where the table comes from, for messages (for example ``"rf_three.toml
        (experiment kind 'synthetic')"``).
    prefix : str
        Dotted path of the table (``"params"``, ``"claims.inside_tube"``).

    Raises
    ------
    RidgeTheoryError
        An unknown key (with the closest valid key), a wrong type or an out-of-range value.
    """
    mapping = {} if mapping is None else mapping
    if not isinstance(mapping, Mapping):
        raise RidgeTheoryError(f"`{prefix}` in {where} must be a table; got {_show(mapping)}.")
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in mapping:
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1, cutoff=0.5)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            raise RidgeTheoryError(
                f"unknown key `{_join(prefix, key)}` in {where}{hint} Valid keys: "
                f"{', '.join(fields)}.")
    values = {}
    for name, f in fields.items():
        if name not in mapping:
            continue
        path = _join(prefix, name)
        if f.metadata.get("table"):
            values[name] = parse(hints[name], mapping[name], where, path)
            continue
        out = _coerce(mapping[name], hints[name], f.metadata)
        if out is _NO:
            raise RidgeTheoryError(
                f"`{path}` in {where} must be {_expected(hints[name], f.metadata)}; got "
                f"{_show(mapping[name])}.")
        values[name] = out
    return cls(**values)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def plain(obj: Any) -> dict[str, Any]:
    """A parsed declaration as plain, JSON-ready dicts (what ``report.json`` records)."""
    return dataclasses.asdict(obj)


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``over``, tables merged key by key (so [quick.rf] keeps [params.rf])."""
    out = dict(base)
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), Mapping) \
            else v
    return out


def describe(cls: type, prefix: str = "") -> list[ParamInfo]:
    """Every parameter of a declaration, nested tables flattened to dotted paths."""
    hints = _hints(cls)
    rows = []
    for f in dataclasses.fields(cls):
        path = _join(prefix, f.name)
        if f.metadata.get("table"):
            rows += describe(hints[f.name], path)
            continue
        default = f.default if f.default is not MISSING else f.default_factory()
        rows.append(ParamInfo(path, _expected(hints[f.name], f.metadata), default,
                              f.metadata.get("doc", "")))
    return rows


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


def markdown_table(cls: type, prefix: str = "") -> str:
    """The docs table of a declaration: key, expected value, default, meaning."""
    lines = ["| key | expected | default | meaning |", "| --- | --- | --- | --- |"]
    for r in describe(cls, prefix):
        lines.append(f"| `{r.path}` | {r.type} | `{_toml(r.default)}` | {r.doc} |")
    return "\n".join(lines) + "\n"
