"""ridgetheory.testing: every strategy keeps its contract, checks its arguments, and what it
draws prints as code that rebuilds it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ridgetheory as rt
from ridgetheory import testing as T
from ridgetheory.testing import ridgetheory_warm  # noqa: F401 - the session fixture


def pairwise_min(X):
    if len(X) < 2:
        return np.inf
    d = np.linalg.norm(X[:, None, :] - X[None, :, :], axis=-1)
    return d[~np.eye(len(X), dtype=bool)].min()


# -- arrays and numbers ---------------------------------------------------------------------
@given(st.data())
def test_datasets_shapes_box_and_separation(data):
    lo = data.draw(st.integers(1, 6), "min_points")
    hi = data.draw(st.integers(lo, 9), "max_points")
    D = data.draw(st.integers(1, 4), "dim")
    scale = data.draw(st.sampled_from([0.05, 1.0, 5.0]), "scale")
    sep = data.draw(st.sampled_from([1e-4, 1e-3, scale / (4 * hi)]), "separation")
    X = data.draw(T.datasets(lo, hi, dim=D, scale=scale, separation=sep))
    assert X.dtype == np.float64 and X.ndim == 2 and X.shape[1] == D
    assert lo <= X.shape[0] <= hi
    assert np.all(np.isfinite(X)) and np.abs(X).max() <= scale
    assert pairwise_min(X) >= sep


@settings(max_examples=100)
@given(T.datasets(min_points=8, max_points=8, dim=1, scale=0.05))
def test_eight_points_in_a_narrow_interval_pass_the_health_check(X):
    # with rejection sampling this case failed hypothesis' health check (27-41 % rejected)
    assert X.shape == (8, 1) and np.abs(X).max() <= 0.05
    assert pairwise_min(X) >= 1e-3


@given(T.datasets(min_points=2, max_points=4, dim=2, distinct=False))
def test_datasets_without_distinctness_draw_free_coordinates(X):
    assert X.shape[1] == 2 and 2 <= X.shape[0] <= 4 and np.abs(X).max() <= 5.0


@given(T.processes(), st.data())
def test_times_are_positive_and_below_the_horizon(proc, data):
    low = data.draw(st.sampled_from([1e-6, 0.02, 0.3]))
    t = data.draw(T.times(proc, low=low))
    assert isinstance(t, float) and 0 < low <= t <= 3.0
    assert t <= 0.9 * proc.t_max


@given(st.integers(1, 5), st.data())
def test_query_points_shapes(D, data):
    x = data.draw(T.query_points(D, 2, 3, scale=2.0))
    assert x.dtype == np.float64 and x.shape[1] == D and 2 <= x.shape[0] <= 3
    assert np.abs(x).max() <= 2.0


@given(T.rotations(st.integers(1, 5)))
def test_rotations_are_orthogonal_with_determinant_one(R):
    D = R.shape[0]
    assert R.shape == (D, D) and R.dtype == np.float64
    np.testing.assert_allclose(R @ R.T, np.eye(D), atol=1e-13)
    assert abs(np.linalg.det(R) - 1.0) < 1e-12


@given(T.processes(), st.data())
def test_time_grids_decrease_from_T_to_t_min(proc, data):
    g = data.draw(T.time_grids(proc, min_steps=2, max_steps=9, low=1e-3))
    assert g.dtype == np.float64 and 3 <= g.shape[0] <= 10
    assert np.all(np.diff(g) < 0) and g[-1] >= 1e-3
    assert g[0] >= 2 * g[-1] and g[0] <= 0.9 * proc.t_max
    rt.grids.check_grid(g, "test")


# -- densities and models -------------------------------------------------------------------
@given(T.densities(dim=2, min_points=2, process=T.processes()))
def test_densities_compose_dimension_count_and_process(p):
    assert isinstance(p, rt.SmoothedEmpirical)
    assert p.dim == 2 and 2 <= p.n <= 6
    assert pairwise_min(p.data) >= T.SEPARATION


@given(T.densities(dim=st.integers(2, 3), max_points=3))
def test_densities_take_a_strategy_of_dimensions(p):
    assert p.dim in (2, 3) and p.n <= 3 and p.process == rt.OU()


@given(T.density_and_queries(max_dim=2, max_rows=3, low=0.1, process=T.processes()))
def test_density_and_queries_match(case):
    p, x, t = case
    assert x.shape[1] == p.dim <= 2 and x.shape[0] <= 3
    assert 0.1 <= t <= 0.9 * p.process.t_max


@given(T.gaussian_mixtures(process=T.processes(), min_variance=0.1, max_variance=0.5))
def test_gaussian_mixtures(g):
    assert isinstance(g, rt.GaussianMixture) and 1 <= g.n_components <= 4
    assert np.all((g.variances >= 0.1) & (g.variances <= 0.5))
    assert abs(g.mixture_weights.sum() - 1.0) < 1e-12 and np.all(g.mixture_weights > 0)
    assert pairwise_min(g.means) >= T.SEPARATION


@settings(max_examples=15)
@given(T.random_feature_models(min_features=3, max_features=7), st.data())
def test_random_feature_models_are_fitted_score_models(m, data):
    assert isinstance(m, rt.RandomFeatureScore) and 3 <= m.p <= 7 and m.dim <= 2
    assert m.A_eff.shape == (m.dim, m.p) and np.all(np.isfinite(m.A_eff))
    x = data.draw(T.query_points(m.dim, scale=3.0))
    s = m.score(x, data.draw(T.times(m.process)))
    assert s.shape == x.shape and np.all(np.isfinite(s))


@settings(max_examples=15)
@given(T.injected_errors(max_size=0.5), st.data())
def test_injected_errors_add_a_bounded_designed_error(m, data):
    assert isinstance(m, rt.InjectedError) and m.ridge.density is m.density
    assert abs(m.normal_size) <= 0.5 and abs(m.tangent_size) <= 0.5
    x = data.draw(T.query_points(m.dim, scale=3.0))
    t = data.draw(T.times(m.process, low=0.1))
    e = m.error(x, t)
    np.testing.assert_allclose(m.score(x, t) - m.density.score(x, t), e, atol=1e-12)
    bound = (abs(m.normal_size) + abs(m.tangent_size)) / (
        float(m.process.h(t)) if m.units == "denoiser" else 1.0)
    assert np.all(np.linalg.norm(e, axis=1) <= bound * (1 + 1e-12))


# -- points on the ridge --------------------------------------------------------------------
@settings(max_examples=30)
@given(T.ridge_points(density=T.densities(process=T.processes(), max_points=5)))
def test_ridge_points_are_on_the_ridge(ridgetheory_warm, rp):  # noqa: F811
    p, ridge, t = rp.density, rp.ridge, rp.t
    M = rp.points.shape[0]
    assert M >= 1 and rp.points.shape[1] == p.dim and ridge.density is p
    abs_res, _ = ridge.residual(rp.points, t)
    assert np.all(float(p.process.h(t)) * abs_res <= 2e-9)  # projection tol 1e-9
    assert not rp.frames.undetermined.any() and np.all(rp.frames.curvature < 0)
    assert rp.frames.normal.shape == (M, p.dim, p.dim - ridge.d)
    assert int(rp.projection.converged.sum()) >= M


@settings(max_examples=15)
@given(T.ridge_points(density=T.gaussian_mixtures(dim=2, min_components=2), d=1))
def test_ridge_points_of_mixtures(rp):
    abs_res, _ = rp.ridge.residual(rp.points, rp.t)
    assert rp.ridge.d == 1
    assert np.all(float(rp.density.process.h(rp.t)) * abs_res <= 2e-9)


# -- reprs ----------------------------------------------------------------------------------
def same_scores(a, b, data):
    x = data.draw(T.query_points(a.dim, scale=3.0))
    t = data.draw(T.times(a.process))
    np.testing.assert_array_equal(a.score(x, t), b.score(x, t))


def rebuilt(obj):
    return eval(repr(obj), T.namespace())  # noqa: S307 - the point of the test


def reproduced(obj):
    scope: dict = {}
    exec(obj.reproduce("obj"), scope)  # noqa: S102
    return scope["obj"]


@given(T.densities(process=T.processes()), st.data())
def test_density_repr_evaluates_to_the_same_density(p, data):
    assert repr(p).startswith("SmoothedEmpirical(np.array(")
    q = rebuilt(p)
    np.testing.assert_array_equal(q.data, p.data)
    assert q.process == p.process
    same_scores(p, q, data)
    same_scores(p, reproduced(p), data)


@given(T.gaussian_mixtures(process=T.processes()), st.data())
def test_mixture_repr_evaluates_to_the_same_mixture(g, data):
    same_scores(g, rebuilt(g), data)
    same_scores(g, reproduced(g), data)


@settings(max_examples=10)
@given(T.random_feature_models(process=T.processes()), st.data())
def test_random_feature_repr_evaluates_to_the_same_model(m, data):
    same_scores(m, rebuilt(m), data)
    same_scores(m, reproduced(m), data)
    np.testing.assert_array_equal(rebuilt(m._model).W_tau, m._model.W_tau)


@settings(max_examples=10)
@given(T.injected_errors(), st.data())
def test_injected_error_repr_evaluates_to_the_same_model(m, data):
    assert repr(m).startswith("InjectedError(density := ")
    same_scores(m, rebuilt(m), data)
    same_scores(m, reproduced(m), data)


@given(T.processes())
def test_process_repr_evaluates_to_an_equal_process(proc):
    assert rebuilt(proc) == proc


def test_reprs_of_float32_and_options_round_trip():
    p = rt.SmoothedEmpirical(np.array([[0.1, 1 / 3]]), rt.VE(), dtype=np.float32,
                             memory_budget=4096)
    assert repr(p) == ("SmoothedEmpirical(np.array([[0.10000000149011612, 0.3333333432674408]], "
                       "dtype=np.float32), process=VE(sigma_min=0.01, sigma_max=50.0), "
                       "dtype=np.float32, memory_budget=4096)")
    q = rebuilt(p)
    assert q.dtype == np.float32 and q.memory_budget == 4096
    np.testing.assert_array_equal(q.data, p.data)
    g = rt.GaussianMixture(np.eye(2), [0.1, 0.2], [0.25, 0.75])
    assert "weights=np.array([0.25, 0.75])" in repr(g)
    assert "weights" not in repr(rt.GaussianMixture(np.eye(2), [0.1, 0.2]))


def test_large_objects_print_a_summary_and_reproduce_exactly():
    X = np.random.default_rng(0).standard_normal((60, 2))
    p = rt.SmoothedEmpirical(X, rt.VPCosine())
    assert repr(p) == ("<SmoothedEmpirical n=60, D=2, process=VPCosine(s=0.008, T=1.0); "
                       ".reproduce() rebuilds it>")
    code = p.reproduce()
    assert code.startswith("import numpy as np\nfrom ridgetheory import SmoothedEmpirical, "
                           "VPCosine\n\ndensity = SmoothedEmpirical(np.array([[")
    np.testing.assert_array_equal(reproduced(p).data, X)
    g = rt.GaussianMixture(X, np.ones(60))
    assert repr(g).startswith("<GaussianMixture K=60, D=2")
    np.testing.assert_array_equal(reproduced(g).means, X)


def test_injected_error_with_a_callable_is_not_reproducible():
    p = rt.SmoothedEmpirical(np.array([[-3.0, 0.0], [3.0, 0.0]]))
    m = rt.InjectedError(p, rt.Ridge(p, 1), normal=lambda t: 0.1 * t)
    assert repr(m).startswith("<InjectedError density=SmoothedEmpirical(np.array(")
    assert "not reproducible: `normal` is the callable" in repr(m)
    with pytest.raises(rt.RidgeTheoryError, match="`normal` is the callable"):
        m.reproduce()
    field = rt.InjectedError(p, rt.Ridge(p, 1, gap_rtol=1e-6), tangent=0.3,
                             tangent_direction=rt.injected.rotational([0.0, 1.0]))
    assert "Ridge(density, d=1, gap_rtol=1e-06)" in repr(field)
    x = np.array([[1.0, 0.5], [-2.0, 0.1]])
    np.testing.assert_array_equal(rebuilt(field).score(x, 0.4), field.score(x, 0.4))


# -- argument checks ------------------------------------------------------------------------
BAD = [
    (T.times, dict(low=0.0), "low"),
    (T.times, dict(low=-1.0), "low"),
    (T.times, dict(low=0.5, high=0.1), "high"),
    (T.times, dict(process=rt.VPLinear(), low=0.95), "low"),
    (T.times, dict(process="OU"), "process"),
    (T.coordinates, dict(scale=0.0), "scale"),
    (T.datasets, dict(min_points=0), "min_points"),
    (T.datasets, dict(min_points=3, max_points=2), "max_points"),
    (T.datasets, dict(min_dim=0), "min_dim"),
    (T.datasets, dict(min_dim=3, max_dim=2), "max_dim"),
    (T.datasets, dict(dim=0), "dim"),
    (T.datasets, dict(dim=1.5), "dim"),
    (T.datasets, dict(scale=-1.0), "scale"),
    (T.datasets, dict(separation=0.0), "separation"),
    (T.datasets, dict(max_points=8, dim=1, scale=0.01, separation=1e-2), "separation"),
    (T.datasets, dict(distinct="yes"), "distinct"),
    (T.processes, dict(include_bounded=1), "include_bounded"),
    (T.query_points, dict(dim=0), "dim"),
    (T.query_points, dict(dim=2, min_rows=0), "min_rows"),
    (T.query_points, dict(dim=2, min_rows=3, max_rows=2), "max_rows"),
    (T.query_points, dict(dim=2, scale=0.0), "scale"),
    (T.densities, dict(min_points=0), "min_points"),
    (T.densities, dict(dim=0), "dim"),
    (T.densities, dict(process="VE"), "process"),
    (T.density_and_queries, dict(max_rows=0), "max_rows"),
    (T.density_and_queries, dict(low=0.0), "low"),
    (T.density_and_queries, dict(max_dim=0), "max_dim"),
    (T.gaussian_mixtures, dict(min_components=0), "min_components"),
    (T.gaussian_mixtures, dict(min_variance=0.0), "min_variance"),
    (T.gaussian_mixtures, dict(min_variance=1.0, max_variance=0.5), "max_variance"),
    (T.gaussian_mixtures, dict(uniform=None), "uniform"),
    (T.random_feature_models, dict(min_features=0), "min_features"),
    (T.random_feature_models, dict(K=-1), "K"),
    (T.random_feature_models, dict(max_dim=4), "max_dim"),
    (T.random_feature_models, dict(dim=5), "dim"),
    (T.random_feature_models, dict(activations=("gelu",)), "activations"),
    (T.random_feature_models, dict(parametrizations=("noise",)), "parametrizations"),
    (T.injected_errors, dict(d=-1), "d"),
    (T.injected_errors, dict(max_size=0.0), "max_size"),
    (T.injected_errors, dict(units=("meters",)), "units"),
    (T.injected_errors, dict(density=np.zeros((2, 2))), "density"),
    (T.ridge_points, dict(d=-1), "d"),
    (T.ridge_points, dict(low=0.0), "low"),
    (T.ridge_points, dict(max_rows=0), "max_rows"),
    (T.ridge_points, dict(tol=0.0), "tol"),
    (T.ridge_points, dict(max_iter=0), "max_iter"),
    (T.time_grids, dict(min_steps=0), "min_steps"),
    (T.time_grids, dict(min_steps=4, max_steps=3), "max_steps"),
    (T.time_grids, dict(low=0.0), "low"),
    (T.time_grids, dict(low=1.0, high=1.5), "high"),
    (T.time_grids, dict(process=rt.VE(), low=0.5), "low"),
    (T.time_grids, dict(kinds=("log",)), "kinds"),
    (T.rotations, dict(dim=0), "dim"),
    (T.rotations, dict(dim=None), "dim"),
]


@pytest.mark.parametrize(("strategy", "kwargs", "name"), BAD,
                         ids=[f"{f.__name__}-{k}" for f, k, _ in BAD])
def test_bad_arguments_raise_naming_the_argument(strategy, kwargs, name):
    with pytest.raises(rt.RidgeTheoryError, match=rf"`{name}` passed to "
                       rf"ridgetheory\.testing\.{strategy.__name__} must be"):
        strategy(**kwargs)


def test_a_drawn_bad_value_raises_naming_it():
    @given(T.densities(dim=st.just(0)))
    def draw(p):
        pass

    with pytest.raises(rt.RidgeTheoryError, match="`dim` passed to .*densities"):
        draw()


# -- warm-up --------------------------------------------------------------------------------
def test_warm_kernels_returns_the_time_of_each_call(ridgetheory_warm):  # noqa: F811
    if not rt.backend_status("numba").available:
        assert ridgetheory_warm == {}
        return
    assert ridgetheory_warm and all(v >= 0 for v in ridgetheory_warm.values())
    again = T.warm_kernels()
    assert again.keys() == ridgetheory_warm.keys()


def test_the_fixture_is_a_pytest_plugin(tmp_path):
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["ridgetheory.testing"]\n')
    (tmp_path / "test_user.py").write_text(textwrap.dedent("""
        def test_warm(ridgetheory_warm):
            assert isinstance(ridgetheory_warm, dict)
    """))
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 passed" in out.stdout


def test_a_falsifying_density_prints_as_code_that_rebuilds_it():
    """What hypothesis prints for a failing example is the evaluable repr, not the
    ``st.builds`` call with numpy's rounded array reprs (``array([[1.]])``)."""

    @settings(max_examples=50, database=None)
    @given(T.densities(dim=1, max_points=1))
    def score_vanishes_at_origin(p):
        assert abs(p.score([0.0], 1.0)[0]) < 1e-9

    with pytest.raises(AssertionError) as info:
        score_vanishes_at_origin()
    lines = "\n".join(info.value.__notes__).splitlines()
    text = next(s.strip()[2:-1] for s in lines if s.strip().startswith("p="))
    assert text.startswith("SmoothedEmpirical(np.array(")
    p = eval(text, T.namespace())  # noqa: S307 - the printed example
    assert abs(p.score([0.0], 1.0)[0]) >= 1e-9  # the failure, replayed
