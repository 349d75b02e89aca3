"""critical_times: exact crossing times and their check against numeric Hessians."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import ridgetheory as rt
from ridgetheory import RidgeTheoryError
from ridgetheory.symbolic import critical_times

c = sp.Symbol("c", positive=True)
r = sp.Symbol("r", positive=True)


def _sorted_curvature(points, at, t, dim):
    """l_{dim+1} of the numeric Hessian at a_t * at (independent of the symbolic code)."""
    data = np.array(points, dtype=float)
    dens = rt.SmoothedEmpirical(data)
    x = np.exp(-t) * np.array(at, dtype=float)
    return np.sort(np.linalg.eigvalsh(dens.hessian(x, t)))[::-1][dim]


def test_two_points_exact():
    for pts, at in [([(-c,), (c,)], (0,)), ([(-c, 0), (c, 0)], (0, 0)),
                    ([(-c, 0, 0), (c, 0, 0)], (0, 0, 0))]:
        (t_star,) = critical_times(pts, at)
        assert sp.simplify(t_star - sp.log(1 + c**2) / 2) == 0
    # the midpoint stays on the 1-ridge (the axis) at every time
    assert critical_times([(-c, 0), (c, 0)], (0, 0), dim=1) == []


@pytest.mark.parametrize("cval", [0.5, 3.0])
def test_two_point_crossing_is_a_sign_change(cval):
    (t_star,) = critical_times([(-cval, 0), (cval, 0)], (0, 0))
    ts = float(t_star)
    assert ts == pytest.approx(0.5 * np.log1p(cval**2), rel=1e-15)
    pts = [(-cval, 0), (cval, 0)]
    assert _sorted_curvature(pts, (0, 0), ts * 0.999, 0) > 0  # saddle before (small t)
    assert _sorted_curvature(pts, (0, 0), ts * 1.001, 0) < 0  # mode after


def test_regular_polygons():
    tri = [(r, 0), (-r / 2, sp.sqrt(3) * r / 2), (-r / 2, -sp.sqrt(3) * r / 2)]
    sq = [(r, 0), (0, r), (-r, 0), (0, -r)]
    expect = sp.log(1 + r**2 / 2) / 2
    for pts in (tri, sq):
        for dim in (0, 1):  # a double eigenvalue: l_1 and l_2 cross together
            (t_star,) = critical_times(pts, (0, 0), dim=dim)
            assert sp.simplify(t_star - expect) == 0
    # the reference square {0, 5}^2 about its centroid (given in data coordinates)
    (t_sq,) = critical_times([(0, 0), (5, 0), (0, 5), (5, 5)], (sp.Rational(5, 2),) * 2)
    assert sp.simplify(t_sq - sp.log(sp.Rational(29, 4)) / 2) == 0
    for dim in (0, 1):
        pts = [(0, 0), (5, 0), (0, 5), (5, 5)]
        assert _sorted_curvature(pts, (2.5, 2.5), float(t_sq) * 0.999, dim) > 0
        assert _sorted_curvature(pts, (2.5, 2.5), float(t_sq) * 1.001, dim) < 0


def test_numeric_fallback_is_verified_independently():
    pts = [(-4,), (-1,), (1,), (4,)]  # weights at 0 depend on t: no closed form
    (t_star,) = critical_times(pts, (0,))
    assert isinstance(t_star, sp.Float)
    ts = float(t_star)
    assert _sorted_curvature(pts, (0,), ts * (1 - 1e-6), 0) > 0
    assert _sorted_curvature(pts, (0,), ts * (1 + 1e-6), 0) < 0
    # three equally spaced points: the middle one is a mode at every time
    assert critical_times([(-3,), (0,), (3,)], (0,)) == []


def test_other_processes():
    assert critical_times([(-c,), (c,)], (0,), process="ve") == [c**2]


def test_bad_input():
    with pytest.raises(RidgeTheoryError, match="critical point"):
        critical_times([(-1, 0), (2, 0)], (0, 0))
    with pytest.raises(RidgeTheoryError, match="`dim` passed to critical_times"):
        critical_times([(-1, 0), (1, 0)], (0, 0), dim=2)
    with pytest.raises(RidgeTheoryError, match="`at` passed to critical_times"):
        critical_times([(-1, 0), (1, 0)], (0,))
    with pytest.raises(RidgeTheoryError, match="substitute numbers"):
        critical_times([(-2 * c,), (-c,), (c,), (2 * c,)], (0,))
