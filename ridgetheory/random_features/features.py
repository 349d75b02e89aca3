"""The fixed parts of a random-feature model: activations and the Fourier time embedding.

theory.md section 6. Kept apart from the model and its fit so that the assembly of the loss,
the model and the fit all read them from one place without importing each other.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ACTIVATIONS", "activate", "time_embedding"]

ACTIVATIONS = ("relu", "tanh", "sigmoid")


def activate(u: np.ndarray, activation: str, out: np.ndarray | None = None) -> np.ndarray:
    """Apply the activation in place-friendly form (``out`` may be ``u`` itself)."""
    if activation == "relu":
        return np.maximum(u, 0.0, out=out)
    if activation == "tanh":
        return np.tanh(u, out=out)
    # sigmoid written through tanh: no overflow for large |u|
    out = np.multiply(u, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


def time_embedding(t: np.ndarray, K: int, T: float) -> np.ndarray:
    """Fourier embedding ``phi(t)``, shape (L, 2K+1) for t of shape (L,)."""
    k = np.arange(1, K + 1, dtype=np.float64)
    arg = (2.0 * np.pi / T) * t[:, None] * k[None, :]
    return np.concatenate([np.ones((t.shape[0], 1)), np.sin(arg), np.cos(arg)], axis=1)
