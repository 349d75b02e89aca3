"""A sweep file, parsed strictly: a base experiment, the points over its parameters, figures.

::

    [sweep]
    experiment = "rf_three"            # a shipped experiment or a TOML path (relative to here)
    description = "..."
    seeds = [0, 1, 2]                  # every point runs once per seed
    quick = false                      # true: every point at its experiment's quick sizes

    [sweep.params]                     # set at every point (dotted keys or nested tables);
    n_samples = 4000                   # --quick still shrinks them with the [quick] table

    [[sweep.grid]]                     # a Cartesian product; several blocks are joined
    layout = ["3", "4.5", "5"]
    rf.p = [250, 500, 1000, 2000, 4000]

    [[sweep.points]]                   # or single points
    layout = "3"
    rf.tau = 100.0

    [[sweep.figures]]
    kind = "line"                      # a quantity against one parameter, bands over seeds
    x = "rf.p"
    y = "intermode_measured"
    hue = "layout"

Every point is validated against the experiment's declared parameters when the file is read,
so a typo fails before anything runs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._checks import RidgeTheoryError
from ..validate.claims import ExperimentConfig
from ..validate.runner import load_config, read_toml
from ..validate.schema import param, parse, plain

__all__ = ["SweepSpec", "Point", "FigureSpec", "load_sweep", "sweep_spec", "list_sweeps"]


@dataclass(frozen=True)
class FigureSpec:
    """``[[sweep.figures]]``: a line (``y`` against ``x``, one curve per ``hue``, bootstrap
    bands over seeds), a heatmap (mean of ``z`` over the ``x`` by ``y`` grid: a phase
    diagram) or a power law (``y = c x^b`` fitted on logs over every point, the exponent
    with a bootstrap interval). ``where`` fixes other parameters (``{layout = "3"}``)."""

    kind: str = param("line", "'line', 'heatmap' or 'power'",
                      choices=("line", "heatmap", "power"))
    x: str = param("", "horizontal axis: a swept parameter (dotted path), or for 'line' and "
                   "'power' a quantity")
    y: str = param("", "line: the quantity; heatmap: the parameter on the vertical axis")
    z: str = param("", "heatmap: the quantity")
    hue: str = param("", "line: the parameter that tells the curves apart")
    log_x: bool = param(False, "logarithmic horizontal axis")
    log_y: bool = param(False, "logarithmic vertical axis")
    title: str = param("", "figure title")
    where: dict = param({}, "fixed parameter values the figure is restricted to")


@dataclass(frozen=True)
class _SweepTable:
    experiment: str = param("", "the base experiment: a shipped name or a TOML path")
    description: str = param("", "what the sweep asks, one line")
    seeds: list[int] = param([0], "seeds; every point runs once per seed")
    quick: bool = param(False, "run every point at its experiment's quick sizes")
    params: dict = param({}, "parameters set at every point")
    grid: list[dict] = param([], "Cartesian products over parameters (each value a list)")
    points: list[dict] = param([], "single points (parameter -> value)")
    figures: list[dict] = param([], "figures of sweep.md")
    quantities: list[str] = param([], "quantities kept in the table (default: all)")


@dataclass(frozen=True)
class Point:
    """One run of the sweep: parameter values (dotted paths), a seed, and its cache key."""

    values: dict[str, Any]
    seed: int
    key: str
    config: ExperimentConfig = field(repr=False, compare=False)


@dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep: base experiment, points, figures (see the module docstring)."""

    name: str
    path: Path | None
    experiment: str
    description: str
    quick: bool
    points: list[Point]
    parameters: list[str]
    figures: list[FigureSpec]
    quantities: list[str]
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables as dotted keys (``{"rf": {"p": 5}}`` -> ``{"rf.p": 5}``)."""
    out: dict[str, Any] = {}
    for k, v in table.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, Mapping):
            out.update(_flatten(v, key))
        else:
            out[key] = v
    return out


def _version() -> str:
    from .. import __version__

    return __version__


def _file_digest(cfg: ExperimentConfig) -> str | None:
    """Content hash of a training-set file, so changed data is a new point."""
    layout = getattr(cfg.params, "layout", None)
    if isinstance(layout, str) and layout.strip().endswith((".npy", ".csv")):
        p = Path(layout.strip())
        p = p if p.is_absolute() else cfg.base_dir / p
        if p.is_file():
            return hashlib.sha256(p.read_bytes()).hexdigest()
    return None


def point_key(cfg: ExperimentConfig, seed: int) -> str:
    """Hash of everything that decides a point's result: kind, parsed parameters (defaults
    included), claims, seed, quick mode, data file content and the package version."""
    blob = {
        "kind": cfg.kind,
        "params": plain(cfg.params),
        "claims": {n: [c.expect, plain(c.settings)] for n, c in cfg.claims.items()},
        "seed": seed + cfg.seed,
        "quick": cfg.quick,
        "data": _file_digest(cfg),
        "version": _version(),
    }
    text = json.dumps(blob, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _effective(cfg: ExperimentConfig, path: str) -> Any:
    """The value the point runs with at a dotted path (set by the sweep or the default)."""
    node: Any = plain(cfg.params)
    for part in path.split("."):
        node = node[part]
    return node


def sweep_spec(
    raw: Mapping[str, Any],
    name: str = "sweep",
    *,
    path: Path | None = None,
    quick: bool | None = None,
) -> SweepSpec:
    """Validate a sweep given as a mapping (the ``[sweep]`` table and its sub-tables).

    ``quick`` overrides the file's ``quick`` when not None."""
    where = path.name if path else name
    for key in raw:
        if key != "sweep":
            raise RidgeTheoryError(f"unknown table `[{key}]` in {where}; a sweep file has one "
                                   "[sweep] table (with [sweep.params], [[sweep.grid]], "
                                   "[[sweep.points]], [[sweep.figures]]).")
    t = parse(_SweepTable, raw.get("sweep", {}), where, "sweep")
    if not t.experiment:
        raise RidgeTheoryError(f"`sweep.experiment` in {where} must name the base experiment "
                               "(a shipped name or a TOML path).")
    if not t.seeds or len(set(t.seeds)) != len(t.seeds) or min(t.seeds) < 0:
        raise RidgeTheoryError(f"`sweep.seeds` in {where} must be distinct integers >= 0; got "
                               f"{t.seeds}.")
    base = t.experiment
    if base.endswith(".toml") and not Path(base).is_absolute():
        base = str((path.parent if path else Path.cwd()) / base)
    is_quick = t.quick if quick is None else bool(quick)
    fixed = _flatten(t.params)
    combos: list[dict[str, Any]] = []
    for i, block in enumerate(t.grid):
        axes = _flatten(block)
        for k, v in axes.items():
            if not isinstance(v, list) or not v:
                raise RidgeTheoryError(
                    f"`sweep.grid[{i}].{k}` in {where} must be a non-empty list of values; got "
                    f"{v!r}.")
        keys = list(axes)
        combos += [dict(zip(keys, vals, strict=True)) for vals in
                   itertools.product(*(axes[k] for k in keys))]
    combos += [_flatten(pt) for pt in t.points]
    if not combos:
        combos = [{}]
    for c in combos:
        if "seed" in c:
            raise RidgeTheoryError(f"{where}: `seed` is not a parameter; list seeds in "
                                   "`sweep.seeds`.")
    parameters = sorted({k for c in combos for k in c})
    points, seen = [], set()
    for c in combos:
        try:
            cfg = load_config(base, is_quick, overrides=c, presets=fixed)
        except RidgeTheoryError as exc:
            raise RidgeTheoryError(f"{where}, point {c}: {exc}") from None
        for s in t.seeds:
            key = point_key(cfg, s)
            if key in seen:  # the same run listed twice (overlapping grids)
                continue
            seen.add(key)
            points.append(Point({k: _effective(cfg, k) for k in parameters}, s, key, cfg))
    figures = [parse(FigureSpec, f, where, f"sweep.figures[{i}]") for i, f in
               enumerate(t.figures)]
    for i, f in enumerate(figures):
        # a line's or power law's x may be a quantity (known only once the points ran)
        axes = [f.hue] + ([f.x, f.y] if f.kind == "heatmap" else [])
        for a in axes:
            if a and a not in parameters and a != "seed":
                raise RidgeTheoryError(
                    f"`sweep.figures[{i}]` in {where} names the parameter {a!r}, which the "
                    f"sweep does not vary (it varies {', '.join(parameters) or 'nothing'}).")
        if not f.x or not (f.y if f.kind != "heatmap" else (f.y and f.z)):
            raise RidgeTheoryError(
                f"`sweep.figures[{i}]` in {where}: a line or power law needs `x` and `y`, a "
                "heatmap `x`, `y` and `z`.")
    return SweepSpec(name=name, path=path, experiment=base, description=t.description,
                     quick=is_quick, points=points, parameters=parameters, figures=figures,
                     quantities=list(t.quantities), raw=dict(raw))


def shipped_dir() -> Path:
    """Where the shipped sweeps are (``validation/sweeps`` in the source tree)."""
    from ..validate.runner import config_dir

    return config_dir() / "sweeps"


def list_sweeps() -> list[str]:
    """Names of the shipped sweeps (files with a [sweep] table)."""
    return sorted(p.stem for p in shipped_dir().glob("*.toml")
                  if "[sweep]" in p.read_text(encoding="utf-8"))


def load_sweep(path: str | os.PathLike, *, quick: bool | None = None) -> SweepSpec:
    """Read and validate a sweep file (TOML; see the module docstring), or a shipped sweep by
    name (:func:`list_sweeps`).

    Raises
    ------
    RidgeTheoryError
        Malformed TOML (line and column), an unknown key, or a point whose parameters the
        base experiment does not accept (the key and what was expected).
    """
    p = Path(path)
    if not p.is_file() and p.suffix != ".toml":
        p = shipped_dir() / f"{path}.toml"  # a shipped sweep by name
    if not p.is_file():
        names = ", ".join(list_sweeps())
        raise RidgeTheoryError(f"`SWEEP` must be a sweep TOML file or a shipped sweep ({names}); "
                               f"got {str(path)!r}.")
    return sweep_spec(read_toml(p, "sweep file"), p.stem, path=p.resolve(), quick=quick)
