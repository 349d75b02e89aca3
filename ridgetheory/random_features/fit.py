"""Closed-form gradient-flow training of the random-feature read-out (theory.md section 6).

The loss is the quadratic ``L(W) = (1/D) tr(W U W^T) - (2/D) tr(V W^T) + C`` in the read-out
``W = A / sqrt(p)`` (D, p). Gradient flow ``dW/dtau = -2 (W U - V)`` (the flow of
``-(D/2) grad L``) has the closed form ``W(tau) = V U^+ + (W(0) - V U^+) exp(-2 tau U)``,
evaluated through ``eigh`` of the symmetrized ``U``. Gradient descent on ``L`` with step
``lr`` for ``k`` steps follows the flow at ``tau = lr k / D``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _repr
from .._checks import (
    RidgeTheoryError,
    check_array,
    check_choice,
    check_int,
    check_points,
    check_scalar,
    check_seed,
    check_times,
)
from ..conventions import TIME_WEIGHTS
from ..processes import OU, AbstractProcess, check_process
from ..protocol import AbstractScoreModel
from .assembly import QUADRATURES, TIME_RULES, Assembly, assemble

if TYPE_CHECKING:
    from .model import RandomFeatureModel

__all__ = ["RandomFeatureFit", "RandomFeatureScore", "Decomposition"]

_EVAL_BUDGET = 64 * 2**20  # bytes of features held at once when evaluating a model


def _check_tau(tau: Any, where: str) -> float:
    return check_scalar(tau, "tau", where, low=0.0, allow_inf=True)


def _check_taus(tau: Any, where: str) -> np.ndarray:
    """A scalar or 1-D ``tau`` as a checked (n_tau,) float64 array (each >= 0, inf allowed)."""
    arr = np.atleast_1d(np.asarray(tau, dtype=np.float64))
    if arr.ndim != 1:
        raise RidgeTheoryError(
            f"`tau` passed to {where} must be a scalar or 1-D; got shape {arr.shape}.")
    return np.array([_check_tau(v, where) for v in arr], dtype=np.float64)


class RandomFeatureScore(_repr.Reproducible, AbstractScoreModel):
    """A random-feature model with a fixed read-out: ``f(x, t) = A_eff act(Wx x + c(t))``.

    ``c(t) = W_tau phi(t) + b`` is the time bias (:meth:`time_bias`). Fast paths
    (``fused_kernel = "rf"``) read the public ``Wx``, ``A_eff``, ``activation``,
    ``parametrization`` and ``time_bias``.

    Returned by :meth:`RandomFeatureFit.at`. With ``parametrization="denoiser"`` the
    denoiser is ``m = f`` and the score ``(f - x) / h_t``; with ``"score"`` the score is ``f``
    and the denoiser ``x + h_t f``.

    Attributes
    ----------
    Wx : array of shape (p, D), float64
        Input weights.
    A_eff : array of shape (D, p), float64
        Output matrix including the ``1/sqrt(p)`` factor (``A_eff = W(tau) = A / sqrt(p)``).
    activation : {"relu", "tanh", "sigmoid"}
    parametrization : {"denoiser", "score"}
    process : AbstractProcess
    T : float
        Horizon of the time embedding.
    K : int
        Number of Fourier frequencies.
    tau : float
        Training time this read-out belongs to (``nan`` when built from an explicit matrix).

    Examples
    --------
    >>> import numpy as np, ridgetheory as rt
    >>> model = rt.RandomFeatureModel(40, K=4, T=5.0, seed=0)
    >>> fit = model.fit(np.array([[-3.0, 0.0], [3.0, 0.0]]), time_nodes=21, t0=0.01)
    >>> fit.at(np.inf).score(np.array([1.0, 0.5]), 0.5).shape
    (2,)
    """

    fused_kernel = "rf"
    kernel_maths = ("_f",)

    def __init__(self, model: RandomFeatureModel, A_eff: np.ndarray, process: AbstractProcess,
                 tau: float = float("nan")):
        self._model = model
        self.Wx = model.Wx
        self.A_eff = np.ascontiguousarray(A_eff, dtype=np.float64)
        self.activation = model.activation
        self.parametrization = model.parametrization
        self.process = process
        self.T = model.T
        self.K = model.K
        self.dim = model.dim
        self.p = model.p
        self.tau = float(tau)
        self.dtype = np.dtype(np.float64)

    def _expr(self) -> str:
        return _repr.call(type(self).__name__, _repr.Raw(repr(self._model)), self.A_eff,
                          self.process, tau=self.tau)

    def _repr_size(self) -> int:
        return int(self.A_eff.size)

    def _summary_fields(self) -> dict[str, Any]:
        return {"p": self.p, "D": self.dim, "activation": self.activation,
                "parametrization": self.parametrization, "process": self.process,
                "tau": self.tau}

    def time_bias(self, t: Any) -> np.ndarray:
        """``W_tau phi(t) + b``: shape (p,) for scalar t, (L, p) for t of shape (L,), float64."""
        return self._model.time_bias(t)

    def offset(self, t: Any) -> np.ndarray:
        """Deprecated alias of :meth:`time_bias` (removed in the next release)."""
        warnings.warn("RandomFeatureScore.offset is deprecated; use time_bias",
                      DeprecationWarning, stacklevel=2)
        return self._model.time_bias(t)

    def features(self, x: Any, t: Any) -> np.ndarray:
        """Features ``act(Wx x + time_bias(t))``, shape (M, p) (a (D,) point gives (1, p))."""
        return self._model.features(x, t)

    def _f(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        out = np.empty((x.shape[0], self.dim))
        step = max(1, _EVAL_BUDGET // (8 * self.p))
        for s in range(0, x.shape[0], step):
            sl = slice(s, s + step)
            out[sl] = self._model._features(x[sl], t[sl]) @ self.A_eff.T
        return out

    def _denoiser(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        f = self._f(x, t)
        if self.parametrization == "denoiser":
            return f
        return x + self.process.h(t)[:, None] * f

    def _score(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        f = self._f(x, t)
        if self.parametrization == "score":
            return f
        return (f - x) / self.process.h(t)[:, None]


@dataclass
class Decomposition:
    """``m_tau - m = bias + optimization + residue`` at M points, denoiser units.

    ``bias`` and ``residue`` are (M, D); ``optimization`` is (M, D), or (n_tau, M, D) when
    several tau were asked for (``total`` then broadcasts). Divide by ``h_t`` for score units.
    """

    bias: np.ndarray
    optimization: np.ndarray
    residue: np.ndarray

    @property
    def total(self) -> np.ndarray:
        """``m_tau - m``, shape (M, D) (or (n_tau, M, D))."""
        return self.bias + self.optimization + self.residue


class RandomFeatureFit:
    """The assembled quadratic loss of a random-feature model and its gradient-flow solution.

    Build it with :meth:`RandomFeatureModel.fit`. Loss (theory.md section 6)::

        L(W) = (1/D) tr(W U W^T) - (2/D) tr(V W^T) + C,   W = A / sqrt(p)  (D, p)

    which equals ``(1/D) int_{t0}^{T} w(t) (1/n) sum_i E_z[ loss(t, i, z) ] dt`` with
    ``loss = |W sigma - a_t x_i|^2`` (denoiser) or ``|sqrt(h_t) W sigma + z|^2`` (score).

    Parameters (of ``model.fit``)
    ------------------------------
    data : array of shape (n, D), float64
        Training points; D must equal ``model.dim``.
    process : AbstractProcess, default=OU()
    weight : {"1", "h", "h2", "1/h", "1/h2"}, default="1"
        Time weight ``w(t) = h_t^k`` (:data:`ridgetheory.conventions.TIME_WEIGHTS`) on the
        parametrization's own loss.
    t0 : float, default=1e-3
        Lower end of the time integral; the upper end is ``model.T``.
    time_nodes : int or array of shape (L,), default=400
        Number of equispaced nodes on ``[t0, T]``, or the increasing nodes themselves.
    quadrature : {"exact", "gauss-hermite", "mc"}, default="gauss-hermite"
        How ``E_z`` is computed (see :mod:`ridgetheory.random_features.assembly`).
    noise_draws : int, default=4000
        Monte-Carlo draws per (time node, data point) for ``"mc"``.
    gh_order : int, default=16
        Gauss-Hermite nodes per dimension (``gh_order**D`` in all).
    time_rule : {"simpson", "trapezoid"}, default="simpson"
    seed : int, default=0
        Seed of the Monte-Carlo draws.
    rcond : float or None, default=None
        Eigenvalues of U below ``rcond * max eigenvalue`` are treated as zero in the
        pseudo-inverse and in the flow; None means ``p * machine epsilon``.
    memory_budget : int, default=256 MiB
        Bytes of feature rows held at once during assembly.

    Attributes
    ----------
    U : array of shape (p, p), float64
    V : array of shape (D, p), float64
    C : float
    info : dict
        Quadrature, node counts, evaluations and assembly seconds.

    Examples
    --------
    >>> import numpy as np, ridgetheory as rt
    >>> model = rt.RandomFeatureModel(30, K=4, T=5.0, seed=0)
    >>> fit = model.fit(np.array([[-3.0, 0.0], [3.0, 0.0]]), time_nodes=21, t0=0.01)
    >>> fit.U.shape, fit.V.shape
    ((30, 30), (2, 30))
    >>> bool(fit.loss(np.inf) <= fit.loss(1.0) <= fit.loss(0.0))
    True
    """

    def __init__(self, model: RandomFeatureModel, data: np.ndarray, process: AbstractProcess,
                 asm: Assembly, nodes: np.ndarray, rcond: float | None):
        self.model = model
        self.data = data
        self.process = process
        self.U = asm.U
        self.V = asm.V
        self.C = asm.C
        self.info = asm.info
        self.nodes = nodes
        self.dim = model.dim
        self.p = model.p
        self.rcond = float(self.p * np.finfo(np.float64).eps) if rcond is None else rcond
        self._eig: tuple[np.ndarray, np.ndarray] | None = None
        self._density = None

    @classmethod
    def assemble(
        cls,
        model: RandomFeatureModel,
        data: Any,
        process: Any = None,
        *,
        weight: str = "1",
        t0: float = 1e-3,
        time_nodes: Any = 400,
        quadrature: str = "gauss-hermite",
        noise_draws: int = 4000,
        gh_order: int = 16,
        time_rule: str = "simpson",
        seed: int = 0,
        rcond: float | None = None,
        memory_budget: int = 256 * 2**20,
    ) -> RandomFeatureFit:
        """Check the arguments and assemble ``U``, ``V``, ``C`` (see the class docstring)."""
        where = "RandomFeatureModel.fit"
        X = check_array(data, "data", where, ndim=2, min_rows=1)
        if X.shape[1] != model.dim:
            raise RidgeTheoryError(
                f"`data` passed to {where} must have shape (n, {model.dim}) to match the model's "
                f"dim; got shape {X.shape}."
            )
        process = check_process(process, where, default=OU())
        weight = check_choice(weight, "weight", where, tuple(TIME_WEIGHTS))
        quadrature = check_choice(quadrature, "quadrature", where, QUADRATURES)
        time_rule = check_choice(time_rule, "time_rule", where, TIME_RULES)
        T = min(model.T, process.t_max)
        t0 = check_scalar(t0, "t0", where, low=0.0, high=T, low_open=True, high_open=True)
        if isinstance(time_nodes, (int, np.integer)) and not isinstance(time_nodes, bool):
            L = check_int(time_nodes, "time_nodes", where, low=2)
            nodes = np.linspace(t0, T, L)
        else:
            nodes = check_array(time_nodes, "time_nodes", where, ndim=1)
            if nodes.shape[0] < 2 or np.any(np.diff(nodes) <= 0) or nodes[0] <= 0:
                raise RidgeTheoryError(
                    f"`time_nodes` passed to {where} must be an int >= 2 or an increasing array "
                    f"of at least 2 times > 0; got {nodes!r}."
                )
        noise_draws = check_int(noise_draws, "noise_draws", where, low=1)
        gh_order = check_int(gh_order, "gh_order", where, low=1)
        if quadrature == "gauss-hermite" and gh_order**model.dim > 1_000_000:
            raise RidgeTheoryError(
                f"`gh_order` passed to {where} gives gh_order**D = {gh_order**model.dim} tensor "
                "nodes (> 1000000); use quadrature='mc' (or 'exact' for ReLU) in this dimension."
            )
        seed = check_seed(seed, where)
        if rcond is not None:
            rcond = check_scalar(rcond, "rcond", where, low=0.0, high=1.0)
        memory_budget = check_int(memory_budget, "memory_budget", where, low=1)
        asm = assemble(
            model, X, process, weight=weight, nodes=nodes, time_rule=time_rule,
            quadrature=quadrature, noise_draws=noise_draws, gh_order=gh_order, seed=seed,
            memory_budget=memory_budget,
        )
        return cls(model, X, process, asm, nodes, rcond)

    def __repr__(self) -> str:
        i = self.info
        return (f"RandomFeatureFit(p={self.p}, n={self.data.shape[0]}, D={self.dim}, "
                f"quadrature={i['quadrature']!r}, weight={i['weight']!r}, nodes={i['nodes']})")

    # -- spectral form ----------------------------------------------------------------
    def eig(self) -> tuple[np.ndarray, np.ndarray]:
        """Kept spectrum of the symmetrized U: eigenvalues (r,) > cut and eigenvectors (p, r)."""
        if self._eig is None:
            lam, Q = np.linalg.eigh(0.5 * (self.U + self.U.T))
            lam = np.clip(lam, 0.0, None)  # round-off can leave tiny negative eigenvalues
            keep = lam > self.rcond * max(float(lam[-1]), np.finfo(np.float64).tiny)
            self._eig = (lam[keep], np.ascontiguousarray(Q[:, keep]))
        return self._eig

    def _init(self, init: Any, where: str) -> np.ndarray | None:
        if init is None:
            return None
        W0 = check_array(init, "init", where, ndim=2)
        if W0.shape != (self.dim, self.p):
            raise RidgeTheoryError(
                f"`init` passed to {where} must have shape ({self.dim}, {self.p}); "
                f"got shape {W0.shape}."
            )
        return W0

    def weights(self, tau: Any, init: Any = None) -> np.ndarray:
        """Read-out ``W(tau)`` of the gradient flow, shape (D, p), float64.

        Parameters
        ----------
        tau : float >= 0 or numpy.inf
        init : array of shape (D, p) or None, default=None
            ``W(0)``; None means zero initialization.
        """
        where = "RandomFeatureFit.weights"
        tau = _check_tau(tau, where)
        W0 = self._init(init, where)
        lam, Q = self.eig()
        # -expm1(-x)/lam keeps (1 - e^{-2 tau lam}) / lam accurate for tiny tau lam
        if np.isinf(tau):
            gain, decay = 1.0 / lam, np.zeros_like(lam)
        else:
            gain = -np.expm1(-2.0 * tau * lam) / lam
            decay = np.exp(-2.0 * tau * lam)
        W = ((self.V @ Q) * gain) @ Q.T
        if W0 is not None:
            W += W0 + ((W0 @ Q) * (decay - 1.0)) @ Q.T
        return W

    def at(self, tau: Any, init: Any = None) -> RandomFeatureScore:
        """The trained model at flow time ``tau`` as a score model (protocol of the densities).

        Parameters
        ----------
        tau : float >= 0 or numpy.inf
        init : array of shape (D, p) or None, default=None

        Returns
        -------
        RandomFeatureScore
        """
        tau_f = _check_tau(tau, "RandomFeatureFit.at")
        return RandomFeatureScore(self.model, self.weights(tau_f, init), self.process, tau_f)

    # -- loss -------------------------------------------------------------------------
    def quadratic(self, W: Any) -> float:
        """``L(W) = (1/D) tr(W U W^T) - (2/D) tr(V W^T) + C`` for W of shape (D, p)."""
        W = self._init(W, "RandomFeatureFit.quadratic")
        assert W is not None
        D = self.dim
        return float(np.sum((W @ self.U) * W) / D - 2.0 * np.sum(self.V * W) / D + self.C)

    def loss(self, tau: Any, init: Any = None) -> float:
        """Training loss ``L(W(tau))`` (float)."""
        tau = _check_tau(tau, "RandomFeatureFit.loss")
        W0 = self._init(init, "RandomFeatureFit.loss")
        return self.quadratic(self.weights(tau, W0))

    @property
    def loss_star(self) -> float:
        """Optimum ``L* = min_W L(W) = C - (1/D) tr(V U^+ V^T)``."""
        lam, Q = self.eig()
        VQ = self.V @ Q
        return float(self.C - np.sum(VQ**2 / lam) / self.dim)

    def optimization_loss(self, tau: Any, init: Any = None) -> float:
        """``L(W(tau)) - L(W(inf))`` in closed form: ``(1/D) sum_j lam_j e^{-4 tau lam_j}
        |(W(0) - W*) q_j|^2``; non-increasing in tau."""
        where = "RandomFeatureFit.optimization_loss"
        tau = _check_tau(tau, where)
        W0 = self._init(init, where)
        lam, Q = self.eig()
        delta = -(self.V @ Q) / lam
        if W0 is not None:
            delta = delta + W0 @ Q
        if np.isinf(tau):
            return 0.0
        return float(np.sum(lam * np.exp(-4.0 * tau * lam) * np.sum(delta**2, axis=0))
                     / self.dim)

    def gradient_descent(self, lr: float, steps: int, init: Any = None) -> np.ndarray:
        """Explicit gradient descent on ``L``: ``W <- W - lr (2/D) (W U - V)``.

        Follows the flow at ``tau = lr * steps / D``; for cross-checking the closed form.

        Returns
        -------
        W : array of shape (D, p), float64
        """
        where = "RandomFeatureFit.gradient_descent"
        lr = check_scalar(lr, "lr", where, low=0.0, low_open=True)
        steps = check_int(steps, "steps", where, low=0)
        W0 = self._init(init, where)
        W = np.zeros((self.dim, self.p)) if W0 is None else W0.copy()
        c = 2.0 * lr / self.dim
        for _ in range(steps):
            W -= c * (W @ self.U - self.V)
        return W

    # -- error structure --------------------------------------------------------------
    @property
    def density(self):
        """The smoothed empirical density of the training data (the exact target)."""
        if self._density is None:
            from ..densities import SmoothedEmpirical

            self._density = SmoothedEmpirical(self.data, self.process)
        return self._density

    def decompose(self, tau: Any, x: Any, t: Any, init: Any = None, *,
                  target: Any = None) -> Decomposition:
        """Split ``m_tau - m`` into architectural bias, optimization error and init residue.

        ``bias = W* sigma - m`` (independent of tau), ``optimization = (W(0) - W*) Q
        exp(-2 tau Lam) Q^T sigma`` (kept modes of U, decays mode by mode at rates
        ``2 lam_j``) and ``residue = W(0) (I - Q Q^T) sigma`` (theory.md section 6). All in
        denoiser units (score-parametrized models are converted by ``m = x + h_t s``).

        Parameters
        ----------
        tau : float >= 0 or numpy.inf, or array of shape (n_tau,)
            Training time(s); an array evaluates every tau in one pass.
        x : array of shape (M, D) or (D,)
        t : float or array of shape (M,), > 0
        init : array of shape (D, p) or None, default=None
        target : array shaped like x, optional
            The exact denoiser ``m`` at ``x`` (default: :attr:`density`'s), for a caller
            that has it already or measures against another target.

        Returns
        -------
        Decomposition
            Fields ``bias``, ``optimization``, ``residue`` of shape (M, D) (or (D,));
            for an array ``tau``, ``optimization`` is (n_tau, M, D) (or (n_tau, D)).
        """
        where = "RandomFeatureFit.decompose"
        taus = _check_taus(tau, where)
        W0 = self._init(init, where)
        xx, single = check_points(x, "x", where, self.dim)
        tt = check_times(t, "t", where, xx.shape[0], single)
        if np.any(tt > self.process.t_max):
            raise RidgeTheoryError(
                f"`t` passed to {where} must be <= {self.process.t_max} for {self.process!r}; "
                f"got {float(tt.max())}.")
        if target is None:
            m_true = self.density._denoiser(xx, tt)
        else:
            m_true = check_array(target, "target", where, ndim=(1, 2))
            if m_true.shape != np.shape(x):
                raise RidgeTheoryError(
                    f"`target` passed to {where} must have the shape of x {np.shape(x)}; "
                    f"got shape {m_true.shape}.")
            m_true = m_true.reshape(xx.shape)
        bias, opt, res = self._decompose(taus, xx, tt, m_true, W0)
        if np.ndim(tau) == 0:
            opt = opt[0]
        if single:
            bias, opt, res = bias[0], opt[..., 0, :], res[0]
        return Decomposition(bias=bias, optimization=opt, residue=res)

    def _decompose(self, taus: np.ndarray, x: np.ndarray, t: np.ndarray, m_true: np.ndarray,
                   W0: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The split on clean input: ``bias`` (M, D), ``optimization`` (n_tau, M, D) and
        ``residue`` (M, D) for checked ``taus`` (n_tau,), in denoiser units.

        The one statement of the split (:func:`ridgetheory.error_profile` reaches it through
        :meth:`decompose`).
        """
        lam, Q = self.eig()
        sig = self.model._features(x, t)  # (M, p)
        proj = sig @ Q  # (M, r)
        WsQ = (self.V @ Q) / lam  # W* Q
        bias_f = proj @ WsQ.T
        inf = np.isinf(taus)
        decays = np.where(inf[:, None], 0.0,
                          np.exp(-2.0 * np.outer(np.where(inf, 0.0, taus), lam)))
        dQ = -WsQ if W0 is None else W0 @ Q - WsQ
        opt_f = np.einsum("mr,tr,dr->tmd", proj, decays, dQ)
        res_f = np.zeros_like(bias_f) if W0 is None else sig @ W0.T - proj @ (W0 @ Q).T
        if self.model.parametrization == "score":
            h = self.process.h(t)[:, None]
            return x + h * bias_f - m_true, h * opt_f, h * res_f
        return bias_f - m_true, opt_f, res_f
