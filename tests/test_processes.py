"""Forward processes: closed forms, derivatives, SDE coefficients, and input checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ridgetheory as rt
from ridgetheory.testing import processes, times

ALL = [rt.OU(), rt.VPLinear(0.1, 20.0, 1.0), rt.VPCosine(0.008, 1.0), rt.VE(0.01, 50.0)]


def test_ou_closed_form():
    t = np.array([1e-6, 0.1, 1.0, 5.0])
    p = rt.OU()
    np.testing.assert_allclose(p.alpha(t), np.exp(-t), rtol=1e-15)
    np.testing.assert_allclose(p.h(t), 1 - np.exp(-2 * t), rtol=1e-9)
    # h keeps relative accuracy where 1 - exp(-2t) would cancel
    assert p.h(1e-12) == pytest.approx(2e-12, rel=1e-11)
    np.testing.assert_allclose(p.drift_coefficient(t), -1.0)
    np.testing.assert_allclose(p.diffusion_squared(t), 2.0, rtol=1e-12)


def test_vplinear_matches_integral_of_beta():
    p = rt.VPLinear(0.1, 20.0, 1.0)
    t = 0.37
    # B(t) = int_0^t beta by the trapezoid rule on a fine grid (beta is linear: exact)
    s = np.linspace(0, t, 11)
    B = np.trapezoid(0.1 + 19.9 * s, s)
    assert p.alpha(t) == pytest.approx(np.exp(-0.5 * B), rel=1e-13)
    assert p.h(t) == pytest.approx(1 - np.exp(-B), rel=1e-12)
    # VP: g^2 = beta, f = -beta/2
    assert p.diffusion_squared(t) == pytest.approx(0.1 + 19.9 * t, rel=1e-12)
    assert p.drift_coefficient(t) == pytest.approx(-0.5 * (0.1 + 19.9 * t), rel=1e-12)


def test_variance_preserving_and_ve_identities():
    t = np.linspace(0.01, 0.95, 7)
    for p in ALL[:3]:
        np.testing.assert_allclose(p.alpha(t) ** 2 + p.h(t), 1.0, atol=1e-13)
    ve = ALL[3]
    np.testing.assert_allclose(ve.alpha(t), 1.0)
    sig = 0.01 * (50.0 / 0.01) ** t
    np.testing.assert_allclose(ve.h(t), sig**2 - 0.01**2, rtol=1e-12)


@pytest.mark.parametrize("proc", ALL, ids=lambda p: type(p).__name__)
def test_derivatives_match_finite_differences(proc):
    t = np.linspace(0.05, 0.9, 9)
    eps = 1e-6
    np.testing.assert_allclose(
        proc.dalpha(t),
        (proc.alpha(t + eps) - proc.alpha(t - eps)) / (2 * eps),
        rtol=1e-6,
        atol=1e-9,
    )
    np.testing.assert_allclose(
        proc.dh(t), (proc.h(t + eps) - proc.h(t - eps)) / (2 * eps), rtol=1e-6, atol=1e-9
    )


@pytest.mark.parametrize("proc", ALL, ids=lambda p: type(p).__name__)
def test_forward_sde_reproduces_marginal_variance(proc):
    """Integrating dVar/dt = 2 f Var + g^2 from 0 gives h(t) (the definition of f and g)."""
    t_end = 0.8
    s = np.linspace(1e-7, t_end, 20001)
    f = proc.drift_coefficient(s)
    g2 = proc.diffusion_squared(s)
    var = proc.h(s[0])
    for k in range(len(s) - 1):  # Heun on a linear ODE
        dt = s[k + 1] - s[k]
        k1 = 2 * f[k] * var + g2[k]
        pred = var + dt * k1
        k2 = 2 * f[k + 1] * pred + g2[k + 1]
        var = var + 0.5 * dt * (k1 + k2)
    assert var == pytest.approx(float(proc.h(t_end)), rel=1e-6)


@given(processes(), st.data())
def test_reverse_drifts_are_consistent(proc, data):
    t = data.draw(times(proc))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3))
    s = rng.normal(size=(4, 3))
    f, g2 = proc.drift_coefficient(t), proc.diffusion_squared(t)
    np.testing.assert_allclose(proc.reverse_drift(x, t, s), -f * x + g2 * s, rtol=1e-12)
    np.testing.assert_allclose(
        proc.probability_flow_drift(x, t, s), -f * x + 0.5 * g2 * s, rtol=1e-12
    )
    np.testing.assert_allclose(proc.forward_drift(x, t), f * x, rtol=1e-12)


def test_ou_reverse_drift_is_y_plus_two_s():
    x = np.array([[1.0, -2.0]])
    s = np.array([[0.5, 0.25]])
    np.testing.assert_allclose(rt.OU().reverse_drift(x, 0.3, s), x + 2 * s, rtol=1e-12)
    np.testing.assert_allclose(rt.OU().probability_flow_drift(x, 0.3, s), x + s, rtol=1e-12)


def test_vectorized_time_per_row():
    x = np.ones((3, 2))
    s = np.zeros((3, 2))
    t = np.array([0.1, 0.2, 0.3])
    out = rt.VPLinear().reverse_drift(x, t, s)
    np.testing.assert_allclose(out[:, 0], -rt.VPLinear().drift_coefficient(t))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: rt.OU().h(-0.1), "`t` passed to OU.h must be in"),
        (lambda: rt.OU().alpha(np.nan), "`t` passed to OU.alpha must be finite"),
        (lambda: rt.VPLinear(T=1.0).h(1.5), r"`t` passed to VPLinear.h must be in \(0, 1.0\]"),
        (lambda: rt.VPLinear(beta_min=-1.0), "`beta_min` passed to VPLinear"),
        (lambda: rt.VPLinear(beta_min=2.0, beta_max=1.0), "`beta_max` passed to VPLinear"),
        (lambda: rt.VPCosine(s=0.0), "`s` passed to VPCosine"),
        (lambda: rt.VE(sigma_min=1.0, sigma_max=0.5), "`sigma_max` passed to VE"),
        (lambda: rt.VE(sigma_min="a"), "`sigma_min` passed to VE must be a real number"),
        (lambda: rt.OU().reverse_drift(np.ones((2, 2)), 0.1, np.ones((3, 2))), "`score`"),
        (lambda: rt.OU().reverse_drift(np.ones((2, 2)), np.ones(3) * 0.1, np.ones((2, 2))), "`t`"),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(rt.RidgeTheoryError, match=match):
        call()


def test_equality_and_repr():
    assert rt.VPLinear(0.1, 20.0) == rt.VPLinear(0.1, 20.0)
    assert rt.VPLinear(0.1, 20.0) != rt.VPLinear(0.2, 20.0)
    assert rt.OU() == rt.OU() and hash(rt.OU()) == hash(rt.OU())
    assert "beta_max=20.0" in repr(rt.VPLinear())
