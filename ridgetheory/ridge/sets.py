"""Ridge sets (projected, filtered seeds) and ordered 1-D ridge curves with arc length."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._checks import (
    RidgeTheoryError,
    check_array,
    check_int,
    check_points,
    check_scalar,
    check_seed,
)

__all__ = ["RidgeSet", "RidgeCurve", "extract", "trace", "evolve"]


@dataclass(frozen=True)
class RidgeSet:
    """Points of the d-ridge at one time, after filtering.

    Attributes
    ----------
    points : array of shape (K, D), float64
    curvature : array of shape (K,), float64
        ``l_{d+1}`` at each point.
    gap : array of shape (K,), float64
        ``l_d - l_{d+1}``.
    log_prob : array of shape (K,), float64
        ``log p_t`` (nan when the density has no ``log_prob``).
    t : float
    dim : int
    n_seeds : int
        Seeds projected (before filtering).
    """

    points: np.ndarray
    curvature: np.ndarray
    gap: np.ndarray
    log_prob: np.ndarray
    t: float
    dim: int
    n_seeds: int

    def __len__(self) -> int:
        return int(self.points.shape[0])

    def clusters(self, radius: float) -> np.ndarray:
        """Greedy merge of points closer than ``radius``; returns representatives (C, D).

        Useful for d = 0, where the ridge set is a finite set of modes.
        """
        radius = check_scalar(radius, "radius", "RidgeSet.clusters", low=0.0, low_open=True)
        reps: list[np.ndarray] = []
        left = self.points
        while left.shape[0]:
            p = left[0]
            near = np.linalg.norm(left - p, axis=1) < radius
            reps.append(left[near].mean(axis=0))
            left = left[~near]
        return np.array(reps).reshape(-1, self.points.shape[1])


@dataclass(frozen=True)
class RidgeCurve:
    """An ordered polyline on a 1-D ridge with an arc-length coordinate.

    Attributes
    ----------
    points : array of shape (L, D), float64
        Ridge points in order.
    arclength : array of shape (L,), float64
        Cumulative chord length from ``points[0]`` (0 at the start).
    t : float
    closed : bool
        True when the trace came back to its start (a loop); the last point is then joined
        to the first.

    Examples
    --------
    >>> import numpy as np
    >>> c = RidgeCurve(np.array([[0.0, 0], [1, 0], [2, 0]]), np.array([0.0, 1, 2]), 1.0, False)
    >>> float(c.coordinate(np.array([1.5, 0.3])))
    1.5
    >>> c.point(0.5).tolist()
    [0.5, 0.0]
    """

    points: np.ndarray
    arclength: np.ndarray
    t: float
    closed: bool = False

    @property
    def length(self) -> float:
        """Total arc length (including the closing segment of a loop)."""
        if self.closed and len(self.points) > 1:
            return float(self.arclength[-1] + np.linalg.norm(self.points[-1] - self.points[0]))
        return float(self.arclength[-1]) if len(self.arclength) else 0.0

    def _polyline(self):
        P, s = self.points, self.arclength
        if self.closed and len(P) > 1:
            P = np.vstack([P, P[:1]])
            s = np.append(s, self.length)
        return P, s

    def coordinate(self, y: Any) -> np.ndarray:
        """Arc-length coordinate of the nearest point on the curve.

        Parameters
        ----------
        y : array of shape (M, D) or (D,), float64

        Returns
        -------
        s : array of shape (M,) or 0-d, float64
        """
        yy, single = check_points(y, "y", "RidgeCurve.coordinate", self.points.shape[1])
        P, s = self._polyline()
        if len(P) == 1:
            out = np.zeros(yy.shape[0])
            return out[0] if single else out
        A, B = P[:-1], P[1:]
        seg = B - A
        L2 = np.maximum(np.einsum("sd,sd->s", seg, seg), 1e-300)
        lam = np.clip(np.einsum("msd,sd->ms", yy[:, None, :] - A[None], seg) / L2, 0.0, 1.0)
        foot = A[None] + lam[:, :, None] * seg[None]
        dist = np.einsum("msd,msd->ms", yy[:, None, :] - foot, yy[:, None, :] - foot)
        j = np.argmin(dist, axis=1)
        rows = np.arange(yy.shape[0])
        out = s[j] + lam[rows, j] * np.sqrt(L2[j])
        return out[0] if single else out

    def point(self, s: Any) -> np.ndarray:
        """Point on the curve at arc-length coordinate(s) ``s`` (linear interpolation).

        Parameters
        ----------
        s : float or array of shape (M,)
            Clipped to [0, length] (taken modulo the length for a closed curve).

        Returns
        -------
        array of shape (M, D) or (D,), float64
        """
        ss = check_array(s, "s", "RidgeCurve.point", ndim=(0, 1))
        P, arc = self._polyline()
        q = np.mod(ss, self.length) if (self.closed and self.length > 0) else \
            np.clip(ss, 0.0, arc[-1])
        out = np.stack([np.interp(q, arc, P[:, c]) for c in range(P.shape[1])], axis=-1)
        return out


def _seeds(ridge, seeds, bounds, n_seeds, seed, t, where):
    D = ridge.D
    if seeds is not None:
        if bounds is not None:
            raise RidgeTheoryError(f"`bounds` passed to {where} must be None when seeds are given.")
        xs, _ = check_points(seeds, "seeds", where, D)
        return xs
    if bounds is None:
        # samples from p_t when it is an empirical density, else from N(0, I)
        rng = np.random.default_rng(check_seed(seed, where))
        data = getattr(ridge.density, "data", None)
        if data is not None:
            a = float(ridge.density.process.alpha(np.array([t]))[0])
            h = float(ridge.density.process.h(np.array([t]))[0])
            pick = rng.integers(0, data.shape[0], size=n_seeds)
            return a * data[pick] + np.sqrt(h) * rng.standard_normal((n_seeds, D))
        return rng.standard_normal((n_seeds, D))
    b = check_array(bounds, "bounds", where, ndim=2)
    if b.shape != (D, 2) or np.any(b[:, 1] <= b[:, 0]):
        raise RidgeTheoryError(
            f"`bounds` passed to {where} must have shape ({D}, 2) with low < high per row; "
            f"got {b.tolist() if b.size < 20 else b.shape}.")
    per_axis = max(2, int(round(n_seeds ** (1.0 / D))))
    axes = [np.linspace(lo, hi, per_axis) for lo, hi in b]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, D)


def extract(ridge, t, seeds=None, bounds=None, *, n_seeds=400, seed=0, max_curvature=0.0,
            min_rel_gap=None, min_density=1e-3, tol=1e-9, max_iter=1000, method="scms"):
    """Project seeds and keep converged points that pass the ridge filters."""
    where = "Ridge.extract"
    t = check_scalar(t, "t", where, low=0.0, low_open=True)
    n_seeds = check_int(n_seeds, "n_seeds", where, low=1)
    max_curvature = check_scalar(max_curvature, "max_curvature", where)
    min_density = check_scalar(min_density, "min_density", where, low=0.0, high=1.0)
    xs = _seeds(ridge, seeds, bounds, n_seeds, seed, t, where)
    proj = ridge.project(xs, t, method, tol=tol, max_iter=max_iter)
    keep = proj.converged & (proj.curvature < max_curvature)
    if min_rel_gap is not None:
        min_rel_gap = check_scalar(min_rel_gap, "min_rel_gap", where, low=0.0)
        fr = ridge.frames(proj.points, t) if proj.points.shape[0] else None
        if fr is not None:
            keep &= fr.rel_gap >= min_rel_gap
    pts = proj.points[keep]
    lp = np.full(pts.shape[0], np.nan)
    if pts.shape[0] and callable(getattr(ridge.density, "log_prob", None)):
        lp = np.asarray(ridge.density.log_prob(pts, t), dtype=np.float64)
        if min_density > 0:
            ok = lp >= lp.max() + np.log(min_density)
            pts, lp = pts[ok], lp[ok]
            keep[np.flatnonzero(keep)[~ok]] = False
    return RidgeSet(points=pts, curvature=proj.curvature[keep], gap=proj.gap[keep],
                    log_prob=lp, t=t, dim=ridge.d, n_seeds=xs.shape[0])


def trace(ridge, t, seeds=None, bounds=None, *, step=None, max_points=2000, n_seeds=400,
          seed=0, min_density=1e-3, max_curvature=0.0, tol=1e-10, max_iter=1000):
    """Trace 1-D ridge curves by predictor (tangent step) and corrector (projection)."""
    where = "Ridge.trace"
    if ridge.d != 1:
        raise RidgeTheoryError(f"`d` of the ridge passed to {where} must be 1; got {ridge.d}.")
    t = check_scalar(t, "t", where, low=0.0, low_open=True)
    max_points = check_int(max_points, "max_points", where, low=2)
    rs = extract(ridge, t, seeds, bounds, n_seeds=n_seeds, seed=seed, min_density=min_density,
                 max_curvature=max_curvature, tol=tol, max_iter=max_iter)
    if len(rs) == 0:
        return []
    h = float(ridge.density.process.h(np.array([t]))[0])
    a = float(ridge.density.process.alpha(np.array([t]))[0])
    if step is None:
        step = 0.1 * np.sqrt(h) if bounds is None else \
            float(np.min(np.diff(np.asarray(bounds, float), axis=1))) / 200.0
    step = check_scalar(step, "step", where, low=0.0, low_open=True)
    lo = hi = None
    if bounds is not None:
        bb = np.asarray(bounds, dtype=np.float64)
        lo, hi = bb[:, 0], bb[:, 1]
    else:
        data = getattr(ridge.density, "data", None)
        if data is not None:
            pad = 3.0 * np.sqrt(h)
            lo, hi = a * data.min(axis=0) - pad, a * data.max(axis=0) + pad
    lp_floor = np.nanmax(rs.log_prob) + np.log(min_density) if min_density > 0 else -np.inf

    def ok(pr):
        good = pr.converged & (pr.curvature < max_curvature)
        if lo is not None:
            good &= np.all((pr.points >= lo) & (pr.points <= hi), axis=1)
        if np.isfinite(lp_floor) and callable(getattr(ridge.density, "log_prob", None)):
            good &= ridge.density.log_prob(pr.points, t) >= lp_floor
        return good

    curves: list[RidgeCurve] = []
    remaining = rs.points
    while remaining.shape[0] and len(curves) < 50:
        x0 = remaining[0]
        # walk both ways at once: two walkers, tangent signs +/-
        T0 = ridge.frames(x0, t).tangent[:, 0]
        walk = np.stack([x0, x0])
        dirs = np.stack([T0, -T0])
        alive = np.array([True, True])
        paths: list[list[np.ndarray]] = [[x0], [x0]]
        closed = False
        for _ in range(max_points // 2):
            idx = np.flatnonzero(alive)
            if idx.size == 0:
                break
            pr = ridge.project(walk[idx] + step * dirs[idx], t, tol=tol, max_iter=max_iter)
            good = ok(pr)
            fr = ridge.frames(pr.points, t)
            for j, i in enumerate(idx):
                if not good[j] or fr.undetermined[j]:
                    alive[i] = False
                    continue
                newp = pr.points[j]
                # a loop: back near the start after leaving it
                if len(paths[i]) > 3 and np.linalg.norm(newp - x0) < 1.5 * step:
                    closed = True
                    alive[:] = False
                    break
                Tn = fr.tangent[j, :, 0]
                dirs[i] = Tn if Tn @ dirs[i] >= 0 else -Tn
                walk[i] = newp
                paths[i].append(newp)
        if closed:
            pts = np.array(paths[0] if len(paths[0]) >= len(paths[1]) else paths[1])
        else:
            pts = np.array(paths[1][::-1] + paths[0][1:])
        seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
        arc = np.concatenate([[0.0], np.cumsum(seg)])
        curve = RidgeCurve(points=pts, arclength=arc, t=t, closed=closed)
        curves.append(curve)
        # drop seed points already covered by this curve
        if len(pts) > 1:
            s = curve.coordinate(remaining)
            dist = np.linalg.norm(remaining - curve.point(s), axis=1)
        else:
            dist = np.linalg.norm(remaining - pts[0], axis=1)
        remaining = remaining[dist > 2.0 * step]
    return curves


def evolve(ridge, times, seeds=None, bounds=None, **kwargs):
    """Ridge sets at each time; returns ``{t: RidgeSet}`` in the given order."""
    tt = check_array(times, "times", "Ridge.evolve", ndim=1)
    if tt.size == 0 or np.any(tt <= 0):
        raise RidgeTheoryError(
            f"`times` passed to Ridge.evolve must be non-empty and > 0; got {tt.tolist()}.")
    return {float(t): extract(ridge, float(t), seeds, bounds, **kwargs) for t in tt}
