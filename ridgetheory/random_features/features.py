"""The fixed parts of a random-feature model: activations and the Fourier time embedding.

theory.md section 6. Kept apart from the model and its fit so that the assembly of the loss,
the model and the fit all read them from one place without importing each other.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ACTIVATIONS", "EMBEDDINGS", "activate", "time_embedding"]

ACTIVATIONS = ("relu", "tanh", "sigmoid")

#: time embeddings: "fourier" is periodic in t with the given period; "chebyshev-log" is
#: Chebyshev polynomials of the log-time scaled to [-1, 1] over [t0, period], not periodic
EMBEDDINGS = ("fourier", "chebyshev-log")


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


def time_embedding(t: np.ndarray, K: int, T: float, kind: str = "fourier",
                   t0: float = 1e-3) -> np.ndarray:
    """Time embedding ``phi(t)``, shape (L, 2K+1) for t of shape (L,) (theory.md section 6).

    ``"fourier"``: ``[1, sin(2 pi k t/T), cos(2 pi k t/T)]_{k=1..K}``, of period ``T`` (so
    ``t -> 0`` and ``t = T`` embed alike). ``"chebyshev-log"``: ``[T_0(s), ..., T_2K(s)]`` with
    ``s = 2 log(t/t0)/log(T/t0) - 1`` clipped to [-1, 1]: the same length, no period.
    """
    if kind == "chebyshev-log":
        s = np.clip(2.0 * np.log(np.maximum(t, 1e-300) / t0) / np.log(T / t0) - 1.0, -1.0, 1.0)
        return np.polynomial.chebyshev.chebvander(s, 2 * K)
    k = np.arange(1, K + 1, dtype=np.float64)
    arg = (2.0 * np.pi / T) * t[:, None] * k[None, :]
    return np.concatenate([np.ones((t.shape[0], 1)), np.sin(arg), np.cos(arg)], axis=1)
