"""Shared machinery of the slide and align predictions: projected feet with their frames, and
the linear normal moment equations stepped along a grid (theory.md section 4).

:class:`Feet` projects points onto the ridge and returns the frames there. For a density with
the empirical kernel (``fused_kernel == "empirical"``, float64) it runs the numba projection
kernel, warm-starting each point's Jacobi solve from its previous frame and returning the
frame and the mean shift it computed at the returned point, so a step of the reduction costs
one kernel call; otherwise it calls :meth:`Ridge.project` and :meth:`Ridge.frames`. Both are
checked against each other in the tests.

:class:`Moments` holds each member's mean normal displacement and normal covariance in
coordinates of the normal frame at its foot point and steps them with frozen coefficients;
between steps the state is carried to the new frame by the nearest rotation (:func:`transport`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ridge.frames import mean_shift
from ..simulate.noise import normals
from ._common import at_mode, grid_coefficients, phi1
from .curves import tube_radius


@dataclass
class FootState:
    """Projected feet and their frames at one time (all per member)."""

    points: np.ndarray  # (M, D)
    missed: np.ndarray  # (M,) projection did not converge (not counting rest on a mode)
    undetermined: np.ndarray  # (M,) frame undetermined away from a mode
    at_mode: np.ndarray  # (M,) frame undetermined on a mode (nothing to decide there)
    eigenvalues: np.ndarray  # (M, D) Hessian eigenvalues, descending (as RidgeFrames)
    normal: np.ndarray  # (M, D, D - d), column j for eigenvalues[:, d + j]
    tangent: np.ndarray  # (M, D, d)
    shift: np.ndarray  # (M, D) exact mean shift m - x
    vectors: np.ndarray | None = None  # (M, D, D) kernel frames (warm start of the next call)


class Feet:
    """Project points onto ``ridge`` and return :class:`FootState` (see the module docstring).

    ``fast``: None picks the numba kernel when the density has the empirical kernel and numba
    runs; True requires it; False uses the numpy reference path. ``method``: the projection
    (subspace-constrained Newton by default, see :meth:`Ridge.project`)."""

    def __init__(self, density: Any, ridge: Any, *, tol: float, fast: bool | None = None,
                 method: str = "newton"):
        from ..backend import backend_status
        from ..ridge.core import _kernel_ok

        ok = _kernel_ok(density) and backend_status("numba").available
        if fast and not ok:
            from .._checks import RidgeTheoryError

            raise RidgeTheoryError(
                "the fast slide path needs a float64 density with fused_kernel='empirical' "
                "and numba; pass fast=None to choose automatically.")
        self.fast = ok if fast is None else bool(fast)
        # Newton: where the normal curvature is weak (|l_N| h << 1, early in the reduction)
        # SCMS contracts by about 1 - |l_N| h per iteration; Newton converges quadratically
        self.density, self.ridge, self.tol, self.method = density, ridge, tol, method
        self.vectors: np.ndarray | None = None

    def project(self, x: np.ndarray, t: float, max_iter: int) -> FootState:
        d, D = self.ridge.d, self.ridge.D
        k = D - d
        if self.fast:
            out = self.ridge._project_frames(x, t, self.vectors, tol=self.tol, max_iter=max_iter,
                                             method=self.method)
            V, lam_h = out["vectors"], out["lam_h"]
            self.vectors = V
            und = out["undetermined"]
            pts = out["points"]
            state = FootState(points=pts, missed=(out["status"] != 0) | und, undetermined=und,
                              at_mode=np.zeros(len(pts), dtype=bool),
                              eigenvalues=lam_h[:, ::-1], normal=V[:, :, k - 1 :: -1],
                              tangent=V[:, :, : k - 1 : -1] if d else V[:, :, :0],
                              shift=out["shift"], vectors=V)
        else:
            pr = self.ridge.project(x, t, self.method, tol=self.tol, max_iter=max_iter,
                                    backend="numpy")
            pts = np.array(pr.points)
            fr = self.ridge.frames(pts, t)
            und = np.asarray(fr.undetermined)
            state = FootState(points=pts, missed=~np.asarray(pr.converged), undetermined=und,
                              at_mode=np.zeros(len(pts), dtype=bool),
                              eigenvalues=np.asarray(fr.eigenvalues), normal=fr.normal,
                              tangent=fr.tangent,
                              shift=mean_shift(self.density, pts, np.full(len(pts), float(t))))
        idx = np.flatnonzero(state.undetermined)
        if idx.size:
            rest = at_mode(self.density, pts[idx], t, state.eigenvalues[idx], self.tol)
            state.at_mode[idx[rest]] = True
            state.undetermined[idx[rest]] = False
            state.missed[idx[rest]] = False
        return state


def transport(V_new: np.ndarray, V_old: np.ndarray) -> np.ndarray:
    """Rotations (M, k, k) that carry normal coordinates from ``V_old`` to ``V_new``.

    The orthogonal polar factor of ``V_new^T V_old``: the rotation nearest to the overlap,
    so a smoothly turning normal space transports the state with it, and where the frame
    turns abruptly (at a corner of the ridge, where the chords of a polygonal ridge meet)
    the state keeps its size instead of losing the part that left the new normal space.
    Computed by Newton-Schulz iteration where the overlap is nearly orthogonal (the usual
    case between consecutive steps) and by SVD elsewhere.
    """
    O = np.einsum("mdi,mdj->mij", V_new, V_old)
    if O.shape[1] == 1:
        return np.where(O >= 0, 1.0, -1.0)
    k = O.shape[1]
    eye = np.eye(k)
    # Newton-Schulz converges when every singular value of O is in (0, sqrt(3)); a Frobenius
    # deviation below 0.5 bounds them all (an entrywise one does not for k >= 3)
    near = np.linalg.norm(np.swapaxes(O, 1, 2) @ O - eye, axis=(1, 2)) < 0.5
    R = np.empty_like(O)
    X = O[near]
    for _ in range(8):
        X = 1.5 * X - 0.5 * X @ np.swapaxes(X, 1, 2) @ X
        if np.abs(np.swapaxes(X, 1, 2) @ X - eye).max(initial=0.0) < 1e-13:
            break
    ok = np.abs(np.swapaxes(X, 1, 2) @ X - eye).max(axis=(1, 2), initial=0.0) < 1e-12
    idx = np.flatnonzero(near)
    R[idx[ok]] = X[ok]
    rest = np.setdiff1d(np.arange(len(O)), idx[ok])
    if rest.size:  # far from orthogonal, or not converged: the SVD
        U, _, Wt = np.linalg.svd(O[rest])
        R[rest] = U @ Wt
    return R


def _distances_numpy(cm: np.ndarray, Sc: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``|cm + Sc^(1/2) z|`` for (M, k) means, (M, k, k) covariances, (M, n, k) draws."""
    w, U = np.linalg.eigh(0.5 * (Sc + np.swapaxes(Sc, 1, 2)))
    root = U * np.sqrt(np.clip(w, 0.0, None))[:, None, :]
    return np.linalg.norm(cm[:, None, :] + np.einsum("mij,mnj->mni", root, z), axis=2)


def distances(cm: np.ndarray, Sc: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Norms (M, n) of normal displacements ``cm + C z`` with ``C C^T = Sc``: a Cholesky
    factor in a numba kernel when numba runs (the same distribution as the symmetric root;
    tested against it), else the symmetric square root in numpy."""
    from ..backend import backend_status

    if not backend_status("numba").available:
        return _distances_numpy(cm, Sc, z)
    from ._kernels import cholesky_distances

    out = np.empty(z.shape[:2])
    cholesky_distances(np.ascontiguousarray(cm), np.ascontiguousarray(Sc),
                       np.ascontiguousarray(z), out)
    return out


def quantiles(x: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
    """``np.quantile(x, levels)`` (linear interpolation) from one partial sort for all levels."""
    n = len(x)
    pos = np.asarray(levels, dtype=np.float64) * (n - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    part = np.partition(x, np.unique(np.concatenate([lo, hi])))
    return part[lo] + (pos - lo) * (part[hi] - part[lo])


def canonical(V: np.ndarray) -> np.ndarray:
    """Columns of ``V`` (M, D, k) signed so that each one's largest-magnitude entry is positive.

    Eigenvectors are defined up to sign; fixing it makes the normal coordinates, and with them
    the counter-based distance draws, the same whichever eigensolver produced the frame."""
    idx = np.argmax(np.abs(V), axis=1)  # (M, k)
    lead = np.take_along_axis(V, idx[:, None, :], axis=1)  # (M, 1, k)
    return V * np.where(lead < 0, -1.0, 1.0)


#: distance samples per step the default number of draws per member aims at
SAMPLES_PER_STEP = 16384


def draws_per_member(n_draws: int | None, M: int, where: str) -> int:
    """``n_draws``, or ``ceil(16384 / M)`` (at least 4) when None."""
    from .._checks import check_int

    if n_draws is None:
        return max(4, -(-SAMPLES_PER_STEP // max(int(M), 1)))
    return check_int(n_draws, "n_draws", where, low=1)


class Moments:
    """Mean and covariance of the normal displacement of M members along a grid.

    Call :meth:`observe` at every grid index (it transports the state into the frame given and
    records the statistics over the usable members), then :meth:`advance` to the next one."""

    def __init__(self, process: Any, grid: np.ndarray, M: int, D: int, d: int,
                 quantiles: tuple[float, ...], n_draws: int, seed: int, tube_level: float):
        levels = np.asarray(quantiles, dtype=np.float64)
        if levels.ndim != 1 or not levels.size or not np.all((levels >= 0) & (levels <= 1)):
            from .._checks import RidgeTheoryError

            raise RidgeTheoryError(
                f"`quantiles` must be a non-empty sequence of levels in [0, 1]; got "
                f"{quantiles!r}.")
        self.co = grid_coefficients(process, grid)
        self.k, self.M = D - d, M
        self.quantiles, self.n_draws, self.seed = tuple(quantiles), n_draws, seed
        L1 = len(grid)
        self.mean = np.empty(L1)
        self.drift = np.empty(L1)
        self.fixed = np.empty(L1)
        self.rate = np.empty(L1)
        self.tube = np.empty(L1)
        self.qs = np.empty((len(quantiles), L1))
        self.radius = tube_radius(process, grid, self.k, tube_level)
        self.cm = np.zeros((M, self.k))
        self.Sc = np.zeros((M, self.k, self.k))
        self.V: np.ndarray | None = None
        # the same standard normal draws at every step (common random numbers): counter-based
        # from (seed, member * n_draws + draw) at step 0
        self.z = normals(seed, np.arange(M * n_draws), 0, self.k).reshape(M, n_draws, self.k)
        self.no_fixed_point = 0

    def start(self, V: np.ndarray, displacement: np.ndarray) -> None:
        V = canonical(V)
        self.cm = np.einsum("mdk,md->mk", V, displacement)
        self.V = V

    def observe(self, l: int, V: np.ndarray, lam: np.ndarray, error: np.ndarray | None,
                use: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Transport into frame ``V`` (M, D, k) with rates ``lam`` (M, k) and score error
        ``error`` (M, D) (None: zero); record the statistics of the ``use`` members. Returns
        the members whose state is not finite (to exclude) and the normal error components
        ``c`` (M, k) in this frame, for :meth:`advance`."""
        V = canonical(V)
        c = np.zeros(lam.shape) if error is None else np.einsum("mdk,md->mk", V, error)
        if self.V is not None:
            self._transport(V)
        self.V = V
        bad = ~(np.isfinite(self.cm).all(axis=1) & np.isfinite(self.Sc).all(axis=(1, 2)))
        self.cm[bad], self.Sc[bad] = 0.0, 0.0  # keep the excluded finite
        use = use & ~bad
        if use.any():
            self._stats(l, use)
        g2 = self.co["g2"][l]
        contracting = np.all(lam < 0, axis=1) & use
        self.no_fixed_point += int(np.sum(use & ~contracting))
        if contracting.any():
            fp = g2 * c[contracting] / -lam[contracting]
            self.fixed[l] = float(np.mean(np.linalg.norm(fp, axis=1)))
        else:
            self.fixed[l] = np.nan  # counted in meta["fixed_point_undefined_steps"]
        self.rate[l] = float(np.median(-lam[use, 0])) if use.any() else np.nan
        return bad, c

    def _transport(self, V: np.ndarray) -> None:
        from ..backend import backend_status

        if self.k > 1 and backend_status("numba").available:
            from ._kernels import transport_state

            self.cm = np.ascontiguousarray(self.cm)
            self.Sc = np.ascontiguousarray(self.Sc)
            transport_state(np.ascontiguousarray(V), np.ascontiguousarray(self.V), self.cm,
                            self.Sc)
            return
        R = transport(V, self.V)
        self.cm = np.einsum("mij,mj->mi", R, self.cm)
        self.Sc = R @ self.Sc @ np.swapaxes(R, 1, 2)

    def _stats(self, l: int, use: np.ndarray) -> None:
        z, Sc, cm = self.z[use], self.Sc[use], self.cm[use]
        dist = distances(cm, Sc, z).ravel()
        self.mean[l] = dist.mean()
        self.qs[:, l] = quantiles(dist, self.quantiles)
        self.tube[l] = np.mean(dist <= self.radius[l])
        self.drift[l] = np.linalg.norm(cm, axis=1).mean()

    def advance(self, l: int, lam: np.ndarray, c: np.ndarray) -> None:
        dt, g2 = self.co["dt"][l], self.co["g2"][l]
        with np.errstate(over="ignore", invalid="ignore"):
            E = np.exp(lam * dt)
            self.cm = E * self.cm + dt * phi1(lam * dt) * g2 * c
            Sc = E[:, :, None] * self.Sc * E[:, None, :]
            idx = np.arange(self.k)
            Sc[:, idx, idx] += dt * phi1(2 * lam * dt) * g2
            self.Sc = Sc

    def rates(self, l: int, lam_normal: np.ndarray) -> np.ndarray:
        """``lambda = -f + g^2 l`` (M, k) at grid index ``l`` from normal Hessian eigenvalues."""
        return -self.co["f"][l] + self.co["g2"][l] * lam_normal
