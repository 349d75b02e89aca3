"""Predictions: moment equations, reduced slide dynamics, reach fractions and phase times.

The two-point configuration is the analytic anchor: p_t factorises into the axis marginal
and N(0, h_t) across it, so the normal dynamics are exactly linear with ``l_N = -1/h``.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import ridgetheory as rt
from ridgetheory.predict import (
    classify_resting,
    half_motion_time,
    normal_fixed_point,
    phase_times,
    predict_alignment,
    predict_reach,
    predict_slide,
    stable_zeros,
    tangential_drift_profile,
)

TWO = np.array([[-3.0, 0.0], [3.0, 0.0]])


@pytest.fixture(scope="module")
def two():
    p = rt.SmoothedEmpirical(TWO)
    return p, rt.Ridge(p, 1)


def test_mean_offset_matches_an_independent_ode_solve(two):
    """Constant normal score error eps: mean offset from the moment ODE, solved by scipy."""
    p, ridge = two
    eps = 1.0
    model = rt.InjectedError(p, ridge, normal=eps)
    grid = rt.grids.exponential(2.0, 1e-3, 600)
    feet = np.array([[2.0, 0.0], [-1.0, 0.0]])
    pred = predict_alignment(model, p, ridge, grid, feet, n_draws=4)

    def rhs(t, mu):  # forward clock: d mu / dt = -[(1 - 2/h) mu + 2 eps]
        h = -np.expm1(-2 * t)
        return -((1 - 2 / h) * mu + 2 * eps)

    sol = solve_ivp(
        rhs,
        (2.0, 1e-3),
        [0.0],
        method="LSODA",
        rtol=1e-10,
        atol=1e-13,
        t_eval=grid[::100],
    )
    ref = sol.y[0]
    got = pred.mean_drift_distance[::100]
    # frozen-coefficient exponential steps: first order in the step, dt/t ~ 0.013 here
    np.testing.assert_allclose(got[1:], ref[1:], rtol=0.03)
    # and the naive fixed point underestimates the final offset several-fold (theory.md)
    assert pred.fixed_point_distance[-1] < pred.mean_drift_distance[-1] / 3


def test_variance_equation_reproduces_the_exact_marginal(two):
    """Zero error, members started with the exact N(0, h_T) offsets: |eta| stays half-normal."""
    p, ridge = two
    grid = rt.grids.exponential(1.0, 1e-2, 400)
    rng = np.random.default_rng(0)
    M = 400
    feet = np.column_stack([rng.uniform(-3, 3, M), np.zeros(M)])
    start = np.column_stack([np.zeros(M), rng.normal(size=M) * np.sqrt(float(p.process.h(1.0)))])
    pred = predict_alignment(p, p, ridge, grid, feet, start_displacements=start, n_draws=16)
    h = p.process.h(grid)
    expected = np.sqrt(2 * h / np.pi)
    # member sampling error ~ 0.75/sqrt(M*16) relative; step error ~ dt/t
    np.testing.assert_allclose(pred.mean_distance[::40], expected[::40], rtol=0.05)


def test_normal_fixed_point_is_the_normal_denoiser_error_at_small_t(two):
    p, ridge = two
    t = 1e-3
    model = rt.InjectedError(p, ridge, normal=0.01, units="denoiser")
    eta = normal_fixed_point(model, p, ridge, np.array([[3.0, 0.0], [0.5, 0.0]]), t)
    # 2 e / (2/h - 1) with e = 0.01 / h  ->  0.01 / (1 - h/2)
    np.testing.assert_allclose(eta[:, 1], 0.01 / (1 - float(p.process.h(t)) / 2), rtol=1e-10)
    np.testing.assert_allclose(eta[:, 0], 0.0, atol=1e-15)


def test_tangential_error_shifts_resting_places_by_its_size(two):
    p, ridge = two
    delta = 0.2
    model = rt.InjectedError(p, ridge, tangent=delta, units="denoiser")
    grid = rt.grids.exponential(1.0, 1e-3, 150)
    start = np.column_stack([np.linspace(-2.5, 2.5, 20), np.zeros(20)])
    pred = predict_slide(model, p, ridge, grid, start, noise=False)
    a = float(p.process.alpha(1e-3))
    centres = a * TWO
    labels = classify_resting(pred.final, centres, 0.5)
    assert np.all(labels >= 0)
    shift = pred.final[:, 0] - centres[labels, 0]
    # the rest point solves y + 2 (m - y + delta) / h = 0 near a c: y = a c + delta + O(h)
    np.testing.assert_allclose(shift, delta, atol=5e-3)
    np.testing.assert_allclose(pred.final[:, 1], 0.0, atol=1e-9)  # stays on the ridge


def test_exact_score_slide_memorizes(two):
    p, ridge = two
    grid = rt.grids.exponential(2.0, 1e-3, 120)
    start = rt.sample_pt(p, 2.0, 50, seed=3)
    pred = predict_slide(p, p, ridge, grid, start, seed=4)
    a = float(p.process.alpha(1e-3))
    assert pred.intermode_fraction(a * TWO, 0.5) == 0.0
    # the reduction starts below the critical time t* = ln(1 + c^2) / 2 of the two points
    assert pred.feet.shape == (len(grid) - pred.start.index, 50, 2)
    assert pred.times[0] < 0.5 * np.log1p(TWO[1, 0] ** 2) <= pred.start.critical_time


def test_stable_zeros_of_a_profile():
    s = np.linspace(0, 2 * np.pi, 2001)
    prof = {"points": np.column_stack([s, np.zeros_like(s)]), "drift": np.sin(s), "arclength": s}
    z = stable_zeros(prof)  # + to - crossings of sin: pi only
    np.testing.assert_allclose(z[:, 0], [np.pi], atol=1e-6)


def test_exact_drift_profile_has_stable_zeros_at_the_modes(two):
    p, ridge = two
    t = 0.01

    class Curve:  # the two-point ridge is the axis; any ordered polyline on it will do
        points = np.column_stack([np.linspace(-4, 4, 4001), np.zeros(4001)])
        arclength = np.linspace(0, 8, 4001)

    prof = tangential_drift_profile(p, p, Curve(), t)
    z = stable_zeros(prof, "exact_drift")
    a = float(p.process.alpha(t))
    np.testing.assert_allclose(np.sort(z[:, 0]), [-3 * a, 3 * a], atol=2e-3)


def test_reach_fraction_is_the_gaussian_tube_mass(two):
    p, ridge = two
    pred = predict_reach(p, ridge, np.array([0.05, 0.5]), radius_factor=2.0, n=4000, seed=0)
    # across the axis p_t is exactly N(0, h_t): P(|Z| < 2) = 0.9545
    se = np.sqrt(0.9545 * 0.0455 / 4000)
    np.testing.assert_allclose(pred.fraction, 0.9545, atol=4 * se)


def test_half_motion_time_and_phase_order():
    times = np.geomspace(10, 1e-3, 41)
    prog = np.clip((np.log(10) - np.log(times)) / np.log(1e4), 0, 1)  # linear in log t
    assert half_motion_time(times, prog) == pytest.approx(np.sqrt(10 * 1e-3), rel=1e-6)
    assert np.isnan(half_motion_time(times, np.zeros_like(times)))
    tube = (times < 5).astype(float)
    rate = 2 / times
    ph = phase_times(times, tube, rate, prog)
    assert ph.reach == pytest.approx(times[times < 5].max())
    assert ph.align == pytest.approx(times[rate >= 10].max())
    assert ph.slide == pytest.approx(np.sqrt(10 * 1e-3), rel=1e-6)
    assert ph.ordered  # 3.98 >= 0.158 >= 0.1
    late_tube = (times < 0.01).astype(float)  # reach after align: out of order
    assert not phase_times(times, late_tube, rate, prog).ordered


def test_prediction_inputs_are_checked(two):
    p, ridge = two
    grid = rt.grids.exponential(1.0, 1e-2, 10)
    with pytest.raises(rt.RidgeTheoryError, match="`feet` passed to predict_alignment"):
        predict_alignment(p, p, ridge, grid, np.zeros((3, 4, 2)))
    with pytest.raises(rt.RidgeTheoryError, match="`grid` passed to predict_slide"):
        predict_slide(p, p, ridge, grid[::-1], np.zeros((3, 2)))
    other = rt.SmoothedEmpirical(TWO + 1.0)
    with pytest.raises(rt.RidgeTheoryError, match="`ridge` passed to predict_slide"):
        predict_slide(p, other, ridge, grid, np.zeros((3, 2)))


def test_deprecated_offset_names_still_work(two):
    """The align names moved to the displacement vocabulary; the old ones warn for a release."""
    p, ridge = two
    x = np.array([[3.0, 0.0], [0.5, 0.0]])
    with pytest.warns(DeprecationWarning, match="normal_fixed_point"):
        old = rt.predict.normal_offset_field(p, p, ridge, x, 0.1)
    np.testing.assert_array_equal(np.nan_to_num(old),
                                  np.nan_to_num(rt.predict.normal_fixed_point(p, p, ridge, x, 0.1)))
    grid = rt.grids.exponential(1.0, 0.05, 5)
    with pytest.warns(DeprecationWarning, match="start_displacements"):
        pred = predict_alignment(p, p, ridge, grid, x, start_offsets=np.zeros((2, 2)), n_draws=2)
    with pytest.warns(DeprecationWarning, match="mean_drift_distance"):
        np.testing.assert_array_equal(pred.mean_offset_norm, pred.mean_drift_distance)
