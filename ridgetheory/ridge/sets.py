"""Ridge sets (projected, filtered seeds) and ordered 1-D ridge curves with arc length."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._checks import (
    RidgeTheoryError,
    RidgeWarning,
    check_array,
    check_choice,
    check_int,
    check_points,
    check_scalar,
    check_seed,
)

__all__ = ["RidgeSet", "RidgeCurve", "RidgeTrace", "extract", "trace", "evolve"]

#: why a walker is not in a ridge set, in the order the reasons are tested
DROP_REASONS = ("unconverged", "undetermined", "curvature", "rel_gap", "density")


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
    dropped : dict of str to int
        Seeds left out, by the first reason that applies (:data:`DROP_REASONS`):
        ``"unconverged"`` (the update budget ran out; also warned about with
        :class:`ridgetheory.RidgeWarning`), ``"undetermined"`` (the frame at the last iterate
        is undetermined, see :class:`RidgeFrames`), ``"curvature"``, ``"rel_gap"`` and
        ``"density"`` (the filters asked for). ``len(self) + sum(dropped.values()) ==
        n_seeds``.
    """

    points: np.ndarray
    curvature: np.ndarray
    gap: np.ndarray
    log_prob: np.ndarray
    t: float
    dim: int
    n_seeds: int
    dropped: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.points.shape[0])

    @property
    def n_unconverged(self) -> int:
        """Seeds whose projection ran out of its update budget (``dropped["unconverged"]``)."""
        return int(self.dropped.get("unconverged", 0))

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
    stops : tuple of (str, str)
        Why the walk ended at ``points[0]`` and at ``points[-1]``: ``"closed"`` (a loop),
        ``"bounds"``, ``"curvature"`` (``l_2 >= max_curvature``), ``"undetermined"`` (the
        frame), ``"unconverged"`` (the corrector ran out of its budget), ``"density"`` (below
        ``min_density``) or ``"max_points"``; empty for a curve built by hand.

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
    stops: tuple = ("", "")

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


def _project_rounds(ridge, x, t, method, tol, max_iter):
    """Project with ``method`` for up to ``max_iter`` updates per walker, then resume the walkers
    still running (neither converged nor undetermined) with Newton steps for up to ``max_iter``
    more. Mean shift and SCMS converge linearly, at rate ``1 + h_t l`` along each normal
    direction, which is slow where ``p_t`` is flat (``h_t |l| << 1``); Newton is quadratic near
    the ridge and falls back to the SCMS step where it does not apply."""
    proj = ridge.project(x, t, method, tol=tol, max_iter=max_iter)
    running = ~proj.converged & ~proj.undetermined
    if max_iter > 0 and running.any():
        # the numba kernel has Newton steps for d >= 1 only; numpy takes them for modes
        proj = ridge.project(proj, method="newton", tol=tol, max_iter=max_iter,
                             backend="numpy" if ridge.d == 0 else None)
    return proj


def _walker_reasons(proj, max_curvature):
    """Why each projected walker is not a ridge point, in the order of :data:`DROP_REASONS`
    (``""`` for those that are, so far): the budget ran out, the frame is undetermined, or the
    normal curvature is not below ``max_curvature``."""
    why = np.full(proj.points.shape[0], "", dtype=object)
    why[~proj.converged & ~proj.undetermined] = "unconverged"
    why[proj.undetermined] = "undetermined"
    why[(why == "") & ~(proj.curvature < max_curvature)] = "curvature"
    return why


def _check_budget(where, tol, max_iter, method=None):
    tol = check_scalar(tol, "tol", where, low=0.0, low_open=True)
    max_iter = check_int(max_iter, "max_iter", where, low=0)
    if method is not None:
        check_choice(method, "method", where, ("scms", "newton"))
    return tol, max_iter


def _check_density(min_density, where):
    if min_density is None:
        return 0.0
    return check_scalar(min_density, "min_density", where, low=0.0, high=1.0)


def _budget_note(method, max_iter):
    return (f"{max_iter} {method} updates then {max_iter} Newton updates per walker; raise "
            f"`max_iter` or loosen `tol`")


def extract(ridge, t, seeds=None, bounds=None, *, n_seeds=400, seed=0, max_curvature=0.0,
            min_rel_gap=None, min_density=None, tol=1e-9, max_iter=1000, method="scms",
            _warn=True, _stacklevel=3):
    """Project seeds and keep converged points that pass the ridge filters (see
    :meth:`Ridge.extract`); walkers left out are counted in ``RidgeSet.dropped``."""
    where = "Ridge.extract"
    t = check_scalar(t, "t", where, low=0.0, low_open=True)
    n_seeds = check_int(n_seeds, "n_seeds", where, low=1)
    max_curvature = check_scalar(max_curvature, "max_curvature", where)
    min_density = _check_density(min_density, where)
    if min_rel_gap is not None:
        min_rel_gap = check_scalar(min_rel_gap, "min_rel_gap", where, low=0.0)
    tol, max_iter = _check_budget(where, tol, max_iter, method)
    xs = _seeds(ridge, seeds, bounds, n_seeds, seed, t, where)
    proj = _project_rounds(ridge, xs, t, method, tol, max_iter)
    reason = _walker_reasons(proj, max_curvature)
    if min_rel_gap is not None and np.any(reason == ""):
        cand = np.flatnonzero(reason == "")
        rel = ridge.frames(proj.points[cand], t).rel_gap
        reason[cand[~(rel >= min_rel_gap)]] = "rel_gap"
    keep = reason == ""
    lp = np.full(int(keep.sum()), np.nan)
    if keep.any() and callable(getattr(ridge.density, "log_prob", None)):
        lp = np.asarray(ridge.density.log_prob(proj.points[keep], t), dtype=np.float64)
        if min_density > 0:
            ok = lp >= lp.max() + np.log(min_density)
            reason[np.flatnonzero(keep)[~ok]] = "density"
            keep = reason == ""
            lp = lp[ok]
    dropped = {r: int(np.count_nonzero(reason == r)) for r in DROP_REASONS}
    out = RidgeSet(points=proj.points[keep], curvature=proj.curvature[keep],
                   gap=proj.gap[keep], log_prob=lp, t=t, dim=ridge.d, n_seeds=xs.shape[0],
                   dropped=dropped)
    if _warn:
        _warn_set(out, where, method, max_iter, _stacklevel + 1)
    return out


def _warn_set(rs, where, method, max_iter, stacklevel):
    msg = []
    if rs.n_unconverged:
        msg.append(f"{rs.n_unconverged} of {rs.n_seeds} walkers did not converge within the "
                   f"budget ({_budget_note(method, max_iter)}); they are left out "
                   f"(RidgeSet.dropped).")
    if rs.dim == 0 and len(rs) == 0:
        why = ", ".join(f"{k}: {v}" for k, v in rs.dropped.items() if v) or "no seeds"
        msg.append(f"No mode was found at t = {rs.t:g}, but a density always has at least one: "
                   f"the set is incomplete (seeds left out by reason: {why}).")
    if msg:
        warnings.warn(f"{where}: " + " ".join(msg), RidgeWarning, stacklevel=stacklevel)


class RidgeTrace(list):
    """The list of :class:`RidgeCurve` that :meth:`Ridge.trace` returns, with what was left out.

    Attributes
    ----------
    seeds : RidgeSet
        The extracted seed points the curves start from (its ``dropped`` counts the seeds
        left out and why).
    n_unconverged : int
        Seeds whose projection ran out of its budget plus curve ends where the corrector did
        (``stops == "unconverged"``); nonzero also raises a :class:`ridgetheory.RidgeWarning`.
    """

    def __init__(self, curves=(), seeds: RidgeSet | None = None):
        super().__init__(curves)
        self.seeds = seeds

    @property
    def n_unconverged(self) -> int:
        ends = sum(c.stops.count("unconverged") for c in self)
        return ends + (self.seeds.n_unconverged if self.seeds is not None else 0)


def trace(ridge, t, seeds=None, bounds=None, *, step=None, max_points=2000, n_seeds=400,
          seed=0, min_density=None, max_curvature=0.0, tol=1e-10, max_iter=1000):
    """Trace 1-D ridge curves by predictor (tangent step) and corrector (projection)."""
    where = "Ridge.trace"
    if ridge.d != 1:
        raise RidgeTheoryError(f"`d` of the ridge passed to {where} must be 1; got {ridge.d}.")
    t = check_scalar(t, "t", where, low=0.0, low_open=True)
    max_points = check_int(max_points, "max_points", where, low=2)
    min_density = _check_density(min_density, where)
    tol, max_iter = _check_budget(where, tol, max_iter)
    if step is not None:
        step = check_scalar(step, "step", where, low=0.0, low_open=True)
    rs = extract(ridge, t, seeds, bounds, n_seeds=n_seeds, seed=seed, min_density=min_density,
                 max_curvature=max_curvature, tol=tol, max_iter=max_iter, _warn=False)
    curves = RidgeTrace(seeds=rs)
    if len(rs):
        _trace_curves(ridge, t, rs, bounds, step, max_points, min_density, max_curvature, tol,
                      max_iter, curves)
    ends = curves.n_unconverged - rs.n_unconverged
    if rs.n_unconverged or ends:
        warnings.warn(
            f"{where}: {rs.n_unconverged} of {rs.n_seeds} seed walkers and {ends} curve ends "
            f"did not converge within the budget ({_budget_note('scms', max_iter)}); the "
            f"seeds are left out and the curves stop there (RidgeTrace.n_unconverged, "
            f"RidgeCurve.stops).", RidgeWarning, stacklevel=3)
    return curves


def _default_box(density, a, h, points):
    """Where a trace may go without ``bounds``: the scaled training points padded by
    ``3 sqrt(h_t)``; a Gaussian mixture's scaled means padded by 3 standard deviations of its
    widest smoothed component; otherwise the seed ridge points padded by ``3 sqrt(h_t)``."""
    data = getattr(density, "data", None)
    means = getattr(density, "means", None)
    variances = getattr(density, "variances", None)
    if data is not None:
        centres, pad = a * np.asarray(data, dtype=np.float64), 3.0 * np.sqrt(h)
    elif means is not None and variances is not None:
        centres = a * np.asarray(means, dtype=np.float64)
        pad = 3.0 * np.sqrt(a**2 * float(np.max(variances)) + h)
    else:
        centres, pad = points, 3.0 * np.sqrt(h)
    return centres.min(axis=0) - pad, centres.max(axis=0) + pad


def _trace_curves(ridge, t, rs, bounds, step, max_points, min_density, max_curvature, tol,
                  max_iter, curves):
    h = float(ridge.density.process.h(np.array([t]))[0])
    a = float(ridge.density.process.alpha(np.array([t]))[0])
    if step is None:
        step = 0.1 * np.sqrt(h) if bounds is None else \
            float(np.min(np.diff(np.asarray(bounds, float), axis=1))) / 200.0
    if bounds is not None:
        bb = np.asarray(bounds, dtype=np.float64)
        lo, hi = bb[:, 0], bb[:, 1]
    else:
        lo, hi = _default_box(ridge.density, a, h, rs.points)
    has_lp = callable(getattr(ridge.density, "log_prob", None))
    lp_floor = np.nanmax(rs.log_prob) + np.log(min_density) \
        if (min_density > 0 and has_lp) else -np.inf

    def stop_reason(pr, fr):
        """Why each corrected point ends its walk ("" where it does not)."""
        why = _walker_reasons(pr, max_curvature)
        why[fr.undetermined] = "undetermined"  # the frame at the corrected point
        why[(why == "") & ~np.all((pr.points >= lo) & (pr.points <= hi), axis=1)] = "bounds"
        if np.isfinite(lp_floor) and np.any(why == ""):
            live = np.flatnonzero(why == "")
            low = ridge.density.log_prob(pr.points[live], t) < lp_floor
            why[live[low]] = "density"
        return why

    remaining = rs.points
    while remaining.shape[0] and len(curves) < 50:
        x0 = remaining[0]
        # walk both ways at once: two walkers, tangent signs +/-
        T0 = ridge.frames(x0, t).tangent[:, 0]
        walk = np.stack([x0, x0])
        dirs = np.stack([T0, -T0])
        alive = np.array([True, True])
        stops = ["max_points", "max_points"]
        paths: list[list[np.ndarray]] = [[x0], [x0]]
        closed, back = False, None  # back: the walker that came back to x0
        for _ in range(max_points // 2):
            idx = np.flatnonzero(alive)
            if idx.size == 0:
                break
            pr = _project_rounds(ridge, walk[idx] + step * dirs[idx], t, "scms", tol, max_iter)
            fr = ridge.frames(pr.points, t)
            why = stop_reason(pr, fr)
            for j, i in enumerate(idx):
                if why[j]:
                    alive[i] = False
                    stops[i] = why[j]
                    continue
                newp = pr.points[j]
                # a loop: back near the start after leaving it (the other walker has stopped)
                if len(paths[i]) > 3 and np.linalg.norm(newp - x0) < 1.5 * step:
                    closed, back = True, i
                    alive[:] = False
                    break
                Tn = fr.tangent[j, :, 0]
                dirs[i] = Tn if Tn @ dirs[i] >= 0 else -Tn
                walk[i] = newp
                paths[i].append(newp)
            # a loop: the two walkers meet on the far side
            if (not closed and alive.all() and min(len(paths[0]), len(paths[1])) > 3
                    and np.linalg.norm(walk[0] - walk[1]) < 1.5 * step):
                if (walk[1] - walk[0]) @ dirs[0] < 0:  # they passed each other: drop one
                    paths[0].pop()
                closed = True
                alive[:] = False
        if back is not None:
            pts = np.array(paths[back])
        else:
            pts = np.array(paths[1][::-1] + paths[0][1:])
        seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
        arc = np.concatenate([[0.0], np.cumsum(seg)])
        ends = ("closed", "closed") if closed else (stops[1], stops[0])
        curve = RidgeCurve(points=pts, arclength=arc, t=t, closed=closed, stops=ends)
        curves.append(curve)
        # drop seed points already covered by this curve
        if len(pts) > 1:
            s = curve.coordinate(remaining)
            dist = np.linalg.norm(remaining - curve.point(s), axis=1)
        else:
            dist = np.linalg.norm(remaining - pts[0], axis=1)
        remaining = remaining[dist > 2.0 * step]


def evolve(ridge, times, seeds=None, bounds=None, **kwargs):
    """Ridge sets at each time; returns ``{t: RidgeSet}`` in the given order."""
    tt = check_array(times, "times", "Ridge.evolve", ndim=1)
    if tt.size == 0 or np.any(tt <= 0):
        raise RidgeTheoryError(
            f"`times` passed to Ridge.evolve must be non-empty and > 0; got {tt.tolist()}.")
    return {float(t): extract(ridge, float(t), seeds, bounds, _stacklevel=4, **kwargs)
            for t in tt}
