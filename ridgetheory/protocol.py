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

The contract that the ridge engine, the predictions and the integrators rely on is the
public protocol plus these documented protected hooks (subclasses override them; callers
outside the class may call them on clean input, never any other private name):

* ``_score(x, t)``, ``_denoiser(x, t)`` -- on clean (M, D) points and (M,) times;
* ``_mean_shift(x, t)`` -- ``m - x`` (M, D); a density overrides it with an anchored
  evaluation that keeps relative accuracy where ``m`` and ``x`` nearly cancel;
* ``_posterior_covariance_parts(x, t)`` (densities) -- ``S = iso I + exp(log_w) S_dir``,
  the split from which ridge frames are taken (theory.md section 2).

Capability markers are class attributes, not string flags or type tests:

* ``has_exact_hessian`` -- ``hessian`` is exact (not a finite difference);
* ``has_posterior_covariance`` -- ``posterior_covariance`` is available, so ridge frames
  can be computed by ``eigh`` of the (well-conditioned) posterior covariance;
* ``fused_kernel`` -- the name of the fused numba/CUDA kernel whose formulas are exactly
  this class's score and posterior moments (``"empirical"``, ``"gmm"``, ``"rf"``) or
  ``None``. Fast paths dispatch on it (for float64 objects). A subclass that overrides
  ``_score``, ``_denoiser``, ``_mean_shift``, ``_posterior_covariance`` or
  ``_posterior_covariance_parts`` loses it automatically unless it restates
  ``fused_kernel`` in its own class body (so does one that overrides a helper listed in
  the declaring class's ``kernel_maths``, or inherits such an override from a mixin); a
  subclass that changes nothing of the maths (a new ``__repr__``, helpers) keeps the fast
  path.
"""

from __future__ import annotations

from abc import ABC
from typing import Any, ClassVar

import numpy as np

from ._checks import check_points, check_times
from .processes import AbstractProcess

__all__ = ["AbstractScoreModel", "AbstractDensity", "KERNEL_HOOKS"]

#: the methods whose formulas a fused kernel restates: overriding one drops ``fused_kernel``
KERNEL_HOOKS = ("_score", "_denoiser", "_mean_shift", "_posterior_covariance",
                "_posterior_covariance_parts")


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
    fused_kernel: ClassVar[str | None] = None

    #: further methods a class's fused kernel restates (its private helpers of the maths)
    kernel_maths: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # a subclass whose maths differs from the class that declared the kernel (an override
        # in its own body or from a mixin earlier in the MRO) no longer matches the kernel
        if "fused_kernel" in cls.__dict__ or cls.fused_kernel is None:
            return
        owner = next(c for c in cls.__mro__ if "fused_kernel" in c.__dict__)
        names = KERNEL_HOOKS + tuple(owner.__dict__.get("kernel_maths", ()))
        if any(getattr(cls, k, None) is not getattr(owner, k, None) for k in names):
            cls.fused_kernel = None

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

    def mean_shift(self, x: Any, t: Any) -> np.ndarray:
        """Mean shift ``m(x, t) - x = h_t s(x, t)``, shape as ``x``.

        Densities evaluate it anchored at the heaviest component (theory.md section 2), so it
        keeps relative accuracy where ``m`` and ``x`` nearly cancel.
        """
        xx, tt, single = self._prepare(x, t, "mean_shift")
        return self._finish(self._mean_shift(xx, tt), single)

    # -- defaults by Tweedie's identity --------------------------------------------------
    def _mean_shift(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        # from whichever hook the class states: h s keeps accuracy where m - x would cancel
        if type(self)._score is not AbstractScoreModel._score:
            h = self.process.h(t).astype(x.dtype)
            return h[:, None] * self._score(x, t)
        return self._denoiser(x, t) - x

    def _score(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        if type(self)._denoiser is AbstractScoreModel._denoiser:
            raise NotImplementedError(
                f"{type(self).__name__} implements neither _score nor _denoiser"
            )
        h = self.process.h(t).astype(x.dtype)
        return (self._denoiser(x, t) - x) / h[:, None]

    def _denoiser(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        if type(self)._score is AbstractScoreModel._score:
            raise NotImplementedError(
                f"{type(self).__name__} implements neither _score nor _denoiser"
            )
        h = self.process.h(t).astype(x.dtype)
        return x + h[:, None] * self._score(x, t)


class AbstractDensity(AbstractScoreModel):
    """A smoothed data density ``p_t``: the score protocol plus ``log_prob`` and curvature.

    Subclasses implement ``_log_prob``, ``_denoiser`` (or ``_score``) and
    ``_posterior_covariance`` (or ``_posterior_covariance_parts``: each derives the other);
    the Hessian then follows from the second-order Tweedie identity ``H = (S - h I) / h^2``
    with ``S = Cov[a_t X_0 | X_t = x]`` (theory.md section 1), so there is one statement of
    it for every density.
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
        h = self.process.h(t).astype(x.dtype)
        eye = np.eye(self.dim, dtype=x.dtype)
        return (S - h[:, None, None] * eye) / (h**2)[:, None, None]

    def _log_prob(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _weights(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # A density states its posterior covariance once, as either hook; the other follows.
    def _posterior_covariance_parts(
        self, x: np.ndarray, t: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``S = iso I + exp(log_scale) S_dir``, with ``S_dir`` of order one.

        Frames (eigenvectors of S) are those of ``S_dir``, which stays exact where the size
        of the between-component part underflows (a query deep inside one component's
        basin at small t). Returns ``iso`` (M,), ``log_scale`` (M,) and ``S_dir`` (M, D, D).
        The default wraps ``_posterior_covariance`` (no underflow protection).
        """
        if type(self)._posterior_covariance is AbstractDensity._posterior_covariance:
            raise NotImplementedError(
                f"{type(self).__name__} implements neither _posterior_covariance nor "
                "_posterior_covariance_parts"
            )
        S = self._posterior_covariance(x, t)
        return np.zeros(x.shape[0], dtype=S.dtype), np.zeros(x.shape[0], dtype=S.dtype), S

    def _posterior_covariance(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        if type(self)._posterior_covariance_parts is AbstractDensity._posterior_covariance_parts:
            raise NotImplementedError(
                f"{type(self).__name__} implements neither _posterior_covariance nor "
                "_posterior_covariance_parts"
            )
        iso, log_w, S = self._posterior_covariance_parts(x, t)
        with np.errstate(under="ignore"):
            S = np.exp(log_w).astype(S.dtype)[:, None, None] * S
        S += iso[:, None, None] * np.eye(self.dim, dtype=S.dtype)
        return S
