"""The exact empirical score over many training points, blocked through BLAS GEMM.

The score of ``p_t = (1/n) sum_i N(a x_i, h I)`` is softmax attention over the training set
(theory.md section 2): queries ``y``, keys ``a x_i``, values ``x_i``. Per block of ``Q``
queries this module forms

1. the logits ``l_i = (a/h) <y, x_i> - (a^2 / 2h) |x_i|^2`` whole, by one GEMM of the
   augmented queries ``[(a/h) y, -a^2/(2h)]`` and data ``[X^T; |x|^2]``; they drop
   ``|y|^2 / 2h``, which is the same for every ``i`` and cancels in the softmax (so nothing
   is formed as a difference of large squared norms);
2. per row, the shift ``l* = max_i l_i`` (numpy), the weights ``e_i = exp(l_i - l*)`` (the
   vectorisable :func:`~ridgetheory._numba_maths.exp_nonpos`, numba threads) and their sum
   in float64, in place;
3. ``U = E @ X`` by a second GEMM, and the mean shift ``m - y = a U / sum e - y``.

The fused per-query kernel (:mod:`.kernels_numba`) reads the whole training set once per
query, from cache while ``n D`` is small; this path reads it once per block of queries and
runs the two ``n D``-sized products at BLAS speed. :func:`choose_path` picks between them by
the rule measured in ``benchmarks/bench_blocked.py``. Memory: ``Q n`` numbers of work space
(``Q`` from :data:`BLOCK_BYTES`) besides the states.

float32 runs the two products in single precision and keeps the logit shift, the
exponentials and the sums of weights in float64 (which dominate the time, so it is not
faster on a CPU); its error against float64 on the validation quantities is measured in
``benchmarks/bench_float32.py`` and stated in docs/performance.md.

Tested against the numpy reference (``SmoothedEmpirical._score``) and the fused kernel in
``tests/test_simulate_blocked.py``.
"""

from __future__ import annotations

import numba
import numpy as np

from .. import _compile
from .._numba_maths import exp_nonpos
from ..backend import run_blocks
from .spec import EmpiricalInputs

_compile.install()  # one stderr line when these kernels really compile

__all__ = ["BLOCK_BYTES", "GEMM_MIN_POINTS", "choose_path", "block_rows", "Workspace",
           "mean_shift", "score", "run"]

#: work space per block of queries (the logits, then the weights): small enough to stay in
#: the last-level cache of a core while the second GEMM reads it back
BLOCK_BYTES = 2**22

#: the measured rule (benchmarks/results/bench_blocked.json; two cores, AVX-512, float64,
#: D from 2 to 1024): the blocked path is faster from n = 1000 training points (1.02-1.93x at
#: n = 1000, 1.15-2.62x at n = 2000, up to 2.27x at n = 20000) and slower below (0.62-0.96x
#: at n = 100 to 300, except 1.17x at n = 300 in D = 2), where the fixed cost of a block's
#: calls is not paid back
GEMM_MIN_POINTS = 1000


def choose_path(n: int, dim: int, dtype: np.dtype) -> tuple[str, str]:
    """``("gemm" | "fused", why)``: which kernel runs the empirical score of ``n`` training
    points in ``dim`` dimensions on the numba backend (float32 always takes the blocked
    path; float64 takes it from :data:`GEMM_MIN_POINTS` training points)."""
    if np.dtype(dtype) == np.float32:
        return "gemm", "float32 runs the blocked GEMM path only"
    if n >= GEMM_MIN_POINTS:
        return "gemm", f"n = {n} >= {GEMM_MIN_POINTS} training points (D = {dim})"
    return "fused", f"n = {n} < {GEMM_MIN_POINTS} training points (D = {dim})"


def block_rows(n: int, itemsize: int) -> int:
    """Queries per block: :data:`BLOCK_BYTES` of logits, between 32 and 512 rows."""
    return int(min(512, max(32, BLOCK_BYTES // (itemsize * n))))


@numba.njit(cache=True, nogil=True, fastmath={"contract", "reassoc"})
def _weights(first, stride, G, best, tot):  # pragma: no cover - compiled
    """Rows ``first, first + stride, ...`` of ``G``: logits -> ``exp(l - best)`` in place
    (:func:`~ridgetheory._numba_maths.exp_nonpos`, vectorised), their sums in float64."""
    for r in range(first, G.shape[0], stride):
        g = G[r]
        b = best[r]
        acc = 0.0
        for j in range(g.shape[0]):
            e = exp_nonpos(np.float64(g[j]) - b)
            g[j] = e
            acc += e
        tot[r] = acc


class Workspace:
    """The blocked path's buffers, from the empirical kernel's inputs (``data``, ``dataT`` in
    the run's dtype, ``sqnorm`` in float64; :class:`~.spec.EmpiricalInputs`): the augmented
    data ``[X^T; |x|^2]`` (D + 1, n); per block the augmented queries (Q, D + 1), logits
    ``G`` (Q, n), weighted sums ``U`` (Q, D) in that dtype and the weight sums (Q,) in
    float64."""

    def __init__(self, inputs: EmpiricalInputs):
        self.data = inputs.data
        n, dim = self.data.shape
        dtype = self.data.dtype
        self.dataT_aug = np.ascontiguousarray(
            np.vstack([inputs.dataT, inputs.sqnorm.astype(dtype)[None, :]]))
        self.Q = block_rows(n, dtype.itemsize)
        self.Yaug = np.empty((self.Q, dim + 1), dtype=dtype)
        self.G = np.empty((self.Q, n), dtype=dtype)
        self.tot = np.empty(self.Q)
        self.U = np.empty((self.Q, dim), dtype=dtype)


def mean_shift(Y: np.ndarray, a: float, h: float, out: np.ndarray, work: Workspace) -> None:
    """``out = m(Y, t) - Y`` (M, D) of the smoothed empirical density of ``work.data``,
    blocked; ``a``, ``h`` this time's ``a_t``, ``h_t``; ``Y`` and ``out`` in the work space's
    dtype.

    The logits come out of the first GEMM whole: ``[(a/h) y, -a^2/(2h)] @ [X^T; |x|^2]``.
    """
    M, D = Y.shape
    ca, cb = a / h, 0.5 * a * a / h
    for s in range(0, M, work.Q):
        q = min(M, s + work.Q) - s
        y = Y[s:s + q]
        Ya, G, tot, U = work.Yaug[:q], work.G[:q], work.tot[:q], work.U[:q]
        np.multiply(y, ca, out=Ya[:, :D])
        Ya[:, D] = -cb
        np.matmul(Ya, work.dataT_aug, out=G)
        best = G.max(axis=1).astype(np.float64)
        run_blocks(_weights, min(q, 64), G, best, tot)
        np.matmul(G, work.data, out=U)
        # a U / tot - y, with the division by the float64 sums done in float64
        out[s:s + q] = (a / tot)[:, None] * U - y


def score(Y: np.ndarray, a: float, h: float, out: np.ndarray, work: Workspace) -> None:
    """``out = s(Y, t) = (m - Y) / h`` (see :func:`mean_shift`)."""
    mean_shift(Y, a, h, out, work)
    out *= 1.0 / h


def run(Y, traj0, l0, l1, co, a, h, skey, stochastic, stages, work):
    """Advance ``Y`` (M, D) in place over steps ``l0 .. l1 - 1`` with the score of
    :func:`score`, one step for every trajectory at a time: the scheme's own step
    (``co``, its :class:`~.schemes.base.Coefficients`), the noise of
    ``normals(seed, trajectory, step)``."""
    from .kernels_numba import normals_numba

    M, D = Y.shape
    traj = np.arange(traj0, traj0 + M, dtype=np.int64)
    s1 = np.empty_like(Y)
    s2 = np.empty_like(Y) if stages == 2 else None
    for l in range(l0, l1):
        score(Y, float(a[l]), float(h[l]), s1, work)
        if stages == 2:
            u = co.stage_point(l, Y, s1).astype(Y.dtype, copy=False)
            score(u, float(a[l + 1]), float(h[l + 1]), s2, work)
            Y[...] = co.step(l, Y, s1, u=u, s2=s2)
        elif stochastic:
            Y[...] = co.step(l, Y, s1, normals_numba(skey, traj, l, D))
        else:
            Y[...] = co.step(l, Y, s1)
