"""Counter-based normals: purity, batch invariance, backend identity and statistical sanity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from ridgetheory import RidgeTheoryError, backend_status
from ridgetheory.simulate.noise import INIT_STEP, cos2pi, log01, normals, seed_key

numba_ok = backend_status("numba").available
needs_numba = pytest.mark.skipif(not numba_ok, reason="numba is not importable here")


@given(
    seed=st.integers(0, 2**63 - 1),
    step=st.integers(0, INIT_STEP),
    dim=st.integers(1, 5),
    picks=st.lists(st.integers(0, 10**12), min_size=1, max_size=20),
)
def test_normals_are_a_pure_function_of_the_counter(seed, step, dim, picks):
    # A trajectory's numbers do not depend on which other trajectories are in the batch,
    # nor on their order.
    idx = np.array(picks, dtype=np.int64)
    batch = normals(seed, idx, step, dim)
    for pos in range(idx.shape[0]):
        single = normals(seed, idx[pos : pos + 1], step, dim)
        assert np.array_equal(single[0], batch[pos])
    rev = normals(seed, idx[::-1].copy(), step, dim)
    assert np.array_equal(rev[::-1], batch)


def test_normals_depend_on_every_part_of_the_counter():
    base = normals(3, np.arange(50), 7, 4)
    for other in (normals(4, np.arange(50), 7, 4), normals(3, np.arange(1, 51), 7, 4),
                  normals(3, np.arange(50), 8, 4)):
        assert not np.any(base == other)
    # more coordinates: the first ones do not change
    assert np.array_equal(normals(3, np.arange(50), 7, 6)[:, :4], base)


def test_polynomial_log_and_cos_match_the_math_library():
    u = np.random.default_rng(0).random(200_000)
    u = np.concatenate([u, [1.0, 2.0**-53, 0.5, np.sqrt(0.5), 0.125, 0.25, 0.75]])
    assert np.max(np.abs(log01(u) - np.log(u)) / np.maximum(1.0, np.abs(np.log(u)))) < 4e-16
    assert log01(np.array([1.0]))[0] == 0.0
    v = u[u < 1.0]
    assert np.max(np.abs(cos2pi(v) - np.cos(2.0 * np.pi * v))) < 1e-15


def test_normals_statistics():
    # 400 000 draws across trajectories, steps and coordinates
    z = np.stack([normals(11, np.arange(20_000), step, 4) for step in range(5)])  # (5, M, 4)
    flat = z.reshape(-1)
    se = 1.0 / np.sqrt(flat.size)
    assert abs(flat.mean()) < 4.5 * se
    assert abs(flat.var() - 1.0) < 4.5 * np.sqrt(2.0) * se
    assert stats.kstest(flat, "norm").pvalue > 1e-3
    assert abs(stats.kurtosis(flat)) < 4.5 * np.sqrt(24.0) * se
    # neighbouring counters are uncorrelated: coordinates, steps, trajectories
    pairs = [
        (z[:, :, 0], z[:, :, 1]),
        (z[0], z[1]),
        (z[:, :-1, :], z[:, 1:, :]),
    ]
    for x, y in pairs:
        r = np.corrcoef(x.reshape(-1), y.reshape(-1))[0, 1]
        assert abs(r) < 4.5 / np.sqrt(x.size)


def test_normals_reject_bad_input():
    with pytest.raises(RidgeTheoryError, match="`traj`"):
        normals(0, np.array([-1]), 0, 2)
    with pytest.raises(RidgeTheoryError, match="`traj`"):
        normals(0, np.array([0.5]), 0, 2)
    with pytest.raises(RidgeTheoryError, match="`step`"):
        normals(0, np.arange(2), INIT_STEP + 1, 2)
    with pytest.raises(RidgeTheoryError, match="`seed`"):
        normals(-1, np.arange(2), 0, 2)


@needs_numba
@given(seed=st.integers(0, 2**63 - 1), step=st.integers(0, INIT_STEP), dim=st.integers(1, 4))
def test_numba_normals_are_bit_identical(seed, step, dim):
    from ridgetheory.simulate.kernels_numba import normals_numba

    idx = np.array([0, 1, 2, 999, 10**9, 2**62], dtype=np.int64)
    a = normals(seed, idx, step, dim)
    b = normals_numba(np.uint64(seed_key(seed)), idx, step, dim)
    assert np.array_equal(a, b)


@pytest.mark.gpu
@pytest.mark.skipif(not backend_status("cupy").available,
                    reason=f"no usable GPU: {backend_status('cupy').detail}")
def test_cupy_normals_are_bit_identical():
    from ridgetheory.simulate.kernels_cupy import normals_cupy

    idx = np.arange(10_000, dtype=np.int64)
    assert np.array_equal(normals(5, idx, 12, 3), normals_cupy(seed_key(5), idx, 12, 3))


def test_start_states_drawn_in_slices_are_the_counter_draw(monkeypatch):
    """The initial N(0, I) is drawn in bounded slices (memory); the numbers are the
    counter-based draw of each trajectory whatever the slice size."""
    import ridgetheory as rt
    from ridgetheory.simulate import api

    p = rt.SmoothedEmpirical(np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 0.5]]))
    grid = rt.grids.exponential(1.0, 0.5, 1)
    monkeypatch.setattr(api, "_INIT_SLICE", 7)  # 2 trajectories a slice in D = 3
    got = rt.simulate(p, n=11, grid=grid, backend="numpy", seed=5, progress=False,
                      save_at=grid).states[0]
    np.testing.assert_array_equal(got, normals(5, np.arange(11), INIT_STEP, 3))
