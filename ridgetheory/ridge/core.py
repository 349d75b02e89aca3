"""The :class:`Ridge` object: frames, residuals, decomposition and projection."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._checks import (
    RidgeTheoryError,
    check_array,
    check_choice,
    check_int,
    check_points,
    check_scalar,
    check_times,
)
from ..backend import numba_threads_for, resolve_backend
from .frames import GAP_ATOL, GAP_RTOL, RidgeFrames, diagnostics, mean_shift, spectrum
from .projection import RidgeProjection, project_numpy

__all__ = ["Ridge"]


def _kernel_ok(density) -> bool:
    # the capability, not the type: a subclass that keeps the maths keeps the fast path
    return (getattr(density, "fused_kernel", None) == "empirical"
            and np.dtype(getattr(density, "dtype", None)) == np.float64)


def _kernel_data(density) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The training points as the projection kernel takes them: ``data``, ``data.T``
    (contiguous) and the squared norms."""
    data = density.data
    return data, np.ascontiguousarray(data.T), np.einsum("nd,nd->n", data, data)


class Ridge:
    """The d-dimensional log-density ridge of a smoothed density ``p_t`` (theory.md section 2).

    ``R_t = { x : P_N(x, t) s(x, t) = 0 and l_{d+1}(x, t) < 0 }`` where ``P_N`` projects on
    the eigenvectors of the Hessian of ``log p_t`` with the D - d smallest eigenvalues.

    Parameters
    ----------
    density : AbstractDensity
        Anything with the score protocol and a Hessian (``hessian`` or, better,
        ``posterior_covariance``), e.g. :class:`ridgetheory.SmoothedEmpirical`.
    d : int
        Ridge dimension, in 0..D-1 (0 gives the modes). ``dim=`` is a deprecated alias.
    gap_rtol : float, default=1e-9
        Frames with ``rel_gap < gap_rtol`` are flagged undetermined (see
        :class:`RidgeFrames`).
    gap_atol : float, default=0.0
        Frames with eigengap ``l_d - l_{d+1} < gap_atol`` (Hessian units) are flagged.
    backend : {"auto", "numpy", "numba"}, default="auto"
        Projection backend. "auto" takes the numba kernel for a float64 density whose
        ``fused_kernel`` capability is ``"empirical"`` (:class:`SmoothedEmpirical` and its
        subclasses that keep its maths) and numpy otherwise.

    Attributes
    ----------
    density, d, D, gap_rtol, gap_atol, backend
        ``d`` is the ridge dimension and ``D`` the ambient one (``dim`` is a deprecated
        alias of ``d``: ``density.dim`` is D, which made ``ridge.dim`` misleading).

    Examples
    --------
    >>> import numpy as np, ridgetheory as rt
    >>> p = rt.SmoothedEmpirical(np.array([[-3.0, 0.0], [3.0, 0.0]]))
    >>> ridge = rt.Ridge(p, 1)
    >>> proj = ridge.project(np.array([[1.0, 0.7], [-2.0, -0.4]]), 0.5)
    >>> bool(np.abs(proj.points[:, 1]).max() < 1e-12), bool(proj.converged.all())
    (True, True)
    """

    def __init__(self, density: Any, d: int | None = None, *, gap_rtol: float = GAP_RTOL,
                 gap_atol: float = GAP_ATOL, backend: str = "auto", dim: int | None = None):
        where = "Ridge"
        if dim is not None:
            if d is not None:
                raise RidgeTheoryError(
                    f"`dim` passed to {where} is a deprecated alias of `d`; pass only `d`, "
                    f"got d={d!r} and dim={dim!r}.")
            warnings.warn("Ridge(dim=...) is deprecated; use Ridge(density, d)",
                          DeprecationWarning, stacklevel=2)
            d, d_name = dim, "dim"
        else:
            d_name = "d"
        if d is None:
            raise RidgeTheoryError(f"`d` passed to {where} is required (the ridge dimension).")
        if not (callable(getattr(density, "score", None)) and hasattr(density, "dim")
                and hasattr(density, "process")
                and (getattr(density, "has_posterior_covariance", False)
                     or callable(getattr(density, "_hessian", None)))):
            raise RidgeTheoryError(
                f"`density` passed to {where} must be a density with score and Hessian "
                f"(e.g. rt.SmoothedEmpirical); got {type(density).__name__}."
            )
        self.density = density
        self.D = int(density.dim)
        self.d = check_int(d, d_name, where, low=0, high=self.D - 1)
        self.gap_rtol = check_scalar(gap_rtol, "gap_rtol", where, low=0.0)
        self.gap_atol = check_scalar(gap_atol, "gap_atol", where, low=0.0)
        check_choice(backend, "backend", where, ("auto", "numpy", "numba"))
        self.backend = backend

    def __repr__(self) -> str:
        return f"Ridge({self.density!r}, d={self.d})"

    @property
    def dim(self) -> int:
        """Deprecated alias of :attr:`d` (removed in the next release)."""
        warnings.warn("Ridge.dim is deprecated; use Ridge.d (the ridge dimension)",
                      DeprecationWarning, stacklevel=2)
        return self.d

    # -- input ------------------------------------------------------------------------------
    def _prepare(self, x: Any, t: Any, method: str) -> tuple[np.ndarray, np.ndarray, bool]:
        where = f"Ridge.{method}"
        xx, single = check_points(x, "x", where, self.D, np.float64)
        tt = check_times(t, "t", where, xx.shape[0], single, np.float64)
        tmax = self.density.process.t_max
        if np.isfinite(tmax) and np.any(tt > tmax):
            raise RidgeTheoryError(
                f"`t` passed to {where} must be <= {tmax}; got {float(tt.max())}.")
        return xx, tt, single

    @staticmethod
    def _drop(value, single: bool):
        return value[0] if single else value

    # -- pointwise quantities -----------------------------------------------------------------
    def frames(self, x: Any, t: Any) -> RidgeFrames:
        """Hessian eigen-frames at points ``x``.

        Parameters
        ----------
        x : array of shape (M, D) or (D,), float64
        t : float or array of shape (M,), > 0

        Returns
        -------
        RidgeFrames
            Fields of shape (M, ...) or, for a (D,) point, without the M axis.

        Examples
        --------
        >>> import numpy as np, ridgetheory as rt
        >>> ridge = rt.Ridge(rt.SmoothedEmpirical(np.array([[-3.0, 0], [3.0, 0]])), 1)
        >>> f = ridge.frames(np.array([1.0, 0.0]), 1.0)
        >>> np.abs(f.normal[:, 0]).round(12).tolist()  # the normal is the second axis
        [0.0, 1.0]
        """
        xx, tt, single = self._prepare(x, t, "frames")
        fr = spectrum(self.density, xx, tt).frames(self.d, self.gap_rtol, self.gap_atol)
        if not single:
            return fr
        return RidgeFrames(*(getattr(fr, f)[0] for f in RidgeFrames.__dataclass_fields__))

    def residual(self, x: Any, t: Any) -> tuple[np.ndarray, np.ndarray]:
        """Ridge residual ``|P_N s|`` and the normalized ``|P_N s| / |s|``.

        Parameters
        ----------
        x : array of shape (M, D) or (D,), float64
        t : float or array of shape (M,), > 0

        Returns
        -------
        abs : array of shape (M,) or 0-d, float64
        rel : array of shape (M,) or 0-d, float64
            ``nan`` where ``s = 0``.

        Examples
        --------
        >>> import numpy as np, ridgetheory as rt
        >>> ridge = rt.Ridge(rt.SmoothedEmpirical(np.array([[-3.0, 0], [3.0, 0]])), 1)
        >>> ridge.residual(np.array([1.0, 0.0]), 1.0)[0].round(12)
        np.float64(0.0)
        """
        xx, tt, single = self._prepare(x, t, "residual")
        off = mean_shift(self.density, xx, tt)
        h = np.asarray(self.density.process.h(tt), dtype=np.float64)
        s = off / h[:, None]
        sp = spectrum(self.density, xx, tt)
        k = self.D - self.d
        VN = sp.vectors[:, :, :k]
        r = np.linalg.norm(np.einsum("mdj,md->mj", VN, s), axis=1)
        sn = np.linalg.norm(s, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(sn > 0, r / np.where(sn > 0, sn, 1.0), np.nan)
        return self._drop(r, single), self._drop(rel, single)

    def decompose(self, v: Any, x: Any, t: Any) -> tuple[np.ndarray, np.ndarray]:
        """Split vectors ``v`` at points ``x`` into normal and tangent parts.

        Parameters
        ----------
        v : array of shape (M, D) or (D,), float64
            Same shape as ``x`` (e.g. a score error ``s_theta - s``).
        x : array of shape (M, D) or (D,), float64
        t : float or array of shape (M,), > 0

        Returns
        -------
        v_normal, v_tangent : arrays shaped like ``v``
            ``P_N v`` and ``P_T v = v - P_N v``.

        Examples
        --------
        >>> import numpy as np, ridgetheory as rt
        >>> ridge = rt.Ridge(rt.SmoothedEmpirical(np.array([[-3.0, 0], [3.0, 0]])), 1)
        >>> vn, vt = ridge.decompose(np.array([1.0, 2.0]), np.array([0.5, 0.0]), 1.0)
        >>> vn.round(12).tolist(), vt.round(12).tolist()
        ([0.0, 2.0], [1.0, 0.0])
        """
        xx, tt, single = self._prepare(x, t, "decompose")
        vv = check_array(v, "v", "Ridge.decompose", ndim=(1, 2), dtype=np.float64)
        if (vv.ndim == 1) != single or vv.reshape(-1, vv.shape[-1]).shape != xx.shape:
            raise RidgeTheoryError(
                f"`v` passed to Ridge.decompose must have the shape of x "
                f"{xx.shape[1:] if single else xx.shape}; got shape {vv.shape}.")
        v2 = vv.reshape(xx.shape)
        sp = spectrum(self.density, xx, tt)
        vn = np.einsum("mdj,mj->md", sp.vectors[:, :, : self.D - self.d],
                       np.einsum("mdj,md->mj", sp.vectors[:, :, : self.D - self.d], v2))
        vt = v2 - vn
        return self._drop(vn, single), self._drop(vt, single)

    # -- projection ----------------------------------------------------------------------------
    def project(self, x: Any, t: Any = None, method: str = "scms", *, tol: float = 1e-9,
                max_iter: int = 1000, backend: str | None = None) -> RidgeProjection:
        """Project points onto the ridge (SCMS by default, or subspace-constrained Newton).

        Parameters
        ----------
        x : array of shape (M, D) or (D,), float64, or RidgeProjection
            Start points. A previous :class:`RidgeProjection` resumes its unconverged points
            (its ``start`` and ``t`` are kept; ``t`` may then be omitted).
        t : float or array of shape (M,), > 0
        method : {"scms", "newton"}, default="scms"
            "newton" takes the subspace-constrained Newton step where all normal curvatures
            are negative and it lowers the residual, else the SCMS step. For d = 0 (modes) it
            is Newton's ``x - H^{-1} s`` where ``H`` is negative definite and the step lowers
            ``|m - x|``; elsewhere (saddles, inflections) the saddle-free step
            ``|H|^{-1} s``, at most ``sqrt(h_t)`` long and halved until ``log p_t`` rises;
            else mean shift. The numba kernel has Newton steps for d >= 1 only, so d = 0
            with "newton" runs on numpy under ``backend="auto"`` (and ``"numba"`` raises).
        tol : float, default=1e-9
            Stop a point when the normal mean-shift step ``|P_N (m - x)| = h |P_N s|`` (in
            units of x) is at most ``tol``.
        max_iter : int, default=1000
            Updates per point in this call.
        backend : {"auto", "numpy", "numba"}, optional
            Overrides the ridge's backend for this call.

        Returns
        -------
        RidgeProjection

        Raises
        ------
        RidgeTheoryError
            Bad ``x`` (shape, non-finite), ``t``, ``method``, ``tol`` or ``max_iter``.

        Examples
        --------
        >>> import numpy as np, ridgetheory as rt
        >>> ridge = rt.Ridge(rt.SmoothedEmpirical(np.array([[-3.0, 0], [3.0, 0]])), 0)
        >>> pr = ridge.project(np.array([0.3, 0.2]), 2.0, tol=1e-12)  # one mode at t = 2
        >>> bool(np.abs(pr.points).max() < 1e-10), int(pr.iterations) > 0
        (True, True)
        """
        where = "Ridge.project"
        check_choice(method, "method", where, ("scms", "newton"))
        tol = check_scalar(tol, "tol", where, low=0.0, low_open=True)
        max_iter = check_int(max_iter, "max_iter", where, low=0)
        be = self.backend if backend is None else backend
        check_choice(be, "backend", where, ("auto", "numpy", "numba"))
        newton_modes = method == "newton" and self.d == 0  # no kernel for it
        if be == "auto":
            be = resolve_backend("auto", where, supported=("numba", "numpy")) \
                if _kernel_ok(self.density) and not newton_modes else "numpy"
        elif be == "numba":
            if newton_modes:
                raise RidgeTheoryError(
                    f"`backend` passed to {where} asked for 'numba' with method='newton' and "
                    f"d = 0; the numba kernel takes Newton steps for d >= 1 only: use "
                    f"backend='auto' or 'numpy' (or method='scms').")
            if not _kernel_ok(self.density):
                raise RidgeTheoryError(
                    f"`backend` passed to {where} asked for 'numba', which needs a float64 "
                    f"density with fused_kernel='empirical' (e.g. rt.SmoothedEmpirical); got "
                    f"{type(self.density).__name__} (fused_kernel="
                    f"{getattr(self.density, 'fused_kernel', None)!r}).")
            be = resolve_backend("numba", where, supported=("numba",))

        if isinstance(x, RidgeProjection):
            prev = x
            if prev.dim != self.d or prev.points.shape[-1] != self.D:
                raise RidgeTheoryError(
                    f"`x` passed to {where} is a RidgeProjection of another ridge "
                    f"(dim {prev.dim}, D {prev.points.shape[-1]}).")
            single = prev.single
            xs = np.array(np.atleast_2d(prev.points), dtype=np.float64)
            start = np.atleast_2d(prev.start)
            tt = np.atleast_1d(prev.t).astype(np.float64)
            if t is not None:
                t2 = check_times(t, "t", where, xs.shape[0], single)
                if not np.array_equal(t2, tt):
                    raise RidgeTheoryError(
                        f"`t` passed to {where} must match the times of the resumed "
                        f"projection (or be omitted); got {t!r}.")
            iters = np.atleast_1d(prev.iterations).astype(np.int64).copy()
            todo = ~np.atleast_1d(prev.converged)
        else:
            if t is None:
                raise RidgeTheoryError(f"`t` passed to {where} is required for new points.")
            xs, tt, single = self._prepare(x, t, "project")
            xs = xs.copy()
            start = xs.copy()
            iters = np.zeros(xs.shape[0], dtype=np.int64)
            todo = np.ones(xs.shape[0], dtype=bool)

        M, D = xs.shape
        idx = np.flatnonzero(todo)
        if be == "numba":
            out = self._run_numba(xs, start, tt, idx, method, tol, max_iter, iters)
        else:
            out = self._run_numpy(xs, start, tt, idx, method, tol, max_iter, iters)
        res = RidgeProjection(method=method, backend=be, tol=tol, dim=self.d, t=tt,
                              start=start, single=False, **out)
        if not single:
            return res
        return RidgeProjection(
            **{f: (getattr(res, f)[0] if isinstance(getattr(res, f), np.ndarray) else
                   getattr(res, f)) for f in RidgeProjection.__dataclass_fields__
               if f != "single"}, single=True)

    def _finish(self, xs, start, tt, iters, status, rnorm, spec):
        h = np.asarray(self.density.process.h(tt), dtype=np.float64)
        fr = spec.frames(self.d, self.gap_rtol, self.gap_atol)
        eta = start - xs
        k = self.D - self.d
        VN = spec.vectors[:, :, :k]
        pn = np.einsum("mdj,mj->md", VN, np.einsum("mdj,md->mj", VN, eta))
        offs = np.stack([np.linalg.norm(eta, axis=1), np.linalg.norm(pn, axis=1),
                         np.linalg.norm(eta - pn, axis=1)], axis=1)
        conv = (status == 0) & ~fr.undetermined
        return dict(points=xs, converged=conv, iterations=iters, residual=rnorm / h,
                    curvature=fr.curvature, gap=fr.gap, displacement=offs,
                    undetermined=fr.undetermined)

    def _run_numpy(self, xs, start, tt, idx, method, tol, max_iter, iters):
        sub = xs[idx]
        it_sub = iters[idx].copy()
        it_sub, st_sub, _ = project_numpy(self.density, sub, start[idx], tt[idx], self.d,
                                          method, tol, max_iter, it_sub)
        xs[idx] = sub
        iters[idx] = it_sub
        # one final evaluation at every returned point gives consistent diagnostics
        status = np.zeros(xs.shape[0], dtype=np.int8)
        status[idx] = st_sub
        off = mean_shift(self.density, xs, tt)
        spec = spectrum(self.density, xs, tt)
        k = self.D - self.d
        VN = spec.vectors[:, :, :k]
        rnorm = np.linalg.norm(np.einsum("mdj,md->mj", VN, off), axis=1)
        # points converged before a resume keep status 0; all frames are re-evaluated
        return self._finish(xs, start, tt, iters, status, rnorm, spec)

    def _run_numba(self, xs, start, tt, idx, method, tol, max_iter, iters):
        from . import _kernels

        p = self.density
        a = np.asarray(p.process.alpha(tt), dtype=np.float64)
        h = np.asarray(p.process.h(tt), dtype=np.float64)
        M, D = xs.shape
        k = D - self.d
        status = np.zeros(M, dtype=np.int8)
        rnorm = np.zeros(M)
        lam = np.zeros((M, D))
        logw = np.zeros(M)
        offs = np.zeros((M, 3))
        sub = np.ascontiguousarray(xs[idx])
        it_sub = iters[idx].copy()
        st_sub = np.empty(idx.size, dtype=np.int8)
        r_sub = np.empty(idx.size)
        lam_sub = np.empty((idx.size, D))
        lw_sub = np.empty(idx.size)
        off_sub = np.empty((idx.size, 3))
        with numba_threads_for(idx.size, min_per_thread=256):
            _kernels.project_kernel(sub, np.ascontiguousarray(start[idx]), a[idx], h[idx],
                                    *_kernel_data(p), k, tol, max_iter,
                                    method == "newton", it_sub, st_sub, r_sub, lam_sub, lw_sub,
                                    off_sub, np.empty((0, D, D)), np.empty((0, D)), False)
        xs[idx] = sub
        iters[idx] = it_sub
        status[idx] = st_sub
        rnorm[idx] = r_sub
        lam[idx] = lam_sub
        logw[idx] = lw_sub
        offs[idx] = off_sub
        if idx.size < M:
            # points not re-run (converged before a resume): one numpy evaluation
            rest = np.setdiff1d(np.arange(M), idx)
            spr = spectrum(p, xs[rest], tt[rest])
            lam[rest] = spr.base
            with np.errstate(divide="ignore"):
                logw[rest] = np.log(spr.weight)
            VN = spr.vectors[:, :, :k]
            offr = mean_shift(p, xs[rest], tt[rest])
            rnorm[rest] = np.linalg.norm(np.einsum("mdj,md->mj", VN, offr), axis=1)
            eta = start[rest] - xs[rest]
            pn = np.einsum("mdj,mj->md", VN, np.einsum("mdj,md->mj", VN, eta))
            offs[rest] = np.stack([np.linalg.norm(eta, axis=1), np.linalg.norm(pn, axis=1),
                                   np.linalg.norm(eta - pn, axis=1)], axis=1)
        lam_h, (curv, gap, _, und) = self._kernel_spectrum(lam, logw, h)
        conv = (status == 0) & ~und
        return dict(points=xs, converged=conv, iterations=iters, residual=rnorm / h,
                    curvature=curv, gap=gap, displacement=offs, undetermined=und)

    def _project_frames(self, x: np.ndarray, t: float, frames: np.ndarray | None, *,
                        tol: float, max_iter: int, method: str = "scms") -> dict[str, Any]:
        """Internal fast path of the slide reduction (needs :func:`_kernel_ok`): project clean
        (M, D) points at one time with the numba kernel, warm-starting each point's first
        Jacobi solve from ``frames`` (M, D, D) when given; returns the points, kernel status,
        the ascending spectrum and eigenvectors of ``S_dir``, ``log W`` and ``m - x`` there,
        with the diagnostics of :class:`RidgeFrames` (``lam_h`` ascending Hessian
        eigenvalues, ``undetermined``)."""
        from . import _kernels

        p = self.density
        M, D = x.shape
        a = np.full(M, float(p.process.alpha(t)))
        h = np.full(M, float(p.process.h(t)))
        xs = np.array(x, dtype=np.float64, order="C")
        out = {k: np.zeros(M, dtype=dt) for k, dt in
               (("iters", np.int64), ("status", np.int8), ("res", np.float64),
                ("logw", np.float64))}
        lam = np.zeros((M, D))
        offs = np.zeros((M, 3))
        V = np.array(frames, dtype=np.float64, order="C") if frames is not None \
            else np.empty((M, D, D))
        shift = np.empty((M, D))
        with numba_threads_for(M, min_per_thread=256):
            _kernels.project_kernel(xs, xs.copy(), a, h, *_kernel_data(p), D - self.d, tol,
                                    max_iter, method == "newton", out["iters"], out["status"],
                                    out["res"], lam, out["logw"], offs, V, shift,
                                    frames is not None)
        lam_h, (_, _, _, und) = self._kernel_spectrum(lam, out["logw"], h)
        return {"points": xs, "status": out["status"], "iters": out["iters"], "lam_h": lam_h,
                "vectors": V, "shift": shift, "undetermined": und}

    def _kernel_spectrum(self, lam, logw, h):
        """Ascending Hessian eigenvalues and the frame diagnostics from the kernel's ``S_dir``
        spectrum ``lam`` (M, D) and ``log W`` (M,): ``S = W S_dir`` for the empirical density."""
        with np.errstate(under="ignore"):
            w = np.exp(logw)
        lam_h = (w[:, None] * lam - h[:, None]) / (h**2)[:, None]
        return lam_h, diagnostics(lam_h, lam, np.max(np.abs(lam), axis=1), w, h, True, self.d,
                                  self.gap_rtol, self.gap_atol)

    # -- ridge sets ------------------------------------------------------------------------------
    def extract(self, t: float, seeds: Any = None, bounds: Any = None, *, n_seeds: int = 400,
                seed: int = 0, max_curvature: float = 0.0, min_rel_gap: float | None = None,
                min_density: float | None = None, tol: float = 1e-9, max_iter: int = 1000,
                method: str = "scms"):
        """Ridge set at time ``t``: project seeds, keep points that pass the filters.

        Parameters
        ----------
        t : float, > 0
        seeds : array of shape (K, D), optional
            Start points. Without seeds and bounds, ``n_seeds`` samples of ``p_t`` (empirical
            density) or of N(0, I) are drawn with ``seed``.
        bounds : array of shape (D, 2), optional
            Box for a regular grid of about ``n_seeds`` seeds.
        n_seeds : int, default=400
        seed : int, default=0
        max_curvature : float, default=0.0
            Keep points with ``l_{d+1} < max_curvature`` (use ``-beta`` for the regular ridge).
        min_rel_gap : float, optional
            Keep points whose ``rel_gap`` is at least this.
        min_density : float in [0, 1], optional
            Keep points with ``p_t >= min_density * max p_t`` over the points kept so far.
            Default None: no density cut (as 0). The ridge of theory.md section 2 has no
            density condition, and its density falls between modes as
            ``exp(-delta^2 / (8 h_t))`` of theirs (``delta`` the spacing of neighbouring
            training points), so any fixed fraction of the maximum cuts the inter-mode
            ridge, where the non-memorized samples live, into stubs around the modes at small
            ``t``. The seeds (samples of ``p_t``, or ``bounds``) limit how far into the tails
            the set reaches.
        tol : float, default=1e-9
            As in :meth:`project`.
        max_iter : int, default=1000
            Update budget per walker, spent twice: up to ``max_iter`` updates of ``method``,
            then the walkers still running (neither converged nor undetermined) continue with
            up to ``max_iter`` Newton updates (:meth:`project` with ``method="newton"``,
            which takes the SCMS or mean-shift step where Newton does not apply). SCMS and
            mean shift converge linearly at rate ``1 + h_t l`` per normal direction, slowly
            where ``p_t`` is flat: the six modes of the hexagon layout at t = 0.8 take about
            6000 mean-shift updates, and Newton a few.
        method : {"scms", "newton"}, default="scms"
            As in :meth:`project`.

        Returns
        -------
        RidgeSet
            With ``dropped``, the seeds left out by reason (``"unconverged"``,
            ``"undetermined"``, ``"curvature"``, ``"rel_gap"``, ``"density"``), and
            ``n_unconverged``.

        Warns
        -----
        RidgeWarning
            When walkers are left out because the budget ran out, and, for d = 0, when no
            mode is found (a density always has at least one).

        Examples
        --------
        >>> import numpy as np, ridgetheory as rt
        >>> ridge = rt.Ridge(rt.SmoothedEmpirical(np.array([[-3.0, 0], [3.0, 0]])), 0)
        >>> modes = ridge.extract(0.1, bounds=[[-4, 4], [-1, 1]], n_seeds=50)
        >>> np.sort(modes.clusters(0.1)[:, 0]).round(3).tolist()
        [-2.715, 2.715]
        >>> modes.n_unconverged, len(modes) + sum(modes.dropped.values()) == modes.n_seeds
        (0, True)
        """
        from .sets import extract

        return extract(self, t, seeds, bounds, n_seeds=n_seeds, seed=seed,
                       max_curvature=max_curvature, min_rel_gap=min_rel_gap,
                       min_density=min_density, tol=tol, max_iter=max_iter, method=method)

    def trace(self, t: float, seeds: Any = None, bounds: Any = None, *, step: float | None = None,
              max_points: int = 2000, n_seeds: int = 400, seed: int = 0,
              min_density: float | None = None, max_curvature: float = 0.0, tol: float = 1e-10,
              max_iter: int = 1000):
        """Ordered 1-D ridge curves with an arc-length coordinate (d = 1 only).

        Seeds are extracted as in :meth:`extract`; from the first remaining ridge point two
        walkers step ``step`` along +/- the tangent and are re-projected (predictor-corrector)
        until they leave ``bounds`` (default: the scaled training points ``a_t x_i`` padded by
        ``3 sqrt(h_t)``; for a Gaussian mixture its scaled means padded by three smoothed
        component deviations; otherwise the seed ridge points padded by ``3 sqrt(h_t)``), lose
        negative curvature or a determined frame, fail to converge, drop below the density
        floor (when ``min_density`` is given) or close a loop (one walker back at the start,
        or the two meeting). Each curve records why its ends stopped (``RidgeCurve.stops``).
        Seeds covered by the curve are removed and the next curve starts from what is left.

        Parameters
        ----------
        t : float, > 0
        seeds, bounds, n_seeds, seed, max_curvature
            As in :meth:`extract`.
        min_density : float in [0, 1], optional
            As in :meth:`extract`: default None, no density floor, so a ring of modes comes
            back as one closed curve through the low-density stretches between them (the
            hexagon layout at t = 0.02: one loop, not six stubs).
        step : float, optional
            Arc-length step; default ``0.1 sqrt(h_t)`` (or 1/200 of the smallest box side).
        max_points : int, default=2000
            Points per curve at most.
        tol : float, default=1e-10
            Corrector tolerance (as in :meth:`project`).
        max_iter : int, default=1000
            Corrector budget, spent as in :meth:`extract` (SCMS, then Newton).

        Returns
        -------
        RidgeTrace
            A list of :class:`RidgeCurve`, with ``seeds`` (the extracted :class:`RidgeSet`)
            and ``n_unconverged`` (seeds and curve ends whose projection ran out of budget).

        Warns
        -----
        RidgeWarning
            When seeds or curve ends are lost because the budget ran out.

        Examples
        --------
        >>> import numpy as np, ridgetheory as rt
        >>> ridge = rt.Ridge(rt.SmoothedEmpirical(np.array([[-3.0, 0], [3.0, 0]])), 1)
        >>> (curve,) = ridge.trace(0.5, bounds=[[-4, 4], [-1, 1]], n_seeds=25, step=0.1)
        >>> bool(curve.length > 7.8), float(np.abs(curve.points[:, 1]).max()), curve.stops
        (True, 0.0, ('bounds', 'bounds'))
        """
        from .sets import trace

        return trace(self, t, seeds, bounds, step=step, max_points=max_points, n_seeds=n_seeds,
                     seed=seed, min_density=min_density, max_curvature=max_curvature, tol=tol,
                     max_iter=max_iter)

    def evolve(self, times: Any, seeds: Any = None, bounds: Any = None, **kwargs: Any):
        """Ridge sets through time: ``{t: RidgeSet}`` for each entry of ``times``.

        Parameters
        ----------
        times : array of shape (K,), > 0
        seeds, bounds, **kwargs
            Passed to :meth:`extract` at every time.

        Returns
        -------
        dict of float to RidgeSet

        Examples
        --------
        >>> import numpy as np, ridgetheory as rt
        >>> ridge = rt.Ridge(rt.SmoothedEmpirical(np.array([[-3.0, 0], [3.0, 0]])), 0)
        >>> sets = ridge.evolve([0.1, 3.0], bounds=[[-4, 4], [-1, 1]], n_seeds=50)
        >>> [len(s.clusters(0.1)) for s in sets.values()]
        [2, 1]
        """
        from .sets import evolve

        return evolve(self, times, seeds, bounds, **kwargs)
