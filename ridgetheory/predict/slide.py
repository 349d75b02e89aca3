"""Slide: motion along the ridge, resting places and inter-mode mass (theory.md section 4).

On the ridge the tangential drift is ``P_T(-f y + g^2 s_theta)``. The reduced dynamics keep
each ensemble member on the ridge: an Euler-Maruyama step with the tangential drift and
tangential noise, then a projection back onto the ridge at the next time. Integrated over
the whole grid this predicts where samples come to rest; the stable zeros of the learned
tangential denoiser drift at ``t_min`` are reported beside it (the zeros alone are not
enough at small t because the pull ``~ 2/h`` is as fast as the zeros move).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._checks import RidgeTheoryError, check_array, check_int, check_scalar, check_seed
from ..grids import check_grid
from ..simulate.noise import normals
from ..simulate.schemes import get_scheme
from ._common import check_model

__all__ = [
    "SlidePrediction",
    "predict_slide",
    "classify_resting",
    "tangential_drift_profile",
    "stable_zeros",
]


def classify_resting(points: Any, centres: Any, radius: float) -> np.ndarray:
    """Index of the centre within ``radius`` of each point, or -1 (an inter-mode point).

    Parameters
    ----------
    points : array of shape (M, D)
    centres : array of shape (n, D)
        Typically ``a_{t_min}`` times the training points.
    radius : float, > 0

    Returns
    -------
    labels : array of shape (M,), int64
    """
    where = "classify_resting"
    P = check_array(points, "points", where, ndim=2)
    C = check_array(centres, "centres", where, ndim=2, min_rows=1)
    radius = check_scalar(radius, "radius", where, low=0.0, low_open=True)
    if C.shape[1] != P.shape[1]:
        raise RidgeTheoryError(
            f"`centres` passed to {where} must have {P.shape[1]} columns; got shape {C.shape}."
        )
    d2 = ((P[:, None, :] - C[None, :, :]) ** 2).sum(-1)
    near = np.argmin(d2, axis=1)
    ok = d2[np.arange(len(P)), near] <= radius**2
    return np.where(ok, near, -1).astype(np.int64)


@dataclass
class SlidePrediction:
    """Predicted foot points of an ensemble sliding along the ridge.

    Attributes
    ----------
    times : array of shape (L + 1,)
        The grid.
    feet : array of shape (L + 1, M, D)
        Foot points at every grid time (on the ridge up to the projection tolerance).
    final : array of shape (M, D)
        Predicted resting places at ``t_min``.
    path_length : array of shape (L + 1,)
        Median cumulative tangential path length of the members from ``grid[0]``.
    unconverged : int
        Projections, over all members and steps, that did not reach the tolerance (kept
        where they stopped).
    undetermined : int
        Member-steps whose tangent frame was undetermined; those members do not move along
        the ridge in that step (no arbitrary direction is trusted).
    """

    times: np.ndarray
    feet: np.ndarray
    final: np.ndarray
    path_length: np.ndarray
    unconverged: int
    undetermined: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    def intermode_fraction(self, centres: Any, radius: float) -> float:
        """Share of members whose resting place is farther than ``radius`` from every centre."""
        return float(np.mean(classify_resting(self.final, centres, radius) < 0))


def predict_slide(
    model: Any,
    density: Any,
    ridge: Any,
    grid: Any,
    start: Any,
    *,
    noise: bool = True,
    seed: int = 0,
    tol: float = 1e-8,
    max_iter: int = 100,
) -> SlidePrediction:
    """Integrate the reduced dynamics along the ridge for an ensemble of members.

    Parameters
    ----------
    model : score model
        ``s_theta`` (the learned or injected score).
    density : AbstractDensity
        The smoothed training density (its ridge is followed).
    ridge : Ridge of ``density``
    grid : array of shape (L + 1,), strictly decreasing, > 0
    start : array of shape (M, D)
        Start points at ``grid[0]``; they are projected onto the ridge first (for example
        exact samples of ``p_{grid[0]}``).
    noise : bool, default=True
        Include the tangential part of the sampler noise (counter-based from ``seed``).
    seed : int, default=0
    tol, max_iter :
        Projection settings for each step (see :meth:`Ridge.project`).

    Returns
    -------
    SlidePrediction
    """
    where = "predict_slide"
    check_model(model, density, ridge, where)
    g = check_grid(grid, where)
    y = check_array(start, "start", where, ndim=2)
    if y.shape[1] != density.dim:
        raise RidgeTheoryError(
            f"`start` passed to {where} must have shape (M, {density.dim}); got shape {y.shape}."
        )
    seed = check_seed(seed, where)
    max_iter = check_int(max_iter, "max_iter", where, low=1)
    em = get_scheme("em", where).coefficients(density.process, g)
    M, D = y.shape
    traj = np.arange(M)
    pr = ridge.project(y, float(g[0]), tol=tol, max_iter=10 * max_iter)
    y = np.array(pr.points)
    unconverged = int(np.sum(~pr.converged))
    feet = np.empty((len(g), M, D))
    feet[0] = y
    length = np.zeros(M)
    path = np.zeros(len(g))
    undetermined = 0
    for l in range(len(g) - 1):
        t = float(g[l])
        fr = ridge.frames(y, t)
        T = fr.tangent  # (M, D, d)
        # the sampler's own Euler-Maruyama step, then only its tangential part is kept
        s = np.asarray(model.score(y, t), dtype=np.float64)
        xi = normals(seed, traj, l, D) if noise else None
        step = em.step(l, y, s, xi) - y
        step_T = np.einsum("mdk,mek,me->md", T, T, step)
        und = np.asarray(fr.undetermined)
        step_T[und] = 0.0
        undetermined += int(und.sum())
        pr = ridge.project(y + step_T, float(g[l + 1]), tol=tol, max_iter=max_iter)
        unconverged += int(np.sum(~pr.converged))
        new = np.array(pr.points)
        length += np.linalg.norm(new - y, axis=1)
        path[l + 1] = np.median(length)
        y = new
        feet[l + 1] = y
    return SlidePrediction(
        times=g,
        feet=feet,
        final=y,
        path_length=path,
        unconverged=unconverged,
        undetermined=undetermined,
        meta={"members": M, "noise": noise, "seed": seed, "tol": tol},
    )


def tangential_drift_profile(
    model: Any, density: Any, curve: Any, t: float
) -> dict[str, np.ndarray]:
    """Learned tangential denoiser drift ``u . (m_theta - y)`` along a traced 1-D ridge curve.

    ``u`` is the unit direction of increasing arc length, so a zero where the profile goes
    from positive to negative is stable (samples on both sides move toward it).

    Parameters
    ----------
    model : score model
    density : AbstractDensity
    curve : RidgeCurve
        From ``ridge.trace(t)``: ``.points`` (L, D) and ``.arclength`` (L,).
    t : float

    Returns
    -------
    dict with ``arclength`` (L,), ``points`` (L, D), ``drift`` (L,) (learned) and
    ``exact_drift`` (L,) (exact score, whose stable zeros are the modes).
    """
    pts = np.asarray(curve.points, dtype=np.float64)
    s = np.asarray(curve.arclength, dtype=np.float64)
    u = np.gradient(pts, axis=0)
    u /= np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-300)
    h = float(density.process.h(t))
    learned = h * np.asarray(model.score(pts, t), dtype=np.float64)  # m_theta - y
    exact = h * density.score(pts, t)
    return {
        "arclength": s,
        "points": pts,
        "drift": np.einsum("md,md->m", u, learned),
        "exact_drift": np.einsum("md,md->m", u, exact),
    }


def stable_zeros(profile: dict[str, np.ndarray], key: str = "drift") -> np.ndarray:
    """Points (K, D) where ``profile[key]`` changes sign from + to - (linear interpolation).

    A profile that only touches zero has no stable zero there."""
    v = profile[key]
    pts = profile["points"]
    idx = np.flatnonzero((v[:-1] > 0) & (v[1:] < 0))
    w = v[idx] / (v[idx] - v[idx + 1])
    return pts[idx] + w[:, None] * (pts[idx + 1] - pts[idx])
