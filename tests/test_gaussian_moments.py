"""Gaussian ReLU moments vs 40-digit integration, the symbolic closed forms and Monte Carlo."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import multivariate_normal

from ridgetheory import RidgeTheoryError
from ridgetheory.gaussian_moments import (
    bivariate_normal_cdf,
    relu_cross_moment,
    relu_first_moment,
    relu_linear_moment,
    relu_mean,
    relu_moment_matrix,
    relu_second_moment,
)
from ridgetheory.symbolic import moments as sym

DPS = 25  # working digits of the mpmath references (set locally, never globally)


def phi2_reference(h: float, k: float, r: float) -> float:
    """P(X <= h, Y <= k) = int_{-inf}^h phi(x) Phi((k - r x)/sqrt(1 - r^2)) dx at 25 digits."""
    with mpmath.workdps(DPS):
        return _phi2_reference(mpmath.mpf(h), mpmath.mpf(k), mpmath.mpf(r))


def _phi2_reference(h, k, r):
    q = mpmath.sqrt(1 - r * r)

    def f(x):
        return mpmath.npdf(x) * mpmath.ncdf((k - r * x) / q)

    pts = [-mpmath.inf, h]
    if r != 0 and k / r < h:  # the inner CDF switches sharply there when |r| -> 1
        pts.insert(1, k / r)
    return float(mpmath.quad(f, pts))


def cross_reference(m1, s1, m2, s2, r) -> float:
    """E[relu(u) relu(v)] by conditioning on u: a 1-D integral at 25 digits."""
    with mpmath.workdps(DPS):
        return _cross_reference(*(mpmath.mpf(v) for v in (m1, s1, m2, s2, r)))


def _cross_reference(m1, s1, m2, s2, r):
    q = mpmath.sqrt(1 - r * r)

    def g(x):
        mu, s = m2 + s2 * r * x, s2 * q
        return mpmath.npdf(x) * (m1 + s1 * x) * (mu * mpmath.ncdf(mu / s) + s * mpmath.npdf(mu / s))

    pts = [-m1 / s1]
    if r != 0 and -m2 / (s2 * r) > -m1 / s1:
        pts.append(-m2 / (s2 * r))
    return float(mpmath.quad(g, [*pts, mpmath.inf]))


def _random_params(rng, n):
    out = []
    for i in range(n):
        m1, m2 = rng.normal(0.0, 2.0, 2)
        s1, s2 = rng.uniform(0.1, 3.0, 2)
        if i % 3:
            r = rng.uniform(-1, 1)
        else:  # the high-correlation branch, up to 1e-12 from +-1
            r = np.sign(rng.normal()) * (1 - 10 ** rng.uniform(-12, -1))
        out.append((m1, s1, m2, s2, r))
    return out


# -- bivariate normal CDF -------------------------------------------------------------------

def test_bvn_matches_high_precision_quadrature():
    rng = np.random.default_rng(1)
    hs, ks, rs, refs = [], [], [], []
    for m1, _s1, m2, _s2, r in _random_params(rng, 30):
        h, k = m1 * 1.5, m2 * 1.5
        hs.append(h)
        ks.append(k)
        rs.append(r)
        refs.append(phi2_reference(h, k, r))
    got = bivariate_normal_cdf(np.array(hs), np.array(ks), np.array(rs))
    # stated accuracy: 5e-16 absolute
    assert np.max(np.abs(got - np.array(refs))) < 5e-16


def test_bvn_matches_scipy():
    rng = np.random.default_rng(2)
    for _ in range(20):
        h, k = rng.normal(0, 2, 2)
        r = rng.uniform(-0.99, 0.99)
        ref = multivariate_normal(mean=[0, 0], cov=[[1, r], [r, 1]]).cdf([h, k])
        assert abs(float(bivariate_normal_cdf(h, k, r)) - ref) < 1e-10


@given(st.floats(-0.999999, 0.999999))
def test_bvn_sheppard_orthant(r):
    # Sheppard: P(X <= 0, Y <= 0) = 1/4 + asin(rho)/(2 pi)
    ref = 0.25 + np.arcsin(r) / (2 * np.pi)
    assert abs(float(bivariate_normal_cdf(0.0, 0.0, r)) - ref) < 1e-15


@given(st.floats(-6, 6), st.floats(-6, 6))
def test_bvn_degenerate_correlations(h, k):
    from scipy.special import ndtr

    assert abs(bivariate_normal_cdf(h, k, 0.0) - ndtr(h) * ndtr(k)) < 1e-16
    assert abs(bivariate_normal_cdf(h, k, 1.0) - ndtr(min(h, k))) < 1e-16
    assert abs(bivariate_normal_cdf(h, k, -1.0) - max(ndtr(h) - ndtr(-k), 0.0)) < 5e-16
    # continuity into the exact limits
    assert abs(bivariate_normal_cdf(h, k, 1 - 1e-14) - ndtr(min(h, k))) < 1e-7
    assert bivariate_normal_cdf(np.inf, k, 0.3) == pytest.approx(ndtr(k), abs=1e-16)
    assert bivariate_normal_cdf(-np.inf, k, 0.3) == 0.0


# -- one Gaussian ---------------------------------------------------------------------------

def test_single_moments_equal_symbolic_forms():
    rng = np.random.default_rng(3)
    mu = rng.normal(0, 3, 200)
    s = rng.uniform(0.05, 4, 200)
    for name, fn in [("relu_mean", relu_mean), ("relu_first_moment", relu_first_moment),
                     ("relu_second_moment", relu_second_moment)]:
        f = sp.lambdify((sym.mu, sym.s), sym.closed_form(name), "scipy")
        ref = f(mu, s)
        assert np.max(np.abs(fn(mu, s) - ref) / (np.abs(mu) + s) ** (1 if name == "relu_mean"
                                                                      else 2)) < 1e-15


def test_single_moments_against_integration():
    rng = np.random.default_rng(4)
    for _ in range(15):
        mu, s = rng.normal(0, 2), rng.uniform(0.1, 3)
        pts = [0, max(mu, 0) + 1, mpmath.inf]
        with mpmath.workdps(DPS):
            ref1 = mpmath.quad(lambda x, mu=mu, s=s: x * mpmath.npdf(x, mu, s), pts)
            ref2 = mpmath.quad(lambda x, mu=mu, s=s: x * x * mpmath.npdf(x, mu, s), pts)
        assert abs(relu_mean(mu, s) - float(ref1)) < 1e-15 * (abs(mu) + s)
        assert abs(relu_first_moment(mu, s) - float(ref2)) < 2e-15 * (abs(mu) + s) ** 2


@given(st.floats(-5, 5))
def test_point_mass_limit(mu):
    assert relu_mean(mu, 0.0) == max(mu, 0.0)
    assert relu_first_moment(mu, 0.0) == max(mu, 0.0) ** 2
    assert abs(relu_mean(mu, 1e-9) - max(mu, 0.0)) < 1e-9


def test_shapes_and_scalars():
    assert isinstance(relu_mean(0.3, 1.0), np.floating)
    out = relu_mean(np.zeros((3, 1)), np.ones((1, 4)))
    assert out.shape == (3, 4)
    assert relu_cross_moment(np.zeros((2, 1, 1)), 1.0, np.zeros(5), 1.0, 0.2).shape == (2, 1, 5)


# -- two Gaussians --------------------------------------------------------------------------

def test_cross_moment_against_quadrature():
    rng = np.random.default_rng(5)
    params = _random_params(rng, 30)
    got = relu_cross_moment(*np.array(params).T)
    for g, (m1, s1, m2, s2, r) in zip(got, params, strict=True):
        ref = cross_reference(m1, s1, m2, s2, r)
        # stated accuracy: 1e-15 relative to the scale (|mu1| + s1)(|mu2| + s2)
        assert abs(g - ref) < 1e-15 * (abs(m1) + s1) * (abs(m2) + s2)


def test_cross_moment_equals_symbolic_closed_form():
    rng = np.random.default_rng(6)
    for m1, s1, m2, s2, r in _random_params(rng, 12):
        ref = sym.evaluate("relu_cross_moment", {"mu_1": m1, "s_1": s1, "mu_2": m2, "s_2": s2,
                                                 "rho": r}, dps=30)
        got = relu_cross_moment(m1, s1, m2, s2, r)
        assert abs(got - float(ref)) < 1e-15 * (abs(m1) + s1) * (abs(m2) + s2)


@given(st.floats(-1, 1), st.floats(0.1, 3), st.floats(0.1, 3))
def test_centred_cross_moment_is_the_arc_cosine_kernel(r, s1, s2):
    # Cho & Saul (2009): E[relu(u) relu(v)] = s1 s2 (sqrt(1 - r^2) + r (pi - acos r)) / (2 pi)
    ref = s1 * s2 * (np.sqrt(1 - r * r) + r * (np.pi - np.arccos(r))) / (2 * np.pi)
    assert abs(relu_cross_moment(0.0, s1, 0.0, s2, r) - ref) < 1e-15 * s1 * s2


def test_linear_moment_equals_symbolic_closed_form():
    rng = np.random.default_rng(7)
    m1, m2 = rng.normal(0, 2, (2, 100))
    s1, s2 = rng.uniform(0.1, 3, (2, 100))
    r = rng.uniform(-1, 1, 100)
    f = sp.lambdify((sym.mu1, sym.s1, sym.mu2, sym.s2, sym.rho),
                    sym.closed_form("relu_linear_moment"), "scipy")
    ref = f(m1, s1, m2, s2, r)
    assert np.max(np.abs(relu_linear_moment(m1, s1, m2, s2, r) - ref)
                  / ((np.abs(m1) + s1) * (np.abs(m2) + s2))) < 1e-15


finite = st.floats(-4, 4)
scale = st.floats(0.05, 3)
corr = st.floats(-1, 1)


@given(finite, scale, finite, scale, corr)
def test_cross_moment_properties(m1, s1, m2, s2, r):
    val = relu_cross_moment(m1, s1, m2, s2, r)
    tol = 1e-15 * (abs(m1) + s1) * (abs(m2) + s2)  # the stated absolute accuracy
    # symmetric in (u, v); bounded by Cauchy-Schwarz; non-decreasing in rho (Price's theorem)
    assert abs(val - relu_cross_moment(m2, s2, m1, s1, r)) <= tol
    cs = np.sqrt(relu_second_moment(m1, s1) * relu_second_moment(m2, s2))
    assert val <= cs + tol
    assert relu_cross_moment(m1, s1, m2, s2, min(1.0, r + 0.1)) >= val - tol
    # exact at rho = 0 and continuous into the rho = +-1 and s = 0 limits
    assert abs(relu_cross_moment(m1, s1, m2, s2, 0.0) - relu_mean(m1, s1) * relu_mean(m2, s2)
               ) <= tol
    for edge in (1.0, -1.0):
        near = relu_cross_moment(m1, s1, m2, s2, edge * (1 - 1e-12))
        # the moment is Lipschitz in rho with constant s1 s2 (Price), so 1e-12 moves it little
        assert abs(near - relu_cross_moment(m1, s1, m2, s2, edge)) <= 2e-12 * s1 * s2 + tol
    assert abs(relu_cross_moment(m1, 1e-10, m2, s2, r) - relu_cross_moment(m1, 0.0, m2, s2, r)
               ) <= 1e-10 * (abs(m2) + s2) + tol
    # rho = 1 with identical marginals is the second moment
    assert abs(relu_cross_moment(m1, s1, m1, s1, 1.0) - relu_second_moment(m1, s1)) <= (
        1e-15 * (abs(m1) + s1) ** 2)


def test_moments_agree_with_monte_carlo():
    """Each Monte Carlo mean lies within 5 standard errors (two-sided p ~ 6e-7 per check)."""
    rng = np.random.default_rng(8)
    n = 400_000
    cases = [(0.3, 1.2, -0.4, 0.7, 0.6), (-1.0, 0.5, 2.0, 1.5, -0.8), (0.5, 1.0, 0.2, 2.0, 0.97),
             (1.0, 1.0, -1.0, 1.0, -0.999), (0.0, 1.0, 0.0, 1.0, 1.0), (-2.0, 1.0, 0.5, 0.0, 0.3)]
    for m1, s1, m2, s2, r in cases:
        z1 = rng.standard_normal(n)
        z2 = r * z1 + np.sqrt(max(1 - r * r, 0.0)) * rng.standard_normal(n)
        u, v = m1 + s1 * z1, m2 + s2 * z2
        for sample, exact in [
            (np.maximum(u, 0), relu_mean(m1, s1)),
            (u * np.maximum(u, 0), relu_first_moment(m1, s1)),
            (np.maximum(u, 0) * np.maximum(v, 0), relu_cross_moment(m1, s1, m2, s2, r)),
            (u * np.maximum(v, 0), relu_linear_moment(m1, s1, m2, s2, r)),
        ]:
            se = sample.std() / np.sqrt(n)
            assert abs(sample.mean() - exact) <= 5 * se + 1e-15


def test_moment_matrix():
    rng = np.random.default_rng(9)
    p, D = 7, 2
    W = rng.normal(0, 1 / np.sqrt(D), (p, D))
    cov = 0.4 * W @ W.T
    mu = rng.normal(size=(3, p))
    M = relu_moment_matrix(mu, cov)
    assert M.shape == (3, p, p)
    s = np.sqrt(np.diag(cov))
    rho = np.clip(cov / np.outer(s, s), -1, 1)
    for b in range(3):
        ref = relu_cross_moment(mu[b][:, None], s[:, None], mu[b][None, :], s[None, :], rho)
        np.testing.assert_allclose(M[b], ref, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(np.diag(M[b]), relu_second_moment(mu[b], s), rtol=1e-14,
                                   atol=1e-15)
        assert np.linalg.eigvalsh(M[b]).min() > -1e-12  # a Gram matrix
    # Monte Carlo (rank-2 covariance: exact |rho| = 1 pairs do not occur, near-1 ones do)
    z = rng.standard_normal((200_000, D))
    U = mu[0] + np.sqrt(0.4) * z @ W.T
    F = np.maximum(U, 0)
    prod = F[:, :, None] * F[:, None, :]
    se = prod.std(axis=0) / np.sqrt(z.shape[0])
    # the standard-error estimate needs enough non-zero draws; rarer entries are tiny
    hits = (prod > 0).sum(axis=0)
    ok = hits >= 1000
    assert np.all(np.abs(prod.mean(axis=0) - M[0])[ok] <= 5 * se[ok])
    assert np.all(M[0][~ok] < 1e-3)


def test_numba_backend_matches_numpy():
    rng = np.random.default_rng(10)
    params = np.array(_random_params(rng, 300)).T
    params[1, :5] = 0.0  # point masses
    params[4, 5:10] = 1.0  # exact |rho| = 1
    params[4, 10:15] = -1.0
    ref = relu_cross_moment(*params)
    got = relu_cross_moment(*params, backend="numba")
    scale = (np.abs(params[0]) + params[1]) * (np.abs(params[2]) + params[3])
    assert np.all(np.abs(got - ref) <= 1e-15 * scale)
    W = rng.normal(0, 1 / np.sqrt(2), (40, 2))
    cov = 0.3 * W @ W.T
    mu = rng.normal(size=(2, 40))
    np.testing.assert_allclose(relu_moment_matrix(mu, cov, backend="numba"),
                               relu_moment_matrix(mu, cov), rtol=1e-14, atol=1e-15)
    w = np.array([0.25, 0.75])
    for backend in ("numpy", "numba"):
        np.testing.assert_allclose(relu_moment_matrix(mu, cov, weights=w, backend=backend),
                                   np.einsum("b,bij->ij", w, relu_moment_matrix(mu, cov)),
                                   rtol=1e-14, atol=1e-15)
    with pytest.raises(RidgeTheoryError, match="`backend` passed to relu_moment_matrix"):
        relu_moment_matrix(mu, cov, backend="cupy")


# -- validation ------------------------------------------------------------------------------

def test_bad_input_names_the_argument():
    with pytest.raises(RidgeTheoryError, match="`s` passed to relu_mean"):
        relu_mean(0.0, -1.0)
    with pytest.raises(RidgeTheoryError, match="`rho` passed to relu_cross_moment"):
        relu_cross_moment(0.0, 1.0, 0.0, 1.0, 1.1)
    with pytest.raises(RidgeTheoryError, match="`s2` passed to relu_linear_moment"):
        relu_linear_moment(0.0, 1.0, 0.0, -1.0, 0.1)
    with pytest.raises(RidgeTheoryError, match="`mu1` passed to relu_cross_moment"):
        relu_cross_moment(np.nan, 1.0, 0.0, 1.0, 0.1)
    with pytest.raises(RidgeTheoryError, match="broadcast"):
        relu_mean(np.zeros(3), np.ones(4))
    with pytest.raises(RidgeTheoryError, match="`cov` passed to relu_moment_matrix"):
        relu_moment_matrix(np.zeros(3), np.eye(2))
    with pytest.raises(RidgeTheoryError, match="`weights` passed to relu_moment_matrix"):
        relu_moment_matrix(np.zeros((2, 3)), np.eye(3), weights=np.ones(3))
