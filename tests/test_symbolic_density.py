"""SymbolicDensity: proof-style identities and agreement with the numeric SmoothedEmpirical."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import ridgetheory as rt
from ridgetheory import RidgeTheoryError
from ridgetheory.symbolic import SymbolicDensity, zero_simplify

c = sp.Symbol("c", positive=True)


@pytest.fixture(scope="module")
def two_points():
    return SymbolicDensity([(-c, 0), (c, 0)])


def test_normal_score_vanishes_on_the_axis(two_points):
    p = two_points
    on_axis = {p.x[1]: 0}
    # the Hessian is diagonal on the axis, with normal eigenvalue -1/h ...
    assert sp.simplify(p.hessian[0, 1].subs(on_axis)) == 0
    assert sp.simplify(p.hessian[1, 1].subs(on_axis) + 1 / p.h) == 0
    # ... below the tangent one (their gap is Var_g / h^2 >= 0), so P_N = e_2 e_2^T there
    g1, g2 = (w.subs(on_axis) for w in p.weights)
    gap = p.hessian[0, 0].subs(on_axis) - p.hessian[1, 1].subs(on_axis)
    assert zero_simplify(gap - 4 * p.alpha**2 * c**2 * g1 * g2 / p.h**2) == 0
    # and P_N s = s_2 e_2 vanishes identically on the axis, for every c, t and x_1
    assert sp.simplify(p.score[1].subs(on_axis)) == 0


def test_hessian_form_equals_second_derivative(two_points):
    for dens in (two_points, SymbolicDensity([(0, 0), (1, 2), (sp.Rational(-1, 2), 1)])):
        diff = dens.direct_hessian() - dens.hessian
        assert all(zero_simplify(e) == 0 for e in diff)
        assert all(zero_simplify(e) == 0 for e in dens.direct_score() - dens.score)


def test_tweedie_identity_symbolic(two_points):
    p = two_points
    tweedie = sp.Matrix(p.x) + p.h * p.score
    assert all(zero_simplify(e) == 0 for e in tweedie - p.denoiser)


@pytest.mark.parametrize("dim, n, seed", [(1, 2, 0), (2, 3, 1), (3, 4, 2)])
def test_lambdified_matches_numeric(dim, n, seed):
    rng = np.random.default_rng(seed)
    data = rng.normal(0, 1.5, (n, dim))
    sym = SymbolicDensity(data.tolist()).lambdify()  # floats enter at their exact value
    num = rt.SmoothedEmpirical(data)
    x = rng.normal(0, 1.5, (40, dim))
    for t in (0.1, 0.7, 3.0):
        for name in ("log_prob", "score", "denoiser", "hessian", "posterior_covariance",
                     "weights"):
            a, b = getattr(sym, name)(x, t), getattr(num, name)(x, t)
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10, err_msg=name)
    # per-point times and a single (D,) point follow the protocol's shape rule
    tt = rng.uniform(0.2, 2.0, 40)
    np.testing.assert_allclose(sym.score(x, tt), num.score(x, tt), rtol=1e-10, atol=1e-10)
    assert sym.hessian(x[0], 0.5).shape == (dim, dim)


def test_symbolic_parameter_and_ve_process():
    p = SymbolicDensity([(-c, 0), (c, 0)], process="ve")
    assert p.alpha == 1 and p.h == p.t
    f = p.lambdify({c: 2})
    x = np.array([[0.3, -0.2], [1.0, 0.5]])
    # Brownian VE at time t is the Gaussian KDE with variance t
    y = np.array([[-2.0, 0.0], [2.0, 0.0]])
    w = np.exp(-((x[:, None, :] - y[None]) ** 2).sum(-1) / (2 * 0.4))
    m = (w @ y) / w.sum(1, keepdims=True)
    np.testing.assert_allclose(f.score(x, 0.4), (m - x) / 0.4, rtol=1e-13)
    # a numeric VE instance is translated exactly
    g = SymbolicDensity([(-2, 0), (2, 0)], process=rt.VE(0.1, 20.0)).lambdify()
    num = rt.SmoothedEmpirical(y, process=rt.VE(0.1, 20.0))
    np.testing.assert_allclose(g.score(x, 0.6), num.score(x, 0.6), rtol=1e-10)


def test_bad_input():
    with pytest.raises(RidgeTheoryError, match="`points` passed to SymbolicDensity"):
        SymbolicDensity([(0, 1), (2,)])
    with pytest.raises(RidgeTheoryError, match="`process` passed to SymbolicDensity"):
        SymbolicDensity([(0,)], process="vp")
    with pytest.raises(RidgeTheoryError, match="missing \\['c'\\]"):
        SymbolicDensity([(-c,), (c,)]).lambdify()
    with pytest.raises(RidgeTheoryError, match="`x` passed to LambdifiedDensity.score"):
        SymbolicDensity([(0, 0)]).lambdify().score(np.zeros((3, 3)), 1.0)
    with pytest.raises(RidgeTheoryError, match="`t` passed to LambdifiedDensity.score"):
        SymbolicDensity([(0, 0)]).lambdify().score(np.zeros((3, 2)), -1.0)
