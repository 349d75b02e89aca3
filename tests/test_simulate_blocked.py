"""The blocked GEMM path of the empirical score (issue 14): against the numpy reference and
the fused kernel, the rule that picks it, float32 against float64."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ridgetheory as rt
from ridgetheory import BackendUnavailable, RidgeTheoryError, backend_status
from ridgetheory.simulate import kernels_blocked as kb
from ridgetheory.simulate.spec import kernel_inputs

needs_numba = pytest.mark.skipif(not backend_status("numba").available,
                                 reason="numba is not importable here")
EPS = np.finfo(np.float64).eps
GRID = rt.grids.exponential(1.0, 0.1, 2)  # the empirical inputs do not depend on the grid


def _data(n, D, seed=0, scale=2.0):
    return np.random.default_rng(seed).standard_normal((n, D)) * scale


def _workspace(data, dtype=np.float64):
    return kb.Workspace(kernel_inputs(rt.SmoothedEmpirical(data), "empirical", GRID, dtype))


def _blocked_score(data, y, t, dtype=np.float64):
    proc = rt.OU()
    a, h = float(proc.alpha(np.array([t]))[0]), float(proc.h(np.array([t]))[0])
    work = _workspace(data, dtype)
    out = np.empty(y.shape, dtype=dtype)
    kb.score(np.ascontiguousarray(y, dtype=dtype), a, h, out, work)
    return out, a, h


@needs_numba
@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 300), D=st.integers(1, 40), M=st.integers(1, 700),
       t=st.floats(1e-3, 5.0), seed=st.integers(0, 2**31 - 1))
def test_blocked_score_matches_the_numpy_reference(n, D, M, t, seed):
    data = _data(n, D, seed)
    rng = np.random.default_rng(seed + 1)
    p = rt.SmoothedEmpirical(data)
    a0 = math.exp(-t)
    # queries near the data (concentrated posteriors) and far from it
    y = a0 * data[rng.integers(0, n, M)] + rng.standard_normal((M, D)) * rng.uniform(0.01, 3)
    ref = p.score(y, t)
    got, a, h = _blocked_score(data, y, t)
    # the blocked path forms a U / tot - y without the anchor: its rounding is a few ulps
    # of |y| + a |x|_max per coordinate, over h; the weights carry a few ulps of the logits
    logit = (a / h) * np.abs(y) @ np.abs(data).T.max(axis=1, keepdims=True)
    scale = (np.abs(y).max(axis=1, keepdims=True) + a * np.abs(data).max()) / h
    tol = 64 * EPS * scale * (1.0 + D) + 64 * EPS * logit * np.abs(data).max() * a / h
    assert np.all(np.abs(got - ref) <= tol + 1e-12 * np.abs(ref))


@needs_numba
def test_blocked_score_spans_blocks_and_one_point():
    data = _data(3000, 33, 4)  # block_rows gives 174 rows: 1000 queries span 6 blocks
    work = _workspace(data)
    assert 32 <= work.Q < 1000
    y = data[:1000] * 0.9 + 0.05
    got, _, _ = _blocked_score(data, y, 0.1)
    ref = rt.SmoothedEmpirical(data).score(y, 0.1)
    assert np.max(np.abs(got - ref)) <= 1e-9 * np.max(np.abs(ref))
    # a single training point: the score is (a x - y)/h exactly up to rounding
    one = np.array([[1.0, -2.0]])
    got, a, h = _blocked_score(one, np.array([[0.3, 0.4], [5.0, -7.0]]), 0.5)
    want = (a * one - np.array([[0.3, 0.4], [5.0, -7.0]])) / h
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("n, D, dtype, path", [
    (2000, 16, np.float64, "gemm"),
    (10**6, 2, np.float64, "gemm"),
    (999, 1024, np.float64, "fused"),
    (1000, 1, np.float64, "gemm"),
    (3, 2, np.float64, "fused"),
    (3, 2, np.float32, "gemm"),
])
def test_choose_path_states_its_rule(n, D, dtype, path):
    got, why = kb.choose_path(n, D, np.dtype(dtype))
    assert got == path
    assert ("float32" in why) if dtype == np.float32 else (f"n = {n}" in why)


@needs_numba
@pytest.mark.parametrize("method", ["em", "exponential", "heun-ode", "euler-ode"])
def test_gemm_path_through_simulate_matches_numpy(method):
    p = rt.SmoothedEmpirical(_data(1100, 32, 2))
    grid = rt.grids.exponential(5.0, 1e-2, 25)
    kw = dict(n=60, grid=grid, method=method, seed=3, progress=False)
    ref = rt.simulate(p, backend="numpy", **kw)
    out = rt.simulate(p, backend="numba", **kw)
    assert out.meta["score_path"] == "gemm"
    assert "n = 1100 >= 1000" in out.meta["score_path_why"]
    assert ref.meta["score_path"] == "reference"
    scale = 1.0 + np.max(np.abs(ref.final))
    assert np.max(np.abs(out.final - ref.final)) / scale < 1e-10


@needs_numba
def test_fused_path_recorded_and_chunks_do_not_change_the_gemm_path():
    small = rt.simulate(rt.SmoothedEmpirical(_data(5, 2)), n=10, grid=rt.grids.exponential(
        2.0, 0.1, 5), backend="numba", seed=0, progress=False)
    assert small.meta["score_path"] == "fused" and small.meta["dtype"] == "float64"
    p = rt.SmoothedEmpirical(_data(1100, 32, 5))
    kw = dict(n=300, grid=rt.grids.exponential(5.0, 1e-2, 10), method="em", seed=9,
              progress=False, backend="numba")
    whole = rt.simulate(p, **kw)
    parts = rt.simulate(p, chunk=47, **kw)
    # the noise is a function of (seed, trajectory, step); a GEMM's rounding may depend on
    # the block's shape, so the chunks agree to rounding, not bit for bit
    assert np.max(np.abs(whole.final - parts.final)) < 1e-11 * (1 + np.max(np.abs(whole.final)))


@needs_numba
def test_float32_runs_the_blocked_path_close_to_float64():
    data = _data(400, 8, 7)
    p64 = rt.SmoothedEmpirical(data)
    p32 = rt.SmoothedEmpirical(data, dtype=np.float32)
    grid = rt.grids.exponential(10.0, 1e-2, 100)
    kw = dict(n=400, grid=grid, method="em", seed=1, progress=False)
    r64 = rt.simulate(p64, backend="numba", **kw)
    r32 = rt.simulate(p32, backend="numba", **kw)
    n32 = rt.simulate(p32, backend="numpy", **kw)
    assert r32.final.dtype == np.float32 and r32.meta["dtype"] == "float32"
    assert r32.meta["score_path"] == "gemm" and "float32" in r32.meta["score_path_why"]
    assert n32.final.dtype == np.float32
    # same noise, same SDE: trajectories end on the same training point
    near64 = rt.measure.nearest_training(r64.final, data, k=1)[0][:, 0]
    near32 = rt.measure.nearest_training(r32.final.astype(np.float64), data, k=1)[0][:, 0]
    assert np.mean(near64 == near32) >= 0.98
    diff = np.abs(r32.final.astype(np.float64) - r64.final)
    assert np.median(diff) < 1e-3
    # and the numba float32 path agrees with the numpy float32 reference as closely
    assert np.median(np.abs(r32.final - n32.final)) < 1e-3


def test_dtype_must_match_the_score():
    p = rt.SmoothedEmpirical(_data(4, 2))
    with pytest.raises(RidgeTheoryError, match="`dtype` passed to simulate must be the "
                                               "score's dtype float64"):
        rt.simulate(p, n=3, grid=rt.grids.exponential(1.0, 0.1, 3), seed=0,
                    dtype=np.float32, progress=False)
    with pytest.raises(RidgeTheoryError, match="`dtype` passed to simulate"):
        rt.simulate(p, n=3, grid=rt.grids.exponential(1.0, 0.1, 3), seed=0,
                    dtype=np.int32, progress=False)


def test_float32_has_no_cupy_or_mixture_kernel():
    p32 = rt.SmoothedEmpirical(_data(4, 2), dtype=np.float32)
    with pytest.raises(BackendUnavailable, match="no cupy kernel"):
        rt.simulate(p32, n=3, grid=rt.grids.exponential(1.0, 0.1, 3), seed=0,
                    backend="cupy", progress=False)
    g32 = rt.GaussianMixture(np.array([[0.0], [1.0]]), np.array([0.1, 0.1]),
                             dtype=np.float32)
    with pytest.raises(BackendUnavailable, match="no numba kernel"):
        rt.simulate(g32, n=3, grid=rt.grids.exponential(1.0, 0.1, 3), seed=0,
                    backend="numba", progress=False)
    out = rt.simulate(g32, n=3, grid=rt.grids.exponential(1.0, 0.1, 3), seed=0,
                      progress=False)
    assert out.meta["backend"] == "numpy" and out.final.dtype == np.float32
