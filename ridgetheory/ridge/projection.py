"""Projection onto the log-density ridge: SCMS and subspace-constrained Newton (numpy path).

theory.md section 2, "Algorithms". The numpy loop below is the reference statement; the numba
kernel in :mod:`._kernels` restates it for smoothed empirical densities and is tested
against it.

* SCMS: ``x <- x + P_N(x) (m(x) - x)`` until ``|P_N (m - x)| <= tol``.
* Newton: ``x <- x - V_N (V_N^T H V_N)^{-1} V_N^T s``; in the eigenbasis this multiplies the
  normal SCMS components by ``h / (h - lambda_j(S)) = -1/(h l_j)``. It is taken only where all
  normal curvatures are negative and only when it decreases the residual; otherwise the SCMS
  step is taken (fallback). For d = 0 (modes) ``V_N`` is the whole eigenbasis: the step is
  Newton's ``x - H^{-1} s`` where ``H`` is negative definite and it lowers ``|m - x|``;
  elsewhere (near saddles and inflections of ``p_t``, where mean shift crawls) the best of
  the saddle-free step ``|H|^{-1} s`` (at most ``sqrt(h_t)`` long) and its halvings, when it
  raises ``log p_t``; else mean shift (:func:`_newton_modes`). The numba kernel takes Newton
  steps for d >= 1 only, so :meth:`Ridge.project` runs this loop then.
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


#: fractions of the step tried by the line search of the d = 0 Newton update
_LINE = 0.5 ** np.arange(12)


def _newton_modes(density, x, t, h, off, r, lam, vec, new):
    """One Newton update towards a mode (d = 0) for each row of ``x``; ``new`` holds the
    mean-shift update and receives the Newton one where it is taken.

    The direction is the saddle-free Newton step ``|H|^{-1} s`` (Newton's ``-H^{-1} s`` where
    ``H`` is negative definite), at most ``sqrt(h_t)`` long. Where ``H`` is negative definite
    the step is taken when it lowers the mean-shift step ``|m - x|`` (quadratic convergence at
    the mode). Elsewhere, or when that fails (near saddles and inflections of ``p_t``, where
    mean shift crawls at rate ``1 + h_t l``), the best of the step times 1, 1/2, ..., 1/2^11
    is taken when it raises ``log p_t``. Otherwise the mean-shift step stays.
    """
    coef = np.einsum("mdj,md->mj", vec, off)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        move = np.einsum("mdj,mj->md", vec, coef / (h[:, None] * np.abs(lam)))
        size = np.linalg.norm(move, axis=1)
    fin = np.isfinite(size)
    move[~fin] = 0.0
    cap = np.sqrt(h)
    move *= np.where(fin & (size > cap), cap / np.where(fin & (size > 0), size, 1.0),
                     1.0)[:, None]
    trial = x + move
    taken = np.zeros(x.shape[0], dtype=bool)
    ok = np.flatnonzero(np.all(lam < 0, axis=1) & fin)
    if ok.size:
        r2 = np.linalg.norm(mean_shift(density, trial[ok], t[ok]), axis=1)
        taken[ok[r2 < r[ok]]] = True
    rest = np.flatnonzero(~taken & fin & (size > 0))
    if rest.size and callable(getattr(density, "log_prob", None)):
        n_line, D = _LINE.size, x.shape[1]
        cand = x[rest, None, :] + _LINE[None, :, None] * move[rest, None, :]
        lp = np.asarray(density.log_prob(cand.reshape(-1, D), np.repeat(t[rest], n_line)),
                        dtype=np.float64).reshape(rest.size, n_line)
        lp0 = np.asarray(density.log_prob(x[rest], t[rest]), dtype=np.float64)
        best = np.argmax(lp, axis=1)
        rows = np.arange(rest.size)
        up = lp[rows, best] > lp0
        new[rest[up]] = cand[rows, best][up]
    new[taken] = trial[taken]


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
        elif method == "newton":
            _newton_modes(density, xa, t[active], ha, off, r, lam_n, vec, new)
        x[active] = new
        iters[active] += 1
    return iters, status, rnorm
