"""Reference training layouts (theory.md section 7), the curved 13-point example, a ring and a
Gaussian draw in any dimension."""

from __future__ import annotations

import numpy as np

from .._checks import RidgeTheoryError

__all__ = ["LAYOUTS", "layout", "curved13", "ring", "gaussian"]


def curved13() -> np.ndarray:
    """13 points on an arc of a spiral, unevenly spaced (our choice; the paper's is unpublished).

    ``r_k = 3 + 0.15 k``, ``theta_k = 0.26 k`` for k = 0..12 (about 200 degrees of arc), with
    the spacing shrinking towards the middle by a gentle warp so neighbouring modes merge at
    different times: curved, multimodal, and not symmetric.
    """
    k = np.arange(13, dtype=np.float64)
    theta = 0.26 * k + 0.05 * np.sin(k)
    r = 3.0 + 0.15 * k
    return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)


def ring(n: int, radius: float) -> np.ndarray:
    """``n`` points evenly on a circle of ``radius`` in the plane, the first on the x axis."""
    theta = 2 * np.pi * np.arange(n) / n
    return radius * np.stack([np.cos(theta), np.sin(theta)], axis=1)


def gaussian(n: int, dim: int, seed: int, scale: float = 1.0) -> np.ndarray:
    """``n`` points drawn from ``N(0, scale^2 I_dim)`` with ``numpy.random.default_rng(seed)``."""
    return np.random.default_rng(seed).normal(0.0, scale, (n, dim))


LAYOUTS: dict[str, np.ndarray] = {
    "1": np.array([[5.0, 0.0]]),
    "2": np.array([[0.0, 0.0], [5.0, 0.0]]),
    "3": np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]]),
    "4": np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0], [5.0, 5.0]]),
    "4.5": np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0], [2.5, 2.5]]),
    "5": np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0], [5.0, 5.0], [2.5, 2.5]]),
    "9": np.array([[i, j] for i in range(3) for j in range(3)], dtype=np.float64),
    "two_mode": np.array([[-3.0, 0.0], [3.0, 0.0]]),
    "curved13": curved13(),
    # a curved ridge with corners: six points on a circle of radius 3
    "hexagon": ring(6, 3.0),
    # four points drawn from N(0, 2^2 I_8): the slide and directional checks in D = 8
    "gaussian8": gaussian(4, 8, 42, 2.0),
}


def layout(name: str) -> np.ndarray:
    """The training points of a named layout, float64 (n, D) (a copy)."""
    if name not in LAYOUTS:
        raise RidgeTheoryError(
            f"`layout` in the experiment config must be one of {', '.join(map(repr, LAYOUTS))}; "
            f"got {name!r}."
        )
    return LAYOUTS[name].copy()
