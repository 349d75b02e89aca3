"""The curves the phases are defined on, from simulated trajectories and from predictions alike.

theory.md section 4. One statement of each curve, used by the experiments and by
:func:`phase_times`:

* distance to the ridge ``|eta|`` (mean and quantiles) at each time;
* tube fraction: the share of samples within ``r_t = chi_{D-d}^{-1}(level) sqrt(h_t)`` of the
  ridge. The radius scales with the number of normal directions: a sample of ``p_t`` near a
  mode has a normal offset of about ``N(0, h_t I_{D-d})``, whose norm is chi-distributed with
  ``D - d`` degrees of freedom, so a fixed ``2 sqrt(h_t)`` holds 95 % of it in one normal
  direction but about 20 % in seven;
* normal and tangential rates ``k_N = -(-f + g^2 l_{d+1})``, ``k_T = |-f + g^2 l_d|`` at the
  foot points (medians);
* tangential separation: the median distance between foot points of the samples and of a
  coupled run (same noise, usually the exact score), as a running maximum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._checks import RidgeTheoryError, check_int, check_scalar
from ..processes import check_process
from .phases import PhaseTimes, phase_times, rates

__all__ = ["tube_radius", "RidgeCurves", "trajectory_curves", "prediction_curves"]

#: default tube level: ``2 sqrt(h_t)`` in one normal direction holds 95.4 %
TUBE_LEVEL = 0.95


def tube_radius(process: Any, t: Any, normal_dim: int, level: float = TUBE_LEVEL) -> np.ndarray:
    """``r_t = chi_{normal_dim}^{-1}(level) sqrt(h_t)``: the tube that holds ``level`` of an
    isotropic normal offset ``N(0, h_t I)``.

    Parameters
    ----------
    process : AbstractProcess
    t : float or array of shape (K,)
    normal_dim : int, >= 1
        ``D - d``.
    level : float in (0, 1), default=0.95

    Returns
    -------
    radius : float array shaped like ``t``
    """
    process = check_process(process, "tube_radius")
    if isinstance(normal_dim, bool) or not isinstance(normal_dim, (int, np.integer)) \
            or normal_dim < 1:
        raise RidgeTheoryError(
            f"`normal_dim` passed to tube_radius must be an integer >= 1 (D - d); got "
            f"{normal_dim!r}.")
    level = check_scalar(level, "level", "tube_radius", low=0.0, high=1.0, low_open=True,
                         high_open=True)
    from scipy.stats import chi  # 1.3 s to import: only when a tube is asked for

    return float(chi.ppf(level, int(normal_dim))) * np.sqrt(np.asarray(process.h(t),
                                                                       dtype=np.float64))


@dataclass
class RidgeCurves:
    """Phase curves on a decreasing time axis (from :func:`trajectory_curves` or
    :func:`prediction_curves`).

    Attributes
    ----------
    times : array of shape (K,)
    mean_distance : array of shape (K,)
        Mean ``|eta|`` over the usable members (NaN only at a time where no member is
        usable, which ``excluded`` then shows as M; the same for the other statistics).
    quantile_levels : tuple of float
    distance_quantiles : array of shape (n_levels, K)
    tube_radius : array of shape (K,)
    tube_fraction : array of shape (K,)
    normal_rate, tangent_rate : arrays of shape (K,)
        Median ``k_N`` and ``k_T`` at the foot points.
    separation : array of shape (K,) or None
        Running maximum of the median foot-point distance to the coupled ``reference`` run.
    feet : array of shape (K, M, D)
    distance : array of shape (K, M) or None
        Each member's ``|eta|`` at each time (simulation only; a prediction has the
        distribution, not members' distances).
    usable : array of shape (K, M), bool
        Members the statistics use at each time (a converged projection with a determined
        frame; for a prediction, the members the finished slide and align predictions kept,
        the same at every time).
    source : str
        ``"simulation"`` or ``"prediction"``.
    """

    times: np.ndarray
    mean_distance: np.ndarray
    quantile_levels: tuple[float, ...]
    distance_quantiles: np.ndarray
    tube_radius: np.ndarray
    tube_fraction: np.ndarray
    normal_rate: np.ndarray
    tangent_rate: np.ndarray
    separation: np.ndarray | None
    feet: np.ndarray
    usable: np.ndarray
    source: str
    distance: np.ndarray | None = None

    @property
    def excluded(self) -> np.ndarray:
        """Members left out at each time, shape (K,), int64."""
        return (~self.usable).sum(axis=1).astype(np.int64)

    def phase_times(self, *, level: float = 0.9, rate: float = 10.0) -> PhaseTimes:
        """Reach, align and slide times of these curves (see :func:`phase_times`)."""
        sep = self.separation if self.separation is not None else np.zeros(len(self.times))
        return phase_times(self.times, self.tube_fraction, self.normal_rate, sep,
                           level=level, rate=rate)


def _median_rates(density, ridge, feet, times, use):
    kn, kt = np.empty(len(times)), np.empty(len(times))
    for j, t in enumerate(times):
        u = use[j]
        if not u.any():
            kn[j] = kt[j] = np.nan  # no usable member: counted in `excluded`
            continue
        a, b = rates(density, ridge, feet[j][u], float(t))
        kn[j], kt[j] = float(np.median(a)), float(np.median(b))
    return kn, kt


def _separation(feet, ref_feet, use):
    d = np.linalg.norm(feet - ref_feet, axis=2)
    med = np.array([np.median(d[j][use[j]]) if use[j].any() else 0.0 for j in range(len(d))])
    return np.maximum.accumulate(med)


def _check_reference(ref, feet, where):
    if ref is None:
        return None
    R = np.asarray(ref.feet, dtype=np.float64)
    if R.shape != feet.shape:
        raise RidgeTheoryError(
            f"`reference` passed to {where} must cover the same times and members; its feet "
            f"have shape {R.shape}, these {feet.shape}.")
    return R


def trajectory_curves(density: Any, ridge: Any, traj: Any, *, reference: Any = None,
                      members: int | None = None, quantiles: tuple[float, ...] = (0.1, 0.5, 0.9),
                      level: float = TUBE_LEVEL, tol: float = 1e-8,
                      max_iter: int = 500) -> RidgeCurves:
    """Phase curves of simulated trajectories at their saved times.

    Parameters
    ----------
    density, ridge : the density and its ridge (d >= 1)
    traj : Trajectories
        States at ``traj.times`` (pass ``save_at`` to :func:`ridgetheory.simulate`).
    reference : RidgeCurves, optional
        Curves of a coupled run (same seed and start, for example the exact score) for the
        tangential separation.
    members : int, optional
        Use the first ``members`` trajectories (default all).
    quantiles, level, tol, max_iter :
        Distance quantiles, tube level (:func:`tube_radius`) and projection settings.

    Returns
    -------
    RidgeCurves
    """
    where = "trajectory_curves"
    _check_ridge(ridge, density, where)
    if not (hasattr(traj, "states") and hasattr(traj, "times")):
        raise RidgeTheoryError(
            f"`traj` passed to {where} must be Trajectories (from rt.simulate with save_at); "
            f"got {type(traj).__name__}.")
    quantiles = _check_levels(quantiles, where)
    states = np.asarray(traj.states, dtype=np.float64)
    if members is not None:
        states = states[:, : check_int(members, "members", where, low=1)]
    times = np.asarray(traj.times, dtype=np.float64)
    K, M, D = states.shape
    feet = np.empty_like(states)
    dist = np.empty((K, M))
    use = np.empty((K, M), dtype=bool)
    for j, t in enumerate(times):
        pr = ridge.project(states[j], float(t), tol=tol, max_iter=max_iter)
        feet[j] = pr.points
        dist[j] = np.asarray(pr.displacement)[:, 0]
        use[j] = np.asarray(pr.converged) & ~np.asarray(pr.undetermined)
    return _assemble(density, ridge, times, feet, dist, use, reference, quantiles, level,
                     "simulation", where)


def _check_ridge(ridge, density, where):
    if getattr(ridge, "density", None) is not density:
        raise RidgeTheoryError(f"`ridge` passed to {where} must be rt.Ridge(density, d) of "
                               "`density`.")
    if ridge.d < 1:
        raise RidgeTheoryError(f"`ridge` passed to {where} must have d >= 1 (a tangent rate).")


def _check_levels(quantiles, where):
    q = np.asarray(quantiles, dtype=np.float64)
    if q.ndim != 1 or not q.size or not np.all((q >= 0) & (q <= 1)):
        raise RidgeTheoryError(
            f"`quantiles` passed to {where} must be levels in [0, 1]; got {quantiles!r}.")
    return tuple(float(v) for v in q)


def _assemble(density, ridge, times, feet, dist, use, reference, quantiles, level, source,
              where):
    r = tube_radius(density.process, times, ridge.D - ridge.d, level)
    any_use = use.any(axis=1)
    if not any_use.any():
        raise RidgeTheoryError(
            f"{where}: no member has a converged projection with a determined frame at any "
            "time; raise max_iter or tol, or look at later times.")
    mean = np.array([dist[j][use[j]].mean() if any_use[j] else np.nan for j in range(len(times))])
    qs = np.array([np.quantile(dist[j][use[j]], quantiles) if any_use[j]
                   else np.full(len(quantiles), np.nan) for j in range(len(times))]).T
    tube = np.array([np.mean(dist[j][use[j]] <= r[j]) if any_use[j] else np.nan
                     for j in range(len(times))])
    kn, kt = _median_rates(density, ridge, feet, times, use)
    ref = _check_reference(reference, feet, where)
    sep = None if ref is None else _separation(feet, ref, use & reference.usable)
    return RidgeCurves(times=times, mean_distance=mean, quantile_levels=tuple(quantiles),
                       distance_quantiles=qs, tube_radius=r, tube_fraction=tube,
                       normal_rate=kn, tangent_rate=kt, separation=sep, feet=feet,
                       usable=use, source=source, distance=dist)


def prediction_curves(density: Any, ridge: Any, slide: Any, align: Any, *,
                      times: Any = None, reference: Any = None,
                      level: float = TUBE_LEVEL) -> RidgeCurves:
    """Phase curves of a prediction: foot points from the slide, distances from the align
    moment equations (their mean, quantiles and tube fraction at the same radius).

    Parameters
    ----------
    density, ridge : the density and its ridge (d >= 1)
    slide : SlidePrediction
    align : AlignPrediction
        On ``slide.times`` (for example ``predict_alignment(..., slide.times, slide)``).
    times : array of shape (K,), optional
        Times of ``slide.times`` to report (default all).
    reference : RidgeCurves, optional
        Prediction curves of a coupled run (same seed and start) for the separation.
    level : float, default=0.95
        Tube level; ``align`` must have been computed with the same (``tube_level``).

    Returns
    -------
    RidgeCurves
        Covers the reduced part of the grid only (``t <= slide.start.time``); above it the
        prediction is the simulation itself (see :func:`predict_reach` for those times).
    """
    where = "prediction_curves"
    from .align import AlignPrediction
    from .slide import SlidePrediction

    _check_ridge(ridge, density, where)
    if not isinstance(slide, SlidePrediction) or not isinstance(align, AlignPrediction):
        raise RidgeTheoryError(
            f"`slide` and `align` passed to {where} must be a SlidePrediction and an "
            f"AlignPrediction; got {type(slide).__name__} and {type(align).__name__}.")
    st = np.asarray(slide.times, dtype=np.float64)
    if len(align.times) != len(st) or not np.allclose(align.times, st, rtol=1e-12, atol=0):
        raise RidgeTheoryError(
            f"`align` passed to {where} must be on the slide's times ({len(st)} from "
            f"{st[0]:.4g}); got {len(align.times)} from {align.times[0]:.4g}.")
    if times is None:
        idx = np.arange(len(st))
    else:
        tt = np.asarray(times, dtype=np.float64)
        idx = np.array([int(np.argmin(np.abs(st - t))) for t in tt])
        if not np.allclose(st[idx], tt, rtol=1e-9, atol=0):
            raise RidgeTheoryError(
                f"`times` passed to {where} must be times of slide.times (from {st[0]:.4g} to "
                f"{st[-1]:.4g}); got {tt.tolist()[:4]}...")
    use_m = np.asarray(slide.usable if slide.usable is not None else
                       np.ones(slide.feet.shape[1], dtype=bool))
    use_m = use_m & np.asarray(align.meta.get("usable", use_m))
    feet = slide.feet[idx]
    use = np.broadcast_to(use_m, feet.shape[:2]).copy()
    r = tube_radius(density.process, st[idx], ridge.D - ridge.d, level)
    if not np.allclose(r, align.tube_radius[idx]):
        raise RidgeTheoryError(
            f"`align` passed to {where} used another tube level than level={level:g}; pass "
            "the level its tube_level had.")
    kn, kt = _median_rates(density, ridge, feet, st[idx], use)
    ref = _check_reference(reference, feet, where)
    sep = None if ref is None else _separation(feet, ref, use & reference.usable)
    return RidgeCurves(times=st[idx], mean_distance=align.mean_distance[idx],
                      quantile_levels=align.quantile_levels,
                      distance_quantiles=align.quantiles[:, idx], tube_radius=r,
                      tube_fraction=align.tube_fraction[idx], normal_rate=kn, tangent_rate=kt,
                      separation=sep, feet=feet, usable=use, source="prediction")
