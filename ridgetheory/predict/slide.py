"""Slide: motion along the ridge, resting places and inter-mode mass (theory.md section 4).

On the ridge the tangential drift is ``P_T(-f y + g^2 s_theta)``. The reduced dynamics keep
each ensemble member on the ridge: an Euler-Maruyama step with the tangential drift and
tangential noise, then a projection back onto the ridge at the next time. Integrated from
below the last critical time (:mod:`.start`: above it the ridge still changes topology and
the normal offset the reduction discards decides the branch) from the simulated states
there, this predicts where samples come to rest; the stable zeros of the learned
tangential denoiser drift at ``t_min`` are reported beside it (the zeros alone are not
enough at small t because the pull ``~ 2/h`` is as fast as the zeros move).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._checks import (
    PredictionWarning,
    RidgeTheoryError,
    check_array,
    check_choice,
    check_int,
    check_scalar,
    check_seed,
)
from ..grids import check_grid
from ..measure import nearest_training
from ..simulate.noise import normals
from ..simulate.schemes import get_scheme
from ._common import check_model, describe_exclusions, exclusion_counts
from .reduced import Feet
from .start import SlideStart, slide_start

__all__ = [
    "SlidePrediction",
    "predict_slide",
    "allocation",
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
    idx, dist = nearest_training(P, C, k=1)
    return np.where(dist[:, 0] <= radius, idx[:, 0], -1).astype(np.int64)


@dataclass
class SlidePrediction:
    """Predicted foot points of an ensemble sliding along the ridge.

    The reduction runs from ``start.time`` (below the last critical time by default, see
    :func:`slide_start`) to ``t_min``; ``times`` is that part of the grid.

    Attributes
    ----------
    times : array of shape (K + 1,)
        ``grid[start.index:]``.
    feet : array of shape (K + 1, M, D)
        Foot points at every time of ``times`` (on the ridge up to the projection tolerance).
    final : array of shape (M, D)
        Predicted resting places at ``t_min`` (finite for every member; read ``usable``).
    path_length : array of shape (K + 1,)
        Median cumulative tangential path length of the usable members from ``times[0]``.
    unconverged : int
        Projections, over all members and steps, that did not reach the tolerance or ended
        on an undetermined frame away from a mode (kept where they stopped).
    undetermined : int
        Member-steps whose tangent frame was undetermined; those members do not move along
        the ridge in that step (no arbitrary direction is trusted). Those at rest on a mode
        (where branches meet, e.g. the corner of a polygonal ridge) are also counted in
        ``meta["at_mode_steps"]`` and stay usable; the others are excluded.
    start : SlideStart
        Where the reduction started and why.
    start_states : array of shape (M, D)
        The members' states at ``start.time`` before projection (simulated or given).
    usable : array of shape (M,), bool
        Members the statistics use: a determined frame and a converged projection at the
        start, a determined frame at every step (or rest on a mode) and a converged
        projection at ``t_min``.
    excluded : dict of str to int
        Members left out, by the first reason that applies (``"start_unconverged"``,
        ``"start_undetermined"``, ``"undetermined"``, ``"final_unconverged"``).
    """

    times: np.ndarray
    feet: np.ndarray
    final: np.ndarray
    path_length: np.ndarray
    unconverged: int
    undetermined: int = 0
    start: SlideStart | None = None
    start_states: np.ndarray | None = None
    usable: np.ndarray | None = None
    excluded: dict[str, int] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_usable(self) -> int:
        """Number of usable members."""
        return int(np.count_nonzero(self.usable)) if self.usable is not None else len(self.final)

    def _use(self) -> np.ndarray:
        return self.final if self.usable is None else self.final[self.usable]

    def intermode_fraction(self, centres: Any, radius: float) -> float:
        """Share of usable members whose resting place is farther than ``radius`` from every
        centre."""
        return float(np.mean(classify_resting(self._use(), centres, radius) < 0))

    def allocation(self, centres: Any) -> np.ndarray:
        """Usable members whose resting place is nearest each centre, shape (n,), int64."""
        return allocation(self._use(), centres)


def allocation(points: Any, centres: Any) -> np.ndarray:
    """How many of ``points`` (M, D) are nearest each of ``centres`` (n, D): shape (n,), int64.

    The allocation among training points that the slide prediction and the simulation are
    compared on (pass ``a_{t_min}`` times the training points)."""
    P = check_array(points, "points", "allocation", ndim=2)
    C = check_array(centres, "centres", "allocation", ndim=2, min_rows=1)
    if C.shape[1] != P.shape[1]:
        raise RidgeTheoryError(
            f"`centres` passed to allocation must have {P.shape[1]} columns; got {C.shape}.")
    idx, _ = nearest_training(P, C, k=1)  # chunked: memory O(chunk * n), not O(M * n * D)
    return np.bincount(idx[:, 0], minlength=len(C)).astype(np.int64)


def _resolve_start(start_time: Any, density: Any, ridge: Any, g: np.ndarray,
                   where: str) -> SlideStart:
    if isinstance(start_time, str):
        if start_time != "auto":
            raise RidgeTheoryError(
                f"`start_time` passed to {where} must be 'auto', None or a time in "
                f"[{g[-1]:g}, {g[0]:g}]; got {start_time!r}.")
        return slide_start(density, ridge, g)
    if start_time is None:
        return SlideStart(0, float(g[0]), None, "grid start")
    t = check_scalar(start_time, "start_time", where, low=float(g[-1]), high=float(g[0]))
    j = int(np.flatnonzero(g <= t * (1 + 1e-12))[0])  # the first grid time at or below it
    return SlideStart(j, float(g[j]), None, "given")


def predict_slide(
    model: Any,
    density: Any,
    ridge: Any,
    grid: Any,
    start: Any,
    *,
    start_time: Any = "auto",
    start_from: str = "simulation",
    method: str = "em",
    noise: bool = True,
    seed: int = 0,
    tol: float = 1e-8,
    max_iter: int = 100,
    backend: str = "auto",
    fast: bool | None = None,
) -> SlidePrediction:
    """Integrate the reduced dynamics along the ridge for an ensemble of members.

    The reduction is valid once the ridge has stopped changing for the members (theory.md
    section 4): by default it starts at the grid time :func:`slide_start` finds below the
    last critical time, from the model's own simulated states there. The noise is the
    sampler's counter-based noise, so with the same ``seed`` the simulated part is the run
    ``simulate(model, y0=start, grid=grid, method=method, seed=seed)`` itself (``method``
    defaults to "em" here, while ``simulate`` defaults to "exponential") and the reduced part is
    coupled to it.

    Parameters
    ----------
    model : score model
        ``s_theta`` (the learned or injected score).
    density : AbstractDensity
        The smoothed training density (its ridge is followed).
    ridge : Ridge of ``density``
    grid : array of shape (L + 1,), strictly decreasing, > 0
    start : array of shape (M, D)
        Member states at ``grid[0]`` (for example exact samples of ``p_{grid[0]}``), or at
        the start time with ``start_from="given"``.
    start_time : "auto", float or None, default="auto"
        "auto": below the last critical time (:func:`slide_start`); a float: the first grid
        time at or below it; None: ``grid[0]`` (the reduction from the start, valid only when
        the ridge does not change topology on the grid).
    start_from : {"simulation", "given"}, default="simulation"
        "simulation": simulate ``model`` from ``grid[0]`` to the start time with ``method``
        and ``backend``. "given": ``start`` already holds the states at the start time
        (for example ``sample_pt(density, t_s, M, seed)``).
    method, backend : str
        Scheme and backend of the simulated part (see :func:`ridgetheory.simulate`).
    noise : bool, default=True
        Include the tangential part of the sampler noise in the reduced steps.
    seed : int, default=0
    tol, max_iter :
        Projection settings for each step (see :meth:`Ridge.project`).
    fast : bool, optional
        Project with the numba kernel, warm-started from each member's previous frame (None:
        when the density has the empirical kernel and numba runs; False: the numpy reference
        path). With the exact score (``model is density``) the kernel's mean shift is the
        score, so a step costs one kernel call.

    Returns
    -------
    SlidePrediction

    Raises
    ------
    RidgeTheoryError
        Bad arguments, or when no member is usable (the message gives the counts).

    Warns
    -----
    PredictionWarning
        When members are excluded (counts in the message and in ``excluded``).
    """
    where = "predict_slide"
    g, st, y, seed, max_iter = setup(model, density, ridge, grid, start, start_time=start_time,
                                     start_from=start_from, method=method, backend=backend,
                                     seed=seed, max_iter=max_iter, where=where)
    return reduce(model, density, ridge, g, st, y, noise=noise, seed=seed, tol=tol,
                  max_iter=max_iter, method=method, start_from=start_from, fast=fast,
                  where=where)[0]


def setup(model, density, ridge, grid, start, *, start_time, start_from, method, backend, seed,
          max_iter, where):
    """Checks, the start (:func:`slide_start` or given) and the members' states there."""
    check_model(model, density, ridge, where)
    g = check_grid(grid, where)
    y = check_array(start, "start", where, ndim=2)
    if y.shape[1] != density.dim:
        raise RidgeTheoryError(
            f"`start` passed to {where} must have shape (M, {density.dim}); got shape {y.shape}."
        )
    check_choice(start_from, "start_from", where, ("simulation", "given"))
    seed = check_seed(seed, where)
    max_iter = check_int(max_iter, "max_iter", where, low=1)
    st = _resolve_start(start_time, density, ridge, g, where)
    if start_from == "simulation" and st.index > 0:
        from ..simulate import simulate

        y = simulate(model, density.process, y0=y, grid=g[: st.index + 1], method=method,
                     backend=backend, seed=seed, progress=False).final
    return g, st, y, seed, max_iter


def reduce(model, density, ridge, g, st, y, *, noise, seed, tol, max_iter, method, start_from,
           fast, where, moments=None):
    """The reduced dynamics from ``st`` (one pass; the align moments ride along when given).

    Returns the SlidePrediction and the per-member exclusion codes (index into _REASONS; 5,
    diverged align moments, excludes a member from the align statistics only)."""
    j = st.index
    start_states = y.copy()
    em = get_scheme("em", where).coefficients(density.process, g)
    M, D = y.shape
    d = ridge.d
    traj = np.arange(M)
    exact = model is density  # the exact score: the kernel's mean shift is the score
    why = np.zeros(M, dtype=np.int8)  # 0 usable, else the first reason (index into _REASONS)
    proj = Feet(density, ridge, tol=tol, fast=fast)
    fs = proj.project(y, float(g[j]), 10 * max_iter)
    y = fs.points
    why[fs.missed & fs.undetermined] = 2
    why[(why == 0) & fs.missed] = 1
    unconverged = int(fs.missed.sum())
    if moments is not None:
        moments.start(fs.normal, start_states - y)
    K = len(g) - j
    feet = np.empty((K, M, D))
    feet[0] = y
    length = np.zeros(M)
    lengths = np.zeros((K, M))
    undetermined = 0
    resting = 0
    h = np.asarray(density.process.h(g), dtype=np.float64)
    diverged = np.zeros(M, dtype=bool)  # align moments that overflowed (predict only)
    for l in range(j, len(g)):
        t = float(g[l])
        s_exact = fs.shift / h[l]
        s = s_exact if exact else np.asarray(model.score(y, t), dtype=np.float64)
        if l < len(g) - 1:
            why[(why == 0) & fs.undetermined] = 3
        if moments is not None:
            lam = moments.rates(l - j, fs.eigenvalues[:, d:])
            bad, c = moments.observe(l - j, fs.normal, lam, None if exact else s - s_exact,
                                     (why == 0) & ~diverged)
            diverged |= bad & (why == 0)
            if l < len(g) - 1:
                moments.advance(l - j, lam, c)
        if l == len(g) - 1:
            break
        und = fs.undetermined | fs.at_mode
        undetermined += int(und.sum())
        resting += int(fs.at_mode.sum())
        # the sampler's own Euler-Maruyama step, then only its tangential part is kept
        xi = normals(seed, traj, l, D) if noise else None
        step = em.step(l, y, s, xi) - y
        T = fs.tangent  # (M, D, d)
        step_T = np.einsum("mdk,mk->md", T, np.einsum("mdk,md->mk", T, step))
        step_T[und] = 0.0  # no arbitrary direction is trusted
        fs = proj.project(y + step_T, float(g[l + 1]), max_iter)
        new = fs.points
        unconverged += int(fs.missed.sum())
        length += np.linalg.norm(new - y, axis=1)
        lengths[l + 1 - j] = length
        y = new
        feet[l + 1 - j] = y
    if K > 1:
        why[(why == 0) & fs.missed] = 4
    usable = why == 0
    if moments is not None:
        why = np.where(usable & diverged, np.int8(5), why)  # the align view only
    excluded = exclusion_counts(why, _REASONS)
    if not usable.any():
        raise RidgeTheoryError(
            f"{where}: none of the {M} members is usable ({describe_exclusions(excluded)}) "
            f"from the start at t = {st.time:.4g}. Start later (start_time=...), where the "
            "members' frames are determined, or raise max_iter / tol.")
    if excluded:
        warnings.warn(
            f"{where} excluded {M - int(usable.sum())} of {M} members "
            f"({describe_exclusions(excluded)}); statistics use the other members (see "
            "SlidePrediction.usable).",
            PredictionWarning, stacklevel=3)
    return SlidePrediction(
        times=g[j:].copy(),
        feet=feet,
        final=y,
        path_length=np.median(lengths[:, usable], axis=1),
        unconverged=unconverged,
        undetermined=undetermined,
        start=st,
        start_states=start_states,
        usable=usable,
        excluded=excluded,
        meta={"members": M, "noise": noise, "seed": seed, "tol": tol, "method": method,
              "at_mode_steps": resting, "start_from": start_from, "start": st.as_dict(),
              "fast": proj.fast},
    ), why


_REASONS = ("usable", "start_unconverged", "start_undetermined", "undetermined",
            "final_unconverged")


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
