"""Scalar and per-row building blocks shared by every numba kernel, each stated once.

* :func:`exp_nonpos` -- the one vectorisable ``exp`` of the CPU kernels (arguments <= 0);
* the anchored softmax of a smoothed empirical density (theory.md section 2), used by the
  sampler's exact-score kernel (:mod:`ridgetheory.simulate.kernels_numba`) and the ridge
  kernels (:mod:`ridgetheory.ridge._kernels`): :func:`logits`, :func:`top_two`,
  :func:`offanchor_weights`, :func:`offanchor_sum`, :func:`anchored_mass`,
  :func:`anchored_mean_shift`, :func:`anchored_covariance` and their composition
  :func:`empirical_mean_shift`;
* the Gaussian moments of the ReLU (:func:`bvn_upper`, :func:`relu_mean`,
  :func:`relu_cross` and the array kernels over them), restating
  :mod:`ridgetheory.gaussian_moments` (the numpy reference) one element at a time.

Anchored weights. With logits ``l_j``, anchor ``k = argmax l`` and ``l2`` the largest other
logit, the off-anchor weights are formed relative to ``l2``: ``e_j = exp(l_j - l2)`` for
``j != k`` (``e_k = 0``), ``tot = sum e_j >= 1`` whenever a term is kept, and
``W = 1 - g_k = rest / (1 + rest)`` with ``rest = exp(l2 - l_k) tot``. The normalised weights
``q_j = e_j / tot`` stay exact where ``W`` underflows, so the directions of the posterior
covariance survive (``S = W S_dir``). Mean shifts are accumulated unscaled, ``u = sum e_j (x_j -
x_k)``; the finishing steps apply ``a_t``: ``m - x = (a x_k - x) + W a u / tot``.

:func:`borrowed` and :func:`keep_alive` let a kernel work on arrays without numba's atomic
reference counts in its inner loops. Every function here is compiled on first use and cached;
importing the module compiles nothing. :func:`logits`, :func:`top_two`,
:func:`offanchor_weights`, :func:`offanchor_sum`, :func:`anchored_mean_shift`,
:func:`anchored_covariance`, :func:`empirical_weights` and :func:`empirical_mean_shift` are
``inline="always"``: numba inlines them into each caller (so they take the caller's
fast-math flags), because a call that is not inlined increfs and decrefs the arrays it is
passed, which dominates a kernel over a handful of training points (inlining the last two
made the sampler 1.5x faster on three points in 2-D and 1.2x on n = 2000 in D = 16). Each
inlined copy is compiled again, which is most of a kernel's first-call time (issue 16).
Tested against the numpy references in ``tests/test_simulate*.py``, ``tests/test_ridge.py``
and ``tests/test_gaussian_moments.py``.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from . import _compile
from .backend import run_blocks

_compile.install()  # one stderr line when these kernels really compile

__all__ = [
    "borrowed",
    "keep_alive",
    "EXP_MIN",
    "exp_nonpos",
    "exp_nonpos_array",
    "logits",
    "top_two",
    "offanchor_weights",
    "offanchor_sum",
    "anchored_mass",
    "anchored_mean_shift",
    "anchored_covariance",
    "empirical_mean_shift",
    "weighted_mean_shift",
    "bvn_upper",
    "relu_mean",
    "relu_cross",
    "cross_flat",
    "moment_matrix",
    "weighted_moment_matrix",
    "GL_T",
    "GL_V",
]

# -- exp for non-positive arguments -------------------------------------------------------

#: below this argument :func:`exp_nonpos` returns 0 (``2^k`` would be subnormal); the weights
#: it forms are relative to a term of weight one, so the terms dropped are below 1e-307
EXP_MIN = -708.0

_LOG2E = 1.4426950408889634
_LN2_HI = 0.6931471803691238  # ln 2 split in two for an exact k ln 2 (Cody-Waite)
_LN2_LO = 1.9082149292705877e-10
_MAGIC = 6755399441055744.0  # 1.5 * 2**52: kf + _MAGIC holds the integer kf in its low bits
_MAGIC_BITS = 0x4338000000000000
_C2, _C3, _C4, _C5 = 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120
_C6, _C7, _C8, _C9 = 1.0 / 720, 1.0 / 5040, 1.0 / 40320, 1.0 / 362880
_C10, _C11, _C12, _C13 = 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800


@intrinsic
def _f64_as_i64(typingctx, x):
    """The bits of a float64 as an int64 (a register move: it vectorizes)."""
    if x != types.float64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _i64_as_f64(typingctx, x):
    """The float64 whose bits are the int64 ``x``."""
    if x != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def borrowed(typingctx, arr):
    """``arr`` without its reference count: the same view with a null meminfo.

    numba counts references with atomic operations each time an array is bound to a name,
    sliced or unpacked from a tuple; in a kernel's innermost loop over a handful of training
    points that costs as much as the arithmetic (the arrays a ``parallel=True`` loop receives
    are borrowed like this). Only for arrays that outlive every use of the result: the
    arguments of the kernel that borrows them, or a local array passed to :func:`keep_alive`
    after the last use.
    """
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, signature, args):
        ary = cgutils.create_struct_proxy(signature.args[0])(context, builder, value=args[0])
        ary.meminfo = cgutils.get_null_value(ary.meminfo.type)
        ary.parent = cgutils.get_null_value(ary.parent.type)
        return ary._getvalue()

    return arr(arr), codegen


@intrinsic
def keep_alive(typingctx, arr):
    """No-op use of ``arr``: numba frees a local array after its last use, so a kernel that
    works on ``borrowed(arr)`` calls this after the last use of the borrowed view."""

    def codegen(context, builder, signature, args):
        return context.get_dummy_value()

    return types.none(arr), codegen


@njit(cache=True, nogil=True, fastmath={"contract"})
def exp_nonpos(x):
    """``exp(x)`` for ``EXP_MIN <= x <= 0``, 0 below ``EXP_MIN`` (and for nan).

    Cody-Waite reduction ``x = k ln 2 + r``, ``|r| <= ln(2)/2``, a degree-13 Taylor polynomial
    for ``e^r`` (truncation below 1e-17) and ``2^k`` built from its bits: no branch, no libm
    call, so a loop over it vectorizes (no SVML here). Within about one ulp of ``math.exp``
    (tested). Not inlined by numba: LLVM inlines it and keeps its own fast-math flags
    (multiply-adds contracted in the polynomial only).
    """
    z = max(x, EXP_MIN)
    kf = math.floor(z * _LOG2E + 0.5)
    r = (z - kf * _LN2_HI) - kf * _LN2_LO
    p = _C13 * r + _C12
    p = p * r + _C11
    p = p * r + _C10
    p = p * r + _C9
    p = p * r + _C8
    p = p * r + _C7
    p = p * r + _C6
    p = p * r + _C5
    p = p * r + _C4
    p = p * r + _C3
    p = p * r + _C2
    p = p * r + 1.0
    p = p * r + 1.0
    # 2^k: the integer k sits in the low bits of kf + 1.5 * 2^52; move it to the exponent
    two_k = _i64_as_f64((_f64_as_i64(kf + _MAGIC) - _MAGIC_BITS + 1023) << 52)
    return p * two_k if x >= EXP_MIN else 0.0


@njit(cache=True, nogil=True)
def exp_nonpos_array(z, out):
    """``out[j] = exp_nonpos(z[j])`` (for tests and array callers)."""
    for j in range(z.shape[0]):
        out[j] = exp_nonpos(z[j])


# -- anchored softmax of a smoothed empirical density -------------------------------------


@njit(cache=True, nogil=True, inline="always")
def logits(x, ca, cb, dataT, sqnorm, lg):
    """``lg_j = ca <x, x_j> - cb |x_j|^2`` over the transposed data ``dataT`` (D, n).

    With ``ca = a / h`` and ``cb = a^2 / (2 h)`` these are the logits of the posterior weights
    up to a per-row constant. One coordinate at a time over contiguous rows of ``dataT``, so
    the loop over training points vectorizes; the order of the sums does not depend on D.
    """
    D, n = dataT.shape
    if D == 2:  # the same sums in one pass (the specialisation only saves memory traffic)
        c0 = ca * x[0]
        c1 = ca * x[1]
        for j in range(n):
            lg[j] = (-cb * sqnorm[j] + c0 * dataT[0, j]) + c1 * dataT[1, j]
        return
    for j in range(n):
        lg[j] = -cb * sqnorm[j]
    for c in range(D):
        xc = ca * x[c]
        for j in range(n):
            lg[j] += xc * dataT[c, j]


@njit(cache=True, nogil=True, inline="always")
def top_two(lg):
    """``(best, second, k)``: the largest entry, the largest over the other indices, argmax.

    The first maximum is the anchor (as ``numpy.argmax``); ``second = -inf`` when ``lg`` has
    one entry.
    """
    best = -np.inf
    top2 = -np.inf
    k = 0
    for j in range(lg.shape[0]):
        lj = lg[j]
        if lj > best:
            top2 = best
            best = lj
            k = j
        elif lj > top2:
            top2 = lj
    return best, top2, k


@njit(cache=True, nogil=True, inline="always")
def offanchor_weights(lg, best, top2, k, cut):
    """In place: ``lg_j -> e_j = exp(lg_j - top2)`` for ``j != k``, ``e_k = 0``.

    Terms with ``lg_j - best < cut`` (relative to the anchor) or ``lg_j - top2 < EXP_MIN``
    are set to 0; ``cut = -inf`` keeps everything :func:`exp_nonpos` can represent. All zero
    when nothing is off the anchor (``top2 = -inf``). Branch-free: it vectorizes.
    """
    n = lg.shape[0]
    if not top2 > -np.inf:
        for j in range(n):
            lg[j] = 0.0
        return
    lo = max(cut + (best - top2), EXP_MIN)
    for j in range(n):
        z = lg[j] - top2
        lg[j] = exp_nonpos(z) if z >= lo else 0.0
    lg[k] = 0.0


@njit(cache=True, nogil=True, inline="always")
def offanchor_sum(e, data, k, u):
    """``u = sum_j e_j (x_j - x_k)`` (D,); returns ``tot = sum_j e_j`` (zero terms skipped)."""
    n, D = data.shape
    for c in range(D):
        u[c] = 0.0
    tot = 0.0
    for j in range(n):
        ej = e[j]
        if ej == 0.0:
            continue
        tot += ej
        for c in range(D):
            u[c] += ej * (data[j, c] - data[k, c])
    return tot


@njit(cache=True, nogil=True)
def anchored_mass(tot, best, top2):
    """``(W, log W)``: the weight off the anchor, ``W = 1 - g_k``, from ``tot`` (see above).

    ``(0, -inf)`` when no term is kept.
    """
    if tot > 0.0:
        rest = math.exp(top2 - best) * tot  # sum_{j != k} e^{l_j - l_k}
        return rest / (1.0 + rest), (top2 - best) + math.log(tot) - math.log1p(rest)
    return 0.0, -np.inf


@njit(cache=True, nogil=True, inline="always")
def anchored_mean_shift(x, a, data, k, u, tot, W, off):
    """``off = m - x = (a x_k - x) + W ubar`` with ``ubar = a u / tot``; ``u`` becomes ``ubar``.

    ``ubar = sum_j q_j d_j`` is the mean of the off-anchor centres ``d_j = a (x_j - x_k)``
    under the normalised weights (0 when no term is kept).
    """
    for c in range(x.shape[0]):
        ubar = a * (u[c] / tot) if tot > 0.0 else 0.0
        u[c] = ubar
        off[c] = (a * data[k, c] - x[c]) + W * ubar


@njit(cache=True, nogil=True, inline="always")
def anchored_covariance(S, ubar, tot, a, W):
    """In place: ``S = sum_j e_j (x_j - x_k)(x_j - x_k)^T`` becomes the direction part
    ``S_dir = a^2 S / tot - W ubar ubar^T`` of the posterior covariance ``S = W S_dir``
    (symmetrised; zero when no term is kept)."""
    D = S.shape[0]
    if not tot > 0.0:
        for p in range(D):
            for q in range(D):
                S[p, q] = 0.0
        return
    a2 = a * a
    for p in range(D):
        for q in range(p, D):
            v = a2 * (0.5 * (S[p, q] + S[q, p]) / tot) - W * ubar[p] * ubar[q]
            S[p, q] = v
            S[q, p] = v


@njit(cache=True, nogil=True, inline="always")
def empirical_weights(x, a, h, dataT, sqnorm, cut, lg):
    """Logits, anchor scan and off-anchor weights into ``lg``; returns ``(best, top2, k)``."""
    logits(x, a / h, 0.5 * a * a / h, dataT, sqnorm, lg)
    best, top2, k = top_two(lg)
    offanchor_weights(lg, best, top2, k, cut)
    return best, top2, k


@njit(cache=True, nogil=True, inline="always")
def empirical_mean_shift(x, a, h, data, dataT, sqnorm, cut, lg, u, off):
    """``off = m(x, t) - x`` of ``p_t = (1/n) sum_j N(a x_j, h I)``, anchored; returns log W.

    ``lg`` (n,) and ``u`` (D,) are scratch; ``cut`` as in :func:`offanchor_weights`.
    """
    best, top2, k = empirical_weights(x, a, h, dataT, sqnorm, cut, lg)
    return weighted_mean_shift(x, a, data, lg, best, top2, k, u, off)


@njit(cache=True, nogil=True, inline="always")
def weighted_mean_shift(x, a, data, lg, best, top2, k, u, off):
    """The steps of :func:`empirical_mean_shift` after :func:`empirical_weights` (whose
    ``lg``, ``best``, ``top2``, ``k`` it takes): ``off = m - x``; returns log W."""
    tot = offanchor_sum(lg, data, k, u)
    W, logW = anchored_mass(tot, best, top2)
    anchored_mean_shift(x, a, data, k, u, tot, W, off)
    return logW


# -- Gaussian moments of the ReLU ----------------------------------------------------------
# The numpy functions in ``ridgetheory.gaussian_moments`` are the reference; these restate
# them one element at a time so that no temporaries are formed and rows run in parallel.

_SQRT2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_TWO_PI = 2.0 * math.pi
_CLIP = 40.0
_X, _W = np.polynomial.legendre.leggauss(20)
GL_T = 0.5 * (_X + 1.0)
GL_V = 0.5 * _W
_X6, _W6 = np.polynomial.legendre.leggauss(6)
_X12, _W12 = np.polynomial.legendre.leggauss(12)
GL6_T, GL6_V = 0.5 * (_X6 + 1.0), 0.5 * _W6
GL12_T, GL12_V = 0.5 * (_X12 + 1.0), 0.5 * _W12


@njit(cache=True)
def _ndtr(x):
    return 0.5 * math.erfc(-x / _SQRT2)


@njit(cache=True)
def _npdf(x):
    return math.exp(-0.5 * x * x) / _SQRT_2PI


@njit(cache=True)
def _clip01(v):
    return min(1.0, max(0.0, v))


@njit(cache=True)
def bvn_upper(h, k, r, gl_t, gl_v):
    """``P(X > h, Y > k)``, Genz (2004); see ``gaussian_moments._bvn_upper``."""
    h = min(max(h, -_CLIP), _CLIP)
    k = min(max(k, -_CLIP), _CLIP)
    if abs(r) < 0.925:
        hk = h * k
        hs = 0.5 * (h * h + k * k)
        asr = math.asin(r)
        acc = 0.0
        # Genz's node counts: 6 for |r| < 0.3, 12 for |r| < 0.75, 20 above
        if abs(r) < 0.3:
            nt, nv = GL6_T, GL6_V
        elif abs(r) < 0.75:
            nt, nv = GL12_T, GL12_V
        else:
            nt, nv = gl_t, gl_v
        for i in range(nt.size):
            sn = math.sin(asr * nt[i])
            acc += nv[i] * math.exp((sn * hk - hs) / (1.0 - sn * sn))
        return _clip01(acc * asr / _TWO_PI + _ndtr(-h) * _ndtr(-k))
    neg = r < 0.0
    if neg:
        k = -k
    hk = h * k
    bvn = 0.0
    if abs(r) < 1.0:
        as_ = (1.0 - abs(r)) * (1.0 + abs(r))
        a = math.sqrt(as_)
        bs = (h - k) ** 2
        asr = -0.5 * (bs / as_ + hk)
        c = (4.0 - hk) / 8.0
        d = (12.0 - hk) / 80.0
        val = 0.0
        if asr > -100.0:
            val = a * math.exp(asr) * (1.0 - c * (bs - as_) * (1.0 - d * bs) / 3.0
                                       + c * d * as_ * as_)
        if hk > -100.0:
            b = math.sqrt(bs)
            val -= math.exp(-0.5 * hk) * _SQRT_2PI * _ndtr(-b / a) * b * (
                1.0 - c * bs * (1.0 - d * bs) / 3.0)
        acc = 0.0
        for i in range(gl_t.size):
            xs = (a * gl_t[i]) ** 2
            ex = -0.5 * (bs / xs + hk)
            if ex > -100.0:
                rs = math.sqrt(1.0 - xs)
                sp = 1.0 + c * xs * (1.0 + 5.0 * d * xs)
                ep = math.exp(ex - 0.5 * hk * xs / (1.0 + rs) ** 2) / rs
                acc += gl_v[i] * (math.exp(ex) * sp - ep)
        bvn = (a * acc - val) / _TWO_PI
    if not neg:
        return _clip01(bvn + _ndtr(-max(h, k)))
    if h >= k:
        return _clip01(-bvn)
    strip = _ndtr(k) - _ndtr(h) if h < 0 else _ndtr(-h) - _ndtr(-k)
    return _clip01(strip - bvn)


@njit(cache=True)
def relu_mean(mu, s):
    """``E[relu(u)]``, ``u ~ N(mu, s^2)``."""
    if s <= 0.0:
        return max(mu, 0.0)
    a = mu / s
    return max(mu * _ndtr(a) + s * _npdf(a), 0.0)


@njit(cache=True)
def relu_cross(m1, t1, m2, t2, r, gl_t, gl_v):
    """``E[relu(u) relu(v)]``; see ``gaussian_moments._relu_cross``."""
    if t1 == 0.0:
        return max(m1, 0.0) * relu_mean(m2, t2)
    if t2 == 0.0:
        return relu_mean(m1, t1) * max(m2, 0.0)
    a = m1 / t1
    b = m2 / t2
    if abs(r) == 1.0:
        if r > 0:
            c = min(a, b)
            pc = _npdf(c)
            Pc = _ndtr(c)
            return m1 * m2 * Pc + (m1 * t2 + m2 * t1) * pc + t1 * t2 * (Pc - c * pc)
        if a + b <= 0:
            return 0.0
        pa = _npdf(a)
        pb = _npdf(b)
        mass = _ndtr(b) - _ndtr(-a)
        m_x = pa - pb
        m_xx = mass - (b * pb + a * pa)
        return max(m1 * m2 * mass + (m2 * t1 - m1 * t2) * m_x - t1 * t2 * m_xx, 0.0)
    omr = 1.0 - r
    opr = 1.0 + r
    q = math.sqrt(omr * opr)
    L = bvn_upper(-a, -b, r, gl_t, gl_v)
    if r >= 0:
        num_b = (b - a) + omr * a
        num_a = (a - b) + omr * b
        quad = (a - b) ** 2 / (omr * opr) + 2.0 * a * b / opr
    else:
        num_b = (b + a) - opr * a
        num_a = (a + b) - opr * b
        quad = (a + b) ** 2 / (omr * opr) - 2.0 * a * b / omr
    Pb = _ndtr(num_b / q)
    Pa = _ndtr(num_a / q)
    pa = _npdf(a)
    pb = _npdf(b)
    ex = pa * Pb + r * pb * Pa
    ey = pb * Pa + r * pa * Pb
    dens = q * math.exp(-0.5 * quad) / _TWO_PI
    exy = r * L - r * a * pa * Pb - r * b * pb * Pa + dens
    return max(m1 * m2 * L + m1 * t2 * ey + m2 * t1 * ex + t1 * t2 * exy, 0.0)


#: elements per work item of :func:`cross_flat`
_CROSS_BLOCK = 1024


def cross_flat(m1, t1, m2, t2, r, gl_t, gl_v):
    """Element-wise ``E[relu(u) relu(v)]`` over flat float64 arrays."""
    out = np.empty(m1.size)
    run_blocks(_cross_blocks, (m1.size + _CROSS_BLOCK - 1) // _CROSS_BLOCK, m1, t1, m2, t2, r,
               gl_t, gl_v, out)
    return out


@njit(cache=True, nogil=True)
def _cross_blocks(first, stride, m1, t1, m2, t2, r, gl_t, gl_v, out):
    """:func:`cross_flat` on blocks ``first, first + stride, ...`` of ``_CROSS_BLOCK``."""
    for b in range(first, (m1.size + _CROSS_BLOCK - 1) // _CROSS_BLOCK, stride):
        for i in range(b * _CROSS_BLOCK, min(m1.size, (b + 1) * _CROSS_BLOCK)):
            out[i] = relu_cross(m1[i], t1[i], m2[i], t2[i], r[i], gl_t, gl_v)


def moment_matrix(mu, s, rho, gl_t, gl_v):
    """``E[relu(u) relu(u)^T]`` for each row of ``mu`` (B, p); symmetric fill."""
    B, p = mu.shape
    out = np.empty((B, p, p))
    run_blocks(_moment_rows, p, mu, s, rho, gl_t, gl_v, out)
    return out


@njit(cache=True, nogil=True)
def _moment_rows(first, stride, mu, s, rho, gl_t, gl_v, out):
    """:func:`moment_matrix` for rows ``j = first, first + stride, ...`` (upper part)."""
    B, p = mu.shape
    for j in range(first, p, stride):
        for bi in range(B):
            for k in range(j, p):
                v = relu_cross(mu[bi, j], s[j], mu[bi, k], s[k], rho[j, k], gl_t, gl_v)
                out[bi, j, k] = v
                out[bi, k, j] = v


def weighted_moment_matrix(mu, s, rho, gl_t, gl_v, w):
    """``sum_b w_b E[relu(u_b) relu(u_b)^T]`` (p, p); each thread owns rows' upper parts."""
    p = mu.shape[1]
    out = np.zeros((p, p))
    run_blocks(_weighted_rows, p, mu, s, rho, gl_t, gl_v, w, out)
    return out


@njit(cache=True, nogil=True)
def _weighted_rows(first, stride, mu, s, rho, gl_t, gl_v, w, out):
    """:func:`weighted_moment_matrix` for rows ``j = first, first + stride, ...``."""
    B, p = mu.shape
    for j in range(first, p, stride):
        for k in range(j, p):
            acc = 0.0
            for bi in range(B):
                acc += w[bi] * relu_cross(mu[bi, j], s[j], mu[bi, k], s[k], rho[j, k], gl_t,
                                          gl_v)
            out[j, k] = acc
            out[k, j] = acc
