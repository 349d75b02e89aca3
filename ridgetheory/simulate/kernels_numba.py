"""Numba CPU kernels: fused score + step, parallel over trajectories.

Thin mirrors of the numpy reference (the densities' own ``_score`` and the scheme
coefficients); every per-step scalar (``a_t``, ``h_t``, scheme coefficients, random-feature
time offsets) is computed once in numpy and passed in, so both backends do the same
floating-point work. Each trajectory is advanced through a range of steps by one thread;
per-trajectory scratch is O(n + D), so memory stays O((M + n) D) with no (M, n) temporary.

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


@numba.njit(inline="always", cache=True)
def _score_empirical(y, a, h, data, dataT, sqnorm, cut, buf, out):
    n, D = data.shape
    # dot products j-outer over the transposed data: the i loop vectorizes, and each sum
    # still runs over j in order (the same rounding as a plain dot product)
    for i in range(n):
        buf[i] = 0.0
    for j in range(D):
        yj = y[j]
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
        out[j] = 0.0
    rest = 0.0
    lim = top + cut  # terms below exp(cut) ~ 2^-60 / n cannot change the sums in float64
    for i in range(n):
        if i == k or buf[i] < lim:
            continue
        e = math.exp(buf[i] - top)
        rest += e
        for j in range(D):
            out[j] += e * (data[i, j] - data[k, j])
    denom = 1.0 + rest
    # m - y = (a x_k - y) + a sum_{i != k} g_i (x_i - x_k)
    for j in range(D):
        out[j] = ((a * data[k, j] - y[j]) + a * (out[j] / denom)) / h


@numba.njit(inline="always", cache=True)
def _score_gmm(y, a, means, logw, svar, logs, buf, out):
    # svar[c] = a^2 v_c + h and logs[c] = log(svar[c]) at this grid time (from numpy)
    K, D = means.shape
    k = 0
    top = -np.inf
    for c in range(K):
        sq = 0.0
        for j in range(D):
            d = y[j] - a * means[c, j]
            sq += d * d
        lc = logw[c] - 0.5 * sq / svar[c] - 0.5 * D * logs[c]
        buf[c] = lc
        if lc > top:
            top = lc
            k = c
    rest = 0.0
    for c in range(K):
        if c != k:
            e = math.exp(buf[c] - top)
            buf[c] = e
            rest += e
    denom = 1.0 + rest
    for j in range(D):
        out[j] = 0.0
    for c in range(K):
        g = (1.0 - rest / denom) if c == k else buf[c] / denom
        w = g / svar[c]
        for j in range(D):
            out[j] -= w * (y[j] - a * means[c, j])


@numba.njit(inline="always", cache=True)
def _score_rf(y, h, Wx, A, off, act, param, buf, out):
    p, D = Wx.shape
    for q in range(p):
        u = off[q]
        for j in range(D):
            u += Wx[q, j] * y[j]
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
        out[d] = (acc - y[d]) / h if param == 0 else acc


@numba.njit(inline="always", cache=True)
def _score(kind, y, l, a, h, mat1, mat2, mat3, vec1, vec2, act, param, buf, out):
    if kind == 0:
        _score_empirical(y, a[l], h[l], mat1, mat2, vec1, vec2[0], buf, out)
    elif kind == 1:
        _score_gmm(y, a[l], mat1, vec2, mat2[l], mat3[l], buf, out)
    else:
        _score_rf(y, h[l], mat1, mat2, mat3[l], act, param, buf, out)


@numba.njit(parallel=True, cache=True)
def _run(Y, traj0, l0, l1, coef, a, h, kind, mat1, mat2, mat3, vec1, vec2, act, param,
         skey, stochastic, stages):  # pragma: no cover - compiled
    M, D = Y.shape
    nbuf = max(mat1.shape[0], 1)
    for m in numba.prange(M):
        y = Y[m].copy()
        s1 = np.empty(D)
        s2 = np.empty(D)
        u = np.empty(D)
        buf = np.empty(nbuf)
        kt = _traj_key(skey, traj0 + m)
        for l in range(l0, l1):
            _score(kind, y, l, a, h, mat1, mat2, mat3, vec1, vec2, act, param, buf, s1)
            if stages == 2:
                for j in range(D):
                    u[j] = coef[l, 0] * y[j] + coef[l, 1] * s1[j]
                _score(kind, u, l + 1, a, h, mat1, mat2, mat3, vec1, vec2, act, param, buf, s2)
                for j in range(D):
                    y[j] = (coef[l, 2] * y[j] + coef[l, 3] * s1[j] + coef[l, 4] * u[j]
                            + coef[l, 5] * s2[j])
            elif stochastic:
                for j in range(D):
                    y[j] = coef[l, 2] * y[j] + coef[l, 3] * s1[j] + coef[l, 6] * _normal(kt, l, j)
            else:
                for j in range(D):
                    y[j] = coef[l, 2] * y[j] + coef[l, 3] * s1[j]
        for j in range(D):
            Y[m, j] = y[j]


def run_numba(Y, traj0, l0, l1, coef, a, h, spec, skey, stochastic, stages):
    """Advance ``Y`` (M, D) in place over steps ``l0 .. l1 - 1`` (see module docstring)."""
    _run(Y, traj0, l0, l1, coef, a, h, spec.kind, spec.mat1, spec.mat2, spec.mat3, spec.vec1,
         spec.vec2, spec.act, spec.param, np.uint64(skey), stochastic, stages)
