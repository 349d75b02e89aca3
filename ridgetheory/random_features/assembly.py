"""Assembly of the quadratic loss ``L(W) = (1/D) tr(W U W^T) - (2/D) tr(V W^T) + C``.

theory.md section 6. With ``sigma = sigma_t(a_t x_i + sqrt(h_t) z)``, ``z ~ N(0, I_D)``:

* denoiser parametrization (target ``a_t x_i``)::

      U = int w (1/n) sum_i E[sigma sigma^T] dt,   V = int w (1/n) sum_i a_t x_i E[sigma]^T dt,
      C = (1/D) int w (1/n) sum_i a_t^2 |x_i|^2 dt

* score parametrization (loss ``|sqrt(h_t) s_A + z|^2``)::

      U = int w h (1/n) sum_i E[sigma sigma^T] dt,  V = -int w sqrt(h) (1/n) sum_i E[z sigma^T] dt,
      C = int w dt

  By Stein's lemma ``E[z sigma(u)^T] = sqrt(h) Wx^T diag(E[sigma'(u)])``, so ``V`` has the sign
  opposite to ``Wx^T``: the minimiser pulls the score toward the data.

The expectations over ``z`` are computed by

* ``"mc"`` -- fresh standard-normal draws for every (time node, data point), as the
  reference runs do (error ``~ 1/sqrt(noise_draws)``);
* ``"gauss-hermite"`` -- a tensor Gauss-Hermite grid of ``gh_order**D`` nodes (low D only);
* ``"exact"`` -- ReLU only: the pre-activations are jointly Gaussian with mean
  ``a_t Wx x_i + W_tau phi(t) + b`` and covariance ``h_t Wx Wx^T``, so every entry of
  ``E[sigma sigma^T]`` is a bivariate-normal moment (:mod:`ridgetheory.gaussian_moments`).

Time integrals use Simpson or trapezoid weights on the nodes. The sampled rows are processed
in chunks: each chunk of feature rows, scaled by the square root of its quadrature weight,
is added to ``U`` by one BLAS ``syrk`` call, so memory stays at ``chunk * p`` plus ``p^2``.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from scipy.linalg.blas import dgemm, dsyrk
from scipy.special import ndtr, roots_hermitenorm

from .._checks import RidgeTheoryError
from ..conventions import time_weight
from .features import activate

if TYPE_CHECKING:
    from .model import RandomFeatureModel

__all__ = ["Assembly", "assemble", "time_weights", "z_nodes", "QUADRATURES"]

QUADRATURES = ("exact", "gauss-hermite", "mc")
TIME_RULES = ("simpson", "trapezoid")


@dataclass
class Assembly:
    """The three blocks of the quadratic loss plus how they were computed."""

    U: np.ndarray  # (p, p)
    V: np.ndarray  # (D, p)
    C: float
    info: dict = field(default_factory=dict)


def time_weights(nodes: np.ndarray, rule: str) -> np.ndarray:
    """Quadrature weights (L,) of ``int f dt`` on increasing ``nodes`` (L,)."""
    if nodes.shape[0] == 1:
        return np.zeros(1)
    if rule == "trapezoid":
        d = np.diff(nodes)
        w = np.zeros_like(nodes)
        w[:-1] += 0.5 * d
        w[1:] += 0.5 * d
        return w
    # Simpson is linear in the samples: its weights are the rule applied to unit vectors.
    from scipy.integrate import simpson  # scipy.integrate is slow to import: only on use

    return simpson(np.eye(nodes.shape[0]), x=nodes, axis=1)


def z_nodes(quadrature: str, dim: int, noise_draws: int, gh_order: int,
            rng: np.random.Generator | None) -> tuple[np.ndarray, np.ndarray]:
    """Nodes (N, D) and weights (N,) (summing to one) of ``E_z`` for ``z ~ N(0, I_D)``."""
    if quadrature == "mc":
        assert rng is not None
        return rng.standard_normal((noise_draws, dim)), np.full(noise_draws, 1.0 / noise_draws)
    x1, w1 = roots_hermitenorm(gh_order)  # stable at high order (numpy's overflows past ~150)
    w1 = w1 / w1.sum()
    grids = np.meshgrid(*([x1] * dim), indexing="ij")
    wgrids = np.meshgrid(*([w1] * dim), indexing="ij")
    z = np.stack([g.reshape(-1) for g in grids], axis=1)
    w = np.prod(np.stack([g.reshape(-1) for g in wgrids], axis=1), axis=1)
    return z, w


def assemble(
    model: RandomFeatureModel,
    data: np.ndarray,
    process,
    *,
    weight: str,
    nodes: np.ndarray,
    time_rule: str,
    quadrature: str,
    noise_draws: int,
    gh_order: int,
    seed: int,
    memory_budget: int,
) -> Assembly:
    """Assemble ``U`` (p, p), ``V`` (D, p) and ``C`` on clean, checked input.

    ``data`` is (n, D) float64, ``nodes`` increasing (L,) float64 in (0, inf).
    """
    start = _time.perf_counter()
    n, D = data.shape
    qt = time_weights(nodes, time_rule)
    a = process.alpha(nodes)
    h = process.h(nodes)
    wt = time_weight(weight, h) * qt  # (L,) time weight including quadrature
    score = model.parametrization == "score"
    offs = model._time_bias(nodes)  # (L, p)
    proj = data @ model.Wx.T  # (n, p): Wx x_i
    if score:
        C = float(np.sum(wt))
    else:
        C = float(np.sum(wt * a**2) * np.mean(np.einsum("nd,nd->n", data, data)) / D)

    if quadrature == "exact":
        U, V, evals = _assemble_exact(model, data, proj, offs, a, h, wt, score, memory_budget)
        info = {"evaluations": evals}
    else:
        rng = np.random.default_rng(seed) if quadrature == "mc" else None
        U, V, evals = _assemble_sampled(
            model, data, proj, offs, a, h, wt, score, quadrature, noise_draws, gh_order, rng,
            memory_budget,
        )
        info = {"evaluations": evals}
    info.update(
        quadrature=quadrature, time_rule=time_rule, weight=weight, nodes=int(nodes.shape[0]),
        noise_draws=noise_draws if quadrature == "mc" else None,
        gh_order=gh_order if quadrature == "gauss-hermite" else None,
        seed=seed if quadrature == "mc" else None,
        seconds=_time.perf_counter() - start,
    )
    return Assembly(U=U, V=V, C=C, info=info)


def _assemble_sampled(model, data, proj, offs, a, h, wt, score, quadrature, noise_draws,
                      gh_order, rng, memory_budget):
    n, D = data.shape
    p = model.p
    L = a.shape[0]
    U = np.zeros((p, p), order="F")
    V = np.zeros((D, p))
    if quadrature == "gauss-hermite":
        z_fixed, wz_fixed = z_nodes(quadrature, D, noise_draws, gh_order, None)
        zW_fixed = z_fixed @ model.Wx.T  # (N, p), shared by every block
        N = z_fixed.shape[0]
    else:
        N = noise_draws
    # A block is one (time node, data point) pair with N rows; a chunk holds several blocks.
    blocks_per_chunk = max(1, int(memory_budget // (8 * p * N * 2)))
    pairs = [(k, i) for k in range(L) for i in range(n) if wt[k] != 0.0]
    evals = 0
    for c0 in range(0, len(pairs), blocks_per_chunk):
        chunk = pairs[c0 : c0 + blocks_per_chunk]
        m = len(chunk) * N
        S = np.empty((m, p))
        Y = np.empty((m, D))  # rows of the V accumulation, already divided by sqrt(row weight)
        sgn = np.empty(m)
        for b, (k, i) in enumerate(chunk):
            rows = slice(b * N, (b + 1) * N)
            if quadrature == "mc":
                z = rng.standard_normal((N, D))
                wz = np.full(N, 1.0 / N)
                zW = z @ model.Wx.T
            else:
                z, wz, zW = z_fixed, wz_fixed, zW_fixed
            sh = np.sqrt(h[k])
            np.multiply(zW, sh, out=S[rows])
            S[rows] += a[k] * proj[i] + offs[k]
            # row weight r: U gets r sigma sigma^T
            r = wt[k] * wz / n * (h[k] if score else 1.0)
            sr = np.sqrt(np.abs(r))
            sgn[rows] = np.sign(r)
            if score:
                # V = -sum (wt wz / n) sqrt(h) z sigma^T, written against the scaled rows
                # sr sigma: coefficient -(wt wz / n) sqrt(h) / sr
                Y[rows] = (-np.sign(wt[k]) * np.sqrt(np.abs(wt[k]) * wz / n))[:, None] * z
            else:
                Y[rows] = (np.sign(wt[k]) * np.sqrt(np.abs(wt[k]) * wz / n))[:, None] * (
                    a[k] * data[i]
                )[None, :]
            activate(S[rows], model.activation, out=S[rows])
            S[rows] *= sr[:, None]
        evals += m
        # explicit BLAS: numpy's matmul is erratic on tall-skinny transposed operands
        V += dgemm(1.0, Y.T, S.T, trans_b=1)
        pos = sgn > 0
        if pos.all():
            U = dsyrk(1.0, S.T, beta=1.0, c=U, trans=0, overwrite_c=1)
        else:
            if pos.any():
                U = dsyrk(1.0, S[pos].T, beta=1.0, c=U, trans=0, overwrite_c=1)
            neg = sgn < 0
            if neg.any():
                U = dsyrk(-1.0, S[neg].T, beta=1.0, c=U, trans=0, overwrite_c=1)
    U = np.triu(U) + np.triu(U, 1).T
    return np.ascontiguousarray(U), V, evals


def _assemble_exact(model, data, proj, offs, a, h, wt, score, memory_budget):
    if model.activation != "relu":
        raise RidgeTheoryError(
            "`quadrature` passed to RandomFeatureModel.fit must be 'gauss-hermite' or 'mc' for "
            f"activation {model.activation!r}; got 'exact' (closed-form moments exist for ReLU "
            "only)."
        )
    from .. import _numba_maths as nm
    from .. import gaussian_moments as gm

    n, D = data.shape
    p = model.p
    L = a.shape[0]
    Wx = model.Wx
    nrm = np.sqrt(np.einsum("pd,pd->p", Wx, Wx))
    # the pre-activations at time node k are N(a_k Wx x_i + offs_k, h_k Wx Wx^T): standard
    # deviations sqrt(h_k) |w_j| and correlations independent of k
    rho = np.clip(Wx @ Wx.T / np.outer(nrm, nrm), -1.0, 1.0)
    np.fill_diagonal(rho, 1.0)
    rho = np.ascontiguousarray(rho)
    U = np.zeros((p, p))
    V = np.zeros((D, p))
    evals = 0
    rows = max(1, int(memory_budget // (8 * p)))  # data points per call: the means are (rows, p)
    for k in range(L):
        if wt[k] == 0.0:
            continue
        sd = np.sqrt(h[k]) * nrm
        c = wt[k] / n
        cu = c * (h[k] if score else 1.0)
        for r0 in range(0, n, rows):
            r1 = min(n, r0 + rows)
            mu = np.ascontiguousarray(a[k] * proj[r0:r1] + offs[k])
            # sum_i cu E[relu(u_i) relu(u_i)^T]: the numba weighted moment matrix
            U += nm.weighted_moment_matrix(mu, sd, rho, nm.GL_T, nm.GL_V, np.full(r1 - r0, cu))
            if score:
                # Stein: E[z sigma^T] = sqrt(h) Wx^T diag(Phi(mu/sd)); V = -c sqrt(h) E[z sigma^T]
                V -= (c * h[k]) * (Wx * ndtr(mu / sd).sum(axis=0)[:, None]).T
            else:
                V += (c * a[k]) * (data[r0:r1].T @ gm.relu_mean(mu, sd))
        evals += n * (p * (p - 1) // 2 + p)
    return U, V, evals
