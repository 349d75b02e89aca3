"""SmoothedEmpirical and GaussianMixture: the protocol's properties against references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ridgetheory as rt
from ridgetheory.testing import datasets, density_and_queries, processes, query_points, times


def brute_log_prob(data, proc, x, t):
    """Brute-force log p_t from the definition (float64, no chunking)."""
    a, h = float(proc.alpha(t)), float(proc.h(t))
    D = data.shape[1]
    sq = ((x[:, None, :] - a * data[None, :, :]) ** 2).sum(-1)
    logc = -sq / (2 * h) - 0.5 * D * np.log(2 * np.pi * h) - np.log(len(data))
    mx = logc.max(1, keepdims=True)
    return (mx + np.log(np.exp(logc - mx).sum(1, keepdims=True)))[:, 0]


def fd_grad(f, x, eps):
    return np.stack(
        [(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(x.shape[1])], axis=-1
    )


@given(density_and_queries())
def test_weights_sum_to_one_and_are_nonnegative(case):
    p, x, t = case
    g = p.weights(x, t)
    assert g.shape == (x.shape[0], p.n)
    assert np.all(g >= 0)
    np.testing.assert_allclose(g.sum(1), 1.0, rtol=1e-12)


@given(density_and_queries(), st.randoms(use_true_random=False))
def test_weights_permute_with_the_data(case, rnd):
    p, x, t = case
    perm = np.array(rnd.sample(range(p.n), p.n))
    q = rt.SmoothedEmpirical(p.data[perm], p.process)
    np.testing.assert_allclose(q.weights(x, t), p.weights(x, t)[:, perm], rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(q.score(x, t), p.score(x, t), rtol=1e-9, atol=1e-9)


@given(density_and_queries())
def test_log_prob_matches_brute_force(case):
    p, x, t = case
    np.testing.assert_allclose(
        p.log_prob(x, t), brute_log_prob(p.data, p.process, x, t), rtol=1e-10, atol=1e-8
    )


@given(density_and_queries(low=0.2))
def test_score_is_gradient_of_log_prob(case):
    p, x, t = case
    h = float(p.process.h(t))
    eps = 1e-5 * np.sqrt(h)
    fd = fd_grad(lambda z: p.log_prob(z, t), x, eps)
    s = p.score(x, t)
    # central differences: error ~ eps^2 |f'''|; |f'''| <= ~ (range/h)^3 for a mixture
    scale = 1 + np.abs(s).max()
    np.testing.assert_allclose(fd, s, atol=1e-5 * scale / h)


@given(density_and_queries(low=0.2))
def test_hessian_is_jacobian_of_score_symmetric_and_bounded(case):
    p, x, t = case
    h = float(p.process.h(t))
    eps = 1e-5 * np.sqrt(h)
    H = p.hessian(x, t)
    J = fd_grad(lambda z: p.score(z, t), x, eps)
    scale = 1 + np.abs(H).max()
    np.testing.assert_allclose(J, H, atol=1e-5 * scale / h)
    np.testing.assert_array_equal(H, np.swapaxes(H, 1, 2))
    lam = np.linalg.eigvalsh(H)
    assert np.all(lam >= -1 / h * (1 + 1e-10))


@given(density_and_queries())
def test_hessian_equals_direct_formula(case):
    """(S - h I)/h^2 against the weighted form of theory.md section 1 written out here."""
    p, x, t = case
    a, h = float(p.process.alpha(t)), float(p.process.h(t))
    g = p.weights(x, t)
    d = x[:, None, :] - a * p.data[None]
    s = p.score(x, t)
    ref = (
        np.einsum("mn,mni,mnj->mij", g, d, d) / h**2
        - np.eye(p.dim) / h
        - s[:, :, None] * s[:, None, :]
    )
    H = p.hessian(x, t)
    scale = np.abs(d).max() ** 2 / h**2 + 1 / h
    np.testing.assert_allclose(H, ref, atol=1e-11 * scale)


@given(datasets(), st.data())
def test_translation_equivariance(data, draw):
    proc = rt.OU()
    t = draw.draw(times(proc))
    c = draw.draw(query_points(data.shape[1], 1, 1, scale=3.0))[0]
    x = draw.draw(query_points(data.shape[1]))
    a = float(proc.alpha(t))
    p = rt.SmoothedEmpirical(data, proc)
    q = rt.SmoothedEmpirical(data + c, proc)
    h = float(proc.h(t))
    np.testing.assert_allclose(q.score(x + a * c, t), p.score(x, t), atol=1e-9 * (1 + 10 / h))


@given(processes(), datasets(max_points=1), st.data())
def test_single_point_score_is_exact(proc, data, draw):
    t = draw.draw(times(proc))
    x = draw.draw(query_points(data.shape[1]))
    p = rt.SmoothedEmpirical(data, proc)
    a, h = float(proc.alpha(t)), float(proc.h(t))
    np.testing.assert_allclose(p.score(x, t), (a * data[0] - x) / h, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        p.hessian(x, t), np.broadcast_to(-np.eye(p.dim) / h, (len(x), p.dim, p.dim)), rtol=1e-12
    )


@given(
    st.floats(0.5, 5.0),
    st.integers(2, 5),
    st.floats(0.01, 3.0),
    st.lists(st.floats(-8, 8), min_size=1, max_size=4),
)
def test_two_points_score_on_axis_has_no_off_axis_component(c, D, t, u):
    data = np.zeros((2, D))
    data[:, 0] = [-c, c]
    p = rt.SmoothedEmpirical(data)
    x = np.zeros((len(u), D))
    x[:, 0] = u
    s = p.score(x, t)
    assert np.all(s[:, 1:] == 0.0)
    # and on the axis the score is the 1-D closed form: (a c tanh(a c u / h) - u) / h
    a, h = np.exp(-t), -np.expm1(-2 * t)
    np.testing.assert_allclose(
        s[:, 0], (a * c * np.tanh(a * c * np.array(u) / h) - u) / h, rtol=1e-10, atol=1e-10
    )


@given(density_and_queries(max_dim=2))
def test_empirical_is_limit_of_gaussian_mixture(case):
    p, x, t = case
    for v in (1e-4, 1e-8):
        gm = rt.GaussianMixture(p.data, np.full(p.n, v), process=p.process)
        h = float(p.process.h(t))
        err = np.abs(gm.score(x, t) - p.score(x, t)).max()
        bound = 50 * v * (1 + np.abs(x).max() + np.abs(p.data).max()) ** 2 / h**2
        assert err <= bound
    np.testing.assert_allclose(gm.hessian(x, t), p.hessian(x, t), rtol=1e-5, atol=1e-5 / h**2)
    np.testing.assert_allclose(gm.log_prob(x, t), p.log_prob(x, t), rtol=1e-6, atol=1e-6)


def test_gaussian_mixture_closed_form_and_fd():
    means = np.array([[-2.0, 0.5], [1.0, 1.0], [0.0, -3.0]])
    gm = rt.GaussianMixture(means, np.array([0.3, 1.0, 2.0]), np.array([0.2, 0.5, 0.3]))
    x = np.random.default_rng(1).normal(size=(6, 2)) * 2
    t = 0.4
    a, h = np.exp(-t), -np.expm1(-2 * t)
    var = a**2 * np.array([0.3, 1.0, 2.0]) + h
    dens = sum(
        w * np.exp(-((x - a * m) ** 2).sum(1) / (2 * v)) / (2 * np.pi * v)
        for w, m, v in zip([0.2, 0.5, 0.3], means, var, strict=True)
    )
    np.testing.assert_allclose(gm.log_prob(x, t), np.log(dens), rtol=1e-12)
    eps = 1e-5
    np.testing.assert_allclose(
        fd_grad(lambda z: gm.log_prob(z, t), x, eps), gm.score(x, t), atol=1e-7
    )
    np.testing.assert_allclose(
        fd_grad(lambda z: gm.score(z, t), x, eps), gm.hessian(x, t), atol=1e-7
    )
    # Tweedie: the denoiser is x + h s
    np.testing.assert_allclose(gm.denoiser(x, t), x + h * gm.score(x, t), rtol=1e-12)


def test_standard_normal_is_stationary_under_ou():
    gm = rt.GaussianMixture(np.zeros((1, 3)), np.array([1.0]))
    x = np.random.default_rng(2).normal(size=(5, 3))
    for t in (0.01, 0.5, 4.0):
        np.testing.assert_allclose(gm.score(x, t), -x, rtol=1e-12)


def test_anchored_covariance_keeps_frames_at_small_t():
    """theory.md section 2: where |S|/h is far below machine precision, S itself stays exact."""
    p = rt.SmoothedEmpirical(np.array([[-3.0, 0.0], [3.0, 0.0]]))
    x = np.array([[1.5, 0.3]])
    t = 0.05
    S = p.posterior_covariance(x, t)[0]
    a, h = np.exp(-t), -np.expm1(-2 * t)
    # two points: S = g1 g2 (2 a c)^2 e1 e1^T, with g1 = 1/(1 + exp(z)), z = 2 a c x1 / h ~ 90
    z = 2 * a * 3.0 * 1.5 / h
    g_small = np.exp(-z) / (1.0 + np.exp(-z))
    assert g_small * (2 * a * 3.0) ** 2 / h < 1e-30  # invisible next to -I/h in float64
    expected = g_small * (1 - g_small) * (2 * a * 3.0) ** 2
    assert S[0, 0] == pytest.approx(expected, rel=1e-9)
    assert S[0, 1] == 0.0 and S[1, 1] == 0.0


def test_chunking_does_not_change_results():
    rng = np.random.default_rng(3)
    data = rng.normal(size=(50, 3))
    x = rng.normal(size=(40, 3))
    t = rng.uniform(0.05, 1.0, size=40)
    big = rt.SmoothedEmpirical(data)
    small = rt.SmoothedEmpirical(data, memory_budget=5000)  # a few rows per chunk
    # BLAS may block a GEMM differently for different row counts: equal up to round-off
    for name in ("score", "denoiser", "log_prob", "weights", "hessian"):
        np.testing.assert_allclose(
            getattr(small, name)(x, t), getattr(big, name)(x, t), rtol=1e-12, atol=1e-13
        )


def test_float32_agrees_with_float64():
    rng = np.random.default_rng(4)
    data = rng.normal(size=(20, 4))
    x = rng.normal(size=(30, 4))
    p64 = rt.SmoothedEmpirical(data)
    p32 = rt.SmoothedEmpirical(data, dtype=np.float32)
    for t in (0.1, 1.0):
        s32 = p32.score(x, t)
        assert s32.dtype == np.float32
        # float32 logits carry ~|x||y|/h * 6e-8 absolute error: 1e-4 relative at these scales
        np.testing.assert_allclose(s32, p64.score(x, t), rtol=2e-4, atol=2e-4 / float(rt.OU().h(t)))


def test_shapes_follow_input():
    p = rt.SmoothedEmpirical(np.eye(3))
    assert p.score(np.zeros(3), 0.5).shape == (3,)
    assert p.log_prob(np.zeros(3), 0.5).shape == ()
    assert p.hessian(np.zeros(3), 0.5).shape == (3, 3)
    assert p.weights(np.zeros((4, 3)), np.full(4, 0.5)).shape == (4, 3)
    assert p.hessian(np.zeros((4, 3)), 0.5).shape == (4, 3, 3)
    # integer input is accepted and converted exactly
    np.testing.assert_array_equal(p.score(np.zeros(3, dtype=int), 0.5), p.score(np.zeros(3), 0.5))


def test_large_query_set_runs_within_memory_budget():
    """1e4 queries x 6e3 points in D = 32 with a 16 MiB budget: chunks, no M x n x D array."""
    import tracemalloc

    rng = np.random.default_rng(5)
    data = rng.normal(size=(6000, 32))
    x = rng.normal(size=(10000, 32))
    p = rt.SmoothedEmpirical(data, memory_budget=16 * 2**20)
    tracemalloc.start()
    s = p.score(x, 0.5)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert s.shape == x.shape
    # output (2.5 MB) + budget (16 MiB) + a few row-chunk copies; an M x n array would be 480 MB
    assert peak < 40 * 2**20


BAD = [
    (
        lambda: rt.SmoothedEmpirical(np.array([[0.0, np.nan]])),
        "`data` passed to SmoothedEmpirical must be finite",
    ),
    (
        lambda: rt.SmoothedEmpirical(np.zeros((0, 2))),
        "`data` passed to SmoothedEmpirical must be non-empty",
    ),
    (
        lambda: rt.SmoothedEmpirical(np.zeros(3)),
        "`data` passed to SmoothedEmpirical must be an array of rank 2",
    ),
    (lambda: rt.SmoothedEmpirical(np.zeros((2, 2)), process="ou"), "`process`"),
    (lambda: rt.SmoothedEmpirical(np.zeros((2, 2)), dtype=np.int32), "`dtype`"),
    (lambda: rt.SmoothedEmpirical(np.array([["a", "b"]])), "real numeric"),
    (
        lambda: rt.SmoothedEmpirical(np.zeros((2, 2))).score(np.zeros(3), 0.1),
        r"must be of shape \(M, 2\)",
    ),
    (
        lambda: rt.SmoothedEmpirical(np.zeros((2, 2))).score(np.zeros(2), -0.1),
        "`t` passed to SmoothedEmpirical.score must be finite and > 0; got -0.1",
    ),
    (lambda: rt.SmoothedEmpirical(np.zeros((2, 2))).score(np.zeros(2), np.inf), "`t`.*finite"),
    (
        lambda: rt.SmoothedEmpirical(np.zeros((2, 2))).score(np.zeros((3, 2)), np.ones(2)),
        r"shape \(3,\)",
    ),
    (
        lambda: rt.SmoothedEmpirical(np.zeros((2, 2))).score(np.zeros(2), np.ones(2)),
        "scalar when x is a single",
    ),
    (
        lambda: rt.SmoothedEmpirical(np.zeros((2, 2))).hessian(np.array([np.inf, 0]), 0.1),
        "`x` passed to SmoothedEmpirical.hessian must be finite",
    ),
    (lambda: rt.SmoothedEmpirical(np.zeros((2, 2))).score(np.zeros((1, 1, 2)), 0.1), "rank 1 or 2"),
    (
        lambda: rt.GaussianMixture(np.zeros((2, 2)), np.array([1.0, 0.0])),
        "`variances` passed to GaussianMixture must be > 0",
    ),
    (lambda: rt.GaussianMixture(np.zeros((2, 2)), np.array([1.0])), r"`variances`.*shape \(2,\)"),
    (
        lambda: rt.GaussianMixture(np.zeros((2, 2)), np.ones(2), np.array([0.7, 0.7])),
        "`weights`.*sum to one",
    ),
    (
        lambda: rt.GaussianMixture(np.zeros((2, 2)), np.ones(2), np.array([1.5, -0.5])),
        "`weights`.*>= 0",
    ),
    (
        lambda: rt.GaussianMixture(np.zeros((2, 2)), np.ones(2), process=rt.VE()).score(
            np.zeros(2), 2.0
        ),
        "<= 1.0",
    ),
]


@pytest.mark.parametrize("call, match", BAD)
def test_bad_input_raises_naming_the_argument(call, match):
    with pytest.raises(rt.RidgeTheoryError, match=match):
        call()


def test_error_is_a_value_error():
    assert issubclass(rt.RidgeTheoryError, ValueError)


@given(density_and_queries())
def test_weights_and_denoiser_match_a_brute_force_softmax(case):
    p, x, t = case
    a, h = float(p.process.alpha(t)), float(p.process.h(t))
    logits = -((x[:, None, :] - a * p.data[None]) ** 2).sum(-1) / (2 * h)
    g = np.exp(logits - logits.max(1, keepdims=True))
    g /= g.sum(1, keepdims=True)
    np.testing.assert_allclose(p.weights(x, t), g, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(p.denoiser(x, t), g @ (a * p.data), rtol=1e-9, atol=1e-9)


def test_posterior_covariance_parts_rebuild_S_and_keep_directions():
    data = np.array([[-3.0, 0.0], [3.0, 0.0], [0.0, 5.0]])
    x = np.random.default_rng(6).normal(size=(6, 2)) * 3
    t = np.full(6, 0.4)
    for dens in (rt.SmoothedEmpirical(data),
                 rt.GaussianMixture(data, np.array([0.3, 0.5, 1.0]))):
        iso, logw, S_dir = dens._posterior_covariance_parts(x, t)
        rebuilt = iso[:, None, None] * np.eye(2) + np.exp(logw)[:, None, None] * S_dir
        np.testing.assert_allclose(rebuilt, dens.posterior_covariance(x, t), rtol=1e-10,
                                   atol=1e-14)
    # deep in one basin at small t, S underflows to 0 but its direction does not:
    # toward the next heaviest point, (0, 5) from (3, 0.3)
    p = rt.SmoothedEmpirical(data)
    iso, logw, S_dir = p._posterior_covariance_parts(np.array([[3.0, 0.3]]), np.array([1e-3]))
    assert np.all(p.posterior_covariance(np.array([3.0, 0.3]), 1e-3) == 0.0)
    w, v = np.linalg.eigh(S_dir[0])
    toward = np.array([0.0, 5.0]) - np.array([3.0, 0.0])
    assert abs(abs(v[:, -1] @ toward) / np.linalg.norm(toward) - 1) < 1e-6
    assert logw[0] < -700


def test_zero_weight_component_gives_finite_frames():
    g = rt.GaussianMixture(np.array([[0.0, 0.0], [3.0, 0.0]]), np.ones(2), np.array([1.0, 0.0]))
    iso, logw, S_dir = g._posterior_covariance_parts(np.array([[0.5, 0.2]]), np.array([0.3]))
    assert np.isneginf(logw[0]) and np.all(np.isfinite(S_dir)) and np.isfinite(iso[0])
    fr = rt.Ridge(g, 1).frames(np.array([0.5, 0.2]), 0.3)
    assert np.all(np.isfinite(fr.eigenvalues))
