"""ReducedRidgeDynamics: exactness of the 1-D reduction and the normal-moment equations."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

import ridgetheory as rt
from ridgetheory import RidgeTheoryError
from ridgetheory.symbolic import ReducedRidgeDynamics, SymbolicDensity, zero_simplify

LINE = [(0, 1), (1, 2), (3, 4)]  # collinear, the line misses the origin


@pytest.fixture(scope="module")
def two():
    return ReducedRidgeDynamics([(-3, 0), (3, 0)])


@pytest.fixture(scope="module")
def line():
    return ReducedRidgeDynamics(LINE)


def _ridge_points(r, u, t):
    e = np.array([float(v) for v in r.direction])
    p0 = np.array([float(v) for v in r.foot])
    return np.exp(-t) * p0 + u[:, None] * e[None, :], e


def test_normal_score_vanishes_on_a_moving_line():
    # on x = a_t p0 + u e the score of p_t has no component off the line (symbolically)
    p = SymbolicDensity(LINE)
    r = ReducedRidgeDynamics(LINE)
    x = [p.alpha * f + r.u * d for f, d in zip(r.foot, r.direction, strict=True)]
    s = p.score.subs(dict(zip(p.x, x, strict=True)))
    normal = s - (s.dot(sp.Matrix(r.direction))) * sp.Matrix(r.direction)
    assert all(zero_simplify(v) == 0 for v in normal)
    # and the tangential score is the reduced one
    assert zero_simplify(s.dot(sp.Matrix(r.direction)) - r.score_expr) == 0


@pytest.mark.parametrize("t", [1e-3, 0.05, 0.5, 3.0])
def test_reduced_score_and_curvatures_match_numeric(two, line, t):
    rng = np.random.default_rng(0)
    for r, data in ((two, [(-3, 0), (3, 0)]), (line, LINE)):
        dens = rt.SmoothedEmpirical(np.array(data, dtype=float))
        u = rng.uniform(-4, 6, 50)
        x, e = _ridge_points(r, u, t)
        s_num = dens.score(x, t) @ e
        np.testing.assert_allclose(r.score(u, t), s_num, rtol=1e-10, atol=1e-12)
        # curvatures: e^T H e and the normal eigenvalue -1/h, from the anchored covariance
        S = dens.posterior_covariance(x, t)
        h = 1 - np.exp(-2 * t)
        np.testing.assert_allclose(r.tangent_curvature(u, t),
                                   (np.einsum("i,mij,j->m", e, S, e) - h) / h**2,
                                   rtol=1e-10, atol=1e-12)
        nvec = np.array([-e[1], e[0]])
        np.testing.assert_allclose(np.einsum("i,mij,j->m", nvec, S, nvec), 0.0, atol=1e-12)


def test_numeric_score_equals_symbolic_expression(line):
    f = sp.lambdify((line.u, line.t), line.score_expr, "numpy")
    g = sp.lambdify((line.u, line.t), line.tangent_curvature_expr, "numpy")
    u = np.linspace(-2, 7, 31)
    for t in (0.2, 1.0, 4.0):
        np.testing.assert_allclose(line.score(u, t), f(u, t), rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(line.tangent_curvature(u, t), g(u, t), rtol=1e-10, atol=1e-12)


def test_drift_matches_full_reverse_drift(two):
    ou = rt.OU()
    dens = rt.SmoothedEmpirical(np.array([[-3.0, 0.0], [3.0, 0.0]]))
    u = np.linspace(-5, 5, 21)
    x = np.stack([u, np.zeros_like(u)], axis=1)
    for t in (0.01, 0.3, 2.0):
        full = ou.reverse_drift(x, t, dens.score(x, t) + np.array([0.1, 0.0]))
        np.testing.assert_allclose(two.drift(u, t, error=0.1), full[:, 0], rtol=1e-12,
                                   atol=1e-12)
        flow = ou.probability_flow_drift(x, t, dens.score(x, t))
        np.testing.assert_allclose(two.drift(u, t, kind="ode"), flow[:, 0], rtol=1e-12,
                                   atol=1e-12)
    # a callable error sees (u, t)
    np.testing.assert_allclose(two.drift(u, 0.5, error=lambda uu, tt: 0 * uu + 0.1),
                               two.drift(u, 0.5, error=0.1))


def test_rates_and_moment_equations(two):
    h = two.h
    assert sp.simplify((two.normal_rate_expr - (2 / h - 1)).rewrite(sp.exp)) == 0
    assert two.normal_rate_expr == 1 / sp.tanh(two.t)  # 2/h - 1 = coth t for OU
    eq = two.moment_equations(explicit=True)
    mean = eq["mean"] - ((1 - 2 / h) * two.mu + 2 * two.e_N)
    var = eq["variance"] - (2 * (1 - 2 / h) * two.v + 2)
    assert sp.simplify(mean.rewrite(sp.exp)) == 0
    assert sp.simplify(var.rewrite(sp.exp)) == 0
    t = np.array([0.01, 0.5, 2.0])
    np.testing.assert_allclose(two.normal_rate(t), 2 / (1 - np.exp(-2 * t)) - 1, rtol=1e-14)
    np.testing.assert_allclose(two.normal_rate(t, kind="ode"), 1 / (1 - np.exp(-2 * t)) - 1,
                               rtol=1e-14)
    np.testing.assert_allclose(two.diffusion(t), np.sqrt(2.0))


def test_closed_form_solves_the_moment_equations(two):
    sol = two.normal_moment_solution()
    eq = two.moment_equations(explicit=True)
    T0 = sp.Symbol("T", positive=True)
    mu_T, v_T = sp.symbols("mu_T v_T", real=True)
    # backward clock: d/ds = -d/dt
    res_m = -sp.diff(sol["mean"], two.t) - eq["mean"].subs(two.mu, sol["mean"])
    res_v = -sp.diff(sol["variance"], two.t) - eq["variance"].subs(two.v, sol["variance"])
    assert sp.simplify(res_m.rewrite(sp.exp)) == 0
    assert sp.simplify(res_v.rewrite(sp.exp)) == 0
    assert sp.simplify(sol["mean"].subs(two.t, T0) - mu_T) == 0
    assert sp.simplify(sol["variance"].subs(two.t, T0) - v_T) == 0


def test_closed_form_against_numeric_integration(two):
    T0, t_end, eps = 10.0, 1e-3, 1.0

    def rhs(s, y):  # backward clock s = T0 - t
        dm, dv = two.moment_rhs(T0 - s, y[0], y[1], error=eps)
        return [float(dm), float(dv)]

    ivp = solve_ivp(rhs, (0.0, T0 - t_end), [0.3, 0.7], method="LSODA", rtol=1e-11,
                    atol=1e-14)
    mean, var = two.normal_moments(t_end, T0, mu_start=0.3, v_start=0.7, error=eps)
    assert ivp.y[0, -1] == pytest.approx(float(mean), rel=1e-7)
    assert ivp.y[1, -1] == pytest.approx(float(var), rel=1e-7)
    # theory.md section 4: moment equation 0.0152 for the mean offset with e_N = 1
    m0, _ = two.normal_moments(t_end, T0, error=eps)
    assert round(float(m0), 4) == 0.0152


def test_full_sampler_matches_reduced_dynamics_pathwise_and_in_moments(two):
    """2-D Euler-Maruyama with the numeric score vs the reduced 1-D and normal dynamics.

    Tangent: the same noise gives the same u path (the reduction is exact). Normal: the
    offset is a linear Gaussian recursion under Euler-Maruyama, so its sample mean and
    variance must match the discrete moment recursion within 5 standard errors.
    """
    rng = np.random.default_rng(3)
    dens = rt.SmoothedEmpirical(np.array([[-3.0, 0.0], [3.0, 0.0]]))
    grid = rt.grids.exponential(3.0, 0.02, 300)
    M, eps = 10_000, 0.5
    y = rng.standard_normal((M, 2))
    u = y[:, 0].copy()
    mu, v = 0.0, 1.0
    for t0, t1 in zip(grid[:-1], grid[1:], strict=True):
        dt = t0 - t1
        xi = rng.standard_normal((M, 2))
        score = dens.score(y, t0) + np.array([0.0, eps])
        y = y + (y + 2 * score) * dt + np.sqrt(2 * dt) * xi
        u = u + two.drift(u, t0) * dt + np.sqrt(2 * dt) * xi[:, 0]
        dm, _ = two.moment_rhs(t0, mu, v, error=eps)
        q = 1 - two.normal_rate(t0) * dt
        mu, v = mu + dm * dt, q * q * v + 2 * dt
    np.testing.assert_allclose(y[:, 0], u, rtol=1e-9, atol=1e-9)
    se_mean = np.sqrt(v / M)
    se_var = v * np.sqrt(2 / (M - 1))
    assert abs(y[:, 1].mean() - mu) < 5 * se_mean
    assert abs(y[:, 1].var(ddof=1) - v) < 5 * se_var


def test_bad_input():
    with pytest.raises(RidgeTheoryError, match="collinear"):
        ReducedRidgeDynamics([(0, 0), (1, 0), (0, 1)])
    with pytest.raises(RidgeTheoryError, match="at least two"):
        ReducedRidgeDynamics([(0, 0)])
    with pytest.raises(RidgeTheoryError, match="numbers"):
        ReducedRidgeDynamics([(-sp.Symbol("c"),), (sp.Symbol("c"),)])
    r = ReducedRidgeDynamics([(-1,), (1,)])
    with pytest.raises(RidgeTheoryError, match="`t` passed to ReducedRidgeDynamics.drift"):
        r.drift(np.zeros(3), -1.0)
    with pytest.raises(RidgeTheoryError, match="`kind` passed to ReducedRidgeDynamics.drift"):
        r.drift(np.zeros(3), 1.0, kind="sd")
    with pytest.raises(RidgeTheoryError, match="'ou' only"):
        ReducedRidgeDynamics([(-1,), (1,)], process="ve").normal_moments(0.1, 1.0)
