"""Reach: the share of samples inside a tube around the ridge over time (theory.md section 4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._checks import check_array, check_int, check_scalar, check_seed
from ..simulate.sampling import sample_pt
from .curves import TUBE_LEVEL, tube_radius

__all__ = ["ReachPrediction", "predict_reach", "tube_fraction"]


def tube_fraction(
    ridge: Any, points: Any, t: float, radius: float, *, tol: float = 1e-7, max_iter: int = 500
) -> tuple[float, np.ndarray]:
    """Share of points within ``radius`` of the ridge at time t, and their distances.

    Parameters
    ----------
    ridge : Ridge
    points : array of shape (M, D)
    t : float
    radius : float, > 0

    Returns
    -------
    fraction : float
    distance : array of shape (M,)
        ``|eta|`` from each point to its projection.
    """
    x = check_array(points, "points", "tube_fraction", ndim=2)
    radius = check_scalar(radius, "radius", "tube_fraction", low=0.0, low_open=True)
    pr = ridge.project(x, t, tol=tol, max_iter=max_iter)
    dist = np.asarray(pr.displacement)[:, 0]
    return float(np.mean(dist <= radius)), dist


@dataclass
class ReachPrediction:
    """Predicted tube fraction: the exact ``p_t`` mass within ``r_t`` of the ridge.

    Attributes
    ----------
    times : array of shape (K,)
    radius : array of shape (K,)
        ``r_t``: :func:`tube_radius` at ``level`` (or ``radius_factor * sqrt(h_t)``).
    fraction : array of shape (K,)
    """

    times: np.ndarray
    radius: np.ndarray
    fraction: np.ndarray


def predict_reach(
    density: Any,
    ridge: Any,
    times: Any,
    *,
    level: float = TUBE_LEVEL,
    radius_factor: float | None = None,
    n: int = 2000,
    seed: int = 0,
) -> ReachPrediction:
    """Fraction of exact ``p_t`` samples within the tube ``r_t`` around the ridge.

    A sampler with a small score error tracks ``p_t`` at large and medium t, so this is the
    reach prediction for those times.

    Parameters
    ----------
    density : SmoothedEmpirical or GaussianMixture
    ridge : Ridge of ``density``
    times : array of shape (K,)
    level : float, default=0.95
        Tube level: ``r_t = chi_{D-d}^{-1}(level) sqrt(h_t)`` (:func:`tube_radius`), which
        scales with the number of normal directions.
    radius_factor : float, optional
        A fixed ``r_t = radius_factor * sqrt(h_t)`` instead (the same in every dimension).
    n : int, default=2000
        Exact samples per time.
    seed : int, default=0

    Returns
    -------
    ReachPrediction
    """
    where = "predict_reach"
    ts = check_array(times, "times", where, ndim=1)
    n = check_int(n, "n", where, low=1)
    seed = check_seed(seed, where)
    if radius_factor is None:
        r = tube_radius(density.process, ts, ridge.D - ridge.d, level)
    else:
        radius_factor = check_scalar(radius_factor, "radius_factor", where, low=0.0,
                                     low_open=True)
        r = radius_factor * np.sqrt(density.process.h(ts))
    frac = np.empty(len(ts))
    for i, t in enumerate(ts):
        x = sample_pt(density, float(t), n, seed + i)
        frac[i], _ = tube_fraction(ridge, x, float(t), float(r[i]))
    return ReachPrediction(times=ts, radius=r, fraction=frac)
