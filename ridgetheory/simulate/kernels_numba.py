"""Numba CPU kernels: fused score + step, threads over blocks of trajectories.

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

Compile time (issue 16): one kernel, :func:`_advance`, compiled per score kind on the kind's
first use: the kinds not run arrive as ``None`` and numba drops their branches before it
inlines the scores. The threads come from :func:`ridgetheory.backend.run_blocks`, not
``parallel=True``, whose parfor passes over the inlined step took 35 of the 46 s of a first
call. The inputs and the per-thread workspace are :func:`~ridgetheory._numba_maths.borrowed`
(no reference counting in the step loop, as a parfor body would have them).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .. import _compile
from .._numba_maths import borrowed, empirical_mean_shift, keep_alive
from ..backend import run_blocks
from .noise import C2, C3, COS_COEF, G2, LN2, LOG_COEF, M1, M2, SIN_COEF, SQRT_HALF, G
from .spec import Activation, Parametrization, ScoreKind

_compile.install()  # one stderr line when these kernels really compile

__all__ = ["run", "normals_numba", "BLOCK"]

_EMPIRICAL = int(ScoreKind.EMPIRICAL)
_MIXTURE = int(ScoreKind.MIXTURE)
_RANDOM_FEATURES = int(ScoreKind.RANDOM_FEATURES)
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


# the three scores take the same arguments: state ``y[r]``, grid index ``l``, the per-step
# ``a``, ``h``, the kind's input tuple and the scratch ``buf`` (n or K or p), ``v`` (3, D);
# they index the inputs by step instead of slicing rows out of them (see _score_empirical)


@numba.njit(inline="always", cache=True)
def _score_empirical(y, r, l, a, h, emp, buf, v, out):
    # v (3, D): the mean shift's scratch, then the state and the result as whole rows (no
    # views of y and out: a view costs an atomic reference count in the inner loop)
    data, dataT, sqnorm, cut = emp
    yr = v[1]
    row = v[2]
    D = y.shape[1]
    for j in range(D):
        yr[j] = y[r, j]
    hl = h[l]
    empirical_mean_shift(yr, a[l], hl, data, dataT, sqnorm, cut, buf, v[0], row)
    for j in range(D):
        out[r, j] = row[j] / hl


@numba.njit(inline="always", cache=True)
def _score_gmm(y, r, l, a, h, mix, buf, v, out):
    # svar[l, c] = a^2 v_c + h and logs[l, c] = log(svar[l, c]) at grid time l (from numpy)
    means, logw, svar, logs, cut = mix
    al = a[l]
    K, D = means.shape
    k = 0
    top = -np.inf
    for c in range(K):
        sq = 0.0
        for j in range(D):
            d = y[r, j] - al * means[c, j]
            sq += d * d
        lc = logw[c] - 0.5 * sq / svar[l, c] - 0.5 * D * logs[l, c]
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
        w = g / svar[l, c]
        for j in range(D):
            out[r, j] -= w * (y[r, j] - al * means[c, j])


@numba.njit(inline="always", cache=True)
def _score_rf(y, r, l, a, h, rf, buf, v, out):
    """Random-feature score ``A act(Wx y + b)`` (``b = bias[l]`` this step's time bias)."""
    Wx, A, bias, act, param = rf
    hl = h[l]
    p, D = Wx.shape
    for q in range(p):
        u = bias[l, q]
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
        out[r, d] = (acc - y[r, d]) / hl if param == _DENOISER else acc


#: trajectories interleaved per thread: their step chains are independent, so the CPU overlaps
#: them (one trajectory's 1000 steps form one long dependency chain)
BLOCK = 8


def run(Y, traj0, l0, l1, coef, a, h, kind, emp, mix, rf, skey, stochastic, stages):
    """Advance ``Y`` (M, D) in place over steps ``l0 .. l1 - 1``; trajectory ``m`` of ``Y`` is
    trajectory ``traj0 + m`` of the run (its noise). ``emp``, ``mix``, ``rf``: every kind's
    input tuple (placeholders for the kinds not run).

    Blocks of ``BLOCK`` trajectories run on numba's thread count
    (:func:`ridgetheory.backend.run_blocks`). The kinds not run are passed to the kernel as
    ``None``, so that it compiles, per kind, that kind's score alone.
    """
    run_blocks(_advance, (Y.shape[0] + BLOCK - 1) // BLOCK, Y, traj0, l0, l1, coef, a, h,
               emp if kind == _EMPIRICAL else None, mix if kind == _MIXTURE else None,
               rf if kind == _RANDOM_FEATURES else None, skey, stochastic, stages)


@numba.njit(cache=True, nogil=True)
def _advance(first, stride, Y, traj0, l0, l1, coef, a, h, emp, mix, rf, skey, stochastic,
             stages):  # pragma: no cover - compiled
    """:func:`run` on blocks ``first, first + stride, ...``. Exactly one of ``emp``, ``mix``,
    ``rf`` is not None; numba removes the branches ``if x is not None:`` of the ``None`` ones
    before it types (and inlines) the scores inside, so each kind compiles only its own."""
    M, D = Y.shape
    # the inputs, borrowed (no reference counting in the loops); sized by the kind that runs:
    # the empirical scans read the whole buffer
    Y, coef, a, h = borrowed(Y), borrowed(coef), borrowed(a), borrowed(h)
    if emp is not None:
        emp_b = (borrowed(emp[0]), borrowed(emp[1]), borrowed(emp[2]), emp[3])
        nbuf = emp[0].shape[0]
    if mix is not None:
        mix_b = (borrowed(mix[0]), borrowed(mix[1]), borrowed(mix[2]), borrowed(mix[3]), mix[4])
        nbuf = mix[0].shape[0]
    if rf is not None:
        rf_b = (borrowed(rf[0]), borrowed(rf[1]), borrowed(rf[2]), rf[3], rf[4])
        nbuf = rf[0].shape[0]
    # one workspace per thread, borrowed too: the block's states y, the scores s1 and s2 and
    # the stage or noise u (BLOCK, D), the score scratch buf (nbuf) and v (3, D)
    nw = BLOCK * D
    work = np.empty(4 * nw + nbuf + 3 * D)
    keys = np.empty(BLOCK, dtype=np.uint64)
    w = borrowed(work)
    y = w[:nw].reshape((BLOCK, D))
    s1 = w[nw:2 * nw].reshape((BLOCK, D))
    s2 = w[2 * nw:3 * nw].reshape((BLOCK, D))
    u = w[3 * nw:4 * nw].reshape((BLOCK, D))
    buf = w[4 * nw:4 * nw + nbuf]
    v = w[4 * nw + nbuf:].reshape((3, D))
    kt = borrowed(keys)
    nblk = (M + BLOCK - 1) // BLOCK
    for blk in range(first, nblk, stride):
        m0 = blk * BLOCK
        nb = min(M, m0 + BLOCK) - m0
        for b in range(nb):
            kt[b] = _traj_key(skey, traj0 + m0 + b)
            for j in range(D):
                y[b, j] = Y[m0 + b, j]
        for l in range(l0, l1):
            # this step's coefficients, loaded once (the stores below could alias them)
            c0, c1, c2, c3 = coef[l, 0], coef[l, 1], coef[l, 2], coef[l, 3]
            c4, c5, c6 = coef[l, 4], coef[l, 5], coef[l, 6]
            if stochastic and stages == 1:
                # the block's normals first: independent of each other, so they overlap
                for b in range(nb):
                    for j in range(D):
                        u[b, j] = _normal(kt[b], l, j)
            for b in range(nb):
                if emp is not None:
                    _score_empirical(y, b, l, a, h, emp_b, buf, v, s1)
                if mix is not None:
                    _score_gmm(y, b, l, a, h, mix_b, buf, v, s1)
                if rf is not None:
                    _score_rf(y, b, l, a, h, rf_b, buf, v, s1)
                if stages == 2:
                    for j in range(D):
                        u[b, j] = c0 * y[b, j] + c1 * s1[b, j]
                    if emp is not None:
                        _score_empirical(u, b, l + 1, a, h, emp_b, buf, v, s2)
                    if mix is not None:
                        _score_gmm(u, b, l + 1, a, h, mix_b, buf, v, s2)
                    if rf is not None:
                        _score_rf(u, b, l + 1, a, h, rf_b, buf, v, s2)
                    for j in range(D):
                        y[b, j] = c2 * y[b, j] + c3 * s1[b, j] + c4 * u[b, j] + c5 * s2[b, j]
                elif stochastic:
                    for j in range(D):
                        y[b, j] = c2 * y[b, j] + c3 * s1[b, j] + c6 * u[b, j]
                else:
                    for j in range(D):
                        y[b, j] = c2 * y[b, j] + c3 * s1[b, j]
        for b in range(nb):
            for j in range(D):
                Y[m0 + b, j] = y[b, j]
    keep_alive(work)
    keep_alive(keys)
