"""Projection onto the log-density ridge: SCMS and subspace-constrained Newton (numpy path).

theory.md section 2, "Algorithms". The numpy loop below is the reference statement; the numba
kernel in :mod:`._kernels` restates it for smoothed empirical densities and is tested
against it.

* SCMS: ``x <- x + P_N(x) (m(x) - x)`` until ``|P_N (m - x)| <= tol``.
* Newton: ``x <- x - V_N (V_N^T H V_N)^{-1} V_N^T s``; in the eigenbasis this multiplies the
  normal SCMS components by ``h / (h - lambda_j(S)) = -1/(h l_j)``. It is taken only where all
  normal curvatures are negative and only when it decreases the residual; otherwise the SCMS
  step is taken (fallback).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .frames import S_TINY, mean_shift, spectrum

__all__ = ["RidgeProjection", "project_numpy"]


@dataclass(frozen=True)
class RidgeProjection:
    """Result of :meth:`Ridge.project`.

    Per-point arrays have a leading M axis; for a single (D,) input point it is dropped.

    Attributes
    ----------
    points : array of shape (M, D), float64
        Projected points (the last iterate for unconverged ones).
    converged : array of shape (M,), bool
        ``|P_N (m - x)| <= tol`` at the returned point and the frame there is determined.
    iterations : array of shape (M,), int64
        Updates taken (summed over resumed runs).
    residual : array of shape (M,), float64
        ``|P_N s|`` at the returned point (score units).
    curvature : array of shape (M,), float64
        ``l_{d+1}`` at the returned point.
    gap : array of shape (M,), float64
        ``l_d - l_{d+1}`` at the returned point (``inf`` for d = 0).
    displacement : array of shape (M, 3), float64
        ``|eta|, |P_N eta|, |P_T eta|`` with ``eta = start - points`` and the projectors at
        the returned point.
    start : array of shape (M, D), float64
        The input points (kept across resumption).
    t : array of shape (M,), float64
        Times.
    undetermined : array of shape (M,), bool
        Frames at the returned point undetermined (see :class:`RidgeFrames`); such points
        are never marked converged.
    method : str
        "scms" or "newton".
    backend : str
        "numpy" or "numba" (what actually ran).
    tol : float
    dim : int
        Ridge dimension d.
    """

    points: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    residual: np.ndarray
    curvature: np.ndarray
    gap: np.ndarray
    displacement: np.ndarray
    start: np.ndarray
    t: np.ndarray
    undetermined: np.ndarray
    method: str
    backend: str
    tol: float
    dim: int
    single: bool = field(default=False, repr=False)

    @property
    def offset(self) -> np.ndarray:
        """Deprecated alias of :attr:`displacement` (removed in the next release)."""
        warnings.warn("RidgeProjection.offset is deprecated; use RidgeProjection.displacement",
                      DeprecationWarning, stacklevel=2)
        return self.displacement

    @property
    def n_unconverged(self) -> int:
        """Number of points that did not converge."""
        return int(np.size(self.converged) - np.count_nonzero(self.converged))


def _normal_part(vectors: np.ndarray, k: int, v: np.ndarray) -> np.ndarray:
    VN = vectors[:, :, :k]
    return np.einsum("mdj,mj->md", VN, np.einsum("mdj,md->mj", VN, v))


def project_numpy(density, x, start, t, d, method, tol, max_iter, iters):
    """Reference projection on clean arrays; ``x`` is updated in place.

    Returns (iters, status, step_norm) with status 0 converged, 1 running, 2 underflow, like
    the numba kernel.
    """
    M, D = x.shape
    k = D - d
    h_all = np.asarray(density.process.h(t), dtype=np.float64)
    status = np.ones(M, dtype=np.int8)
    rnorm = np.full(M, np.inf)
    active = np.arange(M)
    for it in range(max_iter + 1):
        if active.size == 0:
            break
        xa, ta, ha = x[active], t[active], h_all[active]
        off = mean_shift(density, xa, ta)
        sp = spectrum(density, xa, ta)
        step = _normal_part(sp.vectors, k, off) if d else off
        r = np.linalg.norm(step, axis=1)
        rnorm[active] = r
        frozen = (sp.scale < S_TINY) if (d and sp.from_s) else np.zeros(active.size, bool)
        done = r <= tol
        status[active[frozen]] = 2
        status[active[done & ~frozen]] = 0
        keep = ~(frozen | done)
        if it == max_iter:
            break
        active, xa, ha, off, step, r = (
            active[keep], xa[keep], ha[keep], off[keep], step[keep], r[keep])
        lam_n = sp.lam_h[keep][:, :k]
        vec = sp.vectors[keep]
        new = xa + step
        if method == "newton" and d:
            ok = np.all(lam_n < 0, axis=1)
            if np.any(ok):
                coef = np.einsum("mdj,md->mj", vec[:, :, :k], off)
                with np.errstate(divide="ignore", invalid="ignore"):
                    coef = coef * np.where(ok[:, None], -1.0 / (ha[:, None] * lam_n), 1.0)
                trial = xa + np.einsum("mdj,mj->md", vec[:, :, :k], coef)
                idx = np.flatnonzero(ok)
                ta_k = t[active[idx]]
                off2 = mean_shift(density, trial[idx], ta_k)
                sp2 = spectrum(density, trial[idx], ta_k)
                r2 = np.linalg.norm(_normal_part(sp2.vectors, k, off2), axis=1)
                better = r2 < r[idx]
                new[idx[better]] = trial[idx[better]]
        x[active] = new
        iters[active] += 1
    return iters, status, rnorm
