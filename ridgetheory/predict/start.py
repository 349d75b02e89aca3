"""Where the slide reduction may start: the last critical time of the ridge (theory.md section 4).

The reduced dynamics carry a member along the branch of the ridge it is on. While the ridge
still changes topology as t falls, the branch a member ends on is decided by its normal
offset, which the reduction discards; started at T it allocates members to the wrong
training points (in D = 8 it moved a quarter of them). So the reduction starts below the
last critical time.

The topology is read from a census of the critical points of ``log p_t`` of index at most
``min(d, 2)`` (modes, and the index-1 saddles that join them along a 1-D ridge): Newton on
the score from the scaled training points ``a_t x_i``, from the midpoints of neighbouring
pairs and, for d >= 2, from the centroids of neighbouring triples. Going up the grid from
``t_min``, the start is the largest grid time below the first change of the census that
carries mass: a critical point that appears or disappears with ``p_t`` at it at least
``min_density`` times the highest mode's. (A saddle that appears far from every member, as
one does in the D = 8 case at t = 0.039 with relative density e^-68, changes no allocation.)
For two points at +-c this is the first grid time below ``t* = (1/2) ln(1 + c^2)`` (tested),
where the single mode splits.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .._checks import RidgeTheoryError, check_int, check_scalar
from ..grids import check_grid
from ..ridge.frames import mean_shift, spectrum

__all__ = ["CriticalCensus", "critical_census", "SlideStart", "slide_start"]

#: training points above which the automatic start needs ``start_time`` instead (the census
#: costs about ``n * (neighbours + 1)`` Newton solves per time)
MAX_CENSUS_POINTS = 256


@dataclass(frozen=True)
class CriticalCensus:
    """Critical points of ``log p_t`` at one time, by Morse index.

    Attributes
    ----------
    t : float
    points : array of shape (K, D)
        Distinct converged critical points.
    index : array of shape (K,), int64
        Number of non-negative Hessian eigenvalues (0: mode, 1: saddle on a 1-D ridge).
    log_density : array of shape (K,)
        ``log p_t`` at the points.
    counts : tuple of int
        Number of critical points of index 0, 1, ..., ``max_index``.
    starts : int
        Newton starts tried; ``unconverged`` of them did not converge.
    unconverged : int
    """

    t: float
    points: np.ndarray
    index: np.ndarray
    log_density: np.ndarray
    counts: tuple[int, ...]
    starts: int
    unconverged: int


def _neighbours(data: np.ndarray, k: int) -> np.ndarray:
    d2 = ((data[:, None, :] - data[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d2, np.inf)
    return np.argsort(d2, axis=1)[:, :k]


def _starts(data: np.ndarray, a: float, max_index: int, k: int) -> np.ndarray:
    n = len(data)
    k = min(k, n - 1)
    out = [data]
    if k and max_index >= 1:
        nb = _neighbours(data, k)
        pairs = {tuple(sorted((i, int(j)))) for i in range(n) for j in nb[i]}
        out.append(np.array([(data[i] + data[j]) / 2 for i, j in sorted(pairs)]))
        if max_index >= 2 and k >= 2:
            tri = {tuple(sorted((i, int(nb[i, u]), int(nb[i, v]))))
                   for i in range(n) for u in range(k) for v in range(u + 1, k)}
            out.append(np.array([data[list(c)].mean(0) for c in sorted(tri)]))
    return a * np.concatenate(out)


def critical_census(density: Any, t: float, *, max_index: int = 1, neighbours: int = 8,
                    tol: float = 1e-9, max_iter: int = 100) -> CriticalCensus:
    """Critical points of ``log p_t`` of index <= ``max_index`` found from structured starts.

    Parameters
    ----------
    density : SmoothedEmpirical or another density with ``data`` (n, D) and a Hessian
    t : float, > 0
    max_index : int, default=1
        Highest Morse index counted (1 for a 1-D ridge; at most 2).
    neighbours : int, default=8
        Nearest training points whose midpoints (and centroids) seed the Newton solves.
    tol : float, default=1e-9
        Converged when the Newton step is below ``tol * (1 + |x|)``.
    max_iter : int, default=100

    Returns
    -------
    CriticalCensus
    """
    data = np.asarray(getattr(density, "data", None), dtype=np.float64)
    if data.ndim != 2:
        raise RidgeTheoryError(
            "`density` passed to critical_census must hold its training points as `data` "
            f"(n, D); got {type(density).__name__}.")
    where = "critical_census"
    max_index = check_int(max_index, "max_index", where, low=0, high=2)
    neighbours = check_int(neighbours, "neighbours", where, low=0)
    max_iter = check_int(max_iter, "max_iter", where, low=1)
    tol = check_scalar(tol, "tol", where, low=0.0, low_open=True)
    proc = density.process
    t = check_scalar(t, "t", where, low=0.0, low_open=True,
                     high=float(proc.t_max) if np.isfinite(proc.t_max) else None)
    a, h = float(proc.alpha(t)), float(proc.h(t))
    x = _starts(data, a, max_index, neighbours)
    tt = np.full(len(x), float(t))
    done = np.zeros(len(x), dtype=bool)
    cap = 0.5 * np.sqrt(h)  # damping: a Newton step never jumps more than half a noise scale
    for _ in range(max_iter):
        act = np.flatnonzero(~done)
        if not act.size:
            break
        xa = x[act]
        sp = spectrum(density, xa, tt[act])
        g = mean_shift(density, xa, tt[act]) / h  # the score
        lam = sp.lam_h
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            coef = np.einsum("mdj,md->mj", sp.vectors, g) / np.where(lam == 0, np.inf, lam)
        dx = -np.einsum("mdj,mj->md", sp.vectors, coef)
        nrm = np.linalg.norm(dx, axis=1)
        ok = np.isfinite(nrm)
        dx[~ok] = 0.0
        scale = np.minimum(1.0, cap / np.maximum(nrm, 1e-300))[:, None]
        x[act] = xa + scale * dx
        done[act] = ok & (nrm <= tol * (1.0 + np.linalg.norm(xa, axis=1)))
    keep = np.flatnonzero(done)
    pts, idx = [], []
    if keep.size:
        sp = spectrum(density, x[keep], tt[keep])
        # non-negative up to rounding of the anchored spectrum
        index = np.sum(sp.lam_h >= -1e-9 / h, axis=1)
        merge = 1e-4 * np.sqrt(h)
        for q, i in zip(keep, index, strict=True):
            if i > max_index:
                continue
            if pts and np.min(np.linalg.norm(np.asarray(pts) - x[q], axis=1)) <= merge:
                continue
            pts.append(x[q])
            idx.append(int(i))
    idx_arr = np.asarray(idx, dtype=np.int64)
    P = np.asarray(pts).reshape(-1, data.shape[1])
    logp = (np.asarray(density.log_prob(P, float(t)), dtype=np.float64) if len(P)
            else np.zeros(0))
    counts = tuple(int(np.sum(idx_arr == i)) for i in range(max_index + 1))
    return CriticalCensus(t=float(t), points=P, index=idx_arr, log_density=logp,
                          counts=counts, starts=len(x),
                          unconverged=int(len(x) - keep.size))


@dataclass(frozen=True)
class SlideStart:
    """Where the slide reduction starts on a grid.

    Attributes
    ----------
    index : int
        Grid index of the start.
    time : float
        ``grid[index]``.
    critical_time : float or None
        The grid time just above the start, where the census first differs (by a critical
        point that carries mass) from the one below it; the last critical time lies in
        ``(time, critical_time]``. None when no such change is on the grid (the start is then
        ``grid[0]``).
    reason : str
        ``"census"`` (found), ``"given"`` (an explicit ``start_time``) or ``"grid start"``.
    settled : tuple of int
        The census counts at ``t_min`` (index 0, 1, ...).
    census : dict
        Census counts per grid time that was inspected.
    """

    index: int
    time: float
    critical_time: float | None
    reason: str
    settled: tuple[int, ...] = ()
    census: dict[float, tuple[int, ...]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "time": self.time, "critical_time": self.critical_time,
                "reason": self.reason, "settled": list(self.settled)}


def _changed(a: CriticalCensus, b: CriticalCensus, process: Any, min_density: float) -> bool:
    """Whether a critical point with mass appears or disappears between censuses ``a``, ``b``.

    Points are matched by index and position (``b``'s scaled to ``a``'s time, within
    ``sqrt(h)`` of the larger time); an unmatched point counts when its ``p_t`` is at least
    ``min_density`` times that of the highest mode of its own census."""
    for c, other in ((a, b), (b, a)):
        if not len(c.index):
            continue
        ratio = float(process.alpha(other.t)) / float(process.alpha(c.t))
        radius = np.sqrt(float(process.h(max(a.t, b.t))))
        top = np.max(c.log_density[c.index == 0]) if np.any(c.index == 0) else c.log_density.max()
        for q in range(len(c.index)):
            same = other.points[other.index == c.index[q]]
            if same.size and np.min(np.linalg.norm(same - ratio * c.points[q], axis=1)) <= radius:
                continue
            if c.log_density[q] - top >= np.log(min_density):
                return True
    return False


def slide_start(density: Any, ridge: Any, grid: Any, *, min_density: float = 1e-3,
                neighbours: int = 8, coarse: int = 40) -> SlideStart:
    """The largest grid time below the last critical time that carries mass.

    Parameters
    ----------
    density : SmoothedEmpirical (or a density with ``data``), at most 256 training points
    ridge : Ridge of ``density`` (its ``d`` sets the highest index counted, capped at 2)
    grid : array of shape (L + 1,), strictly decreasing
    min_density : float, default=1e-3
        A critical point that appears or disappears counts when ``p_t`` there is at least
        this times ``p_t`` at the highest mode (see the module docstring).
    neighbours : int, default=8
    coarse : int, default=40
        Grid times inspected on the first pass (then bisection between the last settled and
        the first changed one, so about ``coarse + log2(L / coarse)`` censuses in all).

    Returns
    -------
    SlideStart
    """
    where = "slide_start"
    g = check_grid(grid, where)
    min_density = check_scalar(min_density, "min_density", where, low=0.0, high=1.0,
                               low_open=True)
    neighbours = check_int(neighbours, "neighbours", where, low=0)
    coarse = check_int(coarse, "coarse", where, low=1)
    key = _key(density, ridge, g, min_density, neighbours, coarse)
    if key is not None and key in _MEMO:
        return replace(_MEMO[key], census=dict(_MEMO[key].census))
    out = _slide_start(density, ridge, g, min_density, neighbours, coarse, where)
    if key is not None:
        if len(_MEMO) >= 64:
            _MEMO.pop(next(iter(_MEMO)))
        _MEMO[key] = replace(out, census=dict(out.census))
    return out


#: slide starts already found, by what determines them (a census costs up to a second)
_MEMO: dict[tuple, SlideStart] = {}


def _key(density, ridge, g, *settings):
    data = getattr(density, "data", None)
    if getattr(density, "fused_kernel", None) != "empirical" or data is None:
        return None  # only a density whose maths are the empirical ones: data and process
    import hashlib

    digest = hashlib.sha1(np.ascontiguousarray(data, dtype=np.float64).tobytes()
                          + np.ascontiguousarray(g).tobytes()).hexdigest()
    return (digest, repr(density.process), ridge.d, *settings)


def _slide_start(density, ridge, g, min_density, neighbours, coarse, where):
    n = len(np.asarray(getattr(density, "data", ())))
    if n > MAX_CENSUS_POINTS:
        raise RidgeTheoryError(
            f"`density` passed to {where} has {n} training points; the automatic start "
            f"censuses critical points for at most {MAX_CENSUS_POINTS}. Pass start_time= "
            "(for example the time where the frames of the members resolve).")
    max_index = min(ridge.d, 2)
    proc = density.process
    memo: dict[int, CriticalCensus] = {}

    def census(i: int) -> CriticalCensus:
        if i not in memo:
            memo[i] = critical_census(density, float(g[i]), max_index=max_index,
                                      neighbours=neighbours)
        return memo[i]

    L = len(g) - 1
    settled = census(L).counts
    # coarse pass from t_min upward; stop at the first change that carries mass
    probe = np.unique(np.round(np.linspace(L, 0, min(coarse, L) + 1)).astype(int))[::-1]
    good, bad = L, None
    for i in probe[1:]:
        if _changed(census(good), census(int(i)), proc, min_density):
            bad = int(i)
            break
        good = int(i)
    table = lambda: {float(g[i]): c.counts for i, c in sorted(memo.items())}  # noqa: E731
    if bad is None:
        return SlideStart(0, float(g[0]), None, "grid start", settled, table())
    while good - bad > 1:
        mid = (good + bad) // 2
        if _changed(census(good), census(mid), proc, min_density):
            bad = mid
        else:
            good = mid
    return SlideStart(good, float(g[good]), float(g[bad]), "census", settled, table())
