"""Scheme coefficients against closed forms, and convergence slopes against declared orders."""

from __future__ import annotations

import numpy as np
import pytest

import ridgetheory as rt
from ridgetheory.simulate import SCHEMES, simulate


def test_ou_coefficients_match_theory_section_3():
    grid = rt.grids.exponential(5.0, 1e-3, 50)
    dt = grid[:-1] - grid[1:]
    em = SCHEMES["em"].coefficients(rt.OU(), grid)
    np.testing.assert_allclose(em.B0, 1.0 + dt, rtol=1e-14)
    np.testing.assert_allclose(em.B1, 2.0 * dt, rtol=1e-14)
    np.testing.assert_allclose(em.B4, np.sqrt(2.0 * dt), rtol=1e-14)
    ex = SCHEMES["exponential"].coefficients(rt.OU(), grid)
    np.testing.assert_allclose(ex.B0, np.exp(dt), rtol=1e-14)
    np.testing.assert_allclose(ex.B1, 2.0 * np.expm1(dt), rtol=1e-13)
    np.testing.assert_allclose(ex.B4, np.sqrt(np.expm1(2.0 * dt)), rtol=1e-13)


@pytest.mark.parametrize("process", [rt.VPLinear(), rt.VPCosine(), rt.VE()], ids=repr)
def test_exponential_integrator_noise_matches_closed_form(process):
    # V = a_{t'}^2 (h_t / a_t^2 - h_{t'} / a_{t'}^2): the quadrature reproduces it
    T = 0.9 if np.isfinite(process.t_max) else 3.0
    grid = rt.grids.exponential(T, 1e-2, 40)
    t, tn = grid[:-1], grid[1:]
    a, an, h, hn = process.alpha(t), process.alpha(tn), process.h(t), process.h(tn)
    ex = SCHEMES["exponential"].coefficients(process, grid)
    np.testing.assert_allclose(ex.B0, an / a, rtol=1e-14)
    np.testing.assert_allclose(ex.B4**2, an**2 * (h / a**2 - hn / an**2), rtol=1e-10)
    if isinstance(process, rt.VE):  # a = 1: the drift integral is h_t - h_{t'}
        np.testing.assert_allclose(ex.B1, h - hn, rtol=1e-12)


def test_declared_properties():
    assert SCHEMES["em"].stochastic and SCHEMES["exponential"].stochastic
    assert not SCHEMES["heun-ode"].stochastic and not SCHEMES["euler-ode"].stochastic
    assert SCHEMES["heun-ode"].stages == 2 and SCHEMES["em"].stages == 1


def _fit_slope(dts, errs):
    return np.polyfit(np.log(dts), np.log(errs), 1)[0]


@pytest.mark.parametrize("method", ["em", "exponential"])
def test_strong_order_on_linear_sde(method):
    # Data N(0, I) under OU: the score is -y at every t and the reverse SDE is the linear
    # dY = -Y ds + sqrt(2) dB. The exact solution on the finest grid uses the exact joint law
    # of (dB_k, I_k = int e^{-(s_{k+1}-u)} dB(u)); coarse increments are sums of fine ones.
    P, fine, T, tmin = 4000, 512, 1.1, 0.1
    rng = np.random.default_rng(12)
    d = (T - tmin) / fine
    cov = np.array([[d, -np.expm1(-d)], [-np.expm1(-d), -0.5 * np.expm1(-2 * d)]])
    z = rng.standard_normal((fine, P, 2)) @ np.linalg.cholesky(cov).T
    dB, I = z[..., 0], z[..., 1]
    y0 = rng.standard_normal((P, 1))
    exact = y0[:, 0].copy()
    for k in range(fine):
        exact = np.exp(-d) * exact + np.sqrt(2.0) * I[k]
    score = rt.GaussianMixture(np.zeros((1, 1)), np.array([1.0]))
    dts, errs = [], []
    for L in (16, 32, 64, 128, 256):
        r = fine // L
        dt = (T - tmin) / L
        xi = dB.reshape(L, r, P).sum(axis=1)[:, :, None] / np.sqrt(dt)
        out = simulate(score, y0=y0, grid=rt.grids.linear(T, tmin, L), method=method,
                       backend="numpy", noise=xi, progress=False)
        dts.append(dt)
        errs.append(np.sqrt(np.mean((out.final[:, 0] - exact) ** 2)))
    slope = _fit_slope(dts, errs)
    assert abs(slope - SCHEMES[method].order) < 0.1, (slope, errs)


@pytest.mark.parametrize("method", ["euler-ode", "heun-ode"])
def test_ode_order_on_gaussian_flow(method):
    # For p_0 = N(mu, v) the probability flow is affine: y_t - a_t mu = sqrt(s_t/s_T) (y_T - a_T mu)
    # with s_t = a_t^2 v + h_t.
    mu, v, T, tmin = 0.5, 0.25, 1.1, 0.1
    proc = rt.OU()
    score = rt.GaussianMixture(np.array([[mu]]), np.array([v]))
    y0 = np.linspace(-2.0, 2.0, 9)[:, None]
    s = lambda t: proc.alpha(t) ** 2 * v + proc.h(t)  # noqa: E731
    exact = proc.alpha(tmin) * mu + np.sqrt(s(tmin) / s(T)) * (y0[:, 0] - proc.alpha(T) * mu)
    dts, errs = [], []
    for L in (8, 16, 32, 64, 128):
        out = simulate(score, y0=y0, grid=rt.grids.linear(T, tmin, L), method=method,
                       backend="numpy", progress=False)
        dts.append((T - tmin) / L)
        errs.append(np.max(np.abs(out.final[:, 0] - exact)))
    slope = _fit_slope(dts, errs)
    assert abs(slope - SCHEMES[method].order) < 0.1, (slope, errs)
