"""Numba CPU kernels: fused score + step, parallel over trajectories.

Thin mirrors of the numpy reference (the densities' own ``_score`` and the scheme
coefficients); every per-step scalar (``a_t``, ``h_t``, scheme coefficients, random-feature
time offsets) is computed once in numpy and passed in, so both backends do the same
floating-point work. Each thread advances a block of ``BLOCK`` trajectories through a range
of steps (interleaved, so that their independent step chains overlap in the CPU); scratch is
O(n + BLOCK D) per block, so memory stays O((M + n) D) with no (M, n) temporary. Terms whose
weight is below ``2^-60 / n`` of the anchor's are skipped: they cannot change a float64 sum.

Score kinds: 0 exact empirical score (anchored at the heaviest point, as
``SmoothedEmpirical._offset``), 1 Gaussian mixture (as ``GaussianMixture._score``), 2 random
features (``A_eff act(Wx y + offset(t))``, denoiser or score parametrization).

Noise: the counter-based normals of :mod:`ridgetheory.simulate.noise`, bit for bit.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .noise import C2, C3, COS_COEF, G2, LN2, LOG_COEF, M1, M2, SIN_COEF, SQRT_HALF, G

__all__ = ["run_numba", "normals_numba"]

_U11 = np.uint64(11)
_U27 = np.uint64(27)
_U30 = np.uint64(30)
_U31 = np.uint64(31)
_U32 = np.uint64(32)
_UM1 = np.uint64(M1)
_UM2 = np.uint64(M2)
_UG = np.uint64(G)
_UG2x = np.uint64((2 * G) & ((1 << 64) - 1))
_UGG2 = np.uint64(G2)
_UC2 = np.uint64(C2)
_UC3 = np.uint64(C3)
_ONE = np.uint64(1)
_INV53 = 1.0 / 9007199254740992.0
_TWO_PI = 6.283185307179586


@numba.njit(inline="always", cache=True)
def _mix(z):
    z = (z ^ (z >> _U30)) * _UM1
    z = (z ^ (z >> _U27)) * _UM2
    return z ^ (z >> _U31)


@numba.njit(inline="always", cache=True)
def _traj_key(skey, i):
    return _mix(skey ^ (np.uint64(i) * _UGG2 + _UC2))


_LOGC = np.array(LOG_COEF)
_COSC = np.array(COS_COEF)
_SINC = np.array(SIN_COEF)


@numba.njit(inline="always", cache=True)
def _horner(w, coef):
    p = coef[coef.shape[0] - 1]
    for i in range(coef.shape[0] - 2, -1, -1):
        p = p * w + coef[i]
    return p * w + 1.0


@numba.njit(inline="always", cache=True)
def _log01(u):
    m, e = math.frexp(u)
    if m < SQRT_HALF:
        m = m * 2.0
        e -= 1
    f = m - 1.0
    z = f / (f + 2.0)
    return float(e) * LN2 + 2.0 * z * _horner(z * z, _LOGC)


@numba.njit(inline="always", cache=True)
def _cos2pi(u):
    k = math.floor(u * 4.0)
    r = u - 0.25 * k
    q = int(k)
    if r > 0.125:
        r = r - 0.25
        q += 1
    q = q & 3
    th = _TWO_PI * r
    w = th * th
    if q == 0:
        return _horner(w, _COSC)
    if q == 1:
        return -(th * _horner(w, _SINC))
    if q == 2:
        return -_horner(w, _COSC)
    return th * _horner(w, _SINC)


@numba.njit(inline="always", cache=True)
def _normal(kt, step, j):
    c = (np.uint64(step) << _U32) | np.uint64(j)
    base = _mix(kt ^ _mix(c + _UC3))
    r1 = _mix(base + _UG)
    r2 = _mix(base + _UG2x)
    u1 = np.float64((r1 >> _U11) + _ONE) * _INV53
    u2 = np.float64(r2 >> _U11) * _INV53
    return math.sqrt(-2.0 * _log01(u1)) * _cos2pi(u2)


@numba.njit(parallel=True, cache=True)
def normals_numba(skey, traj, step, dim):  # pragma: no cover - compiled
    """Same numbers as :func:`ridgetheory.simulate.noise.normals` (skey = seed_key(seed))."""
    out = np.empty((traj.shape[0], dim))
    for m in numba.prange(traj.shape[0]):
        kt = _traj_key(skey, traj[m])
        for j in range(dim):
            out[m, j] = _normal(kt, step, j)
    return out


_EXPC = tuple(1.0 / math.factorial(k) for k in range(13, 0, -1))  # 1/13!, ..., 1/1!
_LOG2E = 1.4426950408889634
_LN2_HI = 0.6931471803691238  # ln 2 split so that k * _LN2_HI is exact for |k| < 2^20
_LN2_LO = 1.9082149292705877e-10


_HALVE_E = (64.0, 32.0, 16.0, 8.0, 4.0, 2.0, 1.0)
_HALVE_P = tuple(2.0**-e for e in _HALVE_E)


@numba.njit(inline="always", cache=True)
def _exp_nonpos(x):
    """``exp(x)`` for ``-88 < x <= 0`` in branch-free arithmetic (vectorizes; about 1 ulp)."""
    k = math.floor(x * _LOG2E + 0.5)
    rr = (x - k * _LN2_HI) - k * _LN2_LO
    p = _EXPC[0]
    for i in range(1, 13):
        p = p * rr + _EXPC[i]
    p = p * rr + 1.0
    # 2^k for k in [-127, 0] by exact conditional halvings (selects, no integer casts)
    kk = -k
    for i in range(7):
        if kk >= _HALVE_E[i]:
            p = p * _HALVE_P[i]
            kk = kk - _HALVE_E[i]
    return p


@numba.njit(inline="always", cache=True)
def _score_empirical(y, r, a, h, data, dataT, sqnorm, cut, buf, out):
    n, D = data.shape
    # dot products j-outer over the transposed data: the i loop vectorizes, and each sum
    # still runs over j in order (the same rounding as a plain dot product)
    for i in range(n):
        buf[i] = 0.0
    for j in range(D):
        yj = y[r, j]
        for i in range(n):
            buf[i] += yj * dataT[j, i]
    for i in range(n):
        buf[i] = (a * buf[i] - 0.5 * (a * a) * sqnorm[i]) / h
    k = 0
    top = -np.inf
    for i in range(n):
        if buf[i] > top:
            top = buf[i]
            k = i
    for j in range(D):
        out[r, j] = 0.0
    # weights relative to the anchor in a branch-free loop (vectorizes); terms below
    # exp(cut) ~ 2^-60 / n cannot change the float64 sums and are set to 0
    cnt = 0
    for i in range(n):
        if buf[i] - top >= cut:
            cnt += 1
    if 8 * cnt > n:  # dense (large t): compute every exp, branch-free
        for i in range(n):
            x = buf[i] - top
            buf[i] = _exp_nonpos(x) if x >= cut else 0.0
    else:  # sparse (small t): only the few terms that count
        for i in range(n):
            x = buf[i] - top
            if x >= cut:
                buf[i] = _exp_nonpos(x)
            else:
                buf[i] = 0.0
    buf[k] = 0.0
    rest = 0.0
    for i in range(n):
        e = buf[i]
        if e == 0.0:
            continue
        rest += e
        for j in range(D):
            out[r, j] += e * (data[i, j] - data[k, j])
    denom = 1.0 + rest
    # m - y = (a x_k - y) + a sum_{i != k} g_i (x_i - x_k)
    for j in range(D):
        out[r, j] = ((a * data[k, j] - y[r, j]) + a * (out[r, j] / denom)) / h


@numba.njit(inline="always", cache=True)
def _score_gmm(y, r, a, means, logw, svar, logs, cut, buf, out):
    # svar[c] = a^2 v_c + h and logs[c] = log(svar[c]) at this grid time (from numpy)
    K, D = means.shape
    k = 0
    top = -np.inf
    for c in range(K):
        sq = 0.0
        for j in range(D):
            d = y[r, j] - a * means[c, j]
            sq += d * d
        lc = logw[c] - 0.5 * sq / svar[c] - 0.5 * D * logs[c]
        buf[c] = lc
        if lc > top:
            top = lc
            k = c
    rest = 0.0
    for c in range(K):
        if c != k:
            e = math.exp(buf[c] - top) if buf[c] >= top + cut else 0.0
            buf[c] = e
            rest += e
    denom = 1.0 + rest
    for j in range(D):
        out[r, j] = 0.0
    for c in range(K):
        g = (1.0 - rest / denom) if c == k else buf[c] / denom
        w = g / svar[c]
        for j in range(D):
            out[r, j] -= w * (y[r, j] - a * means[c, j])


@numba.njit(inline="always", cache=True)
def _score_rf(y, r, h, Wx, A, off, act, param, buf, out):
    p, D = Wx.shape
    for q in range(p):
        u = off[q]
        for j in range(D):
            u += Wx[q, j] * y[r, j]
        if act == 0:
            u = max(u, 0.0)
        elif act == 1:
            u = math.tanh(u)
        else:
            u = 0.5 * (math.tanh(0.5 * u) + 1.0)
        buf[q] = u
    for d in range(D):
        acc = 0.0
        for q in range(p):
            acc += A[d, q] * buf[q]
        out[r, d] = (acc - y[r, d]) / h if param == 0 else acc


@numba.njit(inline="always", cache=True)
def _score(kind, y, r, l, a, h, mat1, mat2, mat3, vec1, vec2, act, param, buf, out):
    if kind == 0:
        _score_empirical(y, r, a[l], h[l], mat1, mat2, vec1, vec2[0], buf, out)
    elif kind == 1:
        _score_gmm(y, r, a[l], mat1, vec2, mat2[l], mat3[l], vec1[0], buf, out)
    else:
        _score_rf(y, r, h[l], mat1, mat2, mat3[l], act, param, buf, out)


#: trajectories interleaved per thread: their step chains are independent, so the CPU overlaps
#: them (one trajectory's 1000 steps form one long dependency chain)
BLOCK = 8


@numba.njit(parallel=True, cache=True)
def _run(Y, traj0, l0, l1, coef, a, h, kind, mat1, mat2, mat3, vec1, vec2, act, param,
         skey, stochastic, stages):  # pragma: no cover - compiled
    M, D = Y.shape
    nbuf = max(mat1.shape[0], 1)
    nblk = (M + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblk):
        m0 = blk * BLOCK
        nb = min(M, m0 + BLOCK) - m0
        y = Y[m0:m0 + nb].copy()
        s1 = np.empty((nb, D))
        s2 = np.empty((nb, D))
        u = np.empty((nb, D))
        buf = np.empty(nbuf)
        kt = np.empty(nb, dtype=np.uint64)
        for b in range(nb):
            kt[b] = _traj_key(skey, traj0 + m0 + b)
        for l in range(l0, l1):
            if stochastic and stages == 1:
                # the block's normals first: independent of each other, so they overlap
                for b in range(nb):
                    for j in range(D):
                        u[b, j] = _normal(kt[b], l, j)
            for b in range(nb):
                _score(kind, y, b, l, a, h, mat1, mat2, mat3, vec1, vec2, act, param, buf, s1)
                if stages == 2:
                    for j in range(D):
                        u[b, j] = coef[l, 0] * y[b, j] + coef[l, 1] * s1[b, j]
                    _score(kind, u, b, l + 1, a, h, mat1, mat2, mat3, vec1, vec2, act, param,
                           buf, s2)
                    for j in range(D):
                        y[b, j] = (coef[l, 2] * y[b, j] + coef[l, 3] * s1[b, j]
                                   + coef[l, 4] * u[b, j] + coef[l, 5] * s2[b, j])
                elif stochastic:
                    for j in range(D):
                        y[b, j] = (coef[l, 2] * y[b, j] + coef[l, 3] * s1[b, j]
                                   + coef[l, 6] * u[b, j])
                else:
                    for j in range(D):
                        y[b, j] = coef[l, 2] * y[b, j] + coef[l, 3] * s1[b, j]
        for b in range(nb):
            for j in range(D):
                Y[m0 + b, j] = y[b, j]


def run_numba(Y, traj0, l0, l1, coef, a, h, spec, skey, stochastic, stages):
    """Advance ``Y`` (M, D) in place over steps ``l0 .. l1 - 1`` (see module docstring)."""
    _run(Y, traj0, l0, l1, coef, a, h, spec.kind, spec.mat1, spec.mat2, spec.mat3, spec.vec1,
         spec.vec2, spec.act, spec.param, np.uint64(skey), stochastic, stages)
