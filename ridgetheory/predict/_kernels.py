"""Numba kernel of the align statistics: distance draws from the normal moments."""

from __future__ import annotations

import numba as nb
import numpy as np

from .. import _compile
from ..backend import run_blocks

_compile.install()  # one stderr line when these kernels really compile

#: members per work item (they share one scratch)
BLOCK = 32


def cholesky_distances(cm, Sc, z, out):
    """``out[m, q] = |cm[m] + L_m z[m, q]|`` with ``L_m L_m^T = Sc[m]`` (lower Cholesky).

    ``cm`` (M, k), ``Sc`` (M, k, k) symmetric positive semi-definite, ``z`` (M, n, k),
    ``out`` (M, n). A non-positive pivot (a direction without spread, as at the start) gives
    a zero column, so a singular covariance is fine. Members run in blocks of ``BLOCK`` on
    numba's thread count (:func:`ridgetheory.backend.run_blocks`).
    """
    run_blocks(_cholesky_blocks, (z.shape[0] + BLOCK - 1) // BLOCK, cm, Sc, z, out)


@nb.njit(cache=True, nogil=True)
def _cholesky_blocks(first, stride, cm, Sc, z, out):
    """:func:`cholesky_distances` on blocks ``first, first + stride, ...``."""
    M, n, k = z.shape
    L = np.empty((k, k))
    for b in range(first, (M + BLOCK - 1) // BLOCK, stride):
        for m in range(b * BLOCK, min(M, (b + 1) * BLOCK)):
            L[:] = 0.0
            for j in range(k):
                acc = Sc[m, j, j]
                for r in range(j):
                    acc -= L[j, r] * L[j, r]
                if acc <= 1e-14 * abs(Sc[m, j, j]) or acc <= 0.0:
                    continue  # no spread left in this direction (up to rounding)
                L[j, j] = np.sqrt(acc)
                for i in range(j + 1, k):
                    a = 0.5 * (Sc[m, i, j] + Sc[m, j, i])
                    for r in range(j):
                        a -= L[i, r] * L[j, r]
                    L[i, j] = a / L[j, j]
            for q in range(n):
                tot = 0.0
                for i in range(k):
                    v = cm[m, i]
                    for r in range(i + 1):
                        v += L[i, r] * z[m, q, r]
                    tot += v * v
                out[m, q] = np.sqrt(tot)




@nb.njit(cache=True, nogil=True)
def _matmul(A, B, out, ta):
    """``out = A^T B`` (ta) or ``A B`` for small square matrices (k, k)."""
    k = A.shape[0]
    for i in range(k):
        for j in range(k):
            acc = 0.0
            for r in range(k):
                acc += (A[r, i] if ta else A[i, r]) * B[r, j]
            out[i, j] = acc


@nb.njit(cache=True, nogil=True)
def _deviation(X, G, frobenius):
    """``|X^T X - I|`` (Frobenius, or the largest entry), with ``G`` scratch."""
    _matmul(X, X, G, True)
    k = X.shape[0]
    dev = 0.0
    for i in range(k):
        for j in range(k):
            v = abs(G[i, j] - (1.0 if i == j else 0.0))
            if frobenius:
                dev += v * v
            elif v > dev:
                dev = v
    return np.sqrt(dev) if frobenius else dev


def transport_state(Vn, Vo, cm, Sc):
    """In place: carry each member's normal state ``cm`` (M, k), ``Sc`` (M, k, k) from frame
    ``Vo`` to ``Vn`` (M, D, k) by the orthogonal polar factor ``R`` of ``Vn^T Vo``:
    ``cm <- R cm``, ``Sc <- R Sc R^T``. Newton-Schulz iteration where the overlap is nearly
    orthogonal (``|O^T O - I|_F < 0.5``) and it converges, SVD otherwise (the numpy twin:
    :func:`ridgetheory.predict.reduced.transport`). Blocks of ``BLOCK`` members run on numba's
    thread count (:func:`ridgetheory.backend.run_blocks`)."""
    run_blocks(_transport_blocks, (Vn.shape[0] + BLOCK - 1) // BLOCK, Vn, Vo, cm, Sc)


@nb.njit(cache=True, nogil=True)
def _transport_blocks(first, stride, Vn, Vo, cm, Sc):
    """:func:`transport_state` on blocks ``first, first + stride, ...``."""
    M, D, k = Vn.shape
    X = np.empty((k, k))
    G = np.empty((k, k))
    T = np.empty((k, k))
    c = np.empty(k)
    O = np.empty((k, k))
    for b in range(first, (M + BLOCK - 1) // BLOCK, stride):
        for m in range(b * BLOCK, min(M, (b + 1) * BLOCK)):
            for i in range(k):
                for j in range(k):
                    acc = 0.0
                    for d in range(D):
                        acc += Vn[m, d, i] * Vo[m, d, j]
                    O[i, j] = acc
                    X[i, j] = acc
            ok = False
            # a Frobenius deviation below 0.5 keeps every singular value in the basin of
            # Newton-Schulz; unconverged members fall back to the SVD
            if _deviation(X, G, True) < 0.5:
                _deviation(X, G, False)  # G = X^T X for the first update
                for _ in range(8):
                    # X <- 1.5 X - 0.5 X (X^T X); G holds X^T X from _deviation
                    for i in range(k):
                        for j in range(k):
                            acc = 0.0
                            for r in range(k):
                                acc += X[i, r] * G[r, j]
                            T[i, j] = 1.5 * X[i, j] - 0.5 * acc
                    for i in range(k):
                        for j in range(k):
                            X[i, j] = T[i, j]
                    if _deviation(X, G, False) < 1e-13:
                        break
                ok = _deviation(X, G, False) < 1e-12
            if not ok:
                U, _, Wt = np.linalg.svd(O.copy())
                _matmul(U, Wt, X, False)
            # c = R cm, Sc <- R Sc R^T (T = Sc R^T first)
            for i in range(k):
                acc = 0.0
                for r in range(k):
                    acc += X[i, r] * cm[m, r]
                c[i] = acc
            for i in range(k):
                cm[m, i] = c[i]
                for j in range(k):
                    acc = 0.0
                    for r in range(k):
                        acc += Sc[m, i, r] * X[j, r]
                    T[i, j] = acc
            for i in range(k):
                for j in range(k):
                    acc = 0.0
                    for r in range(k):
                        acc += X[i, r] * T[r, j]
                    Sc[m, i, j] = acc
