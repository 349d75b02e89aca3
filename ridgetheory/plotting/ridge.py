"""Ridge figures: a 2-D ridge family over a density heat map, and the two-mode figure
(theory.md sections 2 and 7; matplotlib, Agg backend, PNG)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._checks import RidgeTheoryError, check_array, check_scalar
from ..ridge.sets import RidgeCurve, RidgeSet
from ._base import pyplot

__all__ = ["plot_ridge_2d", "two_mode_figure"]


def _layers(ridges: Any, t: float | None) -> list[tuple[float | None, Any]]:
    """Normalise the accepted ridge inputs to a list of (time, RidgeSet | list of curves)."""
    if isinstance(ridges, Mapping):
        return [(float(k), v) for k, v in ridges.items()]
    if isinstance(ridges, RidgeSet):
        return [(ridges.t, ridges)]
    if isinstance(ridges, RidgeCurve):
        return [(ridges.t, [ridges])]
    if isinstance(ridges, Sequence) and all(isinstance(c, RidgeCurve) for c in ridges):
        return [(t if not ridges else ridges[0].t, list(ridges))]
    raise RidgeTheoryError(
        "`ridges` passed to plot_ridge_2d must be a RidgeSet, a RidgeCurve, a list of "
        f"RidgeCurve or a dict of time to those; got {type(ridges).__name__}.")


def plot_ridge_2d(density: Any, ridges: Any, t: float, path: str | os.PathLike,
                  samples: Any = None, *, bounds: Any = None, resolution: int = 200,
                  title: str | None = None, dpi: int = 120) -> str:
    """Draw ridge points or curves over a heat map of ``log p_t`` and save a PNG.

    Parameters
    ----------
    density : AbstractDensity with dim 2
        Its ``log_prob`` gives the heat map; ``density.data`` (if any) is drawn as the
        training points, scaled by ``a_t``.
    ridges : RidgeSet, RidgeCurve, list of RidgeCurve, or dict of float to those
        A dict draws a family over time (one colour per time).
    t : float, > 0
        Time of the heat map.
    path : str or path-like
        Output PNG file.
    samples : array of shape (M, 2), optional
        Extra points (e.g. sampler output) drawn on top.
    bounds : array of shape (2, 2), optional
        Plot box ``[[xmin, xmax], [ymin, ymax]]``; default: around the data and ridges.
    resolution : int, default=200
        Heat-map grid points per axis.
    title : str, optional
    dpi : int, default=120

    Returns
    -------
    str
        The path written.
    """
    plt = pyplot()

    where = "plot_ridge_2d"
    if getattr(density, "dim", None) != 2:
        raise RidgeTheoryError(f"`density` passed to {where} must be 2-D; got dim "
                               f"{getattr(density, 'dim', None)}.")
    t = check_scalar(t, "t", where, low=0.0, low_open=True)
    layers = _layers(ridges, t)
    a = float(density.process.alpha(np.array([t]))[0])
    data = getattr(density, "data", None)
    pts = [np.asarray(data) * a] if data is not None else []
    for _, r in layers:
        pts += [r.points] if isinstance(r, RidgeSet) else [c.points for c in r]
    if samples is not None:
        samples = check_array(samples, "samples", where, ndim=2)
        pts.append(samples)
    if bounds is None:
        nonempty = [p for p in pts if len(p)]
        allp = np.vstack(nonempty) if nonempty else np.zeros((1, 2))
        lo, hi = allp.min(axis=0), allp.max(axis=0)
        pad = 0.15 * max(float(np.max(hi - lo)), 1.0)
        bounds = np.array([[lo[0] - pad, hi[0] + pad], [lo[1] - pad, hi[1] + pad]])
    b = check_array(bounds, "bounds", where, ndim=2)
    gx = np.linspace(b[0, 0], b[0, 1], resolution)
    gy = np.linspace(b[1, 0], b[1, 1], resolution)
    X, Y = np.meshgrid(gx, gy)
    lp = density.log_prob(np.c_[X.ravel(), Y.ravel()], t).reshape(X.shape)
    lp = np.maximum(lp, lp.max() - 30.0)  # keep the colour scale on the interesting range

    fig, ax = plt.subplots(figsize=(6, 5))
    im = ax.pcolormesh(X, Y, lp, shading="auto", cmap="magma")
    fig.colorbar(im, ax=ax, label=r"$\log p_t$")
    cmap = plt.get_cmap("viridis")
    for i, (tk, r) in enumerate(layers):
        color = cmap(i / max(len(layers) - 1, 1)) if len(layers) > 1 else "cyan"
        label = f"t = {tk:g}" if tk is not None else None
        if isinstance(r, RidgeSet):
            ax.plot(r.points[:, 0], r.points[:, 1], ".", ms=2.5, color=color, label=label)
        else:
            for j, c in enumerate(r):
                P = np.vstack([c.points, c.points[:1]]) if c.closed else c.points
                ax.plot(P[:, 0], P[:, 1], "-", lw=1.6, color=color, label=label if j == 0 else None)
    if samples is not None:
        ax.plot(samples[:, 0], samples[:, 1], ".", ms=2, color="white", alpha=0.5, label="samples")
    if data is not None:
        d = np.asarray(data) * a
        ax.plot(d[:, 0], d[:, 1], "o", ms=5, mfc="none", mec="lime", label=r"$a_t x_i$")
    ax.set_xlim(b[0]); ax.set_ylim(b[1])  # noqa: E702
    ax.set_aspect("equal")
    ax.set_title(title or f"log-density ridge, t = {t:g}")
    ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    out = os.fspath(path)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out


def two_mode_figure(path: str | os.PathLike, times=(0.05, 0.3, 1.0, 2.0)) -> str:
    """Draw the d = 1 ridge (traced curves) and the modes (d = 0) of the two-mode data.

    For every time in ``times`` the 1-ridge (the first axis, within the box) is traced and
    the modes are extracted; the heat map shows ``log p_t`` at the first time. Modes split
    from one (at the origin) into two at ``t* = ln(1 + 9) / 2 ~ 1.151``.

    Parameters
    ----------
    path : str or path-like
        Output PNG.
    times : sequence of float, default=(0.05, 0.3, 1.0, 2.0)

    Returns
    -------
    str
        The path written.
    """
    plt = pyplot()

    from ..densities import SmoothedEmpirical
    from ..ridge.core import Ridge

    p = SmoothedEmpirical(np.array([[-3.0, 0.0], [3.0, 0.0]]))
    bounds = np.array([[-4.5, 4.5], [-2.5, 2.5]])
    r1, r0 = Ridge(p, 1), Ridge(p, 0)
    fig, axes = plt.subplots(1, len(times), figsize=(4 * len(times), 3.2), squeeze=False)
    gx, gy = np.linspace(*bounds[0], 180), np.linspace(*bounds[1], 100)
    X, Y = np.meshgrid(gx, gy)
    for ax, t in zip(axes[0], times, strict=True):
        lp = p.log_prob(np.c_[X.ravel(), Y.ravel()], t).reshape(X.shape)
        ax.pcolormesh(X, Y, np.maximum(lp, lp.max() - 25), shading="auto", cmap="magma")
        for c in r1.trace(t, bounds=bounds, n_seeds=64, min_density=0.0):
            ax.plot(c.points[:, 0], c.points[:, 1], "-", color="cyan", lw=2, label="1-ridge")
        modes = r0.extract(t, bounds=bounds, n_seeds=64, min_density=0.0).clusters(0.05)
        ax.plot(modes[:, 0], modes[:, 1], "*", color="yellow", ms=12, label="modes")
        a = float(p.process.alpha(np.array([t]))[0])
        ax.plot(a * p.data[:, 0], a * p.data[:, 1], "o", mfc="none", mec="lime", ms=7,
                label=r"$a_t x_i$")
        ax.set_title(f"t = {t:g}: {len(modes)} mode(s)")
        ax.set_aspect("equal")
    axes[0][0].legend(loc="lower left", fontsize=7)
    fig.suptitle("Two training points (-3, 0), (3, 0): ridge of log p_t")
    fig.tight_layout()
    out = os.fspath(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
