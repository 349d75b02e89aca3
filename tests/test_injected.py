"""InjectedError: designed errors are purely normal or tangential, of the chosen size."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ridgetheory as rt

THREE = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])


def _setup(data=THREE, d=1):
    p = rt.SmoothedEmpirical(data)
    return p, rt.Ridge(p, d)


@given(st.floats(0.05, 2.0), st.floats(-3.0, 3.0))
def test_normal_error_is_normal_and_sized(t, size):
    p, ridge = _setup()
    x = np.random.default_rng(0).uniform(-1, 6, size=(20, 2))
    m = rt.InjectedError(p, ridge, normal=size)
    e = m.error(x, t)
    en, et = ridge.decompose(e, x, t)
    fr = ridge.frames(x, t)
    ok = ~fr.undetermined
    np.testing.assert_allclose(et[ok], 0.0, atol=1e-12 * (1 + abs(size)))
    # |e| = |size| wherever the reference direction has a clear normal component
    u = np.array([0.0, 1.0])
    clear = ok & (np.linalg.norm(np.einsum("mdk,d->mk", fr.normal, u), axis=1) > 0.1)
    assert clear.sum() >= 5
    np.testing.assert_allclose(np.linalg.norm(e[clear], axis=1), abs(size),
                               atol=1e-12 * (1 + abs(size)))
    # and the score is the exact score plus that field, computed independently here
    unit = np.einsum("mdk,mk->md", fr.normal, np.einsum("mdk,d->mk", fr.normal, u))
    unit[clear] /= np.linalg.norm(unit[clear], axis=1, keepdims=True)
    np.testing.assert_allclose(m.score(x[clear], t), p.score(x[clear], t) + size * unit[clear],
                               rtol=1e-12, atol=1e-12)


@given(st.floats(0.05, 2.0), st.floats(0.01, 1.0))
def test_tangent_error_is_tangential_and_denoiser_units_divide_by_h(t, size):
    p, ridge = _setup()
    x = np.random.default_rng(1).uniform(-1, 6, size=(20, 2))
    m = rt.InjectedError(p, ridge, tangent=size, units="denoiser")
    e = m.error(x, t)
    en, _ = ridge.decompose(e, x, t)
    np.testing.assert_allclose(en, 0.0, atol=1e-10 * size / float(p.process.h(t)))
    h = float(p.process.h(t))
    fr = ridge.frames(x, t)
    u = np.array([1.0, 0.0])
    clear = ~fr.undetermined & (np.abs(np.einsum("mdk,d->mk", fr.tangent, u))[:, 0] > 0.1)
    assert clear.sum() >= 5
    np.testing.assert_allclose(np.linalg.norm(e[clear], axis=1), size / h, rtol=1e-10)


def test_two_point_directions_are_the_axes():
    p, ridge = _setup(np.array([[-3.0, 0.0], [3.0, 0.0]]))
    x = np.array([[0.5, 0.1], [2.0, -0.3]])
    n = rt.InjectedError(p, ridge, normal=0.7).error(x, 0.3)
    tg = rt.InjectedError(p, ridge, tangent=0.7).error(x, 0.3)
    np.testing.assert_allclose(n, [[0, 0.7], [0, 0.7]], atol=1e-12)
    np.testing.assert_allclose(tg, [[0.7, 0], [0.7, 0]], atol=1e-12)


def test_size_profile_callable():
    p, ridge = _setup(np.array([[-3.0, 0.0], [3.0, 0.0]]))
    m = rt.InjectedError(p, ridge, normal=lambda t: 2 * t)
    e = m.error(np.array([[0.0, 0.0], [1.0, 0.0]]), np.array([0.1, 0.4]))
    np.testing.assert_allclose(np.abs(e[:, 1]), [0.2, 0.8], rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"normal": "big"}, "`normal` passed to InjectedError"),
        ({"tangent": np.inf}, "`tangent` passed to InjectedError must be finite"),
        ({"units": "meters"}, "`units` passed to InjectedError"),
        ({"normal_direction": [0.0, 0.0]},
         r"`normal_direction` passed to InjectedError must be a nonzero vector \(a reference "
         r"direction, normalized to unit length\); got the zero vector of shape \(2,\)\.$"),
        ({"tangent_direction": np.zeros(2)}, r"`tangent_direction`.*got the zero vector"),
        ({"tangent_direction": [1.0, 0.0, 0.0]},
         r"`tangent_direction` passed to InjectedError must be a nonzero vector of shape \(2,\)"
         r".*got shape \(3,\)\.$"),
    ],
)
def test_bad_arguments(kwargs, match):
    p, ridge = _setup()
    with pytest.raises(rt.RidgeTheoryError, match=match):
        rt.InjectedError(p, ridge, **kwargs)


def test_ridge_of_another_density_is_rejected():
    p, _ = _setup()
    q, ridge_q = _setup(np.array([[1.0, 1.0]]))
    with pytest.raises(rt.RidgeTheoryError, match="`ridge` passed to InjectedError"):
        rt.InjectedError(p, ridge_q, normal=1.0)
