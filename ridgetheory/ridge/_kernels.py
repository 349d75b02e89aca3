"""Numba kernels for ridge projection on a smoothed empirical density.

Thin, allocation-light re-statements of the numpy reference in :mod:`.projection`: each
point runs its own SCMS (or Newton) loop to convergence, so there is no per-iteration Python
overhead and each point is its own active set; blocks of points run on numba's thread count
through :func:`ridgetheory.backend.run_blocks` (no ``parallel=True``: compiling a parfor
around this loop took most of a 45 s first call). Every formula here is
the anchored one of theory.md section 2 (weights, mean shift ``m - x`` and posterior covariance
``S`` relative to the heaviest training point), built from the blocks of
:mod:`ridgetheory._numba_maths` that the sampler's exact-score kernel shares; only the
accumulation of ``S`` is specific to this module. Eigenvectors of ``S`` come from a cyclic
Jacobi solver on the max-normalised matrix (scale invariant, so a tiny but well-structured
``S`` keeps its frame). ``tests/test_ridge.py`` checks these kernels against the numpy path.

Compile time (issue 16): numba compiles these kernels on first use and caches them. The
closed forms of D = 2 and the general kernels are separate specializations (the switches of
:func:`_project_blocks`), so a first call compiles one set; no call site passes a literal
where a variable of the same type is passed elsewhere (each literal is a specialization).

Status codes: 0 converged, 1 not converged within ``max_iter``, 2 frames undetermined
because the direction part ``S_dir`` of ``S = W S_dir`` is zero (nothing off the anchor,
e.g. a single training point; the point is frozen; only for ``d >= 1``).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .. import _compile
from .._numba_maths import (
    anchored_covariance,
    anchored_mass,
    anchored_mean_shift,
    empirical_weights,
    weighted_mean_shift,
)
from ..backend import run_blocks

_compile.install()  # one stderr line when these kernels really compile

CONVERGED, RUNNING, UNDERFLOW = 0, 1, 2
#: points per parallel work item (they share one workspace)
BLOCK = 32
#: terms gathered before each rank-SBLOCK update of S
SBLOCK = 8
#: relative size (of the trace of S) below which a term is left out of S: 2^-60
TERM_CUT = 2.0**-60


@nb.njit(cache=True, nogil=True, inline="always")
def _rotation(app, aqq, apq):
    """The Jacobi rotation ``(c, s, t = tan)`` that zeroes ``apq`` (``apq != 0``), with the
    smaller angle; stated once for the 2 x 2 closed form and the cyclic sweeps."""
    theta = (aqq - app) / (2.0 * apq)
    if abs(theta) > 1e150:
        t = 0.5 / theta
    else:
        t = 1.0 / (abs(theta) + math.sqrt(theta * theta + 1.0))
        if theta < 0.0:
            t = -t
    c = 1.0 / math.sqrt(t * t + 1.0)
    return c, t * c, t


@nb.njit(cache=True, nogil=True)
def _eigh2(S, w, V):
    """Closed-form :func:`jacobi_eigh` for D = 2: one exact Jacobi rotation."""
    p = S[0, 0]
    r = S[1, 1]
    q = 0.5 * (S[0, 1] + S[1, 0])
    amax = max(abs(p), abs(r), abs(q))
    if amax == 0.0 or not math.isfinite(amax):
        w[0] = 0.0
        w[1] = 0.0
        V[0, 0] = 1.0
        V[0, 1] = 0.0
        V[1, 0] = 0.0
        V[1, 1] = 1.0
        return amax
    if q == 0.0:
        c = 1.0
        s = 0.0
        t = 0.0
    else:
        c, s, t = _rotation(p, r, q)
    l0 = p - t * q
    l1 = r + t * q
    # columns (c, -s) for l0 and (s, c) for l1, ascending order
    if l0 <= l1:
        w[0] = l0
        w[1] = l1
        V[0, 0] = c
        V[1, 0] = -s
        V[0, 1] = s
        V[1, 1] = c
    else:
        w[0] = l1
        w[1] = l0
        V[0, 0] = s
        V[1, 0] = c
        V[0, 1] = c
        V[1, 1] = -s
    return amax


@nb.njit(cache=True, nogil=True)
def jacobi_eigh(S, A, w, V, warm=False):
    """Eigen-decompose symmetric ``S`` (D, D) into ascending ``w`` and column vectors ``V``.

    ``A`` is scratch (D, D). With ``warm``, ``V`` holds an orthonormal guess on entry (the
    previous iterate's frame) and the sweeps start from ``V^T S V``, which is nearly
    diagonal along an SCMS path. Returns the scale ``max |S_ij|`` (0 when ``S`` is zero, then
    ``w = 0`` and ``V = I``). The kernels call :func:`_eigh2` (D = 2) or :func:`_jacobi`
    directly, so that each compiles only the one it needs.
    """
    if S.shape[0] == 2:
        return _eigh2(S, w, V)
    return _jacobi(S, A, w, V, warm)


@nb.njit(cache=True, nogil=True)
def _jacobi(S, A, w, V, warm):
    """:func:`jacobi_eigh` by cyclic Jacobi sweeps (any D)."""
    D = S.shape[0]
    amax = 0.0
    for p in range(D):
        for q in range(D):
            v = abs(S[p, q])
            if v > amax:
                amax = v
    if amax == 0.0 or not math.isfinite(amax):
        for p in range(D):
            w[p] = 0.0
            for q in range(D):
                V[p, q] = 1.0 if p == q else 0.0
        return amax
    inv = 1.0 / amax
    if warm:
        # A = V^T S V / amax, using w as a column buffer
        for q in range(D):
            for p in range(D):
                acc = 0.0
                for r in range(D):
                    acc += S[p, r] * V[r, q]
                w[p] = acc * inv
            for p in range(q, D):
                acc = 0.0
                for r in range(D):
                    acc += V[r, p] * w[r]
                A[p, q] = acc
        for q in range(D):
            for p in range(q + 1, D):
                A[q, p] = A[p, q]
    else:
        for p in range(D):
            for q in range(D):
                V[p, q] = 1.0 if p == q else 0.0
                A[p, q] = 0.5 * (S[p, q] + S[q, p]) * inv
    for _sweep in range(60):
        off = 0.0
        tot = 0.0
        for p in range(D):
            tot += A[p, p] * A[p, p]
            for q in range(p + 1, D):
                off += A[p, q] * A[p, q]
        if off <= 1e-30 * (tot + 2.0 * off) or off < 1e-300:
            break
        for p in range(D - 1):
            for q in range(p + 1, D):
                apq = A[p, q]
                if abs(apq) < 1e-19:
                    A[p, q] = 0.0
                    A[q, p] = 0.0
                    continue
                c, s, t = _rotation(A[p, p], A[q, q], apq)
                for k in range(D):
                    akp = A[k, p]
                    akq = A[k, q]
                    A[k, p] = c * akp - s * akq
                    A[k, q] = s * akp + c * akq
                for k in range(D):
                    apk = A[p, k]
                    aqk = A[q, k]
                    A[p, k] = c * apk - s * aqk
                    A[q, k] = s * apk + c * aqk
                A[p, q] = 0.0
                A[q, p] = 0.0
                for k in range(D):
                    vkp = V[k, p]
                    vkq = V[k, q]
                    V[k, p] = c * vkp - s * vkq
                    V[k, q] = s * vkp + c * vkq
    for p in range(D):
        w[p] = A[p, p] * amax
    # selection sort, ascending, vectors follow
    for p in range(D - 1):
        m = p
        for q in range(p + 1, D):
            if w[q] < w[m]:
                m = q
        if m != p:
            tmp = w[p]
            w[p] = w[m]
            w[m] = tmp
            for k in range(D):
                tmp = V[k, p]
                V[k, p] = V[k, m]
                V[k, m] = tmp
    return amax


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _flush(S, Z, EZ):
    """``S += EZ^T Z`` for one block of SBLOCK = 8 terms.

    The eight terms are summed in one expression per entry with the column index innermost,
    so the loop over ``q`` vectorizes (contiguous rows of ``S`` and ``Z``) and each entry of
    ``S`` is loaded and stored once per block.
    """
    D = S.shape[0]
    for p in range(D):
        e0 = EZ[0, p]
        e1 = EZ[1, p]
        e2 = EZ[2, p]
        e3 = EZ[3, p]
        e4 = EZ[4, p]
        e5 = EZ[5, p]
        e6 = EZ[6, p]
        e7 = EZ[7, p]
        for q in range(D):
            S[p, q] += (((e0 * Z[0, q] + e1 * Z[1, q]) + (e2 * Z[2, q] + e3 * Z[3, q]))
                        + ((e4 * Z[4, q] + e5 * Z[5, q]) + (e6 * Z[6, q] + e7 * Z[7, q])))


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _moments(x, a, h, data, dataT, sqnorm, lg, u, off, S, want_S, Z, EZ):
    """Anchored mean shift ``m - x`` into ``off`` and the direction part of ``S`` into ``S``.

    ``S = W S_dir`` with ``W = 1 - g_k`` the weight off the anchor; ``S_dir`` is formed from
    the off-anchor weights normalised in the log domain, so its eigenvectors survive where
    ``W`` underflows (the blocks of :mod:`ridgetheory._numba_maths`). ``lg`` (n,), ``u``
    (D,), ``Z`` and ``EZ`` (SBLOCK, D) are scratch: terms are gathered in blocks and added to
    ``S`` as a small matrix product, which vectorizes. Returns ``log W`` (``-inf`` when
    nothing is off the anchor).
    """
    n, D = data.shape
    best, top2, k = empirical_weights(x, a, h, dataT, sqnorm, -np.inf, lg)
    if not want_S:  # the mean shift alone, from the weights just formed
        return weighted_mean_shift(x, a, data, lg, best, top2, k, u, off)
    for p in range(D):
        u[p] = 0.0
        for q in range(D):
            S[p, q] = 0.0
    # first pass: tot, u and the trace of S, with the per-coordinate sums in ``off`` (free
    # until the mean shift is written): every update runs along p, so it vectorizes
    for p in range(D):
        off[p] = 0.0
    tot = 0.0
    for j in range(n):
        e = lg[j]
        if e == 0.0:  # the anchor, or a weight below 1e-307 of the second heaviest
            continue
        tot += e
        for p in range(D):
            dp = data[j, p] - data[k, p]
            ep = e * dp
            u[p] += ep
            off[p] += ep * dp
    trace = 0.0
    big = 0.0
    for p in range(D):
        trace += off[p]
    for j in range(n):
        big = max(big, sqnorm[j])
    # second pass: S from the terms that can matter. |x_j - x_k|^2 <= 4 max |x_i|^2, so a
    # term with e_j < 2^-60 trace / (4 n max |x_i|^2) adds less than 2^-60 trace / n to the
    # trace of S: all of them together move S by at most 2^-60 of its trace, far below the
    # rounding of the sum itself
    drop = TERM_CUT * trace / (4.0 * n * big) if big > 0.0 else 0.0
    nz = 0  # rows filled in the block Z / EZ
    for j in range(n):
        e = lg[j]
        if e == 0.0 or e < drop:
            continue
        for p in range(D):
            dp = data[j, p] - data[k, p]
            Z[nz, p] = dp
            EZ[nz, p] = e * dp
        nz += 1
        if nz == SBLOCK:
            _flush(S, Z, EZ)
            nz = 0
    if nz > 0:
        for b in range(nz, SBLOCK):
            for p in range(D):
                Z[b, p] = 0.0
                EZ[b, p] = 0.0
        _flush(S, Z, EZ)
    W, logW = anchored_mass(tot, best, top2)
    anchored_mean_shift(x, a, data, k, u, tot, W, off)
    anchored_covariance(S, u, tot, a, W)
    return logW


@nb.njit(cache=True, nogil=True, fastmath={"contract", "reassoc", "nsz"})
def _accumulate2(e, dataT, yk0, yk1):
    """Weighted sums of one D = 2 evaluation (reductions: reassociated so they vectorize)."""
    tot = 0.0
    u0 = 0.0
    u1 = 0.0
    s00 = 0.0
    s01 = 0.0
    s11 = 0.0
    for j in range(e.shape[0]):
        ej = e[j]
        d0 = dataT[0, j] - yk0
        d1 = dataT[1, j] - yk1
        e0 = ej * d0
        e1 = ej * d1
        tot += ej
        u0 += e0
        u1 += e1
        s00 += e0 * d0
        s01 += e0 * d1
        s11 += e1 * d1
    return tot, u0, u1, s00, s01, s11


@nb.njit(cache=True, nogil=True)
def _moments2(x, a, h, data, dataT, sqnorm, lg, u, off, S, want_S):
    """:func:`_moments` for D = 2: the same blocks, the sums in one vectorized pass."""
    best, top2, k = empirical_weights(x, a, h, dataT, sqnorm, -np.inf, lg)
    tot, u[0], u[1], s00, s01, s11 = _accumulate2(lg, dataT, data[k, 0], data[k, 1])
    W, logW = anchored_mass(tot, best, top2)
    anchored_mean_shift(x, a, data, k, u, tot, W, off)
    if want_S:
        S[0, 0] = s00
        S[0, 1] = s01
        S[1, 0] = s01
        S[1, 1] = s11
        anchored_covariance(S, u, tot, a, W)
    return logW


@nb.njit(cache=True, nogil=True)
def _normal_step(off, V, n_normal, step):
    """``step = V_N V_N^T off`` (V_N = first n_normal columns); returns ``|step|``."""
    D = off.shape[0]
    for c in range(D):
        step[c] = 0.0
    for j in range(n_normal):
        g = 0.0
        for c in range(D):
            g += V[c, j] * off[c]
        for c in range(D):
            step[c] += g * V[c, j]
    r = 0.0
    for c in range(D):
        r += step[c] * step[c]
    return math.sqrt(r)


@nb.njit(cache=True, nogil=True)
def _evaluate(x, a, h, data, dataT, sqnorm, n_normal, need_frames, lg, off, S, A, w, V, step,
              warm, Z, EZ, d2, dn):
    """One evaluation: mean shift, frames (if ``need_frames``), normal step.

    Returns ``(|P_N off|, scale of S_dir, log W)``; ``w, V`` hold the eigenpairs of ``S_dir``.
    ``step`` is the moments' (D,) scratch before it receives the step. ``d2`` / ``dn``: the
    switches of :func:`_project_blocks` (only the branch of the one not None compiles).
    """
    D = x.shape[0]
    if d2 is not None:
        logW = _moments2(x, a, h, data, dataT, sqnorm, lg, step, off, S, need_frames)
    if dn is not None:
        logW = _moments(x, a, h, data, dataT, sqnorm, lg, step, off, S, need_frames, Z, EZ)
    if need_frames:
        if d2 is not None:
            scale = _eigh2(S, w, V)
        if dn is not None:
            scale = _jacobi(S, A, w, V, warm)
        r = _normal_step(off, V, n_normal, step)
    else:
        scale = 1.0
        r = 0.0
        for c in range(D):
            step[c] = off[c]
            r += off[c] * off[c]
        r = math.sqrt(r)
    return r, scale, logW


def project_kernel(x, start, a, h, data, dataT, sqnorm, n_normal, tol, max_iter, newton,
                   iters, status, res, lam, logw, offs, frames, shift, warm):
    """Project every row of ``x`` (M, D) in place onto the ridge (SCMS or Newton).

    Outputs per point: ``iters`` (+= updates taken), ``status``, ``res`` = ``|P_N (m - x)|``
    at the returned point, ``lam`` = ascending eigenvalues of ``S_dir`` there and ``logw`` =
    ``log W`` (so ``S = W S_dir``), ``offs`` =
    ``|eta|, |P_N eta|, |P_T eta|`` with ``eta = start - x`` and ``P`` at the returned point,
    ``frames`` (M, D, D) = the eigenvectors of ``S_dir`` there (columns, ascending) and
    ``shift`` (M, D) = ``m - x`` there. With ``warm``, ``frames`` holds each point's previous
    frame on entry and the first Jacobi solve starts from it (the slide reduction projects
    points a small step from where their frame was computed). Pass empty (0, D, D) and (0, D)
    arrays when neither is wanted.

    Blocks of ``BLOCK`` points run on numba's thread count (:func:`run_blocks`).
    """
    nblk = (x.shape[0] + BLOCK - 1) // BLOCK
    args = (x, start, a, h, data, dataT, sqnorm, n_normal, tol, max_iter, newton, iters, status,
            res, lam, logw, offs, frames, shift, warm)
    # exactly one of the two switches is None: see _project_blocks
    d2, dn = (True, None) if x.shape[1] == 2 else (None, True)
    run_blocks(_project_blocks, nblk, *args, d2, dn)


@nb.njit(cache=True, nogil=True)
def _project_blocks(first, stride, x, start, a, h, data, dataT, sqnorm, n_normal, tol, max_iter,
                    newton, iters, status, res, lam, logw, offs, frames, shift, warm, d2, dn):
    """:func:`project_kernel` on blocks ``first, first + stride, ...``.

    ``d2`` (D = 2: closed forms) and ``dn`` (any D) are switches, one of them ``None``:
    numba removes a branch ``if d2 is not None:`` when ``d2`` is typed None, before it types
    the calls inside, so each specialization compiles only its own set of kernels.
    """
    M, D = x.shape
    n = data.shape[0]
    keep = frames.shape[0] == M  # empty (0, D, D) / (0, D) arrays: not wanted
    nblk = (M + BLOCK - 1) // BLOCK
    # one workspace for all the blocks of this thread
    lg = np.empty(n)  # logits, then weights
    xi = np.empty(D)
    off = np.empty(D)
    S = np.empty((D, D))
    A = np.empty((D, D))
    w = np.empty(D)
    V = np.empty((D, D))
    step = np.empty(D)
    xt = np.empty(D)
    off2 = np.empty(D)
    S2 = np.empty((D, D))
    w2 = np.empty(D)
    V2 = np.empty((D, D))
    step2 = np.empty(D)
    Z = np.empty((SBLOCK, D))
    EZ = np.empty((SBLOCK, D))
    # one tuple: a call of over 30 arguments cannot be inlined (CPython passes them as *args)
    ws = (lg, xi, off, S, A, w, V, step, xt, off2, S2, w2, V2, step2, Z, EZ)
    for b in range(first, nblk, stride):
        for i in range(b * BLOCK, min(M, (b + 1) * BLOCK)):
            if warm:
                for c in range(D):
                    for q in range(D):
                        V[c, q] = frames[i, c, q]
            _project_one(i, x, start, a, h, data, dataT, sqnorm, n_normal, tol, max_iter,
                         newton, iters, status, res, lam, logw, offs, ws, warm, d2, dn)
            if keep:
                for c in range(D):
                    shift[i, c] = off[c]
                    for q in range(D):
                        frames[i, c, q] = V[c, q]


@nb.njit(cache=True, nogil=True, inline="always")
def _project_one(i, x, start, a, h, data, dataT, sqnorm, n_normal, tol, max_iter, newton, iters,
                 status, res, lam, logw, offs, ws, warm, d2, dn):
    """The SCMS / Newton loop of one point (see :func:`project_kernel`); ``ws`` is the
    workspace of :func:`_project_blocks`."""
    lg, xi, off, S, A, w, V, step, xt, off2, S2, w2, V2, step2, Z, EZ = ws
    D = x.shape[1]
    frames_in_loop = n_normal < D
    for c in range(D):
        xi[c] = x[i, c]
    ai = a[i]
    hi = h[i]
    r, scale, lw = _evaluate(xi, ai, hi, data, dataT, sqnorm, n_normal, frames_in_loop, lg, off, S,
                             A, w, V, step, warm, Z, EZ, d2, dn)
    st = RUNNING
    it = 0
    while True:
        if n_normal < D and scale < 1e-300:
            st = UNDERFLOW
            break
        if r <= tol:
            st = CONVERGED
            break
        if it >= max_iter:
            break
        it += 1
        took_newton = False
        if newton and n_normal < D:
            ok = True
            Wi = math.exp(lw)
            for j in range(n_normal):
                if not (Wi * w[j] < hi * (1.0 - 1e-12)):
                    ok = False
            if ok:
                for c in range(D):
                    xt[c] = xi[c]
                for j in range(n_normal):
                    g = 0.0
                    for c in range(D):
                        g += V[c, j] * off[c]
                    g *= hi / (hi - Wi * w[j])
                    for c in range(D):
                        xt[c] += g * V[c, j]
                for c in range(D):
                    for q in range(D):
                        V2[c, q] = V[c, q]
                r2, scale2, lw2 = _evaluate(xt, ai, hi, data, dataT, sqnorm, n_normal,
                                            frames_in_loop, lg, off2, S2, A, w2, V2, step2,
                                            scale > 0.0, Z, EZ, d2, dn)
                if r2 < r:
                    took_newton = True
                    for c in range(D):
                        xi[c] = xt[c]
                        off[c] = off2[c]
                        w[c] = w2[c]
                        step[c] = step2[c]
                        for q in range(D):
                            V[c, q] = V2[c, q]
                    r = r2
                    scale = scale2
                    lw = lw2
        if not took_newton:
            for c in range(D):
                xi[c] += step[c]
            r, scale, lw = _evaluate(xi, ai, hi, data, dataT, sqnorm, n_normal, frames_in_loop,
                                     lg, off, S, A, w, V, step, scale > 0.0, Z, EZ, d2, dn)
    if not frames_in_loop:  # modes: frames were not needed in the loop, curvature is
        # (flags as variables, not literals: the call reuses the loop's specialization)
        _, _, lw = _evaluate(xi, ai, hi, data, dataT, sqnorm, n_normal, not frames_in_loop, lg,
                             off, S, A, w, V, step, frames_in_loop, Z, EZ, d2, dn)
    for c in range(D):
        x[i, c] = xi[c]
        lam[i, c] = w[c]
    iters[i] += it
    logw[i] = lw
    status[i] = st
    res[i] = r
    # displacement of the start point, split with the frame at the returned point
    for c in range(D):
        off2[c] = start[i, c] - xi[c]
    nrm = 0.0
    for c in range(D):
        nrm += off2[c] * off2[c]
    pn = _normal_step(off2, V, n_normal, step2) if n_normal < D else math.sqrt(nrm)
    pt = 0.0
    for c in range(D):
        dlt = off2[c] - (step2[c] if n_normal < D else off2[c])
        pt += dlt * dlt
    offs[i, 0] = math.sqrt(nrm)
    offs[i, 1] = pn
    offs[i, 2] = math.sqrt(pt)
