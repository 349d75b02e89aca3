"""Samplers reproduce known distributions: exact p_t marginals, memorization, exact p_T draws."""

from __future__ import annotations

import numpy as np
import pytest

import ridgetheory as rt
from ridgetheory import RidgeTheoryError
from ridgetheory.simulate import sample_pt, simulate

MEANS = np.array([[-2.0, 0.0], [1.5, 1.5], [1.0, -2.0]])
VARS = np.array([0.05, 0.3, 0.1])
WEIGHTS = np.array([0.2, 0.3, 0.5])
Z = 4.5  # Monte-Carlo bound in standard errors


def _gmm():
    return rt.GaussianMixture(MEANS, VARS, WEIGHTS)


def _exact_moments(t):
    """Mean and covariance of p_t = sum_j w_j N(a mu_j, (a^2 v_j + h) I), written out here."""
    a, h = np.exp(-t), -np.expm1(-2.0 * t)
    mu = a * MEANS
    m = WEIGHTS @ mu
    C = np.eye(2) * (WEIGHTS @ (a * a * VARS + h)) + (mu * WEIGHTS[:, None]).T @ mu
    return m, C - np.outer(m, m)


def _check_moments(X, t):
    m, C = _exact_moments(t)
    M = X.shape[0]
    d = X - X.mean(axis=0)
    se_mean = d.std(axis=0) / np.sqrt(M)
    assert np.all(np.abs(X.mean(axis=0) - m) < Z * se_mean), (t, X.mean(axis=0), m)
    for i, j in ((0, 0), (0, 1), (1, 1)):
        prod = d[:, i] * d[:, j]
        assert abs(prod.mean() - C[i, j]) < Z * prod.std() / np.sqrt(M), (t, i, j)


def test_sample_pt_draws_the_smoothed_mixture():
    for t in (0.05, 0.7, 3.0):
        _check_moments(sample_pt(_gmm(), t, 40_000, seed=3), t)


def test_sample_pt_smoothed_empirical():
    # 44 noise widths apart: the nearer point is the source of each sample
    data = np.array([[0.0, 0.0], [40.0, 0.0]])
    t = 0.3
    x = sample_pt(rt.SmoothedEmpirical(data), t, 40_000, seed=4)
    a, h = np.exp(-t), -np.expm1(-2 * t)
    near = np.where(x[:, 0] > 20 * a, 1, 0)
    resid = (x - a * data[near]) / np.sqrt(h)
    assert abs(near.mean() - 0.5) < Z * 0.5 / np.sqrt(x.shape[0])
    assert np.all(np.abs(resid.mean(axis=0)) < Z / np.sqrt(x.shape[0]))
    assert np.all(np.abs(resid.var(axis=0) - 1.0) < Z * np.sqrt(2.0 / x.shape[0]))
    with pytest.raises(RidgeTheoryError, match="`density`"):
        sample_pt(lambda x, t: x, t, 3, seed=0)
    with pytest.raises(RidgeTheoryError, match="`t`"):
        sample_pt(_gmm(), 0.0, 3, seed=0)


@pytest.mark.parametrize("method", ["em", "exponential", "heun-ode", "euler-ode"])
def test_exact_marginals_from_exact_start(method):
    T, tmin, L, M = 2.0, 0.05, 500, 20_000
    grid = rt.grids.exponential(T, tmin, L)
    out = simulate(_gmm(), y0=sample_pt(_gmm(), T, M, seed=1), grid=grid, method=method,
                   seed=2, save_at=grid[[125, 300, 500]], progress=False)
    for t, X in zip(out.times, out.states, strict=True):
        _check_moments(X, t)


@pytest.mark.parametrize("method", ["em", "exponential"])
def test_memorization_with_the_exact_empirical_score(method):
    data = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.5], [0.0, -2.5], [3.0, 3.0]])
    tmin = 1e-3
    out = simulate(rt.SmoothedEmpirical(data), n=2000, grid=rt.grids.exponential(5.0, tmin, 300),
                   method=method, seed=6, progress=False)
    a = np.exp(-tmin)
    dist = np.linalg.norm(out.final[:, None, :] - a * data[None, :, :], axis=2).min(axis=1)
    assert np.mean(dist < 0.5) >= 0.95
    # and every training point is reached (the sampler does not collapse onto one)
    nearest = np.linalg.norm(out.final[:, None, :] - a * data[None], axis=2).argmin(axis=1)
    assert set(nearest.tolist()) == set(range(data.shape[0]))
