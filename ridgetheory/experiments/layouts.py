"""Reference 2-D training layouts (theory.md section 7) and the curved 13-point example."""

from __future__ import annotations

import numpy as np

from .._checks import RidgeTheoryError

__all__ = ["LAYOUTS", "layout", "curved13"]


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
}


def layout(name: str) -> np.ndarray:
    """The training points of a named layout, float64 (n, 2) (a copy)."""
    if name not in LAYOUTS:
        raise RidgeTheoryError(
            f"`layout` in the experiment config must be one of {', '.join(map(repr, LAYOUTS))}; "
            f"got {name!r}."
        )
    return LAYOUTS[name].copy()
