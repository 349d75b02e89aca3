"""Measurements: nearest training points, memorization fraction, mode counts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ridgetheory import RidgeTheoryError
from ridgetheory.measure import memorization_fraction, mode_counts, nearest_training
from ridgetheory.testing import coordinates


@given(
    hnp.arrays(np.float64, (7, 3), elements=coordinates()),
    hnp.arrays(np.float64, (5, 3), elements=coordinates()),
    st.integers(1, 5),
)
def test_nearest_matches_brute_force(x, y, k):
    idx, dist = nearest_training(x, y, k=k, chunk=3)
    brute = np.linalg.norm(x[:, None] - y[None], axis=2)
    np.testing.assert_allclose(dist, np.sort(brute, axis=1)[:, :k], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(brute[np.arange(7)[:, None], idx], dist, rtol=1e-12, atol=1e-12)


def test_memorization_fraction_and_interval():
    train = np.array([[0.0, 0.0], [6.0, 0.0]])
    rng = np.random.default_rng(0)
    near = rng.normal(scale=0.1, size=(300, 2))  # ratio ~ 0.1/6: memorized
    mid = np.column_stack([rng.uniform(2.5, 3.5, 100), rng.normal(size=100) * 0.1])  # ratio ~ 1
    res = memorization_fraction(np.vstack([near, mid]), train, n_boot=500, seed=1)
    assert res["fraction"] == pytest.approx(0.75)
    assert res["low"] <= 0.75 <= res["high"]
    # a 95% interval of a proportion with n = 400: about +-1.96 sqrt(p(1-p)/n) = +-0.042
    assert 0.03 < res["high"] - res["low"] < 0.12


def test_memorization_needs_two_points():
    with pytest.raises(RidgeTheoryError, match="`train` passed to memorization_fraction"):
        memorization_fraction(np.zeros((3, 2)), np.zeros((1, 2)))


def test_mode_counts():
    c = mode_counts(
        np.array([[0.1, 0.0], [5.2, 0.1], [2.5, 0.0], [0.0, 0.4]]),
        np.array([[0.0, 0.0], [5.0, 0.0]]),
        radius=0.5,
    )
    np.testing.assert_array_equal(c, [2, 1])
