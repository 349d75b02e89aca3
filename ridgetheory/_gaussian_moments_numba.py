"""Numba kernels for :mod:`ridgetheory.gaussian_moments` (thin: the same formulas, per element).

The numpy functions in ``gaussian_moments`` are the reference; these kernels restate them one
element at a time so that no temporaries are formed and rows run in parallel (``prange``).
Tested against the reference in ``tests/test_gaussian_moments.py``. Imported lazily.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

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


@njit(cache=True, parallel=True)
def cross_flat(m1, t1, m2, t2, r, gl_t, gl_v):
    """Element-wise ``E[relu(u) relu(v)]`` over flat float64 arrays."""
    out = np.empty(m1.size)
    for i in prange(m1.size):
        out[i] = relu_cross(m1[i], t1[i], m2[i], t2[i], r[i], gl_t, gl_v)
    return out


@njit(cache=True, parallel=True)
def moment_matrix(mu, s, rho, gl_t, gl_v):
    """``E[relu(u) relu(u)^T]`` for each row of ``mu`` (B, p); symmetric fill."""
    B, p = mu.shape
    out = np.empty((B, p, p))
    for j in prange(p):
        for bi in range(B):
            for k in range(j, p):
                v = relu_cross(mu[bi, j], s[j], mu[bi, k], s[k], rho[j, k], gl_t, gl_v)
                out[bi, j, k] = v
                out[bi, k, j] = v
    return out


@njit(cache=True, parallel=True)
def weighted_moment_matrix(mu, s, rho, gl_t, gl_v, w):
    """``sum_b w_b E[relu(u_b) relu(u_b)^T]`` (p, p); thread j owns row j's upper part."""
    B, p = mu.shape
    out = np.zeros((p, p))
    for j in prange(p):
        for k in range(j, p):
            acc = 0.0
            for bi in range(B):
                acc += w[bi] * relu_cross(mu[bi, j], s[j], mu[bi, k], s[k], rho[j, k], gl_t,
                                          gl_v)
            out[j, k] = acc
            out[k, j] = acc
    return out
