"""Smoothed data densities ``p_t`` (theory.md section 1).

* :class:`SmoothedEmpirical` -- the training set smoothed by the forward process, a mixture
  of ``n`` Gaussians ``N(a_t x_i, h_t I)``;
* :class:`GaussianMixture` -- a data distribution that is itself a Gaussian mixture,
  smoothed exactly (analytic ground truth for tests and demos).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _repr
from ._checks import (
    RidgeTheoryError,
    check_array,
    check_dtype,
    check_int,
)
from ._mixture import (
    anchored_scaled_covariance,
    anchored_scaled_weights,
    anchored_softmax,
    full_weights,
)
from .processes import OU, AbstractProcess, check_process
from .protocol import AbstractDensity

__all__ = ["SmoothedEmpirical", "GaussianMixture", "DEFAULT_MEMORY_BUDGET"]

#: bytes of temporaries a density may hold at once (queries are processed in chunks)
DEFAULT_MEMORY_BUDGET = 256 * 2**20


def _chunks(m: int, per_row_bytes: int, budget: int):
    step = max(1, int(budget // max(per_row_bytes, 1)))
    for start in range(0, m, step):
        yield slice(start, min(m, start + step))


class SmoothedEmpirical(_repr.Reproducible, AbstractDensity):
    """The smoothed empirical density ``p_t(x) = (1/n) sum_i N(x; a_t x_i, h_t I)``.

    Fast paths (``fused_kernel = "empirical"``) read the public ``data`` (n, D).

    Parameters
    ----------
    data : array of shape (n, D)
        Training points, finite, n >= 1.
    process : AbstractProcess, default=OU()
        Forward process giving ``a_t`` and ``h_t``.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Working precision.
    memory_budget : int, default=256 MiB
        Bytes of temporaries held at once; queries are processed in chunks of rows so that
        no (M, n) or (M, n, D) array is ever formed for the whole query set. Score, denoiser,
        weights and log_prob use about ``32 n`` bytes per query row; Hessians and posterior
        covariances about ``8 n D`` bytes per row.

    Notes
    -----
    Posterior weights ``g_i = softmax_i(-|x - a_t x_i|^2 / (2 h_t))`` are evaluated by
    log-sum-exp; the denoiser is ``m = sum_i g_i a_t x_i``, the score ``(m - x) / h_t``, the
    posterior covariance ``S = sum_i g_i (a_t x_i - m)(a_t x_i - m)^T`` and the Hessian
    ``(S - h_t I) / h_t^2``. ``m - x`` and ``S`` are formed relative to the heaviest point
    (theory.md section 2), so they keep relative accuracy as t -> 0.

    Examples
    --------
    >>> import numpy as np, ridgetheory as rt
    >>> p = rt.SmoothedEmpirical(np.array([[-3.0, 0.0], [3.0, 0.0]]))
    >>> p.score(np.array([0.5, 0.0]), 1.0).round(4)  # bimodal at t = 1: pushed toward +a_t c
    array([0.1412, 0.    ])
    """

    _reproduce_as = "density"

    fused_kernel = "empirical"
    kernel_maths = ("_logits", "_ah")

    def __init__(
        self,
        data: Any,
        process: AbstractProcess | None = None,
        *,
        dtype: Any = np.float64,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
    ):
        where = "SmoothedEmpirical"
        self.dtype = check_dtype(dtype, where)
        self.data = check_array(data, "data", where, ndim=2, dtype=self.dtype, min_rows=1)
        if self.data.shape[1] < 1:
            raise RidgeTheoryError(
                f"`data` passed to {where} must have at least one column; got shape "
                f"{self.data.shape}."
            )
        self.process = check_process(process, where, default=OU())
        self.memory_budget = check_int(memory_budget, "memory_budget", where, low=1)
        self.n, self.dim = self.data.shape
        self._sqnorm = np.einsum("nd,nd->n", self.data, self.data)

    def _expr(self) -> str:
        kw: dict[str, Any] = {"process": self.process}
        if self.dtype != np.float64:
            kw["dtype"] = self.dtype
        if self.memory_budget != DEFAULT_MEMORY_BUDGET:
            kw["memory_budget"] = self.memory_budget
        return _repr.call(type(self).__name__, self.data, **kw)

    def _repr_size(self) -> int:
        return int(self.data.size)

    def _summary_fields(self) -> dict[str, Any]:
        return {"n": self.n, "D": self.dim, "process": self.process}

    # logits up to a per-row constant: -|x - a y|^2/(2h) + |x|^2/(2h)
    def _logits(self, x, a, h):
        out = x @ self.data.T
        out *= (a / h)[:, None]
        out -= (0.5 * a**2 / h)[:, None] * self._sqnorm[None, :]
        return out

    def _ah(self, t):
        return (self.process.alpha(t).astype(self.dtype), self.process.h(t).astype(self.dtype))

    def _weights(self, x, t):
        out = np.empty((x.shape[0], self.n), dtype=self.dtype)
        a, h = self._ah(t)
        for sl in _chunks(x.shape[0], 32 * self.n, self.memory_budget):
            r, W, k, _ = anchored_softmax(self._logits(x[sl], a[sl], h[sl]))
            out[sl] = full_weights(r, W, k)
        return out

    def _log_prob(self, x, t):
        out = np.empty(x.shape[0], dtype=self.dtype)
        a, h = self._ah(t)
        for sl in _chunks(x.shape[0], 32 * self.n, self.memory_budget):
            _, _, _, lse = anchored_softmax(self._logits(x[sl], a[sl], h[sl]))
            xs = x[sl]
            out[sl] = (
                lse
                - np.einsum("md,md->m", xs, xs) / (2 * h[sl])
                - np.log(self.n)
                - 0.5 * self.dim * np.log(2 * np.pi * h[sl])
            )
        return out

    def _mean_shift(self, x, t):
        """``m - x`` (M, D), anchored: ``(a x_k - x) + a (sum_{i!=k} g_i x_i - W x_k)``."""
        out = np.empty_like(x)
        a, h = self._ah(t)
        for sl in _chunks(x.shape[0], 32 * self.n, self.memory_budget):
            r, W, k, _ = anchored_softmax(self._logits(x[sl], a[sl], h[sl]))
            xk = self.data[k]
            u = r @ self.data - W[:, None] * xk
            out[sl] = (a[sl, None] * xk - x[sl]) + a[sl, None] * u
        return out

    def _denoiser(self, x, t):
        return x + self._mean_shift(x, t)

    def _score(self, x, t):
        _, h = self._ah(t)
        return self._mean_shift(x, t) / h[:, None]

    def _posterior_covariance_parts(self, x, t):
        m = x.shape[0]
        S = np.empty((m, self.dim, self.dim), dtype=self.dtype)
        logW = np.empty(m, dtype=self.dtype)
        a, h = self._ah(t)
        per_row = 8 * self.n * (self.dim + 3)
        for sl in _chunks(m, per_row, self.memory_budget):
            q, logW[sl], k = anchored_scaled_weights(self._logits(x[sl], a[sl], h[sl]))
            d = a[sl, None, None] * (self.data[None, :, :] - self.data[k][:, None, :])
            S[sl] = anchored_scaled_covariance(q, d, logW[sl])
        return np.zeros(m, dtype=self.dtype), logW, S


class GaussianMixture(_repr.Reproducible, AbstractDensity):
    """A Gaussian-mixture data distribution smoothed exactly by the forward process.

    ``X_0 ~ sum_j w_j N(mu_j, v_j I)`` gives ``p_t = sum_j w_j N(a_t mu_j, (a_t^2 v_j + h_t) I)``.
    Fast paths (``fused_kernel = "gmm"``) read the public ``means``, ``variances`` and
    ``log_weights``.

    Parameters
    ----------
    means : array of shape (K, D)
        Component means.
    variances : array of shape (K,)
        Isotropic component variances, each > 0.
    weights : array of shape (K,), default=uniform
        Mixture weights, each >= 0, summing to one (within 1e-12).
    process : AbstractProcess, default=OU()
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
    memory_budget : int, default=256 MiB

    Notes
    -----
    Given component j, ``a_t X_0 | X_t = x`` is Gaussian with mean
    ``c_j = x - h_t (x - a_t mu_j) / s_j`` and covariance ``(a_t^2 v_j h_t / s_j) I`` where
    ``s_j = a_t^2 v_j + h_t``. The posterior covariance is the weighted sum of those plus the
    covariance of the ``c_j``, anchored at the heaviest component.

    Examples
    --------
    >>> import numpy as np, ridgetheory as rt
    >>> g = rt.GaussianMixture(np.zeros((1, 2)), np.array([1.0]))
    >>> g.score(np.array([1.0, 2.0]), 0.3)  # N(0, I) is stationary under OU
    array([-1., -2.])
    """

    _reproduce_as = "density"

    fused_kernel = "gmm"
    kernel_maths = ("_parts", "_within", "_svar")

    def __init__(
        self,
        means: Any,
        variances: Any,
        weights: Any = None,
        process: AbstractProcess | None = None,
        *,
        dtype: Any = np.float64,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
    ):
        where = "GaussianMixture"
        self.dtype = check_dtype(dtype, where)
        self.means = check_array(means, "means", where, ndim=2, dtype=self.dtype, min_rows=1)
        K, self.dim = self.means.shape
        if self.dim < 1:
            raise RidgeTheoryError(
                f"`means` passed to {where} must have at least one column; "
                f"got shape {self.means.shape}."
            )
        v = check_array(variances, "variances", where, ndim=1, dtype=np.float64)
        if v.shape != (K,):
            raise RidgeTheoryError(
                f"`variances` passed to {where} must have shape ({K},) to match means; "
                f"got shape {v.shape}."
            )
        if np.any(v <= 0):
            raise RidgeTheoryError(
                f"`variances` passed to {where} must be > 0; got {float(v[np.argmax(v <= 0)])}."
            )
        if weights is None:
            w = np.full(K, 1.0 / K)
        else:
            w = check_array(weights, "weights", where, ndim=1, dtype=np.float64)
            if w.shape != (K,):
                raise RidgeTheoryError(
                    f"`weights` passed to {where} must have shape ({K},) to match means; "
                    f"got shape {w.shape}."
                )
            if np.any(w < 0):
                raise RidgeTheoryError(
                    f"`weights` passed to {where} must be >= 0; got {float(w[np.argmax(w < 0)])}."
                )
            if abs(w.sum() - 1.0) > 1e-12:
                raise RidgeTheoryError(
                    f"`weights` passed to {where} must sum to one; got sum {w.sum()!r}."
                )
        self.variances = v.astype(self.dtype)
        self.mixture_weights = w.astype(self.dtype)
        with np.errstate(divide="ignore"):
            #: log mixture weights (K,), ``-inf`` for zero-weight components
            self.log_weights = np.log(w).astype(self.dtype)
        self.process = check_process(process, where, default=OU())
        self.memory_budget = check_int(memory_budget, "memory_budget", where, low=1)
        self.n_components = K

    def _expr(self) -> str:
        kw: dict[str, Any] = {}
        K = self.n_components
        if not np.array_equal(self.mixture_weights, np.full(K, 1.0 / K, dtype=self.dtype)):
            w = self.mixture_weights.astype(np.float64)
            # float64 weights are the ones given; float32 ones are renormalised in float64 so
            # they pass the sum check again (equal to the last float32 bit)
            kw["weights"] = w if self.dtype == np.float64 else w / w.sum()
        kw["process"] = self.process
        if self.dtype != np.float64:
            kw["dtype"] = self.dtype
        if self.memory_budget != DEFAULT_MEMORY_BUDGET:
            kw["memory_budget"] = self.memory_budget
        return _repr.call(type(self).__name__, self.means, self.variances, **kw)

    def _repr_size(self) -> int:
        return int(self.means.size + 2 * self.n_components)

    def _summary_fields(self) -> dict[str, Any]:
        return {"K": self.n_components, "D": self.dim, "process": self.process}

    def smoothed_variances(self, t: Any) -> np.ndarray:
        """Component variances of ``p_t``, ``a_t^2 v_j + h_t``: shape (L, K) for times (L,)."""
        tt = check_array(t, "t", "GaussianMixture.smoothed_variances", ndim=1)
        a = self.process.alpha(tt).astype(self.dtype)
        h = self.process.h(tt).astype(self.dtype)
        return self._svar(a, h)

    def _svar(self, a, h):
        return (a**2)[:, None] * self.variances[None, :] + h[:, None]

    def _parts(self, x, t):
        a = self.process.alpha(t).astype(self.dtype)
        h = self.process.h(t).astype(self.dtype)
        s = self._svar(a, h)  # (M, K)
        diff = x[:, None, :] - a[:, None, None] * self.means[None, :, :]  # (M, K, D)
        sq = np.einsum("mkd,mkd->mk", diff, diff)
        logits = self.log_weights[None, :] - 0.5 * sq / s - 0.5 * self.dim * np.log(s)
        return a, h, s, diff, logits

    def _rows(self):
        return 8 * self.n_components * (2 * self.dim + 4)

    def _weights(self, x, t):
        out = np.empty((x.shape[0], self.n_components), dtype=self.dtype)
        for sl in _chunks(x.shape[0], self._rows(), self.memory_budget):
            *_, logits = self._parts(x[sl], t[sl])
            r, W, k, _ = anchored_softmax(logits)
            out[sl] = full_weights(r, W, k)
        return out

    def _log_prob(self, x, t):
        out = np.empty(x.shape[0], dtype=self.dtype)
        for sl in _chunks(x.shape[0], self._rows(), self.memory_budget):
            *_, logits = self._parts(x[sl], t[sl])
            _, _, _, lse = anchored_softmax(logits)
            out[sl] = lse - 0.5 * self.dim * np.log(2 * np.pi)
        return out

    def _score(self, x, t):
        out = np.empty_like(x)
        for sl in _chunks(x.shape[0], self._rows(), self.memory_budget):
            _, _, s, diff, logits = self._parts(x[sl], t[sl])
            r, W, k, _ = anchored_softmax(logits)
            g = full_weights(r, W, k)
            out[sl] = -np.einsum("mk,mkd->md", g / s, diff)
        return out

    def _within(self, g, a, h, s):
        """Average within-component posterior variance ``sum_j g_j a^2 v_j h / s_j``."""
        return np.einsum("mk,mk->m", g, (a**2)[:, None] * self.variances[None, :] * h[:, None] / s)

    def _posterior_covariance_parts(self, x, t):
        m = x.shape[0]
        S = np.empty((m, self.dim, self.dim), dtype=self.dtype)
        logW = np.empty(m, dtype=self.dtype)
        iso = np.empty(m, dtype=self.dtype)
        for sl in _chunks(m, self._rows() + 8 * self.n_components * self.dim, self.memory_budget):
            a, h, s, diff, logits = self._parts(x[sl], t[sl])
            r, W, k, _ = anchored_softmax(logits)
            q, logW[sl], _ = anchored_scaled_weights(logits)
            rows = np.arange(diff.shape[0])
            # component posterior means c_j = x - h diff_j / s_j, relative to the anchor's
            shift = -h[:, None, None] * diff / s[:, :, None]
            d = shift - shift[rows, k][:, None, :]
            S[sl] = anchored_scaled_covariance(q, d, logW[sl])
            iso[sl] = self._within(full_weights(r, W, k), a, h, s)
        return iso, logW, S
