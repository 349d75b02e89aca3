"""Closed-form Gaussian moments of the ReLU (theory.md section 6).

For the random-feature model the pre-activations are Gaussian, so the expectations over the
noise that the reference runs estimate by Monte Carlo have closed forms. With
``u ~ N(mu, s^2)`` and ``a = mu / s``:

* ``E[relu(u)]          = mu Phi(a) + s phi(a)``                      (:func:`relu_mean`)
* ``E[u relu(u)]        = (mu^2 + s^2) Phi(a) + mu s phi(a)``         (:func:`relu_first_moment`)
* ``E[relu(u)^2]``      equals ``E[u relu(u)]`` since ``u relu(u) = relu(u)^2``
* ``E[u relu(v)]        = mu_u E[relu(v)] + s_u s_v rho Phi(mu_v / s_v)`` (Stein's lemma)
* ``E[relu(u) relu(v)]`` for correlated ``(u, v)``: Rosenbaum's (1961) truncated bivariate
  normal moments, exact up to one bivariate normal probability ``Phi2``
  (:func:`relu_cross_moment`, :func:`relu_moment_matrix`).

``Phi2`` (:func:`bivariate_normal_cdf`) is evaluated vectorised by Genz's (2004) method:
6-, 12- or 20-node Gauss-Legendre quadrature of Sheppard's ``asin`` integral for
``|rho| < 0.3, 0.75, 0.925`` and 20 nodes on Drezner-Wesolowsky's expansion about
``|rho| = 1`` otherwise.

Accuracy (measured in ``tests/test_gaussian_moments.py`` against 25-digit mpmath integration):
``Phi2`` to 5e-16 absolute; the two-Gaussian moments to ``1e-15 (|mu1| + s1)(|mu2| + s2)``
absolute and the one-Gaussian moments to ``1e-15 (|mu| + s)^k`` (k = 1, 2). Relative accuracy
degrades only in the far left tail (``mu/s`` below about -30, moments below 1e-200). The formulas
are derived symbolically in :mod:`ridgetheory.symbolic.moments`, which the tests compare against.
A numba kernel (``backend="numba"``) restates the same formulas per element.

All functions broadcast their arguments like numpy ufuncs and return float64 (a numpy scalar for
scalar input). Limits are exact: ``s = 0`` (a point mass) and ``|rho| = 1``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import ndtr

from ._checks import RidgeTheoryError, check_array
from .backend import resolve_backend

__all__ = [
    "relu_mean",
    "relu_first_moment",
    "relu_second_moment",
    "relu_linear_moment",
    "relu_cross_moment",
    "relu_moment_matrix",
    "bivariate_normal_cdf",
]

_SQRT_2PI = float(np.sqrt(2.0 * np.pi))
_TWO_PI = 2.0 * np.pi
# |h|, |k| beyond this change Phi2 by less than the smallest subnormal double
_CLIP = 40.0


def _gauss_legendre01(n: int) -> tuple[np.ndarray, np.ndarray]:
    """n-node Gauss-Legendre rule on [0, 1] (weights sum to 1)."""
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (x + 1.0), 0.5 * w


# Genz's node counts: 6 for |rho| < 0.3, 12 for |rho| < 0.75, 20 above (all ~1e-16 accurate)
_GL_RULES = ((0.3, _gauss_legendre01(6)), (0.75, _gauss_legendre01(12)),
             (0.925, _gauss_legendre01(20)))
_GL_T, _GL_V = _gauss_legendre01(20)
# |rho| may exceed 1 by this much from round-off in a correlation matrix; it is clipped
_RHO_SLACK = 1e-12


def _phi(z: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * z * z) / _SQRT_2PI


def _broadcast(where: str, **named: Any) -> list[np.ndarray]:
    arrays = [check_array(v, k, where) for k, v in named.items()]
    try:
        return list(np.broadcast_arrays(*arrays))
    except ValueError as exc:
        shapes = ", ".join(f"{k} {a.shape}" for k, a in zip(named, arrays, strict=True))
        raise RidgeTheoryError(
            f"the arguments passed to {where} must broadcast to one shape; got {shapes}."
        ) from exc


def _check_nonneg(s: np.ndarray, name: str, where: str) -> None:
    if s.size and np.any(s < 0):
        bad = float(s.reshape(-1)[np.argmax(s.reshape(-1) < 0)])
        raise RidgeTheoryError(f"`{name}` passed to {where} must be >= 0; got {bad}.")


def _check_rho(rho: np.ndarray, where: str) -> np.ndarray:
    if rho.size and np.any(np.abs(rho) > 1.0 + _RHO_SLACK):
        bad = float(rho.reshape(-1)[np.argmax(np.abs(rho.reshape(-1)) > 1.0 + _RHO_SLACK)])
        raise RidgeTheoryError(f"`rho` passed to {where} must be in [-1, 1]; got {bad}.")
    return np.clip(rho, -1.0, 1.0)


def _ratio(mu: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``mu / s`` with the point-mass limit ``s = 0`` sent to ``+-inf`` (``-inf`` for mu = 0)."""
    safe = np.where(s > 0, s, 1.0)
    return np.where(s > 0, mu / safe, np.where(mu > 0, np.inf, -np.inf))


def _scalar(out: np.ndarray) -> np.ndarray:
    return out[()] if out.ndim == 0 else out


# -- one Gaussian --------------------------------------------------------------------------


def _relu_mean(mu: np.ndarray, s: np.ndarray) -> np.ndarray:
    a = _ratio(mu, s)
    pa = np.where(np.isfinite(a), _phi(np.where(np.isfinite(a), a, 0.0)), 0.0)
    # clamp: in the far left tail the two terms cancel to a round-off of either sign
    return np.where(s > 0, np.maximum(mu * ndtr(a) + s * pa, 0.0), np.maximum(mu, 0.0))


def _relu_first(mu: np.ndarray, s: np.ndarray) -> np.ndarray:
    a = _ratio(mu, s)
    pa = np.where(np.isfinite(a), _phi(np.where(np.isfinite(a), a, 0.0)), 0.0)
    val = np.maximum((mu * mu + s * s) * ndtr(a) + mu * s * pa, 0.0)
    return np.where(s > 0, val, np.maximum(mu, 0.0) ** 2)


def relu_mean(mu: Any, s: Any) -> np.ndarray:
    """``E[relu(u)]`` for ``u ~ N(mu, s^2)``.

    Parameters
    ----------
    mu : array_like, float64
        Means (any shape; broadcast against ``s``).
    s : array_like, float64
        Standard deviations, ``>= 0`` (``s = 0`` gives ``relu(mu)``).

    Returns
    -------
    array of the broadcast shape, float64
        ``mu Phi(mu/s) + s phi(mu/s)``.

    Examples
    --------
    >>> import numpy as np
    >>> from ridgetheory.gaussian_moments import relu_mean
    >>> bool(relu_mean(0.0, 1.0) == 1 / np.sqrt(2 * np.pi))
    True
    >>> relu_mean([-1.0, 2.0], 0.0)
    array([0., 2.])
    """
    where = "relu_mean"
    mu, s = _broadcast(where, mu=mu, s=s)
    _check_nonneg(s, "s", where)
    return _scalar(_relu_mean(mu, s))


def relu_first_moment(mu: Any, s: Any) -> np.ndarray:
    """``E[u relu(u)]`` for ``u ~ N(mu, s^2)`` (equal to ``E[relu(u)^2]``).

    Parameters
    ----------
    mu : array_like, float64
        Means (any shape; broadcast against ``s``).
    s : array_like, float64
        Standard deviations, ``>= 0``.

    Returns
    -------
    array of the broadcast shape, float64
        ``(mu^2 + s^2) Phi(mu/s) + mu s phi(mu/s)``.

    Examples
    --------
    >>> from ridgetheory.gaussian_moments import relu_first_moment
    >>> float(relu_first_moment(0.0, 2.0))  # half of E[u^2] = 4
    2.0
    """
    where = "relu_first_moment"
    mu, s = _broadcast(where, mu=mu, s=s)
    _check_nonneg(s, "s", where)
    return _scalar(_relu_first(mu, s))


def relu_second_moment(mu: Any, s: Any) -> np.ndarray:
    """``E[relu(u)^2]`` for ``u ~ N(mu, s^2)``; identical to :func:`relu_first_moment`.

    Parameters
    ----------
    mu : array_like, float64
    s : array_like, float64, >= 0

    Returns
    -------
    array of the broadcast shape, float64

    Examples
    --------
    >>> from ridgetheory.gaussian_moments import relu_second_moment
    >>> float(relu_second_moment(3.0, 0.0))
    9.0
    """
    where = "relu_second_moment"
    mu, s = _broadcast(where, mu=mu, s=s)
    _check_nonneg(s, "s", where)
    return _scalar(_relu_first(mu, s))


# -- two correlated Gaussians --------------------------------------------------------------


def _bvn_upper(h: np.ndarray, k: np.ndarray, r: np.ndarray) -> np.ndarray:
    """``P(X > h, Y > k)`` for standard normals with correlation ``r`` (flat float64 arrays).

    Genz (2004), "Numerical computation of rectangular bivariate and trivariate normal
    probabilities", Statistics and Computing 14, 251-260, vectorised over the inputs.
    """
    h = np.clip(h, -_CLIP, _CLIP)
    k = np.clip(k, -_CLIP, _CLIP)
    out = np.empty_like(h)
    low = np.abs(r) < 0.925
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        lower = 0.0
        for upper, (nodes, weights) in _GL_RULES:
            band = low & (np.abs(r) >= lower) & (np.abs(r) < upper)
            lower = upper
            if not np.any(band):
                continue
            hl, kl, rl = h[band], k[band], r[band]
            hk = hl * kl
            hs = 0.5 * (hl * hl + kl * kl)
            asr = np.arcsin(rl)
            acc = np.zeros_like(hl)
            for t, v in zip(nodes, weights, strict=True):
                sn = np.sin(asr * t)
                acc += v * np.exp((sn * hk - hs) / (1.0 - sn * sn))
            out[band] = acc * asr / _TWO_PI + ndtr(-hl) * ndtr(-kl)
        high = ~low
        if np.any(high):
            hh, kh, rh = h[high], k[high], r[high]
            neg = rh < 0
            kh = np.where(neg, -kh, kh)
            hk = hh * kh
            bvn = np.zeros_like(hh)
            inner = np.abs(rh) < 1.0
            if np.any(inner):
                hi, ki, hki, ri = hh[inner], kh[inner], hk[inner], rh[inner]
                as_ = (1.0 - np.abs(ri)) * (1.0 + np.abs(ri))
                a = np.sqrt(as_)
                bs = (hi - ki) ** 2
                asr = -0.5 * (bs / as_ + hki)
                c = (4.0 - hki) / 8.0
                d = (12.0 - hki) / 80.0
                poly = 1.0 - c * (bs - as_) * (1.0 - d * bs) / 3.0 + c * d * as_**2
                val = np.where(asr > -100.0, a * np.exp(asr) * poly, 0.0)
                b = np.sqrt(bs)
                tail = np.exp(-0.5 * hki) * _SQRT_2PI * ndtr(-b / a) * b * (
                    1.0 - c * bs * (1.0 - d * bs) / 3.0
                )
                val = val - np.where(hki > -100.0, tail, 0.0)
                acc = np.zeros_like(hi)
                for t, v in zip(_GL_T, _GL_V, strict=True):
                    xs = (a * t) ** 2
                    rs = np.sqrt(1.0 - xs)
                    ex = -0.5 * (bs / xs + hki)
                    sp = 1.0 + c * xs * (1.0 + 5.0 * d * xs)
                    ep = np.exp(ex - 0.5 * hki * xs / (1.0 + rs) ** 2) / rs
                    acc += np.where(ex > -100.0, v * (np.exp(ex) * sp - ep), 0.0)
                bvn[inner] = (a * acc - val) / _TWO_PI
            pos = ~neg
            res = np.empty_like(hh)
            res[pos] = bvn[pos] + ndtr(-np.maximum(hh[pos], kh[pos]))
            hn, kn, bn = hh[neg], kh[neg], bvn[neg]
            # for rho < 0: P(h < X < k') minus the correction (k' = -k)
            strip = np.where(hn < 0, ndtr(kn) - ndtr(hn), ndtr(-hn) - ndtr(-kn))
            res[neg] = np.where(hn >= kn, -bn, strip - bn)
            out[high] = res
    return np.clip(out, 0.0, 1.0)


def bivariate_normal_cdf(h: Any, k: Any, rho: Any) -> np.ndarray:
    """``Phi2(h, k; rho) = P(X <= h, Y <= k)`` for standard normals with correlation ``rho``.

    Parameters
    ----------
    h, k : array_like, float64
        Upper limits (``+-inf`` allowed); broadcast together with ``rho``.
    rho : array_like, float64
        Correlations in [-1, 1] (values within 1e-12 outside are clipped).

    Returns
    -------
    array of the broadcast shape, float64

    Notes
    -----
    Genz's (2004) fixed-node Gauss-Legendre evaluation (6, 12 or 20 nodes on Sheppard's
    ``asin`` form for ``|rho| < 0.3, 0.75, 0.925``; 20 nodes on the Drezner-Wesolowsky
    expansion about ``|rho| = 1`` above). Absolute
    error below 5e-16 against 25-digit quadrature in the tests.

    Examples
    --------
    >>> from ridgetheory.gaussian_moments import bivariate_normal_cdf
    >>> float(bivariate_normal_cdf(0.0, 0.0, 0.5))  # 1/4 + asin(rho)/(2 pi) = 1/3
    0.3333333333333333
    """
    where = "bivariate_normal_cdf"
    h = check_array(h, "h", where, finite=False)
    k = check_array(k, "k", where, finite=False)
    for name, arr in (("h", h), ("k", k)):
        if np.any(np.isnan(arr)):
            raise RidgeTheoryError(f"`{name}` passed to {where} must not be NaN.")
    rho = check_array(rho, "rho", where)
    try:
        h, k, rho = np.broadcast_arrays(h, k, rho)
    except ValueError as exc:
        raise RidgeTheoryError(
            f"the arguments passed to {where} must broadcast to one shape; got h {h.shape}, "
            f"k {k.shape}, rho {rho.shape}."
        ) from exc
    rho = _check_rho(rho, where)
    shape = h.shape
    flat = _bvn_upper(-h.reshape(-1), -k.reshape(-1), rho.reshape(-1).copy())
    return _scalar(flat.reshape(shape))


def _relu_cross(mu1, s1, mu2, s2, rho):
    """Flat float64 arrays in, ``E[relu(u) relu(v)]`` out (all limits handled)."""
    out = np.empty_like(mu1)
    det1, det2 = s1 == 0, s2 == 0
    # a point mass factorises: E[relu(mu1) relu(v)] = relu(mu1) E[relu(v)]
    pm = det1 | det2
    if np.any(pm):
        out[pm] = np.where(
            det1[pm], np.maximum(mu1[pm], 0.0) * _relu_mean(mu2[pm], s2[pm]),
            _relu_mean(mu1[pm], s1[pm]) * np.maximum(mu2[pm], 0.0),
        )
    one = ~pm & (np.abs(rho) == 1.0)
    if np.any(one):
        m1, t1, m2, t2, r = mu1[one], s1[one], mu2[one], s2[one], rho[one]
        a, b = m1 / t1, m2 / t2
        # rho = +1: v = mu2 + s2 X, both positive iff X > -min(a, b)
        c = np.minimum(a, b)
        pc, Pc = _phi(c), ndtr(c)
        plus = m1 * m2 * Pc + (m1 * t2 + m2 * t1) * pc + t1 * t2 * (Pc - c * pc)
        # rho = -1: v = mu2 - s2 X, both positive iff -a < X < b
        pa, pb = _phi(a), _phi(b)
        mass = np.where(a + b > 0, ndtr(b) - ndtr(-a), 0.0)
        m_x = np.where(a + b > 0, pa - pb, 0.0)
        m_xx = np.where(a + b > 0, mass - (b * pb + a * pa), 0.0)
        minus = m1 * m2 * mass + (m2 * t1 - m1 * t2) * m_x - t1 * t2 * m_xx
        out[one] = np.where(r > 0, plus, np.maximum(minus, 0.0))
    gen = ~pm & ~one
    if np.any(gen):
        m1, t1, m2, t2, r = mu1[gen], s1[gen], mu2[gen], s2[gen], rho[gen]
        a, b = m1 / t1, m2 / t2
        omr, opr = 1.0 - r, 1.0 + r
        q = np.sqrt(omr * opr)
        L = _bvn_upper(-a, -b, r)
        # Phi((b - rho a)/q) with the numerator written to stay accurate as rho -> +-1
        num_b = np.where(r >= 0, (b - a) + omr * a, (b + a) - opr * a)
        num_a = np.where(r >= 0, (a - b) + omr * b, (a + b) - opr * b)
        Pb, Pa = ndtr(num_b / q), ndtr(num_a / q)
        pa, pb = _phi(a), _phi(b)
        ex = pa * Pb + r * pb * Pa  # E[X 1{X > -a, Y > -b}]
        ey = pb * Pa + r * pa * Pb  # E[Y 1{...}]
        # (1 - rho^2) phi2(-a, -b; rho), exponent in a cancellation-free form
        quad = np.where(
            r >= 0, (a - b) ** 2 / (omr * opr) + 2.0 * a * b / opr,
            (a + b) ** 2 / (omr * opr) - 2.0 * a * b / omr,
        )
        dens = q * np.exp(-0.5 * quad) / _TWO_PI
        exy = r * L - r * a * pa * Pb - r * b * pb * Pa + dens  # E[XY 1{...}]
        val = m1 * m2 * L + m1 * t2 * ey + m2 * t1 * ex + t1 * t2 * exy
        out[gen] = np.maximum(val, 0.0)
    return out


def relu_cross_moment(
    mu1: Any, s1: Any, mu2: Any, s2: Any, rho: Any, *, backend: str = "numpy"
) -> np.ndarray:
    """``E[relu(u) relu(v)]`` for jointly Gaussian ``(u, v)``.

    ``u ~ N(mu1, s1^2)``, ``v ~ N(mu2, s2^2)``, ``corr(u, v) = rho``.

    Parameters
    ----------
    mu1, s1 : array_like, float64
        Mean and standard deviation (``>= 0``) of ``u``.
    mu2, s2 : array_like, float64
        Mean and standard deviation (``>= 0``) of ``v``.
    rho : array_like, float64
        Correlation in [-1, 1] (values within 1e-12 outside are clipped). All five arguments
        broadcast together.
    backend : {"numpy", "numba", "auto"}, default="numpy"
        ``"numba"`` runs a parallel per-element kernel (same formulas, no temporaries; compiled
        on first use and cached); ``"auto"`` takes numba when it can run.

    Returns
    -------
    array of the broadcast shape, float64

    Notes
    -----
    With ``a = mu1/s1``, ``b = mu2/s2``, ``X, Y`` standard with correlation ``rho`` and the
    orthant ``A = {X > -a, Y > -b}``:
    ``E = mu1 mu2 P(A) + mu1 s2 E[Y 1_A] + mu2 s1 E[X 1_A] + s1 s2 E[XY 1_A]`` with Rosenbaum's
    truncated moments; only ``P(A) = Phi2(a, b; rho)`` needs quadrature
    (:func:`bivariate_normal_cdf`). ``s = 0`` and ``|rho| = 1`` use their exact limits.
    Absolute accuracy ``1e-15 (|mu1| + s1)(|mu2| + s2)`` (tests compare with 25-digit
    integration).

    Examples
    --------
    >>> from ridgetheory.gaussian_moments import relu_cross_moment
    >>> float(relu_cross_moment(0.0, 1.0, 0.0, 1.0, 0.0))  # (1/sqrt(2 pi))^2
    0.15915494309189535
    >>> float(relu_cross_moment(0.0, 1.0, 0.0, 1.0, 1.0))  # E[relu(u)^2] = 1/2
    0.5
    """
    where = "relu_cross_moment"
    mu1, s1, mu2, s2, rho = _broadcast(where, mu1=mu1, s1=s1, mu2=mu2, s2=s2, rho=rho)
    _check_nonneg(s1, "s1", where)
    _check_nonneg(s2, "s2", where)
    rho = _check_rho(rho, where)
    name = resolve_backend(backend, where, supported=("numpy", "numba"))
    shape = mu1.shape
    flat = [np.ascontiguousarray(v).reshape(-1) for v in (mu1, s1, mu2, s2, rho)]
    if name == "numba":
        from . import _numba_maths as kernels

        out = kernels.cross_flat(*flat, kernels.GL_T, kernels.GL_V)
    else:
        out = _relu_cross(*flat)
    return _scalar(out.reshape(shape))


def relu_linear_moment(mu1: Any, s1: Any, mu2: Any, s2: Any, rho: Any) -> np.ndarray:
    """``E[u relu(v)]`` for jointly Gaussian ``(u, v)`` (same arguments as relu_cross_moment).

    Parameters
    ----------
    mu1, s1, mu2, s2, rho : array_like, float64
        As in :func:`relu_cross_moment`.

    Returns
    -------
    array of the broadcast shape, float64
        ``mu1 E[relu(v)] + rho s1 s2 Phi(mu2/s2)`` (Stein's lemma; ``Phi -> 1{mu2 > 0}``
        as ``s2 -> 0``).

    Examples
    --------
    >>> from ridgetheory.gaussian_moments import relu_linear_moment
    >>> float(relu_linear_moment(0.0, 1.0, 0.0, 1.0, 1.0))  # E[u relu(u)] = 1/2
    0.5
    """
    where = "relu_linear_moment"
    mu1, s1, mu2, s2, rho = _broadcast(where, mu1=mu1, s1=s1, mu2=mu2, s2=s2, rho=rho)
    _check_nonneg(s1, "s1", where)
    _check_nonneg(s2, "s2", where)
    rho = _check_rho(rho, where)
    out = mu1 * _relu_mean(mu2, s2) + rho * s1 * s2 * ndtr(_ratio(mu2, s2))
    return _scalar(out)


def relu_moment_matrix(
    mu: Any, cov: Any, *, weights: Any = None, backend: str = "numpy"
) -> np.ndarray:
    """``E[relu(u) relu(u)^T]`` for ``u ~ N(mu, cov)``.

    Parameters
    ----------
    mu : array of shape (..., p), float64
        Means; leading axes are batch axes (for example one row per training point).
    cov : array of shape (p, p), float64
        Covariance (symmetric positive semidefinite), shared by every batch row.
    weights : array of shape mu.shape[:-1], float64, optional
        If given, return the weighted sum over the batch, ``sum_b w_b E_b`` (p, p), without
        forming the (..., p, p) stack (for example ``1/n`` for the training-set average).
    backend : {"numpy", "numba", "auto"}, default="numpy"
        As in :func:`relu_cross_moment`; numba runs rows of the matrix in parallel.

    Returns
    -------
    array of shape (..., p, p), or (p, p) with ``weights``, float64
        Symmetric; the diagonal equals :func:`relu_second_moment`.

    Examples
    --------
    >>> import numpy as np
    >>> from ridgetheory.gaussian_moments import relu_moment_matrix
    >>> relu_moment_matrix(np.zeros(2), np.eye(2)).round(6)
    array([[0.5     , 0.159155],
           [0.159155, 0.5     ]])
    """
    where = "relu_moment_matrix"
    mu = check_array(mu, "mu", where)
    cov = check_array(cov, "cov", where, ndim=2)
    if mu.ndim < 1 or cov.shape != (mu.shape[-1], mu.shape[-1]):
        raise RidgeTheoryError(
            f"`cov` passed to {where} must have shape (p, p) with p = mu.shape[-1]; got "
            f"mu {mu.shape}, cov {cov.shape}."
        )
    var = np.diag(cov).copy()
    _check_nonneg(var, "cov", where)
    s = np.sqrt(var)
    safe = np.where(s > 0, s, 1.0)
    rho = np.clip(cov / safe[:, None] / safe[None, :], -1.0, 1.0)
    np.fill_diagonal(rho, 1.0)
    name = resolve_backend(backend, where, supported=("numpy", "numba"))
    p = mu.shape[-1]
    batch = np.ascontiguousarray(mu.reshape(-1, p))
    if weights is None:
        w = np.ones(batch.shape[0])
    else:
        w = check_array(weights, "weights", where)
        if w.shape != mu.shape[:-1]:
            raise RidgeTheoryError(f"`weights` passed to {where} must have shape "
                                   f"{mu.shape[:-1]} (mu without its last axis); got {w.shape}.")
        w = w.reshape(-1)
    if name == "numba":
        from . import _numba_maths as kernels

        args = (batch, s, np.ascontiguousarray(rho), kernels.GL_T, kernels.GL_V)
        if weights is not None:
            return kernels.weighted_moment_matrix(*args, np.ascontiguousarray(w))
        return kernels.moment_matrix(*args).reshape(mu.shape[:-1] + (p, p))
    iu, ju = np.triu_indices(p)
    r_up = rho[iu, ju]
    if weights is not None:
        acc = np.zeros(iu.size)
        for wb, m in zip(w, batch, strict=True):
            acc += wb * _relu_cross(m[iu], s[iu], m[ju], s[ju], r_up)
        out2 = np.empty((p, p))
        out2[iu, ju] = acc
        out2[ju, iu] = acc
        return out2
    out = np.empty((batch.shape[0], p, p))
    for row, m in enumerate(batch):
        vals = _relu_cross(m[iu], s[iu], m[ju], s[ju], r_up)
        out[row, iu, ju] = vals
        out[row, ju, iu] = vals
    return out.reshape(mu.shape[:-1] + (p, p))
