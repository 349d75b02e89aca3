"""The abstract scheme: per-step coefficients of a one- or two-stage linear update.

Every scheme here advances ``y`` from ``t_l`` to ``t_{l+1} < t_l`` (``dt = t_l - t_{l+1}``)
with the score frozen at stage points, so one step is linear in ``y``, the scores and the
noise. A one-stage scheme is

    y' = B0 y + B1 s(y, t_l) + B4 xi,

a two-stage scheme first forms ``u = A0 y + A1 s(y, t_l)`` and then

    y' = B0 y + B1 s(y, t_l) + B2 u + B3 s(u, t_{l+1}).

A scheme only computes the coefficient arrays (once per grid, in numpy, from the process's
``alpha``, ``h``, ``f`` and ``g^2``); the backends apply them. That keeps each formula in one
place and makes the numpy and numba paths do the same floating-point operations.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...processes import AbstractProcess

__all__ = ["AbstractScheme", "Coefficients", "SCHEMES", "register_scheme", "get_scheme"]


@dataclass(frozen=True)
class Coefficients:
    """Per-step coefficients, each an array of shape (L,), float64.

    ``table`` stacks them as (L, 7) in the order A0, A1, B0, B1, B2, B3, B4 (the layout the
    kernels read).
    """

    A0: np.ndarray
    A1: np.ndarray
    B0: np.ndarray
    B1: np.ndarray
    B2: np.ndarray
    B3: np.ndarray
    B4: np.ndarray

    # The update of one step, stated once for numpy callers (the numpy runner, the slide
    # prediction); the numba and CUDA kernels restate it on the same table.
    def stage_point(self, l: int, y: np.ndarray, s1: np.ndarray) -> np.ndarray:
        """``u = A0 y + A1 s(y, t_l)``: the second stage point of a two-stage scheme."""
        return self.A0[l] * y + self.A1[l] * s1

    def step(self, l: int, y: np.ndarray, s1: np.ndarray, xi: Any = None,
             u: Any = None, s2: Any = None) -> np.ndarray:
        """``y'`` of step ``l``, with the kernels' three forms: two-stage (``u``, ``s2``
        given) ``B0 y + B1 s1 + B2 u + B3 s2``; stochastic (``xi`` given)
        ``B0 y + B1 s1 + B4 xi``; otherwise ``B0 y + B1 s1``."""
        if u is not None:
            return self.B0[l] * y + self.B1[l] * s1 + self.B2[l] * u + self.B3[l] * s2
        if xi is not None:
            return self.B0[l] * y + self.B1[l] * s1 + self.B4[l] * xi
        return self.B0[l] * y + self.B1[l] * s1

    @property
    def table(self) -> np.ndarray:
        return np.ascontiguousarray(
            np.stack([self.A0, self.A1, self.B0, self.B1, self.B2, self.B3, self.B4], axis=1)
        )


class AbstractScheme(ABC):
    """A fixed-step reverse-time scheme.

    Class attributes
    ----------------
    name : str
        Registry key (the ``method`` argument of :func:`ridgetheory.simulate`).
    order : float
        Strong order for stochastic schemes, classical order for ODE schemes. The reverse
        SDEs here have additive noise (``g`` depends on t only), so Euler-Maruyama reaches
        strong order 1 (it coincides with Milstein).
    stochastic : bool
        Whether the scheme draws noise (reverse SDE) or not (probability-flow ODE).
    stages : int
        Score evaluations per step (1 or 2).
    """

    name: str
    order: float
    stochastic: bool
    stages: int = 1

    @abstractmethod
    def coefficients(self, process: AbstractProcess, grid: np.ndarray) -> Coefficients:
        """Coefficients for the steps of a strictly decreasing ``grid`` (L + 1,)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(order={self.order}, stochastic={self.stochastic})"


def _zeros(grid: np.ndarray) -> np.ndarray:
    return np.zeros(grid.shape[0] - 1)


def euler_coefficients(process: AbstractProcess, grid: np.ndarray, score_weight: float,
                       noise: bool) -> Coefficients:
    """Explicit Euler on ``dy/ds = -f y + c g^2 s`` (+ ``g dB`` with ``noise``), f and g^2 at
    ``t_l``: ``c = 1`` is Euler-Maruyama for the reverse SDE, ``c = 1/2`` Euler for the
    probability-flow ODE."""
    t, dt = grid[:-1], grid[:-1] - grid[1:]
    f, g2 = process.drift_coefficient(t), process.diffusion_squared(t)
    z = _zeros(grid)
    B4 = np.sqrt(g2 * dt) if noise else z
    return Coefficients(z, z, 1.0 - f * dt, score_weight * g2 * dt, z, z, B4)


SCHEMES: dict[str, AbstractScheme] = {}


def register_scheme(scheme: AbstractScheme) -> AbstractScheme:
    """Add a scheme instance to the registry under ``scheme.name``."""
    SCHEMES[scheme.name] = scheme
    return scheme


def get_scheme(name: str, where: str) -> AbstractScheme:
    from ..._checks import check_choice

    return SCHEMES[check_choice(name, "method", where, tuple(SCHEMES))]
