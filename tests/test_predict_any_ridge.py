"""Predictions on ridges other than the 2-D reference layouts: the slide start, allocation in
D = 8 and on the hexagon, align on a curved ridge, direction fields, no silent NaN, curves.

Expected values come from outside the code under test: the analytic critical time of two
points, the simulation (a chi-square test on resting counts), Gaussian tube masses.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import chi

import ridgetheory as rt
from ridgetheory.measure import allocation_test
from ridgetheory.predict import (
    allocation,
    critical_census,
    predict,
    predict_alignment,
    predict_slide,
    prediction_curves,
    slide_start,
    trajectory_curves,
    tube_radius,
)
from ridgetheory.predict.reduced import transport

# the simulations the predictions are checked against use the slide's own scheme (its
# `method` defaults to "em"; rt.simulate's default is the exponential integrator), so runs
# with the same seed stay coupled
simulate_em = functools.partial(rt.simulate, method="em")

D8 = np.random.default_rng(42).normal(0.0, 2.0, (4, 8))
HEX = 3.0 * np.stack([np.cos(np.arange(6) * np.pi / 3), np.sin(np.arange(6) * np.pi / 3)], 1)


@pytest.fixture(scope="module")
def d8():
    p = rt.SmoothedEmpirical(D8)
    return p, rt.Ridge(p, 1)


@pytest.fixture(scope="module")
def hexagon():
    p = rt.SmoothedEmpirical(HEX)
    return p, rt.Ridge(p, 1)


def _counts(p, grid, final):
    return allocation(final, float(p.process.alpha(grid[-1])) * p.data)


@pytest.mark.parametrize("c", [2.0, 3.0, 4.0])
def test_slide_start_is_the_first_grid_time_below_the_analytic_critical_time(c):
    p = rt.SmoothedEmpirical(np.array([[-c, 0.0], [c, 0.0]]))
    grid = rt.grids.exponential(10.0, 1e-3, 400)
    s = slide_start(p, rt.Ridge(p, 1), grid)
    t_star = 0.5 * np.log1p(c * c)  # the single mode splits in two below t*
    assert s.reason == "census" and s.settled == (2, 1)
    assert grid[s.index] <= t_star < grid[s.index - 1] == s.critical_time


def test_census_of_the_hexagon_has_six_modes_and_six_saddles(hexagon):
    p, _ = hexagon
    cen = critical_census(p, 0.05)
    assert cen.counts == (6, 6)
    modes = cen.points[cen.index == 0]
    a = float(p.process.alpha(0.05))
    np.testing.assert_allclose(np.sort(np.linalg.norm(modes, axis=1)), 3 * a, rtol=1e-2)


def test_d8_allocation_matches_the_simulation_and_the_reduction_from_t_fails(d8):
    p, ridge = d8
    grid = rt.grids.exponential(10.0, 1e-3, 100)
    x0 = rt.sample_pt(p, 10.0, 400, seed=1)
    sim = _counts(p, grid, simulate_em(p, y0=x0, grid=grid, seed=0, progress=False).final)
    pred = predict_slide(p, p, ridge, grid, x0, seed=0)
    assert pred.start.reason == "census" and 0.2 < pred.start.time < 0.7
    assert allocation_test(pred.allocation(p.data * p.process.alpha(1e-3)), sim)["p_value"] > 0.01
    # started at T the reduction discards the normal offsets that pick the branch
    old = predict_slide(p, p, ridge, grid, x0, seed=0, start_time=None)
    assert allocation_test(old.allocation(p.data * p.process.alpha(1e-3)), sim)["p_value"] < 0.01


def test_hexagon_allocation_matches_an_independent_simulation(hexagon):
    p, ridge = hexagon
    grid = rt.grids.exponential(10.0, 1e-3, 100)
    sim = _counts(p, grid, simulate_em(p, n=2000, grid=grid, seed=5, progress=False).final)
    x0 = rt.sample_pt(p, 10.0, 400, seed=1)
    pred = predict_slide(p, p, ridge, grid, x0, seed=0)
    assert allocation_test(pred.allocation(p.data * p.process.alpha(1e-3)), sim)["p_value"] > 0.01


def test_the_slide_responds_to_a_normal_error_as_the_simulation_does(d8):
    p, ridge = d8
    grid = rt.grids.exponential(10.0, 1e-3, 100)
    x0 = rt.sample_pt(p, 10.0, 400, seed=1)
    model = rt.InjectedError(p, ridge, normal=5.0)
    sim = _counts(p, grid, simulate_em(model, y0=x0, grid=grid, seed=0, progress=False).final)
    exact = _counts(p, grid, simulate_em(p, y0=x0, grid=grid, seed=0, progress=False).final)
    assert allocation_test(sim, exact)["p_value"] < 1e-6  # the error moves the allocation...
    pred = predict_slide(model, p, ridge, grid, x0, seed=0)
    # ... and the prediction follows it
    assert allocation_test(pred.allocation(p.data * p.process.alpha(1e-3)), sim)["p_value"] > 0.01


def test_a_normal_error_below_the_last_critical_time_keeps_the_allocation(d8):
    p, ridge = d8
    grid = rt.grids.exponential(10.0, 1e-3, 100)
    t_s = slide_start(p, ridge, grid).time
    x0 = rt.sample_pt(p, 10.0, 400, seed=1)
    late = rt.InjectedError(p, ridge, normal=lambda t: np.where(t <= t_s, 5.0, 0.0),
                            normal_direction=rt.injected.radial(D8.mean(0)))
    sim = _counts(p, grid, simulate_em(late, y0=x0, grid=grid, seed=0, progress=False).final)
    exact = _counts(p, grid, simulate_em(p, y0=x0, grid=grid, seed=0, progress=False).final)
    assert allocation_test(sim, exact)["p_value"] > 0.5


def test_align_on_the_hexagon_follows_an_outward_normal_error(hexagon):
    p, ridge = hexagon
    grid = rt.grids.exponential(10.0, 1e-3, 200)
    x0 = rt.sample_pt(p, 10.0, 400, seed=1)
    sims, preds = [], []
    for e in (0.0, 1.0, 5.0):
        m = rt.InjectedError(p, ridge, normal=e, normal_direction=rt.injected.radial()) if e else p
        final = simulate_em(m, y0=x0, grid=grid, seed=0, progress=False).final
        sims.append(ridge.project(final, 1e-3, tol=1e-10, max_iter=2000).displacement[:, 0].mean())
        sl = predict_slide(m, p, ridge, grid, x0, seed=0)
        preds.append(predict_alignment(m, p, ridge, sl.times, sl, seed=3).mean_distance[-1])
    ratio = np.array(sims) / np.array(preds)
    assert np.all((ratio > 1 / 1.5) & (ratio < 1.5)), ratio
    assert np.all(np.diff(sims) > 0) and np.all(np.diff(preds) > 0)


def test_transport_carries_coordinates_within_a_turned_basis():
    rng = np.random.default_rng(0)
    V_old = np.linalg.qr(rng.normal(size=(5, 6, 3)))[0]
    Q = np.linalg.qr(rng.normal(size=(5, 3, 3)))[0]
    V_new = V_old @ Q  # the same normal space in another basis
    R = transport(V_new, V_old)
    np.testing.assert_allclose(R @ np.swapaxes(R, 1, 2), np.broadcast_to(np.eye(3), (5, 3, 3)),
                               atol=1e-12)
    c = rng.normal(size=(5, 3))
    vec_old = np.einsum("mdk,mk->md", V_old, c)
    vec_new = np.einsum("mdk,mk->md", V_new, np.einsum("mij,mj->mi", R, c))
    np.testing.assert_allclose(vec_new, vec_old, atol=1e-12)


def test_no_member_usable_raises_and_no_numpy_warning_escapes(hexagon):
    p, ridge = hexagon
    grid = rt.grids.exponential(10.0, 1e-3, 50)
    x0 = rt.sample_pt(p, 10.0, 50, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        # at T = 10 the hexagon's p_t is isotropic: every frame is undetermined
        with pytest.raises(rt.RidgeTheoryError, match="none of the 50 members is usable"):
            predict_slide(p, p, ridge, grid, x0, start_time=None)


def test_excluded_members_are_counted_warned_and_left_out(hexagon):
    p, ridge = hexagon
    grid = rt.grids.exponential(0.5, 1e-3, 40)
    x = rt.sample_pt(p, 0.5, 30, seed=2)
    x[:3] = 0.0  # the centre: an isotropic posterior covariance, no frame
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.warns(rt.PredictionWarning, match="excluded 3 of 30 members"):
            sl = predict_slide(p, p, ridge, grid, x, start_time=0.5, start_from="given")
        assert sl.excluded == {"start_undetermined": 3} and sl.n_usable == 27
        assert not sl.usable[:3].any()
        with pytest.warns(rt.PredictionWarning, match="excluded 3 of 30"):
            al = predict_alignment(p, p, ridge, sl.times, sl)
    assert np.isfinite(al.mean_distance).all() and np.isfinite(sl.final).all()
    assert al.meta["excluded"] == {"slide": 3}
    assert sl.allocation(HEX).sum() == 27


@given(theta=st.floats(0, 2 * np.pi), dr=st.floats(-0.2, 0.2), t=st.floats(0.01, 0.3),
       size=st.floats(0.1, 10.0))
def test_radial_normal_error_points_outward_and_is_normal(theta, dr, t, size):
    p = rt.SmoothedEmpirical(HEX)
    ridge = rt.Ridge(p, 1)
    x = (3.0 * float(p.process.alpha(t)) + dr) * np.array([[np.cos(theta), np.sin(theta)]])
    m = rt.InjectedError(p, ridge, normal=size, normal_direction=rt.injected.radial())
    e = m.error(x, t)[0]
    fr = ridge.frames(x, t)
    if fr.undetermined[0] or m.vanishing_calls:
        assert np.all(e == 0.0)
        return
    np.testing.assert_allclose(np.linalg.norm(e), size, rtol=1e-10)
    assert abs(float(fr.tangent[0, :, 0] @ e)) < 1e-9 * size
    # outward: on the hexagon's ridge the normal is within 30 degrees of the radius
    assert float(e @ x[0]) > 0.5 * size * np.linalg.norm(x[0])


@given(theta=st.floats(0, 2 * np.pi), t=st.floats(0.01, 0.3))
def test_rotational_tangent_error_turns_counter_clockwise(theta, t):
    p = rt.SmoothedEmpirical(HEX)
    ridge = rt.Ridge(p, 1)
    x = 3.0 * float(p.process.alpha(t)) * np.array([[np.cos(theta), np.sin(theta)]])
    m = rt.InjectedError(p, ridge, tangent=1.0, tangent_direction=rt.injected.rotational())
    e = m.error(x, t)[0]
    if ridge.frames(x, t).undetermined[0] or m.vanishing_calls:
        assert np.all(e == 0)  # no direction is trusted there, and it is counted
        return
    assert x[0, 0] * e[1] - x[0, 1] * e[0] > 0.5 * np.linalg.norm(x[0])


def test_direction_fields_are_checked():
    p = rt.SmoothedEmpirical(HEX)
    ridge = rt.Ridge(p, 1)
    bad = rt.InjectedError(p, ridge, normal=1.0, normal_direction=lambda x, t: x[:, :1])
    with pytest.raises(rt.RidgeTheoryError, match="`normal_direction` passed to InjectedError"):
        bad.error(np.ones((3, 2)), 0.1)
    for plane in ((0, 0), (-1, 1), (True, False)):
        with pytest.raises(rt.RidgeTheoryError, match="`plane` passed to rotational"):
            rt.injected.rotational(plane=plane)
    grid = rt.grids.exponential(1.0, 1e-3, 20)
    with pytest.raises(rt.RidgeTheoryError, match="`coarse` passed to slide_start"):
        slide_start(p, ridge, grid, coarse=0)
    with pytest.raises(rt.RidgeTheoryError, match="`min_density` passed to slide_start"):
        slide_start(p, ridge, grid, min_density=0.0)
    with pytest.raises(rt.RidgeTheoryError, match="`neighbours` passed to critical_census"):
        critical_census(p, 0.1, neighbours=-1)
    with pytest.raises(rt.RidgeTheoryError, match="`quantiles`"):
        predict(p, p, ridge, grid, np.ones((3, 2)), quantiles=(-0.1, 0.5))
    with pytest.raises(rt.RidgeTheoryError, match="`process` passed to tube_radius"):
        tube_radius(None, 0.1, 1)


@pytest.mark.parametrize("k", [1, 2, 7])
def test_tube_radius_holds_its_level_of_an_isotropic_normal_offset(k):
    proc = rt.OU()
    t = 0.2
    r = tube_radius(proc, t, k, 0.9)
    z = np.random.default_rng(k).normal(size=(200_000, k)) * np.sqrt(proc.h(t))
    assert abs(np.mean(np.linalg.norm(z, axis=1) <= r) - 0.9) < 0.005
    assert tube_radius(proc, t, 1, chi.cdf(2.0, 1)) == pytest.approx(2 * np.sqrt(proc.h(t)))


def test_curves_of_simulation_and_prediction_agree_in_d8(d8):
    p, ridge = d8
    grid = rt.grids.exponential(10.0, 1e-3, 100)
    x0 = rt.sample_pt(p, 10.0, 300, seed=1)
    sl = predict_slide(p, p, ridge, grid, x0, seed=0)
    al = predict_alignment(p, p, ridge, sl.times, sl, seed=2)
    save = sl.times[::20]
    tr = simulate_em(p, y0=x0, grid=grid, seed=0, progress=False, save_at=save)
    sim = trajectory_curves(p, ridge, tr)
    pred = prediction_curves(p, ridge, sl, al, times=save)
    np.testing.assert_allclose(sim.mean_distance[1:], pred.mean_distance[1:], rtol=0.15)
    # the chi radius in 7 normal directions holds most samples near the end (2 sqrt(h): ~20 %)
    assert sim.tube_fraction[-1] > 0.85 and pred.tube_fraction[-1] > 0.85
    assert np.all(sim.excluded == 0)
    # a tangential error separates coupled runs along the ridge; the same run does not
    m = rt.InjectedError(p, ridge, tangent=0.2, units="denoiser")
    moved = trajectory_curves(p, ridge, simulate_em(m, y0=x0, grid=grid, seed=0, progress=False,
                                                    save_at=save), reference=sim)
    assert moved.separation[-1] > 0.05 and np.all(np.diff(moved.separation) >= 0)
    assert np.all(trajectory_curves(p, ridge, tr, reference=sim).separation == 0.0)
    np.testing.assert_allclose(sim.distance[-1],
                               ridge.project(tr.states[-1], save[-1], tol=1e-8, max_iter=500)
                               .displacement[:, 0], atol=1e-12)


@pytest.mark.parametrize("layout", ["d8", "hexagon"])
def test_numba_and_numpy_reductions_agree(layout, request):
    p, ridge = request.getfixturevalue(layout)
    grid = rt.grids.exponential(1.0, 1e-3, 60)
    x = rt.sample_pt(p, 0.3, 40, seed=4)
    kw = dict(start_time=0.3, start_from="given", seed=2, tol=1e-10)
    fast = predict_slide(p, p, ridge, grid, x, fast=True, **kw)
    slow = predict_slide(p, p, ridge, grid, x, fast=False, **kw)
    assert fast.meta["fast"] and not slow.meta["fast"]
    assert fast.excluded == slow.excluded
    both = fast.usable & slow.usable
    assert both.mean() > 0.9
    np.testing.assert_allclose(fast.feet[:, both], slow.feet[:, both], atol=1e-6)
    from ridgetheory.predict.reduced import Feet

    for flag in (True, False):
        fs = Feet(p, ridge, tol=1e-10, fast=flag).project(fast.final[both], 1e-3, 100)
        P = np.einsum("mdk,mek->mde", fs.normal, fs.normal)
        if flag:
            P_fast, lam_fast = P, fs.eigenvalues
        else:
            np.testing.assert_allclose(P_fast, P, atol=1e-8)
            np.testing.assert_allclose(lam_fast, fs.eigenvalues, rtol=1e-8)


def test_predict_is_slide_then_align_in_one_pass(hexagon):
    p, ridge = hexagon
    grid = rt.grids.exponential(10.0, 1e-3, 80)
    x0 = rt.sample_pt(p, 10.0, 100, seed=1)
    m = rt.InjectedError(p, ridge, normal=2.0, normal_direction=rt.injected.radial())
    one = predict(m, p, ridge, grid, x0, seed=3)
    sl = predict_slide(m, p, ridge, grid, x0, seed=3)
    al = predict_alignment(m, p, ridge, sl.times, sl, seed=4)
    np.testing.assert_allclose(one.slide.feet, sl.feet, atol=1e-12)
    np.testing.assert_allclose(one.align.mean_distance, al.mean_distance, rtol=1e-6)
    np.testing.assert_allclose(one.align.quantiles, al.quantiles, rtol=1e-6)


def test_predict_equals_two_passes_with_members_excluded_at_the_start(hexagon):
    p, ridge = hexagon
    grid = rt.grids.exponential(0.5, 1e-3, 40)
    x = rt.sample_pt(p, 0.5, 30, seed=2)
    x[:3] = 0.0  # the centre: no frame
    kw = dict(start_time=0.5, start_from="given", seed=3)
    with pytest.warns(rt.PredictionWarning):
        one = predict(p, p, ridge, grid, x, **kw)
    with pytest.warns(rt.PredictionWarning):
        sl = predict_slide(p, p, ridge, grid, x, **kw)
    with pytest.warns(rt.PredictionWarning):
        al = predict_alignment(p, p, ridge, sl.times, sl, seed=4)
    assert one.slide.excluded == sl.excluded == {"start_undetermined": 3}
    assert one.align.meta["excluded"] == al.meta["excluded"] == {"slide": 3}
    np.testing.assert_allclose(one.align.mean_distance, al.mean_distance, rtol=1e-9)


def test_distance_draws_from_a_cholesky_factor_have_the_moments_of_the_covariance():
    from ridgetheory.predict.reduced import distances

    rng = np.random.default_rng(3)
    M, n, k = 50, 4000, 4
    cm = rng.normal(size=(M, k))
    A = rng.normal(size=(M, k, k))
    Sc = A @ np.swapaxes(A, 1, 2)
    Sc[0] = np.diag([2.0, 0.0, 1.0, 0.5])  # singular: a direction without spread
    z = rng.normal(size=(M, n, k))
    d = distances(cm, Sc, z)
    # the same distribution: E|eta|^2 = |cm|^2 + tr(Sc), and equal draws for a diagonal Sc
    want = (cm**2).sum(1) + np.trace(Sc, axis1=1, axis2=2)
    np.testing.assert_allclose((d**2).mean(1), want, rtol=0.1)
    diag = np.linalg.norm(cm[0] + np.sqrt(np.diag(Sc[0])) * z[0], axis=1)
    np.testing.assert_allclose(d[0], diag, rtol=1e-12)


@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=60),
       st.lists(st.floats(0.0, 1.0), min_size=1, max_size=4))
def test_quantiles_from_one_partition_are_numpys(x, levels):
    from ridgetheory.predict.reduced import quantiles

    x = np.asarray(x)
    np.testing.assert_allclose(quantiles(x, tuple(levels)), np.quantile(x, levels), rtol=1e-12,
                               atol=1e-9)


def test_transports_are_the_polar_factor_of_the_overlap():
    from ridgetheory.predict._kernels import transport_state

    rng = np.random.default_rng(5)
    M, D, k = 40, 8, 3
    V_old = np.linalg.qr(rng.normal(size=(M, D, k)))[0]
    # small turns (Newton-Schulz) for most members, abrupt ones (SVD) for the last ten
    scale = np.r_[[0.05] * 30, [1.0] * 10][:, None, None]
    turn = np.linalg.qr(rng.normal(size=(M, D, D)) * scale + np.eye(D))[0]
    V_new = turn @ V_old
    # one overlap with singular values (0.05, 1, 1): entrywise close to orthogonal, not in fact
    V_new[0] = V_old[0] @ np.diag([0.05, 1.0, 1.0])
    V_new[0, :, 0] += np.sqrt(1 - 0.05**2) * np.linalg.qr(
        np.column_stack([V_old[0], rng.normal(size=D)]))[0][:, k]
    u = np.ones(k) / np.sqrt(k) - np.eye(k)[0]
    H = np.eye(k) - 2 * np.outer(u, u) / (u @ u)  # e_0 -> (1, 1, 1)/sqrt(3)
    V_old[0] = V_old[0] @ H  # the same space; now O^T O - I spreads over all entries (max 0.33)
    V_new = np.ascontiguousarray(V_new)
    O0 = V_new[0].T @ V_old[0]
    assert np.abs(O0.T @ O0 - np.eye(k)).max() < 0.5 < np.linalg.norm(O0.T @ O0 - np.eye(k))
    U, _, Wt = np.linalg.svd(np.einsum("mdi,mdj->mij", V_new, V_old))
    R = U @ Wt  # the polar factor, independently
    np.testing.assert_allclose(transport(V_new, V_old), R, atol=1e-10)
    cm = rng.normal(size=(M, k))
    A = rng.normal(size=(M, k, k))
    Sc = A @ np.swapaxes(A, 1, 2)
    want_c = np.einsum("mij,mj->mi", R, cm)
    want_S = R @ Sc @ np.swapaxes(R, 1, 2)
    transport_state(V_new, np.ascontiguousarray(V_old), cm, Sc)
    np.testing.assert_allclose(cm, want_c, atol=1e-10)
    np.testing.assert_allclose(Sc, want_S, atol=1e-10)
