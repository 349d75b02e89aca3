"""The one protocol for everything with a score.

Shape rule (stated once, used everywhere):

* ``x`` is an array of shape (M, D) or (D,), any real dtype, converted to the object's dtype
  (float64 by default);
* ``t`` is a scalar or an array of shape (M,) (only with (M, D) points), every entry > 0;
* outputs follow ``x``: a (D,) point gives a (D,) score, (M, D) points give (M, D) scores,
  per-point scalars are (M,) or 0-d, Hessians (M, D, D) or (D, D).

Public methods check and normalise their input, then call private ``_score``, ``_denoiser``
(and for densities ``_log_prob``, ``_hessian``, ``_posterior_covariance``, ``_weights``)
on clean (M, D) arrays with (M,) times. A subclass implements either ``_score`` or
``_denoiser``: the base derives the other by Tweedie's identity ``m = x + h s``.

Capability markers are class attributes, not string flags:

* ``has_exact_hessian`` -- ``hessian`` is exact (not a finite difference);
* ``has_posterior_covariance`` -- ``posterior_covariance`` is available, so ridge frames
  can be computed by ``eigh`` of the (well-conditioned) posterior covariance.
"""

from __future__ import annotations

from abc import ABC
from typing import Any

import numpy as np

from ._checks import check_points, check_times
from .processes import AbstractProcess

__all__ = ["AbstractScoreModel", "AbstractDensity"]


class AbstractScoreModel(ABC):
    """Anything with a score ``s(x, t) ~ grad log p_t(x)`` and a denoiser ``E[a_t X_0 | x]``.

    Attributes
    ----------
    process : AbstractProcess
        The forward process whose ``alpha`` and ``h`` link score and denoiser.
    dim : int
        Ambient dimension D.
    dtype : numpy.dtype
        float64 (default) or float32.
    """

    process: AbstractProcess
    dim: int
    dtype: np.dtype = np.dtype(np.float64)
    has_exact_hessian: bool = False
    has_posterior_covariance: bool = False

    # -- input normalisation -------------------------------------------------------------
    def _prepare(self, x: Any, t: Any, method: str) -> tuple[np.ndarray, np.ndarray, bool]:
        where = f"{type(self).__name__}.{method}"
        xx, single = check_points(x, "x", where, self.dim, self.dtype)
        tt = check_times(t, "t", where, xx.shape[0], single, np.float64)
        if np.isfinite(self.process.t_max) and np.any(tt > self.process.t_max):
            from ._checks import RidgeTheoryError

            raise RidgeTheoryError(
                f"`t` passed to {where} must be <= {self.process.t_max} for {self.process!r}; "
                f"got {float(tt.max())}."
            )
        return xx, tt, single

    @staticmethod
    def _finish(out: np.ndarray, single: bool) -> np.ndarray:
        return out[0] if single else out

    # -- public protocol -----------------------------------------------------------------
    def score(self, x: Any, t: Any) -> np.ndarray:
        """Score ``s(x, t)``.

        Parameters
        ----------
        x : array of shape (M, D) or (D,)
        t : float or array of shape (M,), > 0

        Returns
        -------
        s : array of shape (M, D) or (D,), self.dtype
        """
        xx, tt, single = self._prepare(x, t, "score")
        return self._finish(self._score(xx, tt), single)

    def denoiser(self, x: Any, t: Any) -> np.ndarray:
        """Denoiser ``m(x, t) = E[a_t X_0 | X_t = x]``, shape as ``x``."""
        xx, tt, single = self._prepare(x, t, "denoiser")
        return self._finish(self._denoiser(xx, tt), single)

    # -- defaults by Tweedie's identity --------------------------------------------------
    def _score(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        if type(self)._denoiser is AbstractScoreModel._denoiser:
            raise NotImplementedError(
                f"{type(self).__name__} implements neither _score nor _denoiser"
            )
        h = self.process._h(t).astype(x.dtype)
        return (self._denoiser(x, t) - x) / h[:, None]

    def _denoiser(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        if type(self)._score is AbstractScoreModel._score:
            raise NotImplementedError(
                f"{type(self).__name__} implements neither _score nor _denoiser"
            )
        h = self.process._h(t).astype(x.dtype)
        return x + h[:, None] * self._score(x, t)


class AbstractDensity(AbstractScoreModel):
    """A smoothed data density ``p_t``: the score protocol plus ``log_prob`` and curvature.

    Subclasses implement ``_log_prob``, ``_denoiser`` (or ``_score``) and
    ``_posterior_covariance``; the Hessian then follows from the second-order Tweedie
    identity ``H = (S - h I) / h^2`` with ``S = Cov[a_t X_0 | X_t = x]`` (theory.md
    section 1), so there is one statement of it for every density.
    """

    has_exact_hessian = True
    has_posterior_covariance = True

    def log_prob(self, x: Any, t: Any) -> np.ndarray:
        """``log p_t(x)``, shape (M,) or scalar (0-d array)."""
        xx, tt, single = self._prepare(x, t, "log_prob")
        return self._finish(self._log_prob(xx, tt), single)

    def weights(self, x: Any, t: Any) -> np.ndarray:
        """Posterior weights of the mixture components given ``X_t = x``.

        Training points for :class:`SmoothedEmpirical`, components for
        :class:`GaussianMixture`: shape (M, K) or (K,), rows summing to one, computed by
        log-sum-exp.
        """
        xx, tt, single = self._prepare(x, t, "weights")
        return self._finish(self._weights(xx, tt), single)

    def posterior_covariance(self, x: Any, t: Any) -> np.ndarray:
        """``S(x, t) = Cov[a_t X_0 | X_t = x]``, shape (M, D, D) or (D, D).

        Computed anchored at the heaviest component so that it keeps relative accuracy when
        the posterior concentrates (theory.md section 2, numerical trap).
        """
        xx, tt, single = self._prepare(x, t, "posterior_covariance")
        return self._finish(self._posterior_covariance(xx, tt), single)

    def hessian(self, x: Any, t: Any) -> np.ndarray:
        """Hessian of ``log p_t``: ``(S - h I) / h^2``, shape (M, D, D) or (D, D)."""
        xx, tt, single = self._prepare(x, t, "hessian")
        return self._finish(self._hessian(xx, tt), single)

    def _hessian(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        S = self._posterior_covariance(x, t)
        h = self.process._h(t).astype(x.dtype)
        eye = np.eye(self.dim, dtype=x.dtype)
        return (S - h[:, None, None] * eye) / (h**2)[:, None, None]

    def _log_prob(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _weights(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _posterior_covariance_parts(
        self, x: np.ndarray, t: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``S = iso I + exp(log_scale) S_dir``, with ``S_dir`` of order one.

        Frames (eigenvectors of S) are those of ``S_dir``, which stays exact where the size
        of the between-component part underflows (a query deep inside one component's
        basin at small t). Returns ``iso`` (M,), ``log_scale`` (M,) and ``S_dir`` (M, D, D).
        The default wraps ``_posterior_covariance`` (no underflow protection).
        """
        S = self._posterior_covariance(x, t)
        return np.zeros(x.shape[0], dtype=S.dtype), np.zeros(x.shape[0], dtype=S.dtype), S

    def _posterior_covariance(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError
