"""rt.error_profile: normal/tangent error split, both views, RF parts (issue 5)."""

from __future__ import annotations

import numpy as np
import pytest

import ridgetheory as rt

TWO = np.array([[-3.0, 0.0], [3.0, 0.0]])
THREE = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
FIVE = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0], [5.0, 5.0], [2.5, 2.5]])


def _normal_by_eigh(density, x, t, d):
    """P_N from eigh of the posterior covariance S: the D - d smallest directions of S."""
    S = density.posterior_covariance(x, np.full(x.shape[0], t))
    _, vecs = np.linalg.eigh(S)
    return vecs[:, :, : x.shape[1] - d]


def test_inference_view_matches_hand_projection():
    dens = rt.SmoothedEmpirical(THREE)
    model = rt.SmoothedEmpirical(THREE + np.array([0.4, -0.3]))  # a wrong "learned" model
    rng = np.random.default_rng(0)
    pts = rng.normal(loc=2.0, scale=2.0, size=(3, 60, 2))
    times = np.array([0.3, 1.0, 2.0])
    prof = rt.error_profile(model, dens, rt.Ridge(dens, 1), times, points=pts)
    assert prof.view == "inference" and prof.E_N.shape == (3,)
    for k, t in enumerate(times):
        x = pts[k]
        err = model.denoiser(x, t) - dens.denoiser(x, t)
        VN = _normal_by_eigh(dens, x, t, 1)
        en = np.mean(np.einsum("mdk,md->mk", VN, err) ** 2) / 2
        tot = np.mean(np.sum(err**2, axis=1)) / 2
        assert prof.E_N[k] == pytest.approx(en, rel=1e-8)
        assert prof.E_N[k] + prof.E_T[k] == pytest.approx(tot, rel=1e-12)
    sc = rt.error_profile(model, dens, 1, times, points=pts, units="score")
    np.testing.assert_allclose(sc.E_T, prof.E_T / rt.OU().h(times) ** 2, rtol=1e-12)


def test_fit_parts_and_training_view():
    model = rt.RandomFeatureModel(60, K=4, T=5.0, seed=1)
    fit = model.fit(THREE, time_nodes=41, t0=0.01, quadrature="exact")
    W0 = model.random_init(2, scale=5.0)
    times = fit.nodes[[4, 12, 30]]
    taus = np.array([0.0, 1.0, np.inf])
    prof = rt.error_profile(fit, None, 1, times, tau=taus, init=W0, n_samples=300, seed=3)
    assert prof.E_N.shape == (3, 3) and prof.view == "training"
    # the same samples evaluated point by point through fit.at(tau)
    rng = np.random.default_rng(3)
    dens = fit.density
    for k, t in enumerate(times):
        idx = rng.integers(0, 3, 300)
        a, h = float(rt.OU().alpha(t)), float(rt.OU().h(t))
        x = a * THREE[idx] + np.sqrt(h) * rng.standard_normal((300, 2))
        VN = _normal_by_eigh(dens, x, t, 1)
        for j, tau in enumerate(taus):
            err = fit.at(tau, W0).denoiser(x, t) - dens.denoiser(x, t)
            en = np.mean(np.einsum("mdk,md->mk", VN, err) ** 2) / 2
            assert prof.E_N[j, k] == pytest.approx(en, rel=1e-7)
        dec = fit.decompose(1.0, x, t, W0)
        bn = np.mean(np.einsum("mdk,md->mk", VN, dec.bias) ** 2) / 2
        assert prof.parts["bias"][0][k] == pytest.approx(bn, rel=1e-7)
    # optimization part vanishes at tau = inf and falls from tau = 0
    on, ot = prof.parts["optimization"]
    assert np.all(on[2] == 0) and np.all(ot[2] == 0)
    assert np.all(on[0] + ot[0] > on[1] + ot[1])


def test_two_modes_normal_error_far_below_tangent():
    """Issue 5 claim on (-3,0),(3,0) at equilibrium: E_N <= E_T / 100 late in time.

    Holds, but structurally: collinear targets give V a zero row normal to the line, so the
    normal error is exactly the initialization residue (theory.md section 6).
    """
    model = rt.RandomFeatureModel(200, K=16, T=10.0, seed=0)
    fit = model.fit(TWO, time_nodes=201, t0=1e-3, quadrature="gauss-hermite", gh_order=10)
    times = fit.nodes[2:40]  # t in [0.1, 2]: the end of reverse-time sampling
    for init in (None, model.random_init(1)):
        prof = rt.error_profile(fit, None, 1, times, init=init, n_samples=200)
        assert np.all(prof.undetermined == 0)
        assert np.all(prof.E_N <= prof.E_T / 100)
        assert np.all(prof.E_T > 1e-4)
    # before equilibrium a random init leaves a visible normal error that decays in tau
    prof = rt.error_profile(fit, None, 1, times, tau=np.array([0.1, 10.0, 1e3]),
                            init=model.random_init(1, scale=50.0), n_samples=200)
    EN = prof.E_N.mean(axis=1)
    assert EN[0] > 10 * EN[1] > 100 * EN[2] > 0


@pytest.mark.xfail(strict=True, reason=(
    "Measured at equilibrium (p=300, K=16, 201 nodes, t in [0.05, 1]): E_N/E_T = 0.03-0.46 "
    "for (0,0),(5,0),(0,5) and 0.2-0.66 for the 5-point layout; with p=2000, K=128, 401 "
    "nodes 0.09-0.6 and 0.2-0.9. The 100x separation is not reproduced off one line."))
@pytest.mark.parametrize("data", [THREE, FIVE], ids=["three", "five"])
def test_non_collinear_normal_error_far_below_tangent(data):
    fit = rt.RandomFeatureModel(300, K=16, T=10.0, seed=0).fit(
        data, time_nodes=201, t0=1e-3, quadrature="gauss-hermite", gh_order=10)
    prof = rt.error_profile(fit, None, 1, fit.nodes[1:21], n_samples=200)
    assert np.all(prof.E_N <= prof.E_T / 100)


def test_bad_arguments():
    dens = rt.SmoothedEmpirical(TWO)
    with pytest.raises(rt.RidgeTheoryError, match="`model_or_fit`"):
        rt.error_profile("nope", dens, 1, [1.0])
    with pytest.raises(rt.RidgeTheoryError, match="`points`"):
        rt.error_profile(dens, dens, 1, [1.0, 2.0], points=np.zeros((3, 4, 2)))
    with pytest.raises(rt.RidgeTheoryError, match="`times`"):
        rt.error_profile(dens, dens, 1, [-1.0])
    with pytest.raises(rt.RidgeTheoryError, match="`units`"):
        rt.error_profile(dens, dens, 1, [1.0], units="eps")


def test_plot_helper(tmp_path):
    dens = rt.SmoothedEmpirical(TWO)
    prof = rt.error_profile(rt.SmoothedEmpirical(TWO * 1.1), dens, 1, [0.2, 1.0], n_samples=50)
    ax = prof.plot()
    assert ax.get_xscale() == "log" and len(ax.lines) == 2
    ax.figure.savefig(tmp_path / "p.png")


def test_bad_init_is_named_by_error_profile_before_any_time_is_evaluated():
    model = rt.RandomFeatureModel(20, K=2, T=5.0, dim=2, seed=0)
    fit = model.fit(np.array([[-3.0, 0.0], [3.0, 0.0]]), time_nodes=9, t0=0.01,
                    quadrature="gauss-hermite")
    with pytest.raises(rt.RidgeTheoryError, match="`init` passed to error_profile"):
        rt.error_profile(fit, None, 1, [0.5], init=np.zeros((3, 3)), n_samples=10)

