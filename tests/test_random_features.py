"""Random-feature score model: assembly, closed-form flow, loss, decomposition (issue 5)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ridgetheory as rt
from ridgetheory.random_features import RandomFeatureFit, RandomFeatureModel, RandomFeatureScore

DATA3 = np.array([[-3.0, 0.0], [3.0, 0.0], [0.0, 2.0]])
TWO = np.array([[-3.0, 0.0], [3.0, 0.0]])


def small_fit(par="denoiser", quadrature="exact", p=20, nodes=41, weight="1", seed=0, mc_seed=0,
              **kw):
    model = RandomFeatureModel(p, K=4, T=5.0, parametrization=par, seed=seed)
    return model.fit(DATA3, time_nodes=nodes, t0=0.01, quadrature=quadrature, weight=weight,
                     seed=mc_seed, **kw)


# -- model ---------------------------------------------------------------------------------
def test_same_seed_same_model_and_shapes():
    a = RandomFeatureModel(30, K=3, T=2.0, seed=7)
    b = RandomFeatureModel(30, K=3, T=2.0, seed=7)
    c = RandomFeatureModel(30, K=3, T=2.0, seed=8)
    for name in ("Wx", "W_tau", "b"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.Wx, c.Wx)
    assert a.Wx.shape == (30, 2) and a.W_tau.shape == (30, 7) and a.b.shape == (30,)
    assert not RandomFeatureModel(30, K=3, T=2.0, seed=7, bias=False).b.any()


def test_features_match_definition():
    model = RandomFeatureModel(12, K=3, T=4.0, activation="tanh", seed=2)
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    t = np.array([0.7, 3.1])
    k = np.arange(1, 4)
    phi = np.stack([np.concatenate([[1.0], np.sin(2 * np.pi * k * s / 4.0),
                                    np.cos(2 * np.pi * k * s / 4.0)]) for s in t])
    ref = np.tanh(x @ model.Wx.T + phi @ model.W_tau.T + model.b)
    np.testing.assert_allclose(model.features(x, t), ref, rtol=1e-14, atol=1e-14)
    sig = RandomFeatureModel(12, K=3, T=4.0, activation="sigmoid", seed=2)
    np.testing.assert_allclose(sig.features(x, t), 1 / (1 + np.exp(-(
        x @ model.Wx.T + phi @ model.W_tau.T + model.b))), rtol=1e-13)


@pytest.mark.parametrize(
    "kwargs, name",
    [({"p": 0}, "p"), ({"p": 5, "activation": "gelu"}, "activation"),
     ({"p": 5, "parametrization": "eps"}, "parametrization"), ({"p": 5, "T": -1.0}, "T"),
     ({"p": 5, "seed": -1}, "seed"), ({"p": 5, "bias": 1}, "bias")],
)
def test_bad_model_arguments(kwargs, name):
    with pytest.raises(rt.RidgeTheoryError, match=f"`{name}`"):
        RandomFeatureModel(**kwargs)


def test_bad_fit_arguments():
    model = RandomFeatureModel(5, K=2, T=2.0)
    with pytest.raises(rt.RidgeTheoryError, match="`data`.*shape \\(n, 2\\)"):
        model.fit(np.zeros((3, 3)))
    with pytest.raises(rt.RidgeTheoryError, match="`weight`"):
        model.fit(TWO, weight="h3")
    with pytest.raises(rt.RidgeTheoryError, match="`quadrature`"):
        model.fit(TWO, quadrature="simpson")
    with pytest.raises(rt.RidgeTheoryError, match="`t0`"):
        model.fit(TWO, t0=3.0)
    with pytest.raises(rt.RidgeTheoryError, match="`quadrature`.*ReLU"):
        RandomFeatureModel(5, K=2, T=2.0, activation="tanh").fit(TWO, quadrature="exact")
    fit = model.fit(TWO, time_nodes=5)
    with pytest.raises(rt.RidgeTheoryError, match="`tau`"):
        fit.at(-1.0)
    with pytest.raises(rt.RidgeTheoryError, match="`init`"):
        fit.weights(1.0, np.zeros((5, 2)))


# -- assembly ------------------------------------------------------------------------------
@pytest.mark.parametrize("par", ["denoiser", "score"])
def test_quadratures_agree(par):
    ex = small_fit(par, "exact", nodes=21)
    gh = small_fit(par, "gauss-hermite", nodes=21, gh_order=120)
    mc = small_fit(par, "mc", nodes=21, noise_draws=20000, mc_seed=3)
    scale_u, scale_v = np.abs(ex.U).max(), np.abs(ex.V).max()
    # Gauss-Hermite converges algebraically on the ReLU kink: 120^2 nodes give ~3e-5
    assert np.abs(gh.U - ex.U).max() < 1e-4 * scale_u
    assert np.abs(gh.V - ex.V).max() < 1e-4 * scale_v
    # MC: 20000 draws per node, relative error ~ 1e-3 (measured 2e-3 at 4000 draws)
    assert np.abs(mc.U - ex.U).max() < 5e-3 * scale_u
    assert np.abs(mc.V - ex.V).max() < 1e-2 * scale_v
    assert ex.C == pytest.approx(gh.C, rel=1e-14)
    np.testing.assert_array_equal(ex.U, ex.U.T)


def _mc_loss(fit, W, n, seed):
    """Direct MC of (1/D) int_{t0}^{T} w(t) (1/n) sum_i E_z loss dt with t ~ U(t0, T)."""
    rng = np.random.default_rng(seed)
    model, proc = fit.model, fit.process
    t0, T = fit.nodes[0], fit.nodes[-1]
    t = rng.uniform(t0, T, n)
    i = rng.integers(0, fit.data.shape[0], n)
    z = rng.standard_normal((n, 2))
    a, h = proc.alpha(t), proc.h(t)
    x = a[:, None] * fit.data[i] + np.sqrt(h)[:, None] * z
    f = model.features(x, t) @ W.T
    if model.parametrization == "denoiser":
        r = np.sum((f - a[:, None] * fit.data[i]) ** 2, axis=1)
    else:
        r = np.sum((np.sqrt(h)[:, None] * f + z) ** 2, axis=1)
    w = {"1": 1.0, "h": h, "h2": h**2}[fit.info["weight"]]
    vals = (T - t0) * w * r / 2
    return vals.mean(), vals.std() / np.sqrt(n)


@pytest.mark.parametrize("par, weight", [("denoiser", "1"), ("score", "1"), ("score", "h")])
def test_quadratic_loss_matches_direct_monte_carlo(par, weight):
    fit = small_fit(par, "exact", nodes=201, weight=weight)
    for W in (fit.weights(0.5), fit.model.random_init(1, scale=20.0)):
        mc, se = _mc_loss(fit, W, 200_000, seed=11)
        assert abs(fit.quadratic(W) - mc) < 4 * se, (fit.quadratic(W), mc, se)


def test_score_parametrization_sign():
    """The trained score points from x toward the data, like the exact score."""
    fit = small_fit("score", "gauss-hermite", p=200, nodes=101, gh_order=16)
    s_model = fit.at(np.inf)
    dens = rt.SmoothedEmpirical(DATA3)
    rng = np.random.default_rng(0)
    x = rng.normal(scale=2.0, size=(200, 2))
    t = 0.5
    s_fit, s_true = s_model.score(x, t), dens.score(x, t)
    cos = np.sum(s_fit * s_true, axis=1) / np.linalg.norm(s_fit, axis=1) / np.linalg.norm(
        s_true, axis=1)
    assert np.median(cos) > 0.95
    # the same model in the denoiser parametrization learns the same target
    m_fit = small_fit("denoiser", "gauss-hermite", p=200, nodes=101, gh_order=16)
    m_fit = m_fit.at(np.inf).score(x, t)
    assert np.median(np.sum(m_fit * s_fit, axis=1)) > 0


# -- closed form ---------------------------------------------------------------------------
@pytest.mark.parametrize("par", ["denoiser", "score"])
def test_closed_form_matches_gradient_descent(par):
    fit = small_fit(par, "exact")
    lam, _ = fit.eig()
    D = 2
    lr = 0.02 * D / (2 * lam.max())
    steps = int(round(2.0 * D / lr))
    for init in (None, fit.model.random_init(3, scale=5.0)):
        W_gd = fit.gradient_descent(lr, steps, init)
        W_cf = fit.weights(lr * steps / D, init)
        assert np.linalg.norm(W_gd - W_cf) < 1e-3 * np.linalg.norm(W_cf)
        # and the check is not vacuous: W(tau) is still far from equilibrium
        assert np.linalg.norm(W_cf - fit.weights(np.inf, init)) > 0.1 * np.linalg.norm(W_cf)


def test_equilibrium_is_minimum_norm_solution():
    """Duplicated features: the min-norm solution splits each weight equally."""
    half = RandomFeatureModel(10, K=4, T=5.0, seed=4)
    dup = RandomFeatureModel(20, K=4, T=5.0, seed=4)
    dup.Wx = np.vstack([half.Wx, half.Wx])
    dup.W_tau = np.vstack([half.W_tau, half.W_tau])
    dup.b = np.concatenate([half.b, half.b])
    kw = dict(time_nodes=21, t0=0.01, quadrature="gauss-hermite", gh_order=12)
    f_half, f_dup = half.fit(DATA3, **kw), dup.fit(DATA3, **kw)
    W = f_dup.weights(np.inf)
    np.testing.assert_allclose(W[:, :10], W[:, 10:], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(W[:, :10], 0.5 * f_half.weights(np.inf), rtol=1e-7, atol=1e-9)
    assert f_dup.loss(np.inf) == pytest.approx(f_half.loss(np.inf), rel=1e-10)
    # a nonzero init keeps its null-space part: W(inf) = W* + W0 (I - U U^+)
    W0 = dup.random_init(0, scale=3.0)
    Wi = f_dup.weights(np.inf, W0)
    np.testing.assert_allclose(Wi[:, :10] - Wi[:, 10:], W0[:, :10] - W0[:, 10:], atol=1e-8)
    np.testing.assert_allclose(Wi[:, :10] + Wi[:, 10:], W[:, :10] + W[:, 10:], atol=1e-7)


@given(taus=st.lists(st.floats(0.0, 1e4), min_size=2, max_size=6))
def test_losses_monotone_in_tau(taus):
    fit = _FIT_CACHE.setdefault("fit", small_fit("denoiser", "exact", nodes=21))
    W0 = fit.model.random_init(2, scale=4.0)
    taus = sorted(taus)
    opt = [fit.optimization_loss(t, W0) for t in taus]
    assert all(b <= a * (1 + 1e-12) + 1e-15 for a, b in zip(opt, opt[1:], strict=False))
    for t, o in zip(taus, opt, strict=True):  # closed form of L(W(tau)) - L(W(inf))
        direct = fit.loss(t, W0) - fit.loss(np.inf, W0)
        assert o == pytest.approx(direct, rel=1e-6, abs=1e-10)
    assert fit.loss(np.inf) == pytest.approx(fit.loss_star, rel=1e-10)


_FIT_CACHE: dict = {}


@pytest.mark.parametrize("par", ["denoiser", "score"])
def test_decompose_sums_to_error(par):
    fit = small_fit(par, "exact", p=30)
    W0 = fit.model.random_init(5, scale=4.0)
    rng = np.random.default_rng(1)
    x = rng.normal(scale=2.0, size=(50, 2))
    t = rng.uniform(0.05, 4.0, 50)
    dens = rt.SmoothedEmpirical(DATA3)
    for tau in (0.0, 0.3, np.inf):
        dec = fit.decompose(tau, x, t, W0)
        err = fit.at(tau, W0).denoiser(x, t) - dens.denoiser(x, t)
        np.testing.assert_allclose(dec.total, err, rtol=1e-9, atol=1e-9)
    dec_inf = fit.decompose(np.inf, x, t, W0)
    assert np.abs(dec_inf.optimization).max() == 0.0
    dec0 = fit.decompose(np.inf, x, t)
    assert np.abs(dec0.residue).max() == 0.0
    np.testing.assert_allclose(dec0.bias, dec_inf.bias)
    # one pass over several tau gives each tau's error, checked against the fitted model
    taus = np.array([0.0, 0.3, np.inf])
    vec = fit.decompose(taus, x, t, W0)
    assert vec.optimization.shape == (3, 50, 2) and vec.bias.shape == (50, 2)
    for j, tau in enumerate(taus):
        err = fit.at(tau, W0).denoiser(x, t) - dens.denoiser(x, t)
        np.testing.assert_allclose(vec.bias + vec.optimization[j] + vec.residue, err,
                                   rtol=1e-9, atol=1e-9)
    one = fit.decompose(taus, x[0], t[0], W0)
    assert one.optimization.shape == (3, 2) and one.bias.shape == (2,)
    with pytest.raises(rt.RidgeTheoryError, match="`tau` passed to RandomFeatureFit.decompose"):
        fit.decompose(np.array([[0.1]]), x, t)
    with pytest.raises(rt.RidgeTheoryError, match="`target` passed to RandomFeatureFit"):
        fit.decompose(0.3, x, t, target=np.zeros((3, 2)))
    # a given target is used as m: the bias moves by exactly the change of target
    shifted = fit.decompose(0.3, x, t, W0, target=dens.denoiser(x, t) + 1.0)
    np.testing.assert_allclose(shifted.bias, fit.decompose(0.3, x, t, W0).bias - 1.0,
                               atol=1e-12)


def test_decompose_checks_the_horizon_and_the_old_offset_name_warns():
    vp = rt.VPLinear()
    fit = rt.RandomFeatureModel(20, K=2, T=1.0, dim=2, seed=0).fit(
        DATA3, vp, time_nodes=9, quadrature="gauss-hermite", t0=0.01)
    with pytest.raises(rt.RidgeTheoryError, match="`t` passed to RandomFeatureFit.decompose"):
        fit.decompose(0.1, np.zeros((2, 2)), 1.5)
    sm = fit.at(np.inf)
    with pytest.warns(DeprecationWarning, match="time_bias"):
        np.testing.assert_array_equal(sm.offset(0.3), sm.time_bias(0.3))
    with pytest.warns(DeprecationWarning, match="time_bias"):
        np.testing.assert_array_equal(fit.model.offset(0.3), fit.model.time_bias(0.3))


def test_more_features_reduce_bias():
    """Architectural bias L(W*) - L_floor, averaged over 4 seeds, falls with p."""
    means = []
    for p in (10, 40, 160):
        vals = [RandomFeatureModel(p, K=4, T=5.0, seed=s).fit(
            DATA3, time_nodes=21, t0=0.01, quadrature="gauss-hermite", gh_order=12).loss_star
            for s in range(4)]
        means.append(np.mean(vals))
    assert means[0] > means[1] > means[2]


def test_score_model_protocol_attributes():
    fit = small_fit("denoiser", "exact")
    sm = fit.at(1.5)
    assert isinstance(sm, RandomFeatureScore) and isinstance(sm, rt.AbstractScoreModel)
    assert sm.Wx.shape == (20, 2) and sm.A_eff.shape == (2, 20) and sm.time_bias(0.3).shape == (20,)
    x = np.array([[0.5, 1.0], [-2.0, 0.1]])
    t = np.array([0.2, 1.0])
    f = np.maximum(x @ sm.Wx.T + sm.time_bias(t), 0) @ sm.A_eff.T
    np.testing.assert_allclose(sm.denoiser(x, t), f, rtol=1e-13)
    h = rt.OU().h(t)[:, None]
    np.testing.assert_allclose(sm.score(x, t), (f - x) / h, rtol=1e-12)
    ss = small_fit("score", "exact").at(1.5)
    fs = np.maximum(x @ ss.Wx.T + ss.time_bias(t), 0) @ ss.A_eff.T
    np.testing.assert_allclose(ss.score(x, t), fs, rtol=1e-13)
    np.testing.assert_allclose(ss.denoiser(x, t), x + h * fs, rtol=1e-12)
    assert sm.features(x, t).shape == (2, 20)
    assert isinstance(fit, RandomFeatureFit)


def test_error_vs_tau_figure_quick(tmp_path):
    from ridgetheory.plotting import error_vs_tau_figure

    out = error_vs_tau_figure(tmp_path / "f.png", quick=True, taus=[0.01, 1.0, 100.0, np.inf])
    assert (tmp_path / "f.png").stat().st_size > 0
    # two modes on the x-axis: the normal (y) error is the decaying init part, the tangent
    # (x) error stays order one
    assert out["E_N"][0] > 10 * out["E_N"][2] > 0 and out["E_N"][3] < 1e-20
    assert np.all(out["E_T"] > 1e-2)
