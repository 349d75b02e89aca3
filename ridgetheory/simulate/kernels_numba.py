"""Numba CPU kernels: fused score + step, parallel over trajectories.

Thin mirrors of the numpy reference (the densities' own ``_score`` and the scheme
coefficients); every per-step scalar (``a_t``, ``h_t``, scheme coefficients, random-feature
time biases) is computed once in numpy and passed in. Each thread advances a block of
``BLOCK`` trajectories through a range of steps (interleaved, so that their independent step
chains overlap in the CPU); scratch is O(n + BLOCK D) per block, so memory stays
O((M + n) D) with no (M, n) temporary. Terms whose weight is below ``2^-60 / n`` of the
anchor's are skipped (:data:`ridgetheory.simulate.spec.NEGLIGIBLE_BITS`): they cannot change
a float64 sum.

Score kinds (:class:`ridgetheory.simulate.spec.ScoreKind`): the exact empirical score
(anchored at the heaviest point, as ``SmoothedEmpirical._mean_shift``, from the blocks of
:mod:`ridgetheory._numba_maths`), the Gaussian mixture (as ``GaussianMixture._score``) and
random features (``A_eff act(Wx y + time_bias(t))``, denoiser or score parametrization).
Each kind's inputs arrive as one tuple in the field order of its input record
(:mod:`ridgetheory.simulate.spec`); the numba runner builds them.

Noise: the counter-based normals of :mod:`ridgetheory.simulate.noise`, bit for bit.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .._numba_maths import empirical_mean_shift
from .noise import C2, C3, COS_COEF, G2, LN2, LOG_COEF, M1, M2, SIN_COEF, SQRT_HALF, G
from .spec import Activation, Parametrization, ScoreKind

__all__ = ["run", "normals_numba", "BLOCK"]

_EMPIRICAL = int(ScoreKind.EMPIRICAL)
_MIXTURE = int(ScoreKind.MIXTURE)
_RELU = int(Activation.RELU)
_TANH = int(Activation.TANH)
_DENOISER = int(Parametrization.DENOISER)

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
def _score_empirical(y, r, a, h, emp, lg, v, out):
    data, dataT, sqnorm, cut = emp
    row = out[r]
    empirical_mean_shift(y[r], a, h, data, dataT, sqnorm, cut, lg, v, row)
    for j in range(row.shape[0]):
        row[j] = row[j] / h


@numba.njit(inline="always", cache=True)
def _score_gmm(y, r, a, means, logw, svar, logs, cut, buf, out):
    # svar[c] = a^2 v_c + h and logs[c] = log(svar[c]) at this grid time (rows from numpy)
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
    """Random-feature score ``A act(Wx y + off)`` (``off`` this step's time bias row)."""
    p, D = Wx.shape
    for q in range(p):
        u = off[q]
        for j in range(D):
            u += Wx[q, j] * y[r, j]
        if act == _RELU:
            u = max(u, 0.0)
        elif act == _TANH:
            u = math.tanh(u)
        else:
            u = 0.5 * (math.tanh(0.5 * u) + 1.0)
        buf[q] = u
    for d in range(D):
        acc = 0.0
        for q in range(p):
            acc += A[d, q] * buf[q]
        out[r, d] = (acc - y[r, d]) / h if param == _DENOISER else acc


@numba.njit(inline="always", cache=True)
def _score(kind, y, r, l, a, h, emp, mix, rf, buf, v, out):
    """Score of kind ``kind`` at state ``y[r]`` and grid time ``l`` into ``out[r]``."""
    if kind == _EMPIRICAL:
        _score_empirical(y, r, a[l], h[l], emp, buf, v, out)
    elif kind == _MIXTURE:
        means, logw, svar, logs, cut = mix
        _score_gmm(y, r, a[l], means, logw, svar[l], logs[l], cut, buf, out)
    else:
        Wx, A, bias, act, param = rf
        _score_rf(y, r, h[l], Wx, A, bias[l], act, param, buf, out)


#: trajectories interleaved per thread: their step chains are independent, so the CPU overlaps
#: them (one trajectory's 1000 steps form one long dependency chain)
BLOCK = 8


@numba.njit(parallel=True, cache=True)
def run(Y, traj0, l0, l1, coef, a, h, kind, emp, mix, rf, skey, stochastic,
        stages):  # pragma: no cover - compiled
    """Advance ``Y`` (M, D) in place over steps ``l0 .. l1 - 1``; trajectory ``m`` of ``Y`` is
    trajectory ``traj0 + m`` of the run (its noise). ``emp``, ``mix``, ``rf``: every kind's
    input tuple (placeholders for the kinds not run)."""
    M, D = Y.shape
    # sized by the kind that runs: the empirical scans read the whole buffer
    if kind == _EMPIRICAL:
        nbuf = emp[0].shape[0]
    elif kind == _MIXTURE:
        nbuf = mix[0].shape[0]
    else:
        nbuf = rf[0].shape[0]
    nblk = (M + BLOCK - 1) // BLOCK
    for blk in numba.prange(nblk):
        m0 = blk * BLOCK
        nb = min(M, m0 + BLOCK) - m0
        y = Y[m0:m0 + nb].copy()
        s1 = np.empty((nb, D))
        s2 = np.empty((nb, D))
        u = np.empty((nb, D))
        buf = np.empty(nbuf)
        v = np.empty(D)
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
                _score(kind, y, b, l, a, h, emp, mix, rf, buf, v, s1)
                if stages == 2:
                    for j in range(D):
                        u[b, j] = coef[l, 0] * y[b, j] + coef[l, 1] * s1[b, j]
                    _score(kind, u, b, l + 1, a, h, emp, mix, rf, buf, v, s2)
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
