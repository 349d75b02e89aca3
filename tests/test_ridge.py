"""Tests of the ridge engine (issue 3): analytic cases, cross-checks, properties, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import ridgetheory as rt
from ridgetheory._checks import RidgeTheoryError
from ridgetheory._numba_maths import exp_nonpos_array
from ridgetheory.ridge import Ridge, RidgeCurve, RidgeFrames, RidgeProjection, _kernels


def two_points(c: float, D: int) -> np.ndarray:
    x = np.zeros((2, D))
    x[0, 0], x[1, 0] = -c, c
    return x


def ah(t):
    return np.exp(-t), -np.expm1(-2 * t)


# -- analytic two-point case ---------------------------------------------------------------------
@pytest.mark.parametrize("D", [2, 3, 5])
@pytest.mark.parametrize("t", [0.05, 0.3, 1.0, 3.0])
@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_two_points_d1_fixed_points_on_axis(D, t, backend):
    c = 3.0
    ridge = Ridge(rt.SmoothedEmpirical(two_points(c, D)), 1, backend=backend)
    rng = np.random.default_rng(1)
    x0 = rng.uniform(-4, 4, (60, D))
    pr = ridge.project(x0, t, tol=1e-10)
    a, h = ah(t)
    assert pr.converged.all()
    assert np.abs(pr.points[:, 1:]).max() < 1e-12  # exactly the first axis
    assert np.all(pr.residual * h <= 1e-10)
    # normal eigenvalue is exactly -1/h, tangent one -1/h + Var_g/h^2 (theory.md section 2)
    np.testing.assert_allclose(pr.curvature, -1.0 / h, rtol=1e-12)
    fr = ridge.frames(pr.points, t)
    z = a * c * pr.points[:, 0] / h
    var = (a * c) ** 2 / np.cosh(z) ** 2
    np.testing.assert_allclose(fr.eigenvalues[:, 0], -1.0 / h + var / h**2, rtol=1e-9,
                               atol=1e-12 / h)
    np.testing.assert_allclose(fr.gap, var / h**2, rtol=1e-9)
    # the SCMS step from a point with zero tangent error is purely normal: offset is normal
    np.testing.assert_allclose(pr.displacement[:, 2], np.abs(x0[:, 0] - pr.points[:, 0]),
                               atol=1e-12)
    np.testing.assert_allclose(pr.points[:, 0], x0[:, 0], atol=1e-12)


def _scalar_modes(a, c, h):
    """Positive fixed point of x = a c tanh(a c x / h) by bisection (independent of the code)."""
    f = lambda x: x - a * c * np.tanh(a * c * x / h)  # noqa: E731
    lo, hi = 1e-9, a * c + 1.0
    if f(lo) >= 0:
        return 0.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if f(mid) < 0 else (lo, mid)
    return 0.5 * (lo + hi)


@pytest.mark.parametrize("D", [2, 3, 5])
@pytest.mark.parametrize("t", [0.05, 0.6, 1.0, 1.35, 2.5])
def test_two_points_modes_split_at_t_star(D, t):
    c = 3.0
    t_star = 0.5 * np.log1p(c**2)
    ridge = Ridge(rt.SmoothedEmpirical(two_points(c, D)), 0)
    rng = np.random.default_rng(2)
    pr = ridge.project(rng.uniform(-4, 4, (40, D)), t, tol=1e-12, max_iter=20000)
    assert pr.converged.all()
    a, h = ah(t)
    xstar = _scalar_modes(a, c, h)
    if t >= t_star:
        assert xstar == 0.0
        np.testing.assert_allclose(pr.points, 0.0, atol=1e-9)
    else:
        assert xstar > 0.1
        np.testing.assert_allclose(np.abs(pr.points[:, 0]), xstar, rtol=1e-9)
        assert {np.sign(v) for v in pr.points[:, 0]} == {-1.0, 1.0}
        np.testing.assert_allclose(pr.points[:, 1:], 0.0, atol=1e-12)
    assert np.all(pr.curvature < 0)


def test_anchored_frames_survive_small_t_and_underflow_is_flagged():
    ridge = Ridge(rt.SmoothedEmpirical(two_points(3.0, 2)), 1)
    t = 0.05
    a, h = ah(t)
    f = ridge.frames(np.array([1.5, 0.0]), t)
    assert isinstance(f, RidgeFrames) and f.normal.shape == (2, 1)
    # posterior weight off the anchor ~ e^-90: eigh(H) cannot see the gap, eigh(S) does
    np.testing.assert_allclose(np.abs(f.normal[:, 0]), [0.0, 1.0], atol=1e-15)
    var = (a * 3.0) ** 2 / np.cosh(a * 3.0 * 1.5 / h) ** 2
    np.testing.assert_allclose(f.gap, var / h**2, rtol=1e-9)
    assert f.rel_gap == 1.0 and not f.undetermined
    # t = 1e-3 at x = 3: the off-anchor weight W underflows (S = 0 in floating point), yet
    # the direction part of S = W S_dir keeps the frame, and projection lands on the axis
    g = ridge.frames(np.array([3.0, 0.2]), 1e-3)
    assert g.gap == 0.0 and g.rel_gap == 1.0 and not g.undetermined
    np.testing.assert_allclose(np.abs(g.normal[:, 0]), [0.0, 1.0], atol=1e-15)
    for backend in ("numpy", "numba"):
        pr = ridge.project(np.array([3.0, 0.2]), 1e-3, backend=backend)
        assert pr.converged and pr.points[1] == 0.0
    # truly undetermined: one training point (nothing off the anchor), and the centre of an
    # equilateral triangle (S isotropic, l_1 = l_2)
    one = Ridge(rt.SmoothedEmpirical(np.array([[1.0, 2.0]])), 1)
    ang = np.pi / 2 + 2 * np.pi * np.arange(3) / 3
    tri = Ridge(rt.SmoothedEmpirical(np.c_[np.cos(ang), np.sin(ang)]), 1)
    assert one.frames(np.array([0.0, 0.0]), 0.5).undetermined
    assert tri.frames(np.array([0.0, 0.0]), 0.5).undetermined
    assert not tri.frames(np.array([0.0, 0.3]), 0.5).undetermined
    for backend in ("numpy", "numba"):
        pr = one.project(np.array([[0.0, 0.0], [3.0, 1.0]]), 0.5, backend=backend)
        assert pr.undetermined.all() and not pr.converged.any()
        np.testing.assert_array_equal(pr.points, [[0.0, 0.0], [3.0, 1.0]])  # frozen, not moved
    # modes need no frame: d = 0 converges to the (scaled) training point
    pr0 = Ridge(ridge.density, 0).project(np.array([3.0, 0.2]), 1e-3)
    np.testing.assert_allclose(pr0.points, [np.exp(-1e-3) * 3.0, 0.0], rtol=1e-12)


# -- kernels against the numpy reference ---------------------------------------------------------
def test_jacobi_matches_eigh():
    rng = np.random.default_rng(3)
    for D in (1, 2, 3, 5, 16):
        for scale in (1.0, 1e-200, 1e150):
            B = rng.standard_normal((D, D))
            S = scale * (B @ B.T)
            w, V = np.empty(D), np.empty((D, D))
            _kernels.jacobi_eigh(S, np.empty((D, D)), w, V)
            w_ref = np.linalg.eigvalsh(S)
            np.testing.assert_allclose(w, w_ref, rtol=1e-12, atol=1e-13 * abs(w_ref).max())
            np.testing.assert_allclose(V @ np.diag(w) @ V.T, S, atol=1e-13 * abs(S).max())
            np.testing.assert_allclose(V.T @ V, np.eye(D), atol=1e-13)
    w, V = np.empty(3), np.empty((3, 3))
    assert _kernels.jacobi_eigh(np.zeros((3, 3)), np.empty((3, 3)), w, V) == 0.0


def test_vectorized_exp_matches_libm():
    rng = np.random.default_rng(12)
    z = np.concatenate([[0.0, -1e-300, -0.5 * np.log(2), -708.0], -rng.random(20000) * 708.0,
                        [-708.5, -745.0, -1e4, -np.inf]])
    out = np.empty_like(z)
    exp_nonpos_array(z, out)
    ref = np.exp(z)
    ok = z >= -708.0
    np.testing.assert_allclose(out[ok], ref[ok], rtol=2.5e-16, atol=0)  # about one ulp
    np.testing.assert_array_equal(out[~ok], 0.0)


@pytest.mark.parametrize("D", [2, 3, 4])
@pytest.mark.parametrize("method", ["scms", "newton"])
def test_numba_kernel_matches_numpy(D, method):
    rng = np.random.default_rng(10 + D)
    data = rng.standard_normal((7, D)) * 2
    p = rt.SmoothedEmpirical(data)
    x0 = rng.standard_normal((30, D)) * 2
    t = np.linspace(0.1, 1.0, 30)
    for d in range(D):
        ridge = Ridge(p, d)
        a = ridge.project(x0, t, method, tol=1e-11, max_iter=300, backend="numpy")
        if method == "newton" and d == 0:  # the kernel has Newton steps for d >= 1 only
            with pytest.raises(RidgeTheoryError, match="`backend`.*d >= 1 only"):
                ridge.project(x0, t, method, backend="numba")
            assert ridge.project(x0, t, method, max_iter=1).backend == "numpy"
            continue
        b = ridge.project(x0, t, method, tol=1e-11, max_iter=300, backend="numba")
        assert a.backend == "numpy" and b.backend == "numba"
        # a start whose frame is undetermined takes an arbitrary first step: compare the rest
        ok = a.converged & (ridge.frames(x0, t).rel_gap > 1e-6)
        assert ok.mean() > 0.7
        np.testing.assert_array_equal(a.converged[ok], b.converged[ok])
        np.testing.assert_allclose(b.points[ok], a.points[ok], atol=1e-9)
        # same iterates up to round-off: counts agree except where the last step straddles tol
        assert np.mean(a.iterations[ok] == b.iterations[ok]) > 0.8
        np.testing.assert_allclose(b.curvature[ok], a.curvature[ok], rtol=1e-8)
        np.testing.assert_allclose(b.displacement[ok], a.displacement[ok], atol=1e-8)


@pytest.mark.parametrize("process", [rt.VE(), rt.VPLinear(), rt.VPCosine()],
                         ids=["VE", "VPLinear", "VPCosine"])
def test_kernel_matches_numpy_for_other_processes(process):
    rng = np.random.default_rng(21)
    p = rt.SmoothedEmpirical(rng.standard_normal((6, 3)), process)
    t = 0.3
    a, h = float(process.alpha(t)), float(process.h(t))
    x0 = a * p.data[rng.integers(0, 6, 20)] + np.sqrt(h) * rng.standard_normal((20, 3))
    ridge = Ridge(p, 1)
    ref = ridge.project(x0, t, tol=1e-11, backend="numpy")
    new = ridge.project(x0, t, tol=1e-11, backend="numba")
    ok = ref.converged & (ridge.frames(x0, t).rel_gap > 1e-6)
    assert ok.mean() > 0.7
    np.testing.assert_array_equal(new.converged[ok], True)
    np.testing.assert_allclose(new.points[ok], ref.points[ok], atol=1e-9)
    np.testing.assert_allclose(new.residual[ok] * h, ref.residual[ok] * h, atol=1e-12)


# -- invariances ----------------------------------------------------------------------------------
def test_equilateral_triangle_rotation_equivariance():
    ang = np.pi / 2 + 2 * np.pi * np.arange(3) / 3
    data = 2.0 * np.c_[np.cos(ang), np.sin(ang)]
    R = np.array([[np.cos(2 * np.pi / 3), -np.sin(2 * np.pi / 3)],
                  [np.sin(2 * np.pi / 3), np.cos(2 * np.pi / 3)]])
    rng = np.random.default_rng(4)
    seeds = rng.uniform(-2.5, 2.5, (80, 2))
    for d in (0, 1):
        ridge = Ridge(rt.SmoothedEmpirical(data), d)
        a = ridge.project(seeds, 0.2, tol=1e-12)
        b = ridge.project(seeds @ R.T, 0.2, tol=1e-12)
        ok = a.converged & b.converged
        assert ok.mean() > 0.9
        np.testing.assert_allclose(b.points[ok], a.points[ok] @ R.T, atol=1e-8)


def test_large_t_ridge_is_principal_line_through_scaled_mean():
    rng = np.random.default_rng(5)
    data = rng.standard_normal((12, 3)) * np.array([3.0, 1.0, 0.3]) + np.array([1.0, -2.0, 0.5])
    t = 6.0
    a, h = ah(t)
    ridge = Ridge(rt.SmoothedEmpirical(data), 1)
    pr = ridge.project(a * rng.standard_normal((20, 3)), t, tol=1e-14)
    assert pr.converged.all()
    w, V = np.linalg.eigh(np.cov(data.T, bias=True))
    u = V[:, -1]
    rel = pr.points - a * data.mean(axis=0)
    perp = rel - np.outer(rel @ u, u)
    # p_t is a Gaussian up to third cumulants, which are O(a^3): the ridge leaves the line by
    # O(a^3) while seeds spread O(a) along it
    assert np.abs(perp).max() < 10 * a**3 * np.abs(data).max() ** 3
    assert np.ptp(rel @ u) > 0.5 * a


def test_scaling_identity_against_plain_kde_scms():
    """ridge of p_t = a_t * log-KDE ridge of the raw data at bandwidth sqrt(e^{2t}-1)."""
    rng = np.random.default_rng(6)
    data = rng.standard_normal((6, 2)) * 1.5
    t = 0.4
    a, _ = ah(t)
    sigma = np.sqrt(np.expm1(2 * t))

    def plain_scms(y, d, iters=4000):
        for _ in range(iters):
            diff = data - y
            w = np.exp(-0.5 * np.sum(diff**2, 1) / sigma**2)
            w /= w.sum()
            m = w @ data
            grad = (m - y) / sigma**2
            H = (diff.T * w) @ diff / sigma**4 - np.eye(2) / sigma**2 - np.outer(grad, grad)
            lam, V = np.linalg.eigh(H)
            VN = V[:, : 2 - d]
            step = VN @ (VN.T @ (m - y))
            y = y + step
            if np.linalg.norm(step) < 1e-13:
                break
        return y

    seeds = rng.standard_normal((15, 2)) * 1.5
    for d in (0, 1):
        pr = Ridge(rt.SmoothedEmpirical(data), d).project(a * seeds, t, tol=1e-13,
                                                          max_iter=4000)
        ref = np.array([plain_scms(s, d) for s in seeds])
        ok = pr.converged
        assert ok.mean() > 0.8
        np.testing.assert_allclose(pr.points[ok], a * ref[ok], atol=1e-8)


# -- hypothesis properties -----------------------------------------------------------------------
@st.composite
def problems(draw):
    D = draw(st.integers(2, 3))
    n = draw(st.integers(2, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((n, D)) * draw(st.floats(0.5, 3.0))
    d = draw(st.integers(0, D - 1))
    t = draw(st.floats(0.1, 2.0))
    x0 = np.exp(-t) * data[rng.integers(0, n, 12)] + rng.standard_normal((12, D))
    return data, d, t, x0


_RESIDUAL_ROUNDING_CASE = (  # a draw where the kernel's and numpy's residuals differ by ~1e-14
    np.array([[1.23403239, 3.80752036], [-2.30123988, 0.61186165],
              [-4.34817735, -0.86819293], [1.22284821, 5.03478825]]), 0, 0.125,
    np.array([[1.88596416, 3.94584653], [-2.14862046, -0.16480722], [1.40623909, 5.28461069],
              [1.27064509, 5.21694191], [-4.22987038, 0.10748922], [-3.08163671, -0.04527794],
              [1.40357756, 2.87741531], [1.54278002, 5.28143133], [-3.32958208, 0.93223047],
              [-2.4339439, 1.93056616], [-0.29412594, 3.85053717], [-2.78657294, 1.14893853]]))


@given(problems())
@example(_RESIDUAL_ROUNDING_CASE)
def test_property_projection(prob):
    data, d, t, x0 = prob
    p = rt.SmoothedEmpirical(data)
    ridge = Ridge(p, d)
    tol = 1e-10
    pr = ridge.project(x0, t, tol=tol, max_iter=3000)
    ok = pr.converged
    h = ah(t)[1]
    pts = pr.points[ok]
    # ridge conditions, recomputed from the public posterior covariance and score (eigh of
    # the Hessian itself would lose the frame by cancellation, theory.md section 2)
    if ok.any():
        s = p.score(pts, t)
        lam, V = np.linalg.eigh(p.posterior_covariance(pts, t))
        assert np.all(lam[:, data.shape[1] - d - 1] < h)  # l_{d+1} = (lam - h)/h^2 < 0
        VN = V[:, :, : data.shape[1] - d]
        fr = ridge.frames(pts, t)
        gap_ok = ~fr.undetermined
        # two eigen-solvers agree on a frame to about eps / rel_gap
        frame_err = 1e-13 * np.linalg.norm(s, axis=1) / np.minimum(fr.rel_gap, 1.0)
        rn = np.linalg.norm(np.einsum("mdj,md->mj", VN, s), axis=1)
        assert np.all((rn * h <= 10 * tol + h * frame_err)[gap_ok])
        # m - x is a sum of terms of size |x| and |a x_k|: two correct evaluations differ by
        # a few ulps of those, divided by h (FMA contraction in the kernel, not in numpy)
        ulps = 16 * np.finfo(float).eps * (np.linalg.norm(pts, axis=1)
                                           + np.exp(-t) * np.abs(data).sum(1).max()) / h
        bad = np.abs(pr.residual[ok] - ridge.residual(pts, t)[0]) > ulps + frame_err
        assert not np.any(bad & gap_ok)
        # projecting a projected point moves it less than the tolerance
        # (where the frame is well conditioned: otherwise two eigen-solvers may disagree on
        # the normal space by ~1e-16 / rel_gap, and so on whether the last step was <= tol)
        again = ridge.project(pts, t, tol=tol)
        well = fr.rel_gap > 1e-4
        assert np.all(np.linalg.norm(again.points - pts, axis=1)[well] <= tol)
        # a small normal offset at the projection is undone, the point comes back
        eps = 1e-4 * np.sqrt(h)
        back = ridge.project(pts + eps * fr.normal[:, :, 0], t, tol=tol, max_iter=3000)
        good = back.converged & (fr.curvature < -0.1 / h)
        if good.any():
            tang = back.displacement[good, 2] / back.displacement[good, 0]
            assert np.all(tang < 1e-2)
    # order of training points and batching do not matter (rounding differs with the order,
    # so compare paths that start and end on well-conditioned frames: an undetermined start
    # frame makes the first step arbitrary)
    perm = np.random.default_rng(0).permutation(data.shape[0])
    pr2 = Ridge(rt.SmoothedEmpirical(data[perm]), d).project(x0, t, tol=tol, max_iter=3000)
    cond = (ridge.frames(x0, t).rel_gap > 1e-6) & (ridge.frames(pr.points, t).rel_gap > 1e-6)
    np.testing.assert_array_equal(pr2.converged[cond], pr.converged[cond])
    np.testing.assert_allclose(pr2.points[ok & cond], pr.points[ok & cond], atol=1e-8)
    halves = [ridge.project(x0[:5], t, tol=tol, max_iter=3000),
              ridge.project(x0[5:], t, tol=tol, max_iter=3000)]
    np.testing.assert_array_equal(np.vstack([q.points for q in halves]), pr.points)


def test_resume_continues_unconverged_points():
    rng = np.random.default_rng(7)
    p = rt.SmoothedEmpirical(rng.standard_normal((8, 2)) * 2)
    ridge = Ridge(p, 1)
    x0 = rng.standard_normal((25, 2)) * 2
    for backend in ("numpy", "numba"):
        full = ridge.project(x0, 0.3, tol=1e-12, max_iter=2000, backend=backend)
        part = ridge.project(x0, 0.3, tol=1e-12, max_iter=3, backend=backend)
        assert part.n_unconverged > 0
        res = part
        for _ in range(700):
            res = ridge.project(res, tol=1e-12, max_iter=3, backend=backend)
        np.testing.assert_array_equal(res.converged, full.converged)
        np.testing.assert_allclose(res.points, full.points, atol=1e-12)
        np.testing.assert_array_equal(res.iterations, full.iterations)
        np.testing.assert_array_equal(res.start, x0)
        np.testing.assert_allclose(res.displacement, full.displacement, atol=1e-12)


def test_newton_fewer_iterations_same_ridge():
    rng = np.random.default_rng(8)
    th = rng.uniform(0, 2 * np.pi, 200)
    data = np.c_[np.cos(th), np.sin(th)] * 2
    ridge = Ridge(rt.SmoothedEmpirical(data), 1)
    x0 = rng.uniform(-2.5, 2.5, (100, 2))
    s = ridge.project(x0, 0.05, "scms", tol=1e-10, max_iter=5000)
    n = ridge.project(x0, 0.05, "newton", tol=1e-10, max_iter=5000)
    ok = s.converged & n.converged
    assert ok.mean() > 0.9
    assert np.median(n.iterations[ok]) < np.median(s.iterations[ok])
    # both land on the ridge: residual at tolerance, and near one another for normal starts
    assert np.all(n.residual[ok] * ah(0.05)[1] <= 1e-10)
    r_s, r_n = np.linalg.norm(s.points[ok], axis=1), np.linalg.norm(n.points[ok], axis=1)
    assert np.abs(r_s - r_n).max() < 1e-3


# -- other densities, decomposition ----------------------------------------------------------------
class _HessianOnly(rt.AbstractDensity):
    """A density exposing only a Hessian: the engine must fall back to eigh(H)."""

    has_posterior_covariance = False

    def __init__(self, inner):
        self.inner, self.process, self.dim = inner, inner.process, inner.dim

    def _score(self, x, t):
        return self.inner._score(x, t)

    def _hessian(self, x, t):
        return self.inner._hessian(x, t)


def test_gaussian_mixture_and_hessian_fallback():
    g = rt.GaussianMixture(np.array([[-2.0, 0.0], [2.0, 0.0]]), np.array([0.3, 0.3]))
    rng = np.random.default_rng(9)
    x0 = rng.uniform(-3, 3, (30, 2))
    pr = Ridge(g, 1).project(x0, 0.3, tol=1e-13)
    assert pr.backend == "numpy" and pr.converged.all()
    # linear convergence: the distance left is below tol / (1 - rate), rate < 1/2 here
    np.testing.assert_allclose(pr.points[:, 1], 0.0, atol=2e-13)
    p = rt.SmoothedEmpirical(rng.standard_normal((5, 3)))
    y = rng.standard_normal((10, 3))
    fa = Ridge(p, 1).frames(y, 0.5)
    fb = Ridge(_HessianOnly(p), 1).frames(y, 0.5)
    np.testing.assert_allclose(fb.eigenvalues, fa.eigenvalues, rtol=1e-9)
    PA = np.einsum("mij,mkj->mik", fa.normal, fa.normal)
    np.testing.assert_allclose(fb.normal_projector, PA, atol=1e-9)
    with pytest.raises(RidgeTheoryError, match="numba"):
        Ridge(g, 1).project(x0, 0.3, backend="numba")


def test_decompose_and_frames_shapes():
    rng = np.random.default_rng(11)
    p = rt.SmoothedEmpirical(rng.standard_normal((6, 4)))
    ridge = Ridge(p, 2)
    x, v = rng.standard_normal((9, 4)), rng.standard_normal((9, 4))
    vn, vt = ridge.decompose(v, x, 0.7)
    np.testing.assert_allclose(vn + vt, v, atol=1e-14)
    fr = ridge.frames(x, 0.7)
    assert fr.eigenvalues.shape == (9, 4) and fr.normal.shape == (9, 4, 2)
    assert fr.tangent.shape == (9, 4, 2) and fr.curvature.shape == (9,)
    assert np.all(np.diff(fr.eigenvalues, axis=1) <= 0)
    np.testing.assert_allclose(np.einsum("mij,mj->mi", fr.tangent_projector, vn), 0, atol=1e-12)
    np.testing.assert_allclose(np.einsum("mij,mj->mi", fr.normal_projector, vt), 0, atol=1e-12)
    # eigen-equation with the public Hessian
    H = p.hessian(x, 0.7)
    HV = H @ fr.normal
    np.testing.assert_allclose(HV, fr.normal * fr.eigenvalues[:, None, 2:], atol=1e-10)
    vn1, vt1 = ridge.decompose(v[0], x[0], 0.7)
    np.testing.assert_allclose(vn1, vn[0], atol=1e-14)
    r, rel = ridge.residual(x[0], 0.7)
    assert np.ndim(r) == 0 and 0 <= rel <= 1 + 1e-12
    pr = ridge.project(x[0], 0.7)
    assert isinstance(pr, RidgeProjection) and pr.points.shape == (4,)
    assert pr.displacement.shape == (3,)
    assert np.isinf(Ridge(p, 0).frames(x, 0.7).gap).all()


# -- ridge sets, curves, plot ----------------------------------------------------------------------
def test_trace_two_points_and_circle():
    ridge = Ridge(rt.SmoothedEmpirical(two_points(3.0, 2)), 1)
    (curve,) = ridge.trace(0.5, bounds=[[-4, 4], [-1, 1]], n_seeds=25, step=0.1)
    assert isinstance(curve, RidgeCurve) and not curve.closed
    np.testing.assert_allclose(curve.points[:, 1], 0.0, atol=1e-12)
    assert curve.points[0, 0] < -3.8 and curve.points[-1, 0] > 3.8
    assert np.all(np.diff(curve.arclength) > 0)
    s = curve.coordinate(np.array([[1.0, 0.5], [-2.0, -0.3]]))
    np.testing.assert_allclose(curve.point(s), [[1.0, 0.0], [-2.0, 0.0]], atol=1e-12)
    # circle of radius 2: a closed curve of length ~ 2 pi r_ridge
    th = 2 * np.pi * np.arange(60) / 60
    p = rt.SmoothedEmpirical(2 * np.c_[np.cos(th), np.sin(th)])
    curves = Ridge(p, 1).trace(0.05, n_seeds=40, seed=1, step=0.05)
    assert len(curves) == 1 and curves[0].closed
    rad = np.linalg.norm(curves[0].points, axis=1)
    assert np.ptp(rad) < 0.02
    np.testing.assert_allclose(curves[0].length, 2 * np.pi * rad.mean(), rtol=2e-3)


def test_extract_and_evolve_modes():
    ridge = Ridge(rt.SmoothedEmpirical(two_points(3.0, 2)), 0)
    sets = ridge.evolve([0.1, 3.0], bounds=[[-4, 4], [-1, 1]], n_seeds=49)
    counts = [len(s.clusters(0.1)) for s in sets.values()]
    assert counts == [2, 1]
    rs = ridge.extract(0.1, seeds=np.array([[0.5, 0.1], [-0.5, 0.3]]))
    assert len(rs) == 2 and rs.n_seeds == 2 and np.all(rs.curvature < 0)
    samp = ridge.extract(0.1, n_seeds=30, seed=3)
    assert len(samp) == 30


def test_plot_and_demo(tmp_path):
    from ridgetheory.plotting import plot_ridge_2d, two_mode_figure

    p = rt.SmoothedEmpirical(two_points(3.0, 2))
    ridge = Ridge(p, 1)
    curves = ridge.trace(0.5, bounds=[[-4, 4], [-1, 1]], n_seeds=16, step=0.2)
    out = plot_ridge_2d(p, {0.5: curves, 1.0: ridge.extract(1.0, n_seeds=50)}, 0.5,
                        tmp_path / "r.png", samples=np.zeros((3, 2)), resolution=40)
    out2 = two_mode_figure(tmp_path / "two.png", times=(0.3, 2.0))
    for f in (out, out2):
        with open(f, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


# -- bad input ----------------------------------------------------------------------------------
def test_bad_input_raises_named_errors():
    p = rt.SmoothedEmpirical(two_points(3.0, 3))
    for d in (-1, 3, 1.0, True):
        with pytest.raises(RidgeTheoryError, match="`d` passed to Ridge"):
            Ridge(p, d)
    with pytest.raises(RidgeTheoryError, match="`density`"):
        Ridge(np.zeros((2, 2)), 1)
    ridge = Ridge(p, 1)
    with pytest.raises(RidgeTheoryError, match="`x`.*shape"):
        ridge.frames(np.zeros((4, 2)), 0.5)
    with pytest.raises(RidgeTheoryError, match="`x`.*finite"):
        ridge.project(np.array([[0.0, np.nan, 0.0]]), 0.5)
    with pytest.raises(RidgeTheoryError, match="`t`"):
        ridge.residual(np.zeros(3), -0.1)
    with pytest.raises(RidgeTheoryError, match="`t`"):
        ridge.project(np.zeros((2, 3)), np.ones(3))
    with pytest.raises(RidgeTheoryError, match="`method`"):
        ridge.project(np.zeros(3), 0.5, "bfgs")
    with pytest.raises(RidgeTheoryError, match="`tol`"):
        ridge.project(np.zeros(3), 0.5, tol=0.0)
    with pytest.raises(RidgeTheoryError, match="`v`"):
        ridge.decompose(np.zeros((2, 3)), np.zeros((3, 3)), 0.5)
    with pytest.raises(RidgeTheoryError, match="`bounds`"):
        ridge.extract(0.5, bounds=[[1, 0], [0, 1], [0, 1]])
    with pytest.raises(RidgeTheoryError, match="`d` of the ridge"):
        ridge_0 = Ridge(p, 0)
        ridge_0.trace(0.5)


def test_negligible_terms_left_out_of_the_covariance_change_nothing():
    """The fused kernel leaves out of S the terms below 2^-60 of its trace (a far cluster at
    weights ~e^-80): S and the projection agree with sums over every term."""
    from ridgetheory.ridge._kernels import SBLOCK, _moments

    rng = np.random.default_rng(4)
    D = 6
    data = np.concatenate([0.3 * rng.standard_normal((20, D)),
                           4.0 + 0.3 * rng.standard_normal((20, D))])
    t = 0.05
    a, h = np.exp(-t), -np.expm1(-2 * t)
    x = a * data[3] + 0.1 * rng.standard_normal(D)
    # every term, in the anchored form, in numpy
    lg = -0.5 * np.sum((x - a * data) ** 2, axis=1) / h
    k = int(np.argmax(lg))
    e = np.exp(lg - np.max(np.delete(lg, k)))
    e[k] = 0.0
    far = e[20:] / e.sum()
    assert far.max() < 2.0**-100 and far.min() > 0  # the cut drops them; exp does not
    dk = data - data[k]
    tot = e.sum()
    ubar = a * (e @ dk) / tot
    rest = np.exp(np.max(np.delete(lg, k)) - lg[k]) * tot
    W = rest / (1 + rest)
    S_ref = a * a * (dk.T * e) @ dk / tot - W * np.outer(ubar, ubar)
    S = np.empty((D, D))
    _moments(x, a, h, data, np.ascontiguousarray(data.T), np.sum(data**2, 1), np.empty(40),
             np.empty(D), np.empty(D), S, True, np.empty((SBLOCK, D)), np.empty((SBLOCK, D)))
    np.testing.assert_allclose(S, S_ref, rtol=0, atol=1e-13 * np.trace(S_ref))
    ridge = Ridge(rt.SmoothedEmpirical(data), 1)
    x0 = a * data[rng.integers(0, 20, 40)] + np.sqrt(h) * rng.standard_normal((40, D))
    ref = ridge.project(x0, t, tol=1e-10, max_iter=500, backend="numpy")
    got = ridge.project(x0, t, tol=1e-10, max_iter=500, backend="numba")
    ok = ref.converged & got.converged
    assert ok.mean() > 0.9
    np.testing.assert_allclose(got.points[ok], ref.points[ok], atol=1e-9)
    np.testing.assert_allclose(got.curvature[ok], ref.curvature[ok], rtol=1e-8)
