"""Anchored posterior moments of a finite mixture (shared by every mixture density).

Posterior weights ``g_i = softmax_i(logit_i)`` are computed by log-sum-exp. Moments are
taken relative to the heaviest component ``k`` ("anchored", theory.md section 2): with
``r_i = g_i`` for ``i != k``, ``r_k = 0`` and ``W = sum r_i = 1 - g_k`` computed as a sum
(never as ``1 - g_k``), every term is of order ``W`` and nothing cancels catastrophically
when the posterior concentrates.
"""

from __future__ import annotations

import numpy as np


def anchored_softmax(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split a softmax into its anchor and the rest.

    Parameters
    ----------
    logits : array of shape (M, K)

    Returns
    -------
    r : (M, K) weights with the anchor's entry set to 0
    W : (M,) total weight off the anchor, ``sum(r)``
    k : (M,) index of the anchor (largest logit)
    lse : (M,) ``log sum exp(logits)``
    """
    k = np.argmax(logits, axis=1)
    rows = np.arange(logits.shape[0])
    top = logits[rows, k]
    e = logits - top[:, None]
    np.exp(e, out=e)
    e[rows, k] = 0.0
    rest = e.sum(axis=1)
    denom = 1.0 + rest
    e /= denom[:, None]
    r = e
    W = rest / denom
    lse = top + np.log1p(rest)
    return r, W, k, lse


def anchored_scaled_weights(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Off-anchor weights normalised to sum to one, and the log of their total.

    ``r / W`` computed in the log domain, so it stays exact when ``W = 1 - g_k`` underflows:
    the directions of the posterior covariance survive even where its size does not.

    Returns
    -------
    q : (M, K) ``r_i / W`` (anchor entry 0; all zero when K = 1)
    logW : (M,) ``log W`` (``-inf`` when K = 1)
    k : (M,) anchor index
    """
    m, K = logits.shape
    k = np.argmax(logits, axis=1)
    rows = np.arange(m)
    top = logits[rows, k]
    if K == 1:
        return np.zeros_like(logits), np.full(m, -np.inf), k
    rest = logits.copy()
    rest[rows, k] = -np.inf
    top2 = rest.max(axis=1)
    alone = ~np.isfinite(top2)  # every other component has zero weight: nothing to normalise
    top2[alone] = 0.0
    np.subtract(rest, top2[:, None], out=rest)
    np.exp(rest, out=rest)
    tot = rest.sum(axis=1)
    tot[alone] = 1.0
    rest /= tot[:, None]
    # log W = log(sum_{i!=k} e^{l_i}) - log(sum_i e^{l_i})
    log_rest = top2 + np.log(tot)
    logW = log_rest - np.logaddexp(top, log_rest)
    logW[alone] = -np.inf
    return rest, logW, k


def full_weights(r: np.ndarray, W: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Posterior weights ``g`` (M, K) from the anchored split (``g_k = 1 - W``)."""
    g = r.copy()
    g[np.arange(r.shape[0]), k] = 1.0 - W
    return g


def anchored_scaled_covariance(q: np.ndarray, d: np.ndarray, log_w: np.ndarray) -> np.ndarray:
    """Direction part ``S_dir = S / W`` of the posterior covariance of the component centres.

    Parameters
    ----------
    q : (M, K) off-anchor weights normalised to sum to one (``r / W``, anchor entry 0)
    d : (M, K, D) centres relative to the anchor's centre
    log_w : (M,) ``log W``

    Returns
    -------
    S_dir : (M, D, D) ``sum_i q_i d_i d_i^T - W u u^T`` with ``u = sum_i q_i d_i``, so that
    ``S = W S_dir = sum_i r_i d_i d_i^T - (sum_i r_i d_i)(sum_i r_i d_i)^T``.
    """
    u = np.einsum("mk,mkd->md", q, d)
    # einsum's BLAS path; a matmul of swapped axes falls back to a slow strided loop
    S = np.einsum("mk,mkd,mke->mde", q, d, d, optimize=True)
    with np.errstate(under="ignore"):
        S -= np.exp(log_w)[:, None, None] * (u[:, :, None] * u[:, None, :])
    return 0.5 * (S + np.swapaxes(S, 1, 2))
