"""Exact samples of the smoothed density ``p_t`` (start points for tests of the samplers)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import RidgeTheoryError, check_int, check_scalar, check_seed
from ..densities import GaussianMixture, SmoothedEmpirical

__all__ = ["sample_pt"]


def sample_pt(density: Any, t: float, n: int, seed: int) -> np.ndarray:
    """Draw ``n`` exact samples of ``p_t`` for a smoothed empirical or Gaussian-mixture density.

    ``X_t = a_t X_0 + sqrt(h_t) Z``: pick a training point (uniformly) or a mixture component
    (by its weight), then add the forward noise; for a mixture component ``j`` the variance is
    ``a_t^2 v_j + h_t``.

    Parameters
    ----------
    density : SmoothedEmpirical or GaussianMixture
    t : float
        Time, ``0 < t <= process.t_max``.
    n : int
        Number of samples, >= 1.
    seed : int
        Seed of the numpy generator (``numpy.random.default_rng(seed)``).

    Returns
    -------
    x : array of shape (n, D), float64

    Raises
    ------
    RidgeTheoryError
        For another density type or bad ``t``, ``n`` or ``seed``.

    Examples
    --------
    >>> import numpy as np, ridgetheory as rt
    >>> g = rt.GaussianMixture(np.zeros((1, 2)), np.array([1.0]))
    >>> rt.sample_pt(g, 0.5, 4, seed=0).shape
    (4, 2)
    """
    where = "sample_pt"
    if not isinstance(density, (SmoothedEmpirical, GaussianMixture)):
        raise RidgeTheoryError(
            f"`density` passed to {where} must be a SmoothedEmpirical or GaussianMixture; "
            f"got {type(density).__name__}."
        )
    proc = density.process
    t = check_scalar(t, "t", where, low=0.0, low_open=True, high=proc.t_max)
    n = check_int(n, "n", where, low=1)
    rng = np.random.default_rng(check_seed(seed, where))
    a, h = float(proc.alpha(t)), float(proc.h(t))
    if isinstance(density, SmoothedEmpirical):
        idx = rng.integers(0, density.n, size=n)
        centre = a * density.data[idx].astype(np.float64)
        scale = np.full(n, np.sqrt(h))
    else:
        w = density.mixture_weights.astype(np.float64)
        idx = rng.choice(density.n_components, size=n, p=w / w.sum())
        centre = a * density.means[idx].astype(np.float64)
        scale = np.sqrt(a * a * density.variances[idx].astype(np.float64) + h)
    return centre + scale[:, None] * rng.standard_normal((n, density.dim))
