"""Symbolic ReLU moments: closed forms derived by integration and certified by Price's theorem."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from ridgetheory import RidgeTheoryError
from ridgetheory.gaussian_moments import bivariate_normal_cdf
from ridgetheory.symbolic import moments


@pytest.mark.parametrize("name", ["relu_mean", "relu_first_moment", "relu_second_moment",
                                  "relu_linear_moment"])
def test_closed_forms_equal_integrals(name):
    diff = (moments.derive(name) - moments.closed_form(name)).rewrite(sp.erf)
    assert sp.simplify(diff) == 0


def test_cross_moment_certificate():
    assert moments.cross_moment_certificate() == (0, 0)


def test_phi2_function():
    h, k, r = sp.symbols("h k r", real=True)
    # derivative identities hold for the symbolic function
    assert sp.diff(moments.Phi2(h, k, r), r) == moments.phi2(h, k, r)
    assert moments.Phi2(h, k, 0) == moments.Phi(h) * moments.Phi(k)
    # and its high-precision value is the numeric bivariate CDF
    rng = np.random.default_rng(0)
    for _ in range(5):
        hv, kv = rng.normal(0, 1.5, 2)
        rv = rng.uniform(-0.95, 0.95)
        ref = moments.Phi2(sp.Float(hv, 30), sp.Float(kv, 30), sp.Float(rv, 30)).evalf(30)
        assert abs(float(ref) - bivariate_normal_cdf(hv, kv, rv)) < 5e-16
    # the reverse check: the 30-digit Phi2 is consistent with its rho-derivative
    hv, kv, rv = sp.Rational(3, 10), sp.Rational(-1, 2), sp.Rational(1, 2)
    dr = sp.Rational(1, 10**8)
    fd = (moments.Phi2(hv, kv, rv + dr).evalf(40) - moments.Phi2(hv, kv, rv - dr).evalf(40)) / (
        2 * dr)
    assert abs(fd - moments.phi2(hv, kv, rv).evalf(40)) < 1e-14


def test_bad_name():
    with pytest.raises(RidgeTheoryError, match="`name` passed to closed_form"):
        moments.closed_form("relu_third")
    with pytest.raises(RidgeTheoryError, match="`name` passed to derive"):
        moments.derive("relu_cross_moment")
