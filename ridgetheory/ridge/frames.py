"""Ridge frames: eigen-decomposition of the log-density Hessian, batched over points.

theory.md section 2. The Hessian of ``log p_t`` is ``H = (S - h I) / h^2`` with ``S`` the
posterior covariance, so ``H`` and ``S`` share eigenvectors and ``l_i = (lambda_i(S) - h)/h^2``.
Frames are taken from ``eigh(S)``, computed anchored at the heaviest training point by the
density, because ``eigh(H)`` loses them by cancellation once ``|S| / h`` nears machine
precision. A density without ``has_posterior_covariance`` falls back to ``eigh(hessian)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["RidgeFrames", "Spectrum", "spectrum", "mean_shift", "diagnostics", "GAP_RTOL",
           "GAP_ATOL"]

#: default relative eigengap below which frames are undetermined (see :class:`RidgeFrames`)
GAP_RTOL = 1e-9
#: default absolute eigengap (Hessian units) below which frames are undetermined
GAP_ATOL = 0.0
#: ``S`` with largest |eigenvalue| below this counts as underflowed
S_TINY = 1e-300


@dataclass(frozen=True)
class RidgeFrames:
    """Eigen-frames of the log-density Hessian at a batch of points.

    For a single (D,) query point the leading M axis is dropped from every field.

    Attributes
    ----------
    eigenvalues : array of shape (M, D), float64
        Eigenvalues ``l_1 >= ... >= l_D`` of the Hessian of ``log p_t``.
    normal : array of shape (M, D, D - d), float64
        Orthonormal normal basis: column ``j`` is the eigenvector of ``eigenvalues[:, d + j]``
        (the D - d most negative directions).
    tangent : array of shape (M, D, d), float64
        Orthonormal tangent basis: column ``j`` is the eigenvector of ``eigenvalues[:, j]``.
    curvature : array of shape (M,), float64
        Normal curvature ``l_{d+1}`` (negative on a ridge).
    gap : array of shape (M,), float64
        Eigengap ``l_d - l_{d+1}`` (Hessian units, ``inf`` for d = 0). Computed from the
        eigenvalues of ``S`` divided by ``h^2`` so it keeps relative accuracy (it may
        underflow to 0 where the posterior sits on one training point; ``rel_gap`` does not).
    rel_gap : array of shape (M,), float64
        The gap relative to the spectral scale of the matrix that was decomposed. Densities
        split ``S = iso I + W S_dir`` (``W`` the posterior weight off the heaviest point,
        ``S_dir`` of order one); then ``rel_gap = (mu_{d} - mu_{d+1}) / max_i |mu_i|`` with
        ``mu`` the eigenvalues of ``S_dir`` in descending order (the same with ``S`` or with
        the Hessian for densities that do not split or have no posterior covariance).
        Eigenvector errors are about ``1e-16 / rel_gap``, so this is the number that says
        whether a frame can be trusted. ``inf`` for d = 0; 0 when ``S_dir`` is zero.
    undetermined : array of shape (M,), bool
        True where the frame is not trustworthy: ``rel_gap < gap_rtol``, ``gap < gap_atol``,
        or ``S_dir`` is zero (largest |eigenvalue| below 1e-300: nothing off the anchor, or
        ``S`` underflowed for a density that does not split it). Always False for d = 0,
        whose normal space is the whole space.
    """

    eigenvalues: np.ndarray
    normal: np.ndarray
    tangent: np.ndarray
    curvature: np.ndarray
    gap: np.ndarray
    rel_gap: np.ndarray
    undetermined: np.ndarray

    @property
    def normal_projector(self) -> np.ndarray:
        """``P_N = V_N V_N^T``, array of shape (M, D, D) or (D, D)."""
        return np.einsum("...ij,...kj->...ik", self.normal, self.normal)

    @property
    def tangent_projector(self) -> np.ndarray:
        """``P_T = I - P_N``, array of shape (M, D, D) or (D, D)."""
        return np.einsum("...ij,...kj->...ik", self.tangent, self.tangent)


@dataclass(frozen=True)
class Spectrum:
    """Internal: ascending Hessian spectrum with the quantities the frames need."""

    lam_h: np.ndarray  # (M, D) ascending Hessian eigenvalues
    vectors: np.ndarray  # (M, D, D) columns follow lam_h
    base: np.ndarray  # (M, D) ascending eigenvalues of the matrix decomposed (S_dir or H)
    scale: np.ndarray  # (M,) max |base|
    h: np.ndarray  # (M,)
    from_s: bool
    weight: np.ndarray | None = None  # (M,) W with S = iso I + W S_dir (S path only)

    def frames(self, d: int, gap_rtol: float, gap_atol: float) -> RidgeFrames:
        D = self.lam_h.shape[1]
        k = D - d  # number of normal directions
        curv, gap, rel, und = diagnostics(self.lam_h, self.base, self.scale, self.weight,
                                          self.h, self.from_s, d, gap_rtol, gap_atol)
        return RidgeFrames(
            eigenvalues=self.lam_h[:, ::-1].copy(),
            normal=self.vectors[:, :, k - 1 :: -1].copy(),
            tangent=self.vectors[:, :, : k - 1 : -1].copy() if d else self.vectors[:, :, :0].copy(),
            curvature=curv.copy(),
            gap=gap,
            rel_gap=rel,
            undetermined=und,
        )


def diagnostics(lam_h, base, scale, weight, h, from_s, d, gap_rtol, gap_atol):
    """Curvature, gap, relative gap and the undetermined flag from ascending spectra.

    ``lam_h`` (M, D) Hessian eigenvalues; ``base`` (M, D) eigenvalues of the matrix that was
    decomposed (``S_dir``, or ``H`` when ``from_s`` is False) with ``scale = max |base|``;
    ``weight`` (M,) the ``W`` of ``S = iso I + W S_dir``.
    """
    k = lam_h.shape[1] - d
    curv = lam_h[:, k - 1].copy()
    if d == 0:
        inf = np.full(curv.shape, np.inf)
        return curv, inf, inf.copy(), np.zeros(curv.shape, dtype=bool)
    diff = base[:, k] - base[:, k - 1]
    gap = weight * diff / h**2 if from_s else diff
    underflow = scale < S_TINY if from_s else scale == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(underflow, 0.0, diff / np.where(underflow, 1.0, scale))
    und = underflow | (rel < gap_rtol) | (gap < gap_atol)
    return curv, gap, rel, und


def from_parts(iso: np.ndarray, log_w: np.ndarray, lam_dir: np.ndarray, vectors: np.ndarray,
               h: np.ndarray) -> Spectrum:
    """Spectrum of ``S = iso I + exp(log_w) S_dir`` from the ascending eigenpairs of ``S_dir``.

    Gaps are taken on ``S_dir``, whose size never underflows, and scaled back.
    """
    with np.errstate(under="ignore"):
        w = np.exp(log_w)
    lam_s = iso[:, None] + w[:, None] * lam_dir
    lam_h = (lam_s - h[:, None]) / (h**2)[:, None]
    return Spectrum(lam_h, vectors, lam_dir, np.max(np.abs(lam_dir), axis=1), h, True, w)


def spectrum(density, x: np.ndarray, t: np.ndarray) -> Spectrum:
    """Ascending spectrum at clean (M, D) points and (M,) times (numpy reference).

    Uses the density's ``_posterior_covariance_parts`` (``S = iso I + W S_dir``) when it has
    one, else ``_posterior_covariance``, else the Hessian.
    """
    h = np.asarray(density.process.h(t), dtype=np.float64)
    if getattr(density, "has_posterior_covariance", False):
        parts = getattr(density, "_posterior_covariance_parts", None)
        if callable(parts):
            iso, log_w, S = (np.asarray(v, dtype=np.float64) for v in parts(x, t))
        else:
            S = np.asarray(density._posterior_covariance(x, t), dtype=np.float64)
            iso, log_w = np.zeros(x.shape[0]), np.zeros(x.shape[0])
        lam_dir, vec = np.linalg.eigh(S)
        return from_parts(iso, log_w, lam_dir, vec, h)
    H = np.asarray(density._hessian(x, t), dtype=np.float64)
    lam, vec = np.linalg.eigh(0.5 * (H + np.swapaxes(H, 1, 2)))
    return Spectrum(lam, vec, lam, np.max(np.abs(lam), axis=1), h, False)


def mean_shift(density, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``m - x`` (M, D) through the score protocol's ``_mean_shift`` hook (anchored for
    densities), or ``denoiser - x`` for an object outside the protocol."""
    f = getattr(density, "_mean_shift", None)
    if callable(f):
        return np.asarray(f(x, t), dtype=np.float64)
    return np.asarray(density.denoiser(x, t), dtype=np.float64) - x
