"""Numba kernel of the align statistics: distance draws from the normal moments."""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, parallel=True)
def cholesky_distances(cm, Sc, z, out):
    """``out[m, q] = |cm[m] + L_m z[m, q]|`` with ``L_m L_m^T = Sc[m]`` (lower Cholesky).

    ``cm`` (M, k), ``Sc`` (M, k, k) symmetric positive semi-definite, ``z`` (M, n, k),
    ``out`` (M, n). A non-positive pivot (a direction without spread, as at the start) gives
    a zero column, so a singular covariance is fine.
    """
    M, n, k = z.shape
    for m in nb.prange(M):
        L = np.zeros((k, k))
        for j in range(k):
            acc = Sc[m, j, j]
            for r in range(j):
                acc -= L[j, r] * L[j, r]
            if acc <= 0.0:
                continue
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
