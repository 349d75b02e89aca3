"""Ridge sets and traced curves (issue 16): nothing is dropped silently, modes converge on a
flat ring, and the hexagon's inter-mode ridge comes back whole.

Expected values come from outside the projection: the modes from a search of ``log p_t`` on
a polar grid, the loop from the polygon through the scaled training points ``a_t x_i``.
"""

from __future__ import annotations

import numpy as np
import pytest

import ridgetheory as rt
from ridgetheory.experiments.layouts import LAYOUTS, ring
from ridgetheory.ridge import Ridge, RidgeTrace
from ridgetheory.ridge.sets import DROP_REASONS


def profile_modes(p, t, r_max, n_angles=720, n_radii=1001):
    """Modes of a planar ``p_t`` from ``f(theta) = max_r log p_t(r, theta)`` on a polar grid.

    A mode away from 0 is a local maximum of f (the maximum along each ray refined by a
    parabola through the three best radii); when every ray peaks at r = 0 the origin is the
    only mode. Independent of the mean-shift / Newton projection under test."""
    th = np.linspace(0.0, 2 * np.pi, n_angles, endpoint=False)
    r = np.linspace(0.0, r_max, n_radii)
    R, TH = np.meshgrid(r, th)
    lp = p.log_prob(np.c_[(R * np.cos(TH)).ravel(), (R * np.sin(TH)).ravel()], t)
    lp = lp.reshape(R.shape)
    j = lp.argmax(axis=1)
    if np.all(j == 0):
        return np.zeros((1, 2))
    assert np.all((j > 0) & (j < n_radii - 1)), "a ray peaks at 0 or at r_max"
    rows = np.arange(n_angles)
    a, b, c = lp[rows, j - 1], lp[rows, j], lp[rows, j + 1]
    f = b + (a - c) ** 2 / (8 * (2 * b - a - c))
    top = (f > np.roll(f, 1)) & (f > np.roll(f, -1))
    rad = r[j[top]] + 0.5 * (a - c)[top] / (a - 2 * b + c)[top] * (r[1] - r[0])
    return np.c_[rad * np.cos(th[top]), rad * np.sin(th[top])]


def polygon_distance(x, vertices):
    """Distance of points (M, 2) from the closed polygon through ``vertices`` (K, 2)."""
    A, B = vertices, np.roll(vertices, -1, axis=0)
    seg = B - A
    lam = np.clip(np.einsum("msd,sd->ms", x[:, None] - A[None], seg) / (seg**2).sum(1), 0, 1)
    foot = A[None] + lam[..., None] * seg[None]
    return np.linalg.norm(x[:, None] - foot, axis=2).min(axis=1)


# -- modes on a flat ring ------------------------------------------------------------------------
@pytest.mark.parametrize("radius, n_modes", [(3.0, 6), (1.0, 1)])
def test_hexagon_modes_with_default_arguments_match_a_grid_search(radius, n_modes):
    """At t = 0.8 the hexagon's six modes are so shallow along the ring (h l ~ -3e-3) that
    mean shift needs ~6000 updates; 1000 used to leave every walker unconverged and the set
    empty, without a word."""
    p = rt.SmoothedEmpirical(ring(6, radius))
    if radius == 3.0:
        np.testing.assert_array_equal(p.data, LAYOUTS["hexagon"])
    t = 0.8
    want = profile_modes(p, t, r_max=2.5)
    assert len(want) == n_modes
    modes = Ridge(p, 0).extract(t)  # no warning: pytest turns warnings into errors
    assert modes.n_unconverged == 0 and len(modes) == modes.n_seeds == 400
    got = modes.clusters(0.05)
    assert len(got) == n_modes
    # the grid search resolves angles to 0.5 degree and radii to a parabola's accuracy
    dist = np.linalg.norm(got[:, None] - want[None], axis=2)
    assert np.all(dist.min(axis=1) < 5e-3) and np.all(dist.min(axis=0) < 5e-3)
    assert np.all(modes.curvature < 0)
    # every walker is at a mode, not merely near one
    assert np.linalg.norm(modes.points[:, None] - got[None], axis=2).min(axis=1).max() < 1e-5


def test_newton_for_modes_finds_the_mean_shift_modes_in_few_updates():
    p = rt.SmoothedEmpirical(LAYOUTS["hexagon"])
    ridge = Ridge(p, 0)
    x0 = np.random.default_rng(5).uniform(-2, 2, (60, 2))
    ms = ridge.project(x0, 0.8, "scms", tol=1e-9, max_iter=20000)
    nw = ridge.project(x0, 0.8, "newton", tol=1e-9, max_iter=200)
    assert nw.backend == "numpy"  # the kernel has no Newton step for d = 0
    assert ms.converged.all() and nw.converged.all()
    assert np.median(ms.iterations) > 1000 and nw.iterations.max() < 50
    # the same six modes (to the tolerance over the flat direction's curvature)
    a = rt.RidgeSet(ms.points, ms.curvature, ms.gap, ms.curvature, 0.8, 0, 60).clusters(0.05)
    b = rt.RidgeSet(nw.points, nw.curvature, nw.gap, nw.curvature, 0.8, 0, 60).clusters(0.05)
    assert len(a) == len(b) == 6
    assert np.linalg.norm(a[:, None] - b[None], axis=2).min(axis=1).max() < 1e-6


# -- the inter-mode ridge ------------------------------------------------------------------------
def test_hexagon_ridge_at_small_t_is_one_closed_loop_along_the_polygon():
    """At t = 0.02 the density midway between neighbouring modes is ~e^-28 of theirs; the
    old default floor (1e-3 of the maximum) cut the loop into six stubs of length 1.45."""
    p = rt.SmoothedEmpirical(LAYOUTS["hexagon"])
    t = 0.02
    vertices = float(p.process.alpha(t)) * p.data
    perimeter = float(np.linalg.norm(vertices - np.roll(vertices, -1, axis=0), axis=1).sum())
    curves = Ridge(p, 1).trace(t)
    assert isinstance(curves, RidgeTrace) and curves.n_unconverged == 0
    (loop,) = curves
    assert loop.closed and loop.stops == ("closed", "closed")
    # between neighbours the ridge is the segment joining them (the other four points weigh
    # e^-50 there); it rounds the corners by ~1e-3
    assert polygon_distance(loop.points, vertices).max() < 5e-3
    np.testing.assert_allclose(loop.length, perimeter, rtol=1e-3)
    mids = 0.5 * (vertices + np.roll(vertices, -1, axis=0))
    np.testing.assert_allclose(loop.point(loop.coordinate(mids)), mids, atol=1e-8)


def test_an_explicit_density_floor_still_cuts_and_says_so():
    p = rt.SmoothedEmpirical(LAYOUTS["hexagon"])
    stubs = Ridge(p, 1).trace(0.02, min_density=1e-3)
    h = float(p.process.h(0.02))
    assert len(stubs) == 6 and not any(c.closed for c in stubs)
    assert all(c.stops == ("density", "density") for c in stubs)
    # each stub reaches sqrt(2 h ln 1000) from its mode on either side
    np.testing.assert_allclose([c.length for c in stubs], 2 * np.sqrt(2 * h * np.log(1e3)),
                               rtol=0.03)


def test_trace_records_why_each_end_stopped():
    two = rt.SmoothedEmpirical(np.array([[-3.0, 0.0], [3.0, 0.0]]))
    (line,) = Ridge(two, 1).trace(0.5, bounds=[[-4, 4], [-1, 1]], n_seeds=25, step=0.1)
    assert line.stops == ("bounds", "bounds") and not line.closed
    assert line.points[0, 0] < -3.8 and line.points[-1, 0] > 3.8


def test_trace_of_a_mixture_stops_three_deviations_past_its_means():
    """Without a density floor the walk is bounded by a box: for a density without training
    points, the scaled means padded by three smoothed component deviations."""
    g = rt.GaussianMixture(np.array([[-3.0, 0.0], [3.0, 0.0]]), np.array([0.1, 0.1]))
    t = 0.5
    a, h = float(g.process.alpha(t)), float(g.process.h(t))
    (line,) = Ridge(g, 1).trace(t, n_seeds=50)
    assert line.stops == ("bounds", "bounds")
    edge = 3 * a + 3 * np.sqrt(a**2 * 0.1 + h)
    step = 0.1 * np.sqrt(h)
    np.testing.assert_allclose(np.abs(line.points[[0, -1], 0]), edge, atol=step)
    np.testing.assert_allclose(line.points[:, 1], 0.0, atol=1e-9)


# -- nothing is dropped silently -----------------------------------------------------------------
def test_a_tiny_budget_is_reported_with_a_count_and_a_warning():
    p = rt.SmoothedEmpirical(LAYOUTS["hexagon"])
    ridge = Ridge(p, 0)
    with pytest.warns(rt.RidgeWarning, match=r"Ridge.extract: (\d+) of 400 walkers did not "
                                             r"converge within the budget \(3 scms updates"):
        rs = ridge.extract(0.8, max_iter=3)
    assert rs.n_unconverged > 0 and rs.n_unconverged == rs.dropped["unconverged"]
    assert set(rs.dropped) == set(DROP_REASONS)
    assert len(rs) + sum(rs.dropped.values()) == rs.n_seeds == 400
    # nothing converged: a density always has a mode, so an empty set is never quiet
    with pytest.warns(rt.RidgeWarning, match="No mode was found at t = 0.8"):
        empty = ridge.extract(0.8, max_iter=0)
    assert len(empty) == 0 and empty.n_unconverged == 400
    with pytest.warns(rt.RidgeWarning, match="did not converge"):
        sets = ridge.evolve([0.8], max_iter=3)
    assert sets[0.8].n_unconverged > 0


def test_a_tiny_trace_budget_is_reported_with_a_count_and_a_warning():
    p = rt.SmoothedEmpirical(LAYOUTS["hexagon"])
    with pytest.warns(rt.RidgeWarning, match=r"Ridge.trace: \d+ of 30 seed walkers and \d+ "
                                             r"curve ends did not converge"):
        tr = Ridge(p, 1).trace(0.3, n_seeds=30, max_iter=3)
    ends = sum(c.stops.count("unconverged") for c in tr)
    assert tr.seeds.n_unconverged > 0 and ends > 0
    assert tr.n_unconverged == tr.seeds.n_unconverged + ends


def test_dropped_seeds_are_counted_by_reason():
    two = rt.SmoothedEmpirical(np.array([[-3.0, 0.0], [3.0, 0.0]]))
    ridge = Ridge(two, 0)
    seeds = np.array([[-2.0, 0.3], [0.0, 0.0], [2.5, -0.2], [0.0, 1.0]])
    rs = ridge.extract(0.1, seeds=seeds)
    # (0, 0) and (0, 1) converge to the saddle between the modes: positive curvature
    assert rs.dropped == {"unconverged": 0, "undetermined": 0, "curvature": 2, "rel_gap": 0,
                          "density": 0}
    assert len(rs) == 2 and np.all(rs.curvature < 0)
    # filters that leave no mode: counted, and for d = 0 an empty set is never quiet
    with pytest.warns(rt.RidgeWarning, match=r"No mode was found.*curvature: 2\)"):
        none = ridge.extract(0.1, seeds=seeds[[0, 2]], max_curvature=-1e6)
    assert len(none) == 0 and none.dropped["curvature"] == 2 and none.n_unconverged == 0


@pytest.mark.parametrize("call, match", [
    (lambda r0, r1: r0.extract(0.5, min_density=1.5), "`min_density` passed to Ridge.extract"),
    (lambda r0, r1: r1.trace(0.5, min_density=-0.1), "`min_density` passed to Ridge.trace"),
    (lambda r0, r1: r0.extract(0.5, max_iter=-1), "`max_iter` passed to Ridge.extract"),
    (lambda r0, r1: r1.trace(0.5, max_iter=2.5), "`max_iter` passed to Ridge.trace"),
    (lambda r0, r1: r1.trace(0.5, tol=0.0), "`tol` passed to Ridge.trace"),
    (lambda r0, r1: r0.extract(0.5, method="bfgs"), "`method` passed to Ridge.extract"),
    (lambda r0, r1: r1.trace(0.5, step=-1.0), "`step` passed to Ridge.trace"),
])
def test_bad_arguments_are_named(call, match):
    p = rt.SmoothedEmpirical(np.array([[-3.0, 0.0], [3.0, 0.0]]))
    with pytest.raises(rt.RidgeTheoryError, match=match):
        call(Ridge(p, 0), Ridge(p, 1))
