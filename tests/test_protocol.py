"""The score protocol, checked over every score-bearing object (one table, every property).

Properties: shapes follow x, single points match batches, the denoiser-score identity
``m = x + h s``, per-row times equal scalar times, float64 output, and for densities the
score against a finite-difference gradient of log_prob.
"""

from __future__ import annotations

import numpy as np
import pytest

import ridgetheory as rt

DATA = np.array([[-1.0, 0.5], [1.5, -0.5], [0.0, 2.0]])


def _density():
    return rt.SmoothedEmpirical(DATA)


def _models():
    p = _density()
    ridge = rt.Ridge(p, 1)
    models = {
        "SmoothedEmpirical": p,
        "SmoothedEmpirical-VPLinear": rt.SmoothedEmpirical(DATA, rt.VPLinear()),
        "GaussianMixture": rt.GaussianMixture(
            DATA, np.array([0.2, 0.5, 1.0]), np.array([0.2, 0.3, 0.5])
        ),
        "InjectedError": rt.InjectedError(p, ridge, normal=0.3, tangent=0.1),
    }
    try:
        from ridgetheory.random_features import RandomFeatureModel

        fit = RandomFeatureModel(40, K=4, T=2.0, dim=2, seed=0).fit(
            DATA, rt.OU(), time_nodes=9, quadrature="gauss-hermite", t0=0.01
        )
        models["RandomFeatureScore"] = fit.at(np.inf)
    except ImportError:  # pragma: no cover - the module ships with the package
        pass
    return models


MODELS = _models()


@pytest.fixture(params=sorted(MODELS), ids=sorted(MODELS))
def model(request):
    return MODELS[request.param]


def _times(model):
    top = model.process.t_max
    return [0.05, 0.4] if np.isfinite(top) else [0.05, 0.4, 2.0]


def test_shapes_and_single_points(model):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 2))
    for t in _times(model):
        s = model.score(x, t)
        assert s.shape == (5, 2) and s.dtype == np.float64
        np.testing.assert_allclose(model.score(x[2], t), s[2], rtol=1e-12, atol=1e-12)
        assert model.denoiser(x[2], t).shape == (2,)


def test_denoiser_score_identity(model):
    x = np.random.default_rng(1).normal(size=(6, 2))
    for t in _times(model):
        h = float(model.process.h(t))
        np.testing.assert_allclose(
            model.denoiser(x, t), x + h * model.score(x, t), rtol=1e-10, atol=1e-10
        )


def test_per_row_times_equal_scalar_times(model):
    x = np.random.default_rng(2).normal(size=(4, 2))
    ts = np.array([0.05, 0.1, 0.3, 0.6])
    rows = model.score(x, ts)
    for i, t in enumerate(ts):
        np.testing.assert_allclose(rows[i], model.score(x[i], t), rtol=1e-11, atol=1e-11)


DENSITIES = sorted(k for k, v in MODELS.items() if isinstance(v, rt.AbstractDensity))


@pytest.mark.parametrize("name", DENSITIES)
def test_density_score_is_gradient_of_log_prob(name):
    model = MODELS[name]
    x = np.random.default_rng(3).normal(size=(4, 2))
    t, eps = 0.4, 1e-6
    fd = np.stack(
        [
            (model.log_prob(x + eps * e, t) - model.log_prob(x - eps * e, t)) / (2 * eps)
            for e in np.eye(2)
        ],
        axis=1,
    )
    np.testing.assert_allclose(fd, model.score(x, t), rtol=1e-6, atol=1e-6)


def test_bad_input_is_rejected_by_name(model):
    name = type(model).__name__
    with pytest.raises(rt.RidgeTheoryError, match=f"`t` passed to {name}.score"):
        model.score(np.zeros(2), 0.0)
    with pytest.raises(rt.RidgeTheoryError, match=f"`x` passed to {name}.denoiser"):
        model.denoiser(np.zeros(3), 0.5)
    with pytest.raises(rt.RidgeTheoryError, match=f"`x` passed to {name}.score must be finite"):
        model.score(np.array([np.nan, 0.0]), 0.5)


# -- the density contract: capabilities, not type tests --------------------------------------------
@pytest.mark.parametrize("name", sorted(MODELS))
def test_mean_shift_is_h_times_score(name):
    """``mean_shift = m - x = h s`` for every score model, whatever its own statement."""
    model = MODELS[name]
    x = np.random.default_rng(3).normal(size=(6, 2))
    t = np.array([0.02, 0.05, 0.1, 0.3, 0.6, 0.9])  # inside every process's horizon
    h = model.process.h(t)[:, None]
    np.testing.assert_allclose(model.mean_shift(x, t), h * model.score(x, t), rtol=1e-9,
                               atol=1e-12)


@pytest.mark.parametrize("name", ["SmoothedEmpirical", "GaussianMixture"])
def test_posterior_covariance_is_its_parts(name):
    """``S = iso I + exp(log_w) S_dir``: one statement, both views agree (and S is PSD)."""
    model = MODELS[name]
    x = np.random.default_rng(4).normal(size=(5, 2))
    t = np.full(5, 0.4)
    iso, log_w, S_dir = model._posterior_covariance_parts(x, t)
    S = model.posterior_covariance(x, t)
    np.testing.assert_allclose(S, iso[:, None, None] * np.eye(2)
                               + np.exp(log_w)[:, None, None] * S_dir, rtol=1e-12, atol=1e-15)
    assert np.linalg.eigvalsh(S).min() > -1e-12


class _Renamed(rt.SmoothedEmpirical):
    """Changes nothing of the maths: keeps the fused kernels."""

    def __repr__(self):
        return "Renamed()"


class _Tilted(rt.SmoothedEmpirical):
    """Adds a constant to the score: its maths is no longer the kernel's."""

    def _score(self, x, t):
        return super()._score(x, t) + 0.5


def test_fused_kernel_capability_follows_the_maths():
    assert rt.SmoothedEmpirical.fused_kernel == "empirical"
    assert rt.GaussianMixture.fused_kernel == "gmm"
    assert _Renamed.fused_kernel == "empirical"
    assert _Tilted.fused_kernel is None

    class _Declared(_Tilted):
        fused_kernel = "empirical"  # a subclass may restate it (it then vouches for the maths)

    assert _Declared.fused_kernel == "empirical"

    class _TiltMixin:
        def _score(self, x, t):
            return rt.SmoothedEmpirical._score(self, x, t) + 0.5

    class _Mixed(_TiltMixin, rt.SmoothedEmpirical):  # the override comes from the MRO
        pass

    class _NewLogits(rt.SmoothedEmpirical):  # a helper the kernel restates
        def _logits(self, x, a, h):
            return super()._logits(x, a, h) * 0.5

    class _NewParts(rt.GaussianMixture):
        def _svar(self, a, h):
            return super()._svar(a, h) * 2.0

    assert _Mixed.fused_kernel is None
    assert _NewLogits.fused_kernel is None
    assert _NewParts.fused_kernel is None


def test_subclass_keeps_the_fast_ridge_path():
    x0 = np.random.default_rng(5).normal(size=(20, 2))
    ref = rt.Ridge(rt.SmoothedEmpirical(DATA), 1).project(x0, 0.3, backend="numpy")
    sub = rt.Ridge(_Renamed(DATA), 1).project(x0, 0.3)
    assert sub.backend == "numba"
    ok = ref.converged & sub.converged
    assert ok.mean() > 0.9
    np.testing.assert_allclose(sub.points[ok], ref.points[ok], atol=1e-8)
    tilted = rt.Ridge(_Tilted(DATA), 1)
    assert tilted.project(x0, 0.3).backend == "numpy"
    with pytest.raises(rt.RidgeTheoryError, match="fused_kernel='empirical'"):
        tilted.project(x0, 0.3, backend="numba")


def test_ridge_d_and_its_deprecated_alias():
    p = rt.SmoothedEmpirical(DATA)
    ridge = rt.Ridge(p, 1)
    assert ridge.d == 1 and ridge.D == 2
    with pytest.warns(DeprecationWarning, match="Ridge.d"):
        assert ridge.dim == 1
    with pytest.warns(DeprecationWarning, match="Ridge\\(density, d\\)"):
        assert rt.Ridge(p, dim=0).d == 0
    with pytest.raises(rt.RidgeTheoryError, match="`dim` passed to Ridge"):
        rt.Ridge(p, 1, dim=1)
    with pytest.raises(rt.RidgeTheoryError, match="`d` passed to Ridge"):
        rt.Ridge(p)


def test_one_process_check():
    from ridgetheory.processes import check_process

    assert check_process(None, "f", default=rt.OU()) == rt.OU()
    for bad in (None, "OU", 1.0):
        with pytest.raises(rt.RidgeTheoryError, match="`process` passed to f must be a forward"):
            check_process(bad, "f")
    with pytest.raises(rt.RidgeTheoryError, match="`process` passed to SmoothedEmpirical"):
        rt.SmoothedEmpirical(DATA, "OU")
