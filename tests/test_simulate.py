"""rt.simulate: API, input errors, backend agreement, batch invariance, reproducibility."""

from __future__ import annotations

import os

import numpy as np
import pytest

import ridgetheory as rt
from ridgetheory import BackendUnavailable, RidgeTheoryError, backend_status
from ridgetheory.protocol import AbstractScoreModel
from ridgetheory.simulate import SCHEMES, Trajectories, simulate

METHODS = ("em", "exponential", "heun-ode", "euler-ode")
numba_ok = backend_status("numba").available
cupy_status = backend_status("cupy")
needs_numba = pytest.mark.skipif(not numba_ok, reason="numba is not importable here")
needs_gpu = pytest.mark.skipif(not cupy_status.available,
                               reason=f"no usable GPU: {cupy_status.detail}")


def _two_points():
    return rt.SmoothedEmpirical(np.array([[-2.0, 0.0], [2.0, 0.5]]))


def _empirical(n=40, D=3, seed=0):
    return rt.SmoothedEmpirical(np.random.default_rng(seed).standard_normal((n, D)) * 2.0)


def _gmm():
    means = np.array([[-3.0, 0.0], [2.0, 2.0], [1.0, -3.0]])
    return rt.GaussianMixture(means, np.array([0.05, 0.3, 0.1]), np.array([0.2, 0.3, 0.5]))


class StandInRF(AbstractScoreModel):
    """A random-feature score written independently of the kernels (numpy, in the test).

    Same attributes as the package's random-feature score: Wx (p, D), time_bias(t) (p,),
    A_eff (D, p), activation, parametrization, process; it declares the capability.
    """

    fused_kernel = "rf"

    def __init__(self, p, D, activation, parametrization, seed=0):
        rng = np.random.default_rng(seed)
        self.Wx = rng.standard_normal((p, D)) / np.sqrt(D)
        self.Wt = rng.standard_normal((p, 3)) / np.sqrt(3)
        self.b = rng.standard_normal(p)
        self.A_eff = rng.standard_normal((D, p)) / np.sqrt(p)
        self.activation, self.parametrization = activation, parametrization
        self.process, self.dim = rt.OU(), D

    def time_bias(self, t):
        return self.Wt @ np.array([1.0, np.sin(t), np.cos(t)]) + self.b

    def _score(self, x, t):
        u = x @ self.Wx.T + np.stack([self.time_bias(tt) for tt in t])
        if self.activation == "relu":
            u = np.maximum(u, 0.0)
        elif self.activation == "tanh":
            u = np.tanh(u)
        else:
            u = 1.0 / (1.0 + np.exp(-u))
        out = u @ self.A_eff.T
        if self.parametrization == "score":
            return out
        return (out - x) / self.process.h(t)[:, None]


def _agree(a, b, tol=1e-12):
    """max |a - b| relative to the size of the states."""
    return np.max(np.abs(a - b)) <= tol * (1.0 + np.max(np.abs(a)))


# -- API ------------------------------------------------------------------------------------
def test_result_fields_and_meta():
    grid = rt.grids.exponential(3.0, 1e-2, 30)
    out = simulate(_two_points(), n=25, grid=grid, backend="numpy", seed=1,
                   save_at=[grid[10], grid[0], grid[-1]], progress=False)
    assert isinstance(out, Trajectories)
    assert out.states.shape == (3, 25, 2) and out.final.shape == (25, 2)
    assert np.array_equal(out.times, grid[[0, 10, 30]])  # grid order
    assert np.array_equal(out.states[-1], out.final)
    assert out.meta["backend"] == "numpy" and out.meta["method"] == "exponential"
    assert out.meta["seed"] == 1 and out.meta["wall_time"] > 0 and out.status == "ok"
    assert set(SCHEMES) == set(METHODS)


def test_default_method_is_the_recommended_exponential_integrator():
    import inspect
    import re
    from pathlib import Path

    from ridgetheory.simulate import compare_backends

    # docs/integrators.md, "How to choose": the scheme recommended for sampling
    page = (Path(__file__).resolve().parents[1] / "docs" / "integrators.md").read_text()
    advice = page.split("## How to choose", 1)[1]
    recommended = re.search(r'at scale: .*?method="([a-z-]+)"', advice, re.S).group(1)
    assert recommended == "exponential"
    for f in (simulate, compare_backends):
        assert inspect.signature(f).parameters["method"].default == recommended
    grid = rt.grids.exponential(3.0, 1e-2, 30)
    kw = dict(n=20, grid=grid, backend="numpy", seed=4, progress=False)
    plain = simulate(_two_points(), **kw)
    assert plain.meta["method"] == recommended
    assert np.array_equal(plain.final, simulate(_two_points(), method=recommended, **kw).final)
    assert not np.allclose(plain.final, simulate(_two_points(), method="em", **kw).final)


def test_start_state_is_counter_based_standard_normal():
    from ridgetheory.simulate.noise import INIT_STEP, normals

    grid = rt.grids.linear(1.0, 0.5, 2)
    out = simulate(_two_points(), n=7, grid=grid, backend="numpy", seed=9, save_at=[1.0],
                   progress=False)
    assert np.array_equal(out.states[0], normals(9, np.arange(7), INIT_STEP, 2))


def test_saved_states_equal_a_run_stopped_there():
    # noise is indexed by the global step, so a run on grid[:k+1] is a prefix of the full run
    dens = _two_points()
    grid = rt.grids.exponential(3.0, 1e-2, 40)
    full = simulate(dens, n=30, grid=grid, backend="numpy", seed=2, save_at=grid[17],
                    progress=False)
    short = simulate(dens, n=30, grid=grid[:18], backend="numpy", seed=2, progress=False)
    assert np.array_equal(full.states[0], short.final)


def test_generic_callable_runs_on_numpy_and_matches_the_density():
    dens = _empirical()
    grid = rt.grids.exponential(3.0, 1e-2, 20)
    y0 = np.random.default_rng(1).standard_normal((15, 3))
    ref = simulate(dens, y0=y0, grid=grid, backend="numpy", seed=3, progress=False)
    out = simulate(dens._score, rt.OU(), y0=y0, grid=grid, backend="auto", seed=3,
                   progress=False)
    assert out.meta["backend"] == "numpy" and out.meta["score_kind"] == "generic"
    assert np.array_equal(ref.final, out.final)


@needs_numba
def test_auto_records_its_choice():
    out = simulate(_two_points(), n=5, grid=rt.grids.linear(1.0, 0.1, 3), seed=0, progress=False)
    assert out.meta["backend"] == ("cupy" if cupy_status.available else "numba")
    assert out.meta["backend_requested"] == "auto"


def test_progress_bar_is_silent_when_stderr_is_not_a_terminal(capsys):
    simulate(_two_points(), n=5, grid=rt.grids.linear(1.0, 0.1, 300), backend="numpy", seed=0,
             progress=True)
    assert capsys.readouterr().err == ""


# -- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(grid=np.array([1.0, 2.0, 0.5])), "strictly decreasing"),
        (dict(grid=np.array([1.0, 0.5, 0.0])), "t_min > 0"),
        (dict(grid=np.array([1.0, 0.5, -0.1])), "t_min > 0"),
        (dict(save_at=[0.77]), "`save_at`"),
        (dict(n=None, y0=np.zeros((4, 3))), "`y0`"),
        (dict(n=3, y0=np.zeros((4, 2))), "`n`"),
        (dict(backend="torch"), "`backend`"),
        (dict(method="rk4"), "`method`"),
        (dict(seed=None), "`seed`"),
        (dict(chunk=0), "`chunk`"),
        (dict(process=rt.VE()), "`process`"),
        (dict(n=None), "`n`"),
    ],
)
def test_bad_input_is_named(kwargs, match):
    args = dict(n=4, grid=rt.grids.linear(1.0, 0.5, 5), backend="numpy", seed=0,
                progress=False)
    args.update(kwargs)
    process = args.pop("process", None)
    with pytest.raises(RidgeTheoryError, match=match):
        simulate(_two_points(), process, **args)


def test_callable_without_dim_needs_y0_and_process():
    with pytest.raises(RidgeTheoryError, match="`process`"):
        simulate(lambda x, t: -x, n=3, grid=rt.grids.linear(1.0, 0.5, 2), seed=0)
    with pytest.raises(RidgeTheoryError, match="`y0`"):
        simulate(lambda x, t: -x, rt.OU(), n=3, grid=rt.grids.linear(1.0, 0.5, 2), seed=0)
    with pytest.raises(RidgeTheoryError, match="shape"):
        simulate(lambda x, t: x[:, :1], rt.OU(), y0=np.zeros((3, 2)),
                 grid=rt.grids.linear(1.0, 0.5, 2), seed=0, progress=False)


def test_no_silent_backend_change():
    grid = rt.grids.linear(1.0, 0.5, 2)
    with pytest.raises(BackendUnavailable, match="numpy"):
        simulate(lambda x, t: -x, rt.OU(), y0=np.zeros((3, 2)), grid=grid, seed=0,
                 backend="numba")
    with pytest.raises(BackendUnavailable, match="`noise`"):
        simulate(_two_points(), n=2, grid=grid, seed=0, backend="numba",
                 noise=np.zeros((2, 2, 2)))


@pytest.mark.skipif(cupy_status.available, reason="a GPU is usable here")
def test_cupy_without_gpu_raises_with_the_reason():
    with pytest.raises(BackendUnavailable, match="cannot run here"):
        simulate(_two_points(), n=2, grid=rt.grids.linear(1.0, 0.5, 2), seed=0, backend="cupy")


# -- backend agreement and batch invariance -------------------------------------------------
def _scores():
    yield "empirical", _empirical(), rt.grids.exponential(4.0, 1e-3, 60)
    yield "gmm", _gmm(), rt.grids.exponential(4.0, 1e-3, 60)
    for act in ("relu", "tanh", "sigmoid"):
        for param in ("denoiser", "score"):
            yield f"rf-{act}-{param}", StandInRF(30, 3, act, param), rt.grids.exponential(
                2.0, 5e-2, 40)


SCORES = list(_scores())


@needs_numba
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name, score, grid", SCORES, ids=[s[0] for s in SCORES])
def test_numba_matches_numpy_reference(name, score, grid, method):
    kw = dict(n=64, grid=grid, method=method, seed=5, save_at=grid[len(grid) // 2],
              progress=False)
    ref = simulate(score, backend="numpy", **kw)
    out = simulate(score, backend="numba", **kw)
    assert out.meta["backend"] == "numba"
    assert np.all(np.isfinite(ref.final))
    assert _agree(ref.final, out.final) and _agree(ref.states, out.states)


@needs_numba
def test_numba_matches_near_training_points_at_small_t():
    # the anchored offset: trajectories end within ~sqrt(h) of training points at t = 1e-4
    dens = rt.SmoothedEmpirical(np.array([[0.0, 0.0], [1e-3, 0.0], [3.0, 1.0], [3.0, 1.001]]))
    grid = rt.grids.exponential(3.0, 1e-4, 300)
    kw = dict(n=200, grid=grid, method="exponential", seed=2, progress=False)
    ref = simulate(dens, backend="numpy", **kw)
    out = simulate(dens, backend="numba", **kw)
    assert np.max(np.abs(ref.final - out.final)) < 1e-12


@needs_numba
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_batch_chunk_and_thread_invariance(backend):
    # numba: bit for bit. numpy: the noise is identical, but BLAS sums in the density's
    # score depend on the batch shape, so agreement is to rounding.
    import numba

    same = np.array_equal if backend == "numba" else _agree
    dens = _empirical(n=25, D=2)
    grid = rt.grids.exponential(3.0, 1e-2, 30)
    kw = dict(grid=grid, backend=backend, seed=8, progress=False)
    full = simulate(dens, n=50, **kw).final
    assert same(simulate(dens, n=50, chunk=7, **kw).final, full)
    assert same(simulate(dens, n=13, **kw).final, full[:13])
    old = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        assert same(simulate(dens, n=50, **kw).final, full)
    finally:
        numba.set_num_threads(old)


def test_reproducible_and_seed_sensitive():
    dens = _two_points()
    kw = dict(n=20, grid=rt.grids.exponential(3.0, 1e-2, 20), backend="numpy", progress=False)
    a, b, c = (simulate(dens, seed=s, **kw).final for s in (4, 4, 5))
    assert np.array_equal(a, b) and not np.any(a == c)


def test_ode_from_given_start_needs_no_seed():
    y0 = np.array([[0.3, -0.2]])
    out = simulate(_two_points(), y0=y0, grid=rt.grids.exponential(3.0, 1e-2, 20),
                   method="heun-ode", backend="numpy", progress=False)
    assert out.meta["seed"] is None and np.all(np.isfinite(out.final))


@needs_numba
def test_numba_memory_does_not_scale_with_trajectories_times_points():
    import tracemalloc

    # M x n float64 would be 4000 * 4000 * 8 = 128 MB; states and inputs are ~0.1 MB
    dens = rt.SmoothedEmpirical(np.random.default_rng(0).standard_normal((4000, 2)))
    grid = rt.grids.exponential(2.0, 0.5, 2)
    simulate(dens, n=16, grid=grid, backend="numba", seed=0, progress=False)  # compile
    tracemalloc.start()
    simulate(dens, n=4000, grid=grid, backend="numba", seed=0, progress=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 * 2**20


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name, score, grid", SCORES[:3], ids=[s[0] for s in SCORES[:3]])
def test_cupy_matches_numpy_reference(name, score, grid, method):
    from ridgetheory.simulate.kernels_cupy import CUPY_RTOL

    kw = dict(n=256, grid=grid, method=method, seed=5, progress=False)
    ref = simulate(score, backend="numpy", **kw)
    out = simulate(score, backend="cupy", **kw)
    assert _agree(ref.final, out.final, CUPY_RTOL)


@needs_numba
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("parametrization", ["denoiser", "score"])
def test_numba_matches_numpy_for_the_package_random_feature_score(activation, parametrization):
    rf = pytest.importorskip("ridgetheory.random_features")
    if not hasattr(rf, "RandomFeatureScore"):
        pytest.skip("RandomFeatureScore has not landed")
    model = rf.RandomFeatureModel(40, K=4, T=5.0, activation=activation,
                                  parametrization=parametrization, dim=2, seed=0)
    A_eff = np.random.default_rng(1).standard_normal((2, 40)) / np.sqrt(40)
    score = rf.RandomFeatureScore(model, A_eff, rt.OU())
    kw = dict(n=64, grid=rt.grids.exponential(2.0, 5e-2, 40), method="em", seed=3,
              progress=False)
    ref = simulate(score, backend="numpy", **kw)
    out = simulate(score, backend="numba", **kw)
    assert out.meta["score_kind"] == "rf"
    assert _agree(ref.final, out.final)


def _two_mode_final():
    p = rt.SmoothedEmpirical(np.array([[-3.0, 0.0], [3.0, 0.0]]))
    return rt.simulate(p, n=4096, grid=rt.grids.exponential(2.0, 0.05, 20), seed=5,
                       backend="numba", method="em", progress=False).final


@pytest.mark.skipif(not hasattr(os, "fork") or not backend_status("numba").available,
                    reason="needs fork and numba")
def test_numba_kernels_run_in_a_forked_child_after_the_parent_used_them():
    """The kernels' thread pool (backend.run_blocks) is not inherited across fork: a child of
    a process that already sampled samples too (multiprocessing's default on Linux), and
    gets the parent's numbers."""
    import multiprocessing

    want = _two_mode_final()  # the parent's pool exists from here on
    with multiprocessing.get_context("fork").Pool(1) as pool:
        got = pool.apply_async(_two_mode_final).get(timeout=120)
    np.testing.assert_array_equal(got, want)
