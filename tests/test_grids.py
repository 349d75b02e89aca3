"""Time grids: endpoints, monotonicity, spacing laws and checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ridgetheory as rt

KINDS = [rt.grids.exponential, rt.grids.linear, rt.grids.cosine]


@given(
    st.sampled_from(KINDS),
    st.floats(0.5, 40.0),
    st.floats(1e-5, 0.4),
    st.integers(1, 500),
)
def test_grids_are_decreasing_from_T_to_tmin(kind, T, t_min, steps):
    g = kind(T, t_min, steps)
    assert g.dtype == np.float64 and g.shape == (steps + 1,)
    assert g[0] == T and g[-1] == t_min
    assert np.all(np.diff(g) < 0)
    rt.grids.check_grid(g, "test")


def test_exponential_is_geometric_and_linear_is_uniform():
    g = rt.grids.exponential(10.0, 1e-3, 8)
    ratios = g[:-1] / g[1:]
    np.testing.assert_allclose(ratios, (10.0 / 1e-3) ** (1 / 8), rtol=1e-12)
    lin = rt.grids.linear(2.0, 0.5, 3)
    np.testing.assert_allclose(lin, [2.0, 1.5, 1.0, 0.5])


def test_cosine_is_dense_at_both_ends():
    g = rt.grids.cosine(1.0, 0.01, 100)
    d = -np.diff(g)
    assert d[0] < d[50] / 10 and d[-1] < d[50] / 10


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: rt.grids.exponential(1.0, 0.0, 10), "`t_min` passed to grids.exponential"),
        (lambda: rt.grids.linear(1.0, 2.0, 10), "`t_min` passed to grids.linear must be < T"),
        (lambda: rt.grids.cosine(1.0, 0.1, 0), "`steps` passed to grids.cosine"),
        (
            lambda: rt.grids.cosine(1.0, 0.1, 2.0),
            "`steps` passed to grids.cosine must be an integer",
        ),
        (lambda: rt.grids.check_grid([1.0, 1.0, 0.5], "f"), "strictly decreasing"),
        (lambda: rt.grids.check_grid([1.0, 0.5, 0.0], "f"), "t_min > 0"),
        (lambda: rt.grids.check_grid([[1.0, 0.5]], "f"), "rank 1"),
    ],
)
def test_bad_grids_raise(call, match):
    with pytest.raises(rt.RidgeTheoryError, match=match):
        call()


def test_check_grid_names_itself_unless_told_where():
    g = rt.grids.check_grid([2.0, 1.0, 0.5])
    assert g.dtype == np.float64 and g.tolist() == [2.0, 1.0, 0.5]
    with pytest.raises(rt.RidgeTheoryError,
                       match=r"^`grid` passed to grids.check_grid must be strictly decreasing"):
        rt.grids.check_grid([1.0, 1.0, 0.5])
    with pytest.raises(rt.RidgeTheoryError, match=r"^`times` passed to my_sampler must end at"):
        rt.grids.check_grid([1.0, 0.0], "my_sampler", "times")
