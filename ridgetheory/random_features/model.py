"""Fixed random features with a Fourier time embedding (theory.md section 6).

``sigma_t(x) = act(Wx x + W_tau phi(t) + b)`` with ``Wx`` (p, D) entries N(0, 1/D),
``W_tau`` (p, 2K+1) entries N(0, 1/(2K+1)), ``b`` (p,) entries N(0, 1) (or zero) and
``phi(t) = [1, sin(2 pi k t / T), cos(2 pi k t / T)]_{k=1..K}``. Only the output matrix
``A`` (D, p) is trained; the model is ``f_A(x, t) = A sigma_t(x) / sqrt(p)``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import _repr
from .._checks import (
    RidgeTheoryError,
    check_array,
    check_choice,
    check_int,
    check_scalar,
    check_seed,
)
from ..conventions import PARAMETRIZATIONS
from .features import ACTIVATIONS, EMBEDDINGS, activate, time_embedding

__all__ = ["RandomFeatureModel", "RF_PARAMETRIZATIONS"]

#: the part of :data:`ridgetheory.conventions.PARAMETRIZATIONS` a random-feature fit supports
#: (its quadratic loss has no noise form)
RF_PARAMETRIZATIONS = tuple(p for p in PARAMETRIZATIONS if p != "noise")


class RandomFeatureModel(_repr.Reproducible):
    """Random-feature score model: fixed features, trainable linear read-out.

    Parameters
    ----------
    p : int
        Number of features, ``p >= 1``.
    K : int, default=128
        Number of Fourier frequencies of the time embedding (its length is ``2K + 1``).
    T : float, default=10.0
        Horizon: the upper end of the training time integral, and the embedding period
        ``phi(t) = [1, sin(2 pi k t/T), cos(...)]`` unless ``period`` is given.
    activation : {"relu", "tanh", "sigmoid"}, default="relu"
    bias : bool, default=True
        Whether the features carry the random bias ``b ~ N(0, I_p)``.
    parametrization : {"denoiser", "score"}, default="denoiser"
        ``"denoiser"``: ``f_A`` is the posterior mean ``m`` (regression target ``a_t x_i``);
        ``"score"``: ``f_A`` is the score, trained on ``|sqrt(h_t) f_A + z|^2``.
    dim : int, default=2
        Ambient dimension D of the data.
    seed : int, default=0
        Seed of the random weights; the same seed gives the same model.
    period : float, optional
        Period of the Fourier embedding (default ``T``). With period ``T`` the embedding cannot
        tell ``t -> 0`` from ``t = T``; ``2T`` or more can.
    embedding : {"fourier", "chebyshev-log"}, default="fourier"
        ``"chebyshev-log"``: Chebyshev polynomials of the log-time over ``[embedding_t0,
        period]``, not periodic (:func:`ridgetheory.random_features.features.time_embedding`).
    embedding_t0 : float, default=1e-3
        Lower end of the log-time range of ``"chebyshev-log"``.

    Attributes
    ----------
    Wx : array of shape (p, D), float64
        Input weights, entries N(0, 1/D).
    W_tau : array of shape (p, 2K+1), float64
        Time-embedding weights, entries N(0, 1/(2K+1)).
    b : array of shape (p,), float64
        Bias (zeros when ``bias=False``).

    Examples
    --------
    >>> import ridgetheory as rt
    >>> model = rt.RandomFeatureModel(50, K=8, T=10.0, dim=2, seed=1)
    >>> model.features([[0.0, 1.0]], 0.5).shape
    (1, 50)
    """

    def __init__(
        self,
        p: int,
        K: int = 128,
        T: float = 10.0,
        activation: str = "relu",
        bias: bool = True,
        parametrization: str = "denoiser",
        *,
        dim: int = 2,
        seed: int = 0,
        period: float | None = None,
        embedding: str = "fourier",
        embedding_t0: float = 1e-3,
    ):
        where = "RandomFeatureModel"
        self.p = check_int(p, "p", where, low=1)
        self.K = check_int(K, "K", where, low=0)
        self.T = check_scalar(T, "T", where, low=0.0, low_open=True)
        self.period = self.T if period is None else check_scalar(period, "period", where,
                                                                 low=0.0, low_open=True)
        self.embedding = check_choice(embedding, "embedding", where, EMBEDDINGS)
        self.embedding_t0 = check_scalar(embedding_t0, "embedding_t0", where, low=0.0,
                                         low_open=True, high=self.period, high_open=True)
        self.activation = check_choice(activation, "activation", where, ACTIVATIONS)
        if not isinstance(bias, (bool, np.bool_)):
            raise RidgeTheoryError(f"`bias` passed to {where} must be True or False; got {bias!r}.")
        self.bias = bool(bias)
        self.parametrization = check_choice(
            parametrization, "parametrization", where, RF_PARAMETRIZATIONS
        )
        self.dim = check_int(dim, "dim", where, low=1)
        self.seed = check_seed(seed, where)
        rng = np.random.default_rng(self.seed)
        # One stream, fixed draw order: Wx, W_tau, b (b drawn even when unused, so that
        # bias=True/False share Wx and W_tau for the same seed).
        self.Wx = rng.standard_normal((self.p, self.dim)) / np.sqrt(self.dim)
        self.W_tau = rng.standard_normal((self.p, 2 * self.K + 1)) / np.sqrt(2 * self.K + 1)
        b = rng.standard_normal(self.p)
        self.b = b if self.bias else np.zeros(self.p)

    def _expr(self) -> str:
        # the weights are drawn again from ``seed``, bit for bit: the call is the whole model
        return _repr.call(
            type(self).__name__, p=self.p, K=self.K, T=self.T, activation=self.activation,
            bias=self.bias, parametrization=self.parametrization, dim=self.dim, seed=self.seed,
            period=self.period, embedding=self.embedding, embedding_t0=self.embedding_t0)

    # -- features ---------------------------------------------------------------------
    def _time_bias(self, t: np.ndarray) -> np.ndarray:
        """``W_tau phi(t) + b`` for clean times (L,), shape (L, p)."""
        # batches usually share one time (sampler steps): embed each distinct time once
        uniq, inv = np.unique(t, return_inverse=True)
        if uniq.size == t.size:
            return self._embed(t) @ self.W_tau.T + self.b
        return (self._embed(uniq) @ self.W_tau.T + self.b)[inv.reshape(-1)]

    def _embed(self, t: np.ndarray) -> np.ndarray:
        return time_embedding(t, self.K, self.period, self.embedding, self.embedding_t0)

    def time_bias(self, t: Any) -> np.ndarray:
        """Time part of the pre-activation, ``W_tau phi(t) + b``.

        Parameters
        ----------
        t : float or array of shape (L,)

        Returns
        -------
        c : array of shape (p,) for scalar t, (L, p) otherwise, float64
        """
        tt = check_array(t, "t", f"{type(self).__name__}.time_bias", ndim=(0, 1))
        out = self._time_bias(np.atleast_1d(tt))
        return out[0] if tt.ndim == 0 else out

    def offset(self, t: Any) -> np.ndarray:
        """Deprecated alias of :meth:`time_bias` (removed in the next release)."""
        warnings.warn("RandomFeatureModel.offset is deprecated; use time_bias",
                      DeprecationWarning, stacklevel=2)
        return self.time_bias(t)

    def _features(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        u = x @ self.Wx.T
        u += self._time_bias(t)
        return activate(u, self.activation, out=u)

    def features(self, x: Any, t: Any) -> np.ndarray:
        """Features ``sigma_t(x)``.

        Parameters
        ----------
        x : array of shape (M, D) or (D,)
        t : float or array of shape (M,), > 0

        Returns
        -------
        sigma : array of shape (M, p), float64 (a (D,) point gives (1, p))
        """
        from .._checks import check_points, check_times

        where = "RandomFeatureModel.features"
        xx, single = check_points(x, "x", where, self.dim)
        tt = check_times(t, "t", where, xx.shape[0], single)
        return self._features(xx, tt)

    def random_init(self, seed: int, scale: float = 1.0) -> np.ndarray:
        """A random initial read-out ``W(0) = A(0) / sqrt(p)`` with ``A(0)_{dj} ~ N(0, scale^2/p)``.

        Returns
        -------
        W0 : array of shape (D, p), float64
        """
        where = "RandomFeatureModel.random_init"
        s = check_scalar(scale, "scale", where, low=0.0)
        rng = np.random.default_rng(check_seed(seed, where))
        return rng.standard_normal((self.dim, self.p)) * (s / self.p)

    # -- training ---------------------------------------------------------------------
    def fit(self, data: Any, process: Any = None, **kwargs: Any):
        """Assemble the quadratic training loss (see :class:`RandomFeatureFit` for the arguments).

        Returns
        -------
        RandomFeatureFit
        """
        from .fit import RandomFeatureFit

        return RandomFeatureFit.assemble(self, data, process, **kwargs)
