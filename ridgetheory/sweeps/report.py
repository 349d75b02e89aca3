"""A sweep's outputs: the tidy table (Parquet and CSV), figures and ``sweep.md``, all atomic."""

from __future__ import annotations

import json
import math
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np

from .._files import atomic_write, atomic_write_text
from .spec import FigureSpec, SweepSpec

__all__ = ["quantities", "tidy_table", "write_outputs", "bootstrap_mean"]


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, Real) and math.isfinite(float(v)):
        return float(v)
    return None


def _scalar(value: Any) -> float | str | None:
    """A typed claim value (:mod:`ridgetheory.validate.values`) as one number, the text
    ``"undetermined"``, or None when it is not a scalar."""
    if not isinstance(value, dict):
        return None
    if value.get("type") in ("number", "boolean"):
        return float(value["value"])
    if value.get("type") == "undetermined":
        return "undetermined"
    return None


def quantities(record: dict[str, Any]) -> dict[str, Any]:
    """The scalar quantities of a point's record, by name.

    The experiment's summary scalars under their own names; per claim ``<claim>.passed``
    (1 or 0), ``<claim>.measured`` / ``<claim>.predicted`` when a number, and
    ``<claim>.measured.<key>`` for the scalar fields of a measured record; ``wall_s``. A value
    that is undetermined is kept as the text ``"undetermined"``."""
    out: dict[str, Any] = {}
    for k, v in (record.get("summary") or {}).items():
        out[k] = v
    for c in record.get("claims", []):
        name = c["name"]
        out[f"{name}.passed"] = 1.0 if c["passed"] else 0.0
        for part in ("measured", "predicted"):
            v = c.get(part) or {}
            if _scalar(v) is not None:
                out[f"{name}.{part}"] = _scalar(v)
            elif v.get("type") == "record":
                for k, x in v["fields"].items():
                    if _scalar(x) is not None:
                        out[f"{name}.{part}.{k}"] = _scalar(x)
    if record.get("wall_s") is not None:
        out["wall_s"] = float(record["wall_s"])
    return out


def _column(values: list[Any]) -> list[Any]:
    """A parameter column: numbers stay numbers when every value is one; otherwise text
    (inline arrays as JSON), so Parquet gets one type per column."""
    if all(_number(v) is not None and not isinstance(v, bool) for v in values):
        return [float(v) for v in values]
    return [v if isinstance(v, str) else json.dumps(v) for v in values]


def tidy_table(spec: SweepSpec, records: list[dict[str, Any]]):
    """One row per point and quantity (see :class:`ridgetheory.sweep.SweepResult`)."""
    import pandas as pd

    rows = []
    for r in records:
        base = {"point": r["key"], "seed": int(r["seed"]), **{k: r["values"].get(k)
                                                               for k in spec.parameters}}
        if r.get("error"):
            rows.append({**base, "quantity": "error", "value": None, "note": None,
                         "error": str(r["error"]).splitlines()[0]})
        q = quantities(r)
        if spec.quantities:
            q = {k: v for k, v in q.items() if k in spec.quantities}
        for name, v in q.items():
            num = _number(v)
            rows.append({**base, "quantity": name, "value": num,
                         "note": None if num is not None else str(v), "error": None})
    cols = ["point", "seed", *spec.parameters, "quantity", "value", "note", "error"]
    df = pd.DataFrame(rows, columns=cols)
    for k in spec.parameters:
        df[k] = _column(list(df[k]))
    df["value"] = df["value"].astype("float64")
    for k in ("note", "error", "point", "quantity"):
        df[k] = df[k].astype("string")
    return df


def bootstrap_mean(values: np.ndarray, n_boot: int = 2000, level: float = 0.95,
                   seed: int = 0) -> tuple[float, float, float]:
    """Mean and percentile-bootstrap interval of the mean (one value: the interval is it)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return (math.nan, math.nan, math.nan)
    if v.size == 1:
        return (float(v[0]),) * 3
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, v.size, (n_boot, v.size))].mean(axis=1)
    a = (1 - level) / 2
    return float(v.mean()), float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


def _order(values) -> list[Any]:
    vals = list(dict.fromkeys(values))
    try:
        return sorted(vals, key=float)
    except (TypeError, ValueError):
        return vals


def _restrict(df, where: dict[str, Any]):
    for k, v in where.items():
        if k in df.columns:
            df = df[df[k].astype(str) == str(float(v) if _number(v) is not None else v)] \
                if df[k].dtype.kind == "f" else df[df[k] == str(v)]
    return df


def _with_x(df, d, x: str):
    """``d`` (rows of one quantity) with column ``x``: a parameter already, or the value of
    quantity ``x`` at the same point."""
    if x in d.columns:
        return d
    q = df[df["quantity"] == x].set_index("point")["value"]
    d = d.copy()
    d[x] = d["point"].map(q).astype("float64")
    return d[np.isfinite(d[x].to_numpy(dtype=float))]


def _power(df, f: FigureSpec, path: Path) -> list[str]:
    """Fit ``log y = log c + b log x`` over every point with both values finite and > 0."""
    from ..plotting._base import pyplot

    plt = pyplot()
    ally = _restrict(df[df["quantity"] == f.y], f.where)
    d = _with_x(df, ally, f.x)
    x = d[f.x].to_numpy(dtype=float)
    y = d["value"].to_numpy(dtype=float)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    n_out = int(len(ally) - ok.sum())
    lines = [f"Power law `{f.y} = c {f.x}^b` on {int(ok.sum())} points"
             + (f" ({n_out} left out: {f.y} undetermined or not positive there)" if n_out
                else "") + ":", ""]
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    if ok.any():
        ax.loglog(x[ok], y[ok], "o", ms=4)
    if ok.sum() >= 3 and len(np.unique(x[ok])) >= 2:
        lx, ly = np.log(x[ok]), np.log(y[ok])
        b, a = np.polyfit(lx, ly, 1)
        rng = np.random.default_rng(0)
        boots = []
        for _ in range(2000):
            i = rng.integers(0, lx.size, lx.size)
            if len(np.unique(lx[i])) >= 2:
                boots.append(np.polyfit(lx[i], ly[i], 1)[0])
        lo, hi = np.quantile(boots, [0.025, 0.975])
        xs = np.geomspace(x[ok].min(), x[ok].max(), 50)
        ax.loglog(xs, np.exp(a) * xs ** b, "-", label=f"b = {b:.3g} [{lo:.3g}, {hi:.3g}]")
        ax.legend(fontsize=8)
        lines += ["| exponent b | 95% bootstrap interval | prefactor c | points |",
                  "| --- | --- | --- | --- |",
                  f"| {b:.4g} | [{lo:.4g}, {hi:.4g}] | {np.exp(a):.4g} | {int(ok.sum())} |"]
    else:
        lines += ["Too few points with both values determined to fit (needs 3, at two x)."]
    ax.set_xlabel(f.x)
    ax.set_ylabel(f.y)
    ax.set_title(f.title or f"{f.y} against {f.x}: power-law fit", fontsize=9)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100, format="png"))
    plt.close(fig)
    return lines


def _line(df, f: FigureSpec, path: Path) -> list[str]:
    from ..plotting._base import pyplot

    plt = pyplot()
    d = _with_x(df, _restrict(df[df["quantity"] == f.y], f.where), f.x)
    if not np.isfinite(d["value"].to_numpy(dtype=float)).any():
        return [f"No point has a numeric value of `{f.y}`"
                + (f" ({', '.join(sorted(set(d['note'].dropna())))})" if len(d) else "") + "."]
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    lines = [f"| {f.hue or '-'} | {f.x} | {f.y}: mean | 95% band | seeds |",
             "| --- | --- | --- | --- | --- |"]
    hues = _order(d[f.hue]) if f.hue else [None]
    for h in hues:
        dh = d if h is None else d[d[f.hue] == h]
        xs = _order(dh[f.x])
        stats = [bootstrap_mean(dh[dh[f.x] == x]["value"].to_numpy()) for x in xs]
        numeric = dh[f.x].dtype.kind == "f"
        pos = [float(x) for x in xs] if numeric else list(range(len(xs)))
        m = np.array([s[0] for s in stats])
        ax.plot(pos, m, marker="o", ms=3, label=None if h is None else f"{f.hue} = {h}")
        ax.fill_between(pos, [s[1] for s in stats], [s[2] for s in stats], alpha=0.2)
        if not numeric:
            ax.set_xticks(pos, [str(x) for x in xs])
        for x, s in zip(xs, stats, strict=True):
            n = int(np.isfinite(dh[dh[f.x] == x]["value"].to_numpy(dtype=float)).sum())
            lines.append(f"| {h if h is not None else '-'} | {x:g} | {s[0]:.4g} | "
                         f"[{s[1]:.4g}, {s[2]:.4g}] | {n} |" if numeric else
                         f"| {h if h is not None else '-'} | {x} | {s[0]:.4g} | "
                         f"[{s[1]:.4g}, {s[2]:.4g}] | {n} |")
    if f.log_x:
        ax.set_xscale("log")
    if f.log_y:
        ax.set_yscale("log")
    ax.set_xlabel(f.x)
    ax.set_ylabel(f.y)
    if f.hue:
        ax.legend(fontsize=8)
    ax.set_title(f.title or f"{f.y} against {f.x} (mean over seeds, 95% bootstrap band)",
                 fontsize=9)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100, format="png"))
    plt.close(fig)
    return lines


def _heatmap(df, f: FigureSpec, path: Path) -> list[str]:
    from ..plotting._base import pyplot

    plt = pyplot()
    d = _restrict(df[df["quantity"] == f.z], f.where)
    xs, ys = _order(d[f.x]), _order(d[f.y])
    grid = np.full((len(ys), len(xs)), np.nan)
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            v = d[(d[f.x] == x) & (d[f.y] == y)]["value"].to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            if v.size:
                grid[i, j] = v.mean()
    fig, ax = plt.subplots(figsize=(5.6, 4.0))
    finite = grid[np.isfinite(grid)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if hi <= lo:  # one value (or one cell): a colour scale needs two ends
        lo, hi = lo - 0.5 * (abs(lo) or 1.0), hi + 0.5 * (abs(hi) or 1.0)
    im = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis", vmin=lo, vmax=hi)
    ax.set_xticks(range(len(xs)), [f"{x:g}" if isinstance(x, float) else str(x) for x in xs])
    ax.set_yticks(range(len(ys)), [f"{y:g}" if isinstance(y, float) else str(y) for y in ys])
    for i in range(len(ys)):
        for j in range(len(xs)):
            if np.isfinite(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:.3g}", ha="center", va="center", fontsize=7,
                        color="w")
    fig.colorbar(im, ax=ax, label=f.z)
    ax.set_xlabel(f.x)
    ax.set_ylabel(f.y)
    ax.set_title(f.title or f"{f.z}: mean over seeds", fontsize=9)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100, format="png"))
    plt.close(fig)
    head = f"| {f.y} \\ {f.x} | " + " | ".join(str(x) for x in xs) + " |"
    lines = [head, "| --- |" + " --- |" * len(xs)]
    for i, y in enumerate(ys):
        cells = ["-" if not np.isfinite(v) else f"{v:.4g}" for v in grid[i]]
        lines.append(f"| {y} | " + " | ".join(cells) + " |")
    return lines


def write_outputs(spec: SweepSpec, records: list[dict[str, Any]], out: Path):
    """Write ``sweep.parquet``, ``sweep.csv``, ``sweep.json``, the figures and ``sweep.md``;
    returns the table."""
    out.mkdir(parents=True, exist_ok=True)
    df = tidy_table(spec, records)
    atomic_write(out / "sweep.parquet", lambda tmp: df.to_parquet(tmp, index=False))
    atomic_write(out / "sweep.csv", lambda tmp: df.to_csv(tmp, index=False))
    failed = [r for r in records if r.get("error")]
    md = [f"# Sweep {spec.name}", ""]
    if spec.description:
        md += [spec.description, ""]
    md += [f"Base experiment `{Path(spec.experiment).name}`; {len(records)} points "
           f"({len({r['seed'] for r in records})} seeds); "
           f"{'quick' if spec.quick else 'full'} sizes; "
           f"{sum(bool(r.get('cached')) for r in records)} from the cache; "
           f"{len(failed)} failed. Table: `sweep.parquet`, `sweep.csv` "
           f"({len(df)} rows).", ""]
    for i, f in enumerate(spec.figures):
        what = f.z if f.kind == "heatmap" else f.y
        name = f"sweep_{i}_{f.kind}_{what.replace('.', '_')}.png"
        draw = {"line": _line, "heatmap": _heatmap, "power": _power}[f.kind]
        try:
            lines = draw(df, f, out / name)
        except Exception as exc:  # a figure that cannot be drawn does not cost the table
            lines = [f"This figure could not be drawn: {type(exc).__name__}: {exc}"]
        md += [f"## {f.title or what}", "",
               f"![{name}]({name})", "", *lines, ""]
    if failed:
        md += ["## Failed points", "", "| point | seed | values | error |",
               "| --- | --- | --- | --- |"]
        md += [f"| {r['key']} | {r['seed']} | {json.dumps(r['values'])} | "
               f"{str(r['error']).splitlines()[0]} |" for r in failed]
        md.append("")
    atomic_write_text(out / "sweep.md", "\n".join(md))
    summary = {
        "name": spec.name, "experiment": spec.experiment, "quick": spec.quick,
        "parameters": spec.parameters, "n_points": len(records), "n_failed": len(failed),
        "points": [{"key": r["key"], "values": r["values"], "seed": r["seed"],
                    "wall_s": r.get("wall_s"), "cached": r.get("cached"),
                    "error": r.get("error")} for r in records],
    }
    from .. import __version__

    summary["version"] = __version__
    atomic_write_text(out / "sweep.json", json.dumps(summary, indent=2, default=str))
    return df
