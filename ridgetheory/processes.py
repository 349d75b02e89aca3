"""Forward noising processes ``X_t | X_0 = x0 ~ N(alpha(t) x0, h(t) I)`` (theory.md section 1).

Every process is described by two scalar functions of time, ``alpha`` and ``h``, and their
derivatives. The forward SDE ``dX = f(t) X dt + g(t) dB`` follows from them:
``f = alpha'/alpha`` and ``g^2 = h' - 2 f h``. Reverse-time dynamics are written on the
backward clock ``s`` (``ds = -dt``):

* reverse SDE:            ``dY = [-f Y + g^2 s_theta(Y, t)] ds + g dB``
* probability-flow ODE:   ``dY = [-f Y + (g^2 / 2) s_theta(Y, t)] ds``

For the default OU process ``f = -1`` and ``g^2 = 2``, which gives the drifts
``Y + 2 s`` and ``Y + s`` of theory.md section 3.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from ._checks import RidgeTheoryError, check_array, check_scalar

__all__ = ["AbstractProcess", "OU", "VPLinear", "VPCosine", "VE", "check_process"]


class AbstractProcess(ABC):
    """Gaussian forward process with mean scale ``alpha(t)`` and variance ``h(t)``.

    Subclasses implement ``_alpha``, ``_h``, ``_dalpha`` and ``_dh`` on float64 arrays;
    the public methods accept a scalar or an array of times ``t > 0`` and return float64 of
    the same shape.
    """

    #: largest valid time (``inf`` when unbounded)
    t_max: float = np.inf

    def _t(self, t: Any, name: str) -> np.ndarray:
        arr = check_array(t, "t", f"{type(self).__name__}.{name}")
        if arr.size and (np.any(arr <= 0) or np.any(arr > self.t_max)):
            bad = arr.reshape(-1)[
                np.argmax((arr.reshape(-1) <= 0) | (arr.reshape(-1) > self.t_max))
            ]
            raise RidgeTheoryError(
                f"`t` passed to {type(self).__name__}.{name} must be in (0, {self.t_max}]; "
                f"got {float(bad)}."
            )
        return arr

    def alpha(self, t: Any) -> np.ndarray:
        """Mean scale ``a_t``: ``E[X_t | X_0] = a_t X_0``."""
        return self._alpha(self._t(t, "alpha"))

    def h(self, t: Any) -> np.ndarray:
        """Conditional variance ``h_t``: ``Cov[X_t | X_0] = h_t I``."""
        return self._h(self._t(t, "h"))

    def dalpha(self, t: Any) -> np.ndarray:
        """Time derivative of ``alpha``."""
        return self._dalpha(self._t(t, "dalpha"))

    def dh(self, t: Any) -> np.ndarray:
        """Time derivative of ``h``."""
        return self._dh(self._t(t, "dh"))

    def drift_coefficient(self, t: Any) -> np.ndarray:
        """``f(t) = alpha'/alpha`` of the forward SDE ``dX = f X dt + g dB``."""
        tt = self._t(t, "drift_coefficient")
        return self._dalpha(tt) / self._alpha(tt)

    def diffusion_squared(self, t: Any) -> np.ndarray:
        """``g(t)^2 = h' - 2 f h`` of the forward SDE."""
        tt = self._t(t, "diffusion_squared")
        return self._dh(tt) - 2.0 * self._dalpha(tt) / self._alpha(tt) * self._h(tt)

    def diffusion(self, t: Any) -> np.ndarray:
        """``g(t)`` of the forward SDE."""
        return np.sqrt(self.diffusion_squared(t))

    def forward_drift(self, x: Any, t: Any) -> np.ndarray:
        """Forward drift ``f(t) x`` for x of shape (M, D) or (D,) and t scalar or (M,)."""
        x = check_array(x, "x", f"{type(self).__name__}.forward_drift", ndim=(1, 2))
        f = self.drift_coefficient(t)
        return _times_rows(f, x)

    def reverse_drift(self, x: Any, t: Any, score: Any) -> np.ndarray:
        """Reverse-SDE drift on the backward clock, ``-f x + g^2 score``."""
        return self._backward_drift(x, t, score, 1.0, "reverse_drift")

    def probability_flow_drift(self, x: Any, t: Any, score: Any) -> np.ndarray:
        """Probability-flow ODE drift on the backward clock, ``-f x + (g^2/2) score``."""
        return self._backward_drift(x, t, score, 0.5, "probability_flow_drift")

    def _backward_drift(self, x: Any, t: Any, score: Any, c: float, name: str) -> np.ndarray:
        """``-f x + c g^2 score``, the two backward-clock drifts (checked input)."""
        where = f"{type(self).__name__}.{name}"
        x = check_array(x, "x", where, ndim=(1, 2))
        s = check_array(score, "score", where, ndim=(1, 2))
        _same_shape(x, s, "score", where)
        return _times_rows(-self.drift_coefficient(t), x) + _times_rows(
            c * self.diffusion_squared(t), s
        )

    def sigma(self, t: Any) -> np.ndarray:
        """KDE bandwidth of the scaling identity, ``sqrt(h_t) / a_t``."""
        tt = self._t(t, "sigma")
        return np.sqrt(self._h(tt)) / self._alpha(tt)

    @abstractmethod
    def _alpha(self, t: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _h(self, t: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _dalpha(self, t: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _dh(self, t: np.ndarray) -> np.ndarray: ...

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.params() == other.params()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(sorted(self.params().items()))))

    def params(self) -> dict[str, float]:
        """The constructor arguments, for reports and equality."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


def check_process(process: Any, where: str, *,
                  default: AbstractProcess | None = None) -> AbstractProcess:
    """The one check of a ``process`` argument: an :class:`AbstractProcess` instance.

    ``None`` gives ``default`` when one is given (e.g. ``OU()``) and is an error otherwise.
    """
    if process is None and default is not None:
        return default
    if not isinstance(process, AbstractProcess):
        raise RidgeTheoryError(
            f"`process` passed to {where} must be a forward process such as rt.OU(); "
            f"got {type(process).__name__}."
        )
    return process


def _times_rows(c: np.ndarray, x: np.ndarray) -> np.ndarray:
    c = np.asarray(c, dtype=np.float64)
    if c.ndim == 0:
        return c * x
    if x.ndim == 1:
        raise RidgeTheoryError(
            f"`t` must be a scalar when x is a single ({x.shape[0]},) point; got shape {c.shape}."
        )
    if c.shape[0] != x.shape[0]:
        raise RidgeTheoryError(
            f"`t` must be a scalar or of shape ({x.shape[0]},) to match x; got shape {c.shape}."
        )
    return c[:, None] * x


def _same_shape(x: np.ndarray, s: np.ndarray, name: str, where: str) -> None:
    if x.shape != s.shape:
        raise RidgeTheoryError(
            f"`{name}` passed to {where} must have the shape of x {x.shape}; got shape {s.shape}."
        )


class OU(AbstractProcess):
    """Ornstein-Uhlenbeck process ``dX = -X dt + sqrt(2) dB`` (the default).

    ``a_t = e^{-t}``, ``h_t = 1 - e^{-2t}``; ``h`` is computed with ``expm1`` so that it keeps
    full relative accuracy at small t.

    Examples
    --------
    >>> import ridgetheory as rt
    >>> p = rt.OU()
    >>> float(p.h(1e-8))  # doctest: +ELLIPSIS
    1.99999998...e-08
    """

    def _alpha(self, t):
        return np.exp(-t)

    def _h(self, t):
        return -np.expm1(-2.0 * t)

    def _dalpha(self, t):
        return -np.exp(-t)

    def _dh(self, t):
        return 2.0 * np.exp(-2.0 * t)


class VPLinear(AbstractProcess):
    """Variance-preserving process with the DDPM linear schedule.

    ``beta(t) = beta_min + (beta_max - beta_min) t / T`` on ``(0, T]``,
    ``a_t = exp(-B(t)/2)`` with ``B = int_0^t beta``, ``h_t = 1 - a_t^2``.

    Parameters
    ----------
    beta_min, beta_max : float, default=0.1, 20.0
        Rate at ``t = 0`` and ``t = T``; ``0 < beta_min <= beta_max``.
    T : float, default=1.0
        Horizon.
    """

    def __init__(self, beta_min: float = 0.1, beta_max: float = 20.0, T: float = 1.0):
        where = "VPLinear"
        self.beta_min = check_scalar(beta_min, "beta_min", where, low=0.0, low_open=True)
        self.beta_max = check_scalar(beta_max, "beta_max", where, low=self.beta_min)
        self.T = check_scalar(T, "T", where, low=0.0, low_open=True)
        self.t_max = self.T

    def params(self):
        return {"beta_min": self.beta_min, "beta_max": self.beta_max, "T": self.T}

    def _B(self, t):
        return self.beta_min * t + 0.5 * (self.beta_max - self.beta_min) * t**2 / self.T

    def _beta(self, t):
        return self.beta_min + (self.beta_max - self.beta_min) * t / self.T

    def _alpha(self, t):
        return np.exp(-0.5 * self._B(t))

    def _h(self, t):
        return -np.expm1(-self._B(t))

    def _dalpha(self, t):
        return -0.5 * self._beta(t) * self._alpha(t)

    def _dh(self, t):
        return self._beta(t) * np.exp(-self._B(t))


class VPCosine(AbstractProcess):
    """Variance-preserving process with the cosine schedule of Nichol & Dhariwal.

    ``abar(t) = cos^2(c(t)) / cos^2(c(0))`` with ``c(t) = (t/T + s) / (1 + s) * pi/2``,
    ``a_t = sqrt(abar)``, ``h_t = 1 - abar`` on ``(0, T]``. At ``t = T`` the drift
    coefficient is singular; grids should stop short of T (``a_T`` is 0).

    Parameters
    ----------
    s : float, default=0.008
        Offset, ``s > 0``.
    T : float, default=1.0
        Horizon.
    """

    def __init__(self, s: float = 0.008, T: float = 1.0):
        self.s = check_scalar(s, "s", "VPCosine", low=0.0, low_open=True)
        self.T = check_scalar(T, "T", "VPCosine", low=0.0, low_open=True)
        self.t_max = self.T

    def params(self):
        return {"s": self.s, "T": self.T}

    def _c(self, t):
        return (t / self.T + self.s) / (1.0 + self.s) * (np.pi / 2)

    def _alpha(self, t):
        c0 = self._c(0.0)
        return np.cos(self._c(t)) / np.cos(c0)

    def _h(self, t):
        # 1 - cos^2(c)/cos^2(c0) = (sin(c - c0) sin(c + c0)) / cos^2(c0), no cancellation at t -> 0
        c, c0 = self._c(t), self._c(0.0)
        return np.sin(c - c0) * np.sin(c + c0) / np.cos(c0) ** 2

    def _dalpha(self, t):
        dc = (np.pi / 2) / (self.T * (1.0 + self.s))
        return -np.sin(self._c(t)) * dc / np.cos(self._c(0.0))

    def _dh(self, t):
        return -2.0 * self._alpha(t) * self._dalpha(t)


class VE(AbstractProcess):
    """Variance-exploding process: ``a_t = 1``, ``h_t = sigma(t)^2 - sigma_min^2``.

    ``sigma(t) = sigma_min (sigma_max / sigma_min)^t`` on ``(0, 1]`` (Song et al. 2021); the
    subtraction makes ``h(0) = 0`` exact for the SDE ``dX = sqrt(d sigma^2/dt) dB``.

    Parameters
    ----------
    sigma_min, sigma_max : float, default=0.01, 50.0
        ``0 < sigma_min < sigma_max``.
    """

    t_max = 1.0

    def __init__(self, sigma_min: float = 0.01, sigma_max: float = 50.0):
        self.sigma_min = check_scalar(sigma_min, "sigma_min", "VE", low=0.0, low_open=True)
        self.sigma_max = check_scalar(
            sigma_max, "sigma_max", "VE", low=self.sigma_min, low_open=True
        )

    def params(self):
        return {"sigma_min": self.sigma_min, "sigma_max": self.sigma_max}

    def _rate(self):
        return np.log(self.sigma_max / self.sigma_min)

    def _alpha(self, t):
        return np.ones_like(t)

    def _h(self, t):
        return self.sigma_min**2 * np.expm1(2.0 * self._rate() * t)

    def _dalpha(self, t):
        return np.zeros_like(t)

    def _dh(self, t):
        return 2.0 * self._rate() * self.sigma_min**2 * np.exp(2.0 * self._rate() * t)
