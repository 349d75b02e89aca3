"""Phase times of reach, align and slide, defined the same way for prediction and simulation.

Working definitions (documented in docs/predictions.md):

* reach time: the largest time at which at least ``level`` (0.9) of the samples lie within
  the tube ``r_t = radius_factor sqrt(h_t)`` around the ridge;
* align time: the time by which half of the total decrease of the mean distance to the ridge
  (from the first to the last time) has happened;
* slide time: the time by which half of the total tangential path length of the foot points
  has been travelled.

The theory orders them reach > align > slide (in forward time t).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PhaseTimes", "phase_times", "half_motion_time"]


def half_motion_time(times: np.ndarray, progress: np.ndarray) -> float:
    """Time at which a monotone-ish cumulative ``progress`` (along decreasing ``times``) reaches
    half of its total, by linear interpolation. NaN if there is no motion."""
    times = np.asarray(times, dtype=np.float64)
    p = np.asarray(progress, dtype=np.float64)
    total = p[-1] - p[0]
    if not np.isfinite(total) or total <= 0:
        return float("nan")
    frac = (p - p[0]) / total
    j = int(np.argmax(frac >= 0.5))
    if j == 0:
        return float(times[0])
    w = (0.5 - frac[j - 1]) / max(frac[j] - frac[j - 1], 1e-300)
    # interpolate in log time: grids are geometric
    return float(np.exp(np.log(times[j - 1]) + w * (np.log(times[j]) - np.log(times[j - 1]))))


@dataclass
class PhaseTimes:
    """Reach, align and slide times (forward clock); ``ordered`` checks reach >= align >= slide."""

    reach: float
    align: float
    slide: float

    @property
    def ordered(self) -> bool:
        return bool(self.reach >= self.align >= self.slide)

    def as_dict(self) -> dict[str, float]:
        return {"reach": self.reach, "align": self.align, "slide": self.slide}


def phase_times(times: np.ndarray, tube_fraction: np.ndarray, mean_distance: np.ndarray,
                path_length: np.ndarray, level: float = 0.9) -> PhaseTimes:
    """Phase times from the three curves on a decreasing time axis.

    Parameters
    ----------
    times : array of shape (K,), decreasing
    tube_fraction : array of shape (K,)
    mean_distance : array of shape (K,)
        Mean distance to the ridge.
    path_length : array of shape (K,)
        Cumulative tangential path length of the foot points from ``times[0]``.
    level : float, default=0.9
    """
    times = np.asarray(times, dtype=np.float64)
    ok = np.flatnonzero(np.asarray(tube_fraction) >= level)
    reach = float(times[ok].max()) if ok.size else float("nan")
    d = np.asarray(mean_distance, dtype=np.float64)
    approach = np.maximum.accumulate(d[0] - d)  # cumulative decrease, monotone
    align = half_motion_time(times, approach)
    slide = half_motion_time(times, path_length)
    return PhaseTimes(reach, align, slide)
