"""Classify a score object: which fused kernel can run it, and its numpy reference.

Kernel kinds: ``"empirical"`` (:class:`SmoothedEmpirical`), ``"gmm"``
(:class:`GaussianMixture`), ``"rf"`` (a random-feature score, recognised by its attributes
``Wx``, ``offset``, ``A_eff``, ``activation``, ``parametrization``, ``process`` so that this
module does not import the random-feature package), and ``"generic"`` (any other
:class:`AbstractScoreModel` or a plain callable ``f(x (M, D), t (M,)) -> (M, D)``), which runs
on the numpy backend only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._checks import RidgeTheoryError
from ..densities import GaussianMixture, SmoothedEmpirical
from ..protocol import AbstractScoreModel

__all__ = ["KernelSpec", "classify", "RF_ATTRIBUTES", "KINDS"]

KINDS = {"empirical": 0, "gmm": 1, "rf": 2}
RF_ATTRIBUTES = ("Wx", "offset", "A_eff", "activation", "parametrization", "process")
_ACT = {"relu": 0, "tanh": 1, "sigmoid": 2}
_PARAM = {"denoiser": 0, "score": 1}
_EMPTY2 = np.zeros((1, 1))
_EMPTY1 = np.zeros(1)


@dataclass
class KernelSpec:
    """Arrays a fused kernel reads (float64, C-contiguous; unused ones are 1-element dummies).

    empirical: mat1 = data (n, D), mat2 = data.T (D, n), vec1 = |x_i|^2 (n,),
    vec2 = [cut] (log-weight below the anchor under which a term is skipped).
    gmm: mat1 = means (K, D), mat2 = a_t^2 v + h_t and mat3 its log on the grid (L + 1, K),
    vec1 = [cut] (as for empirical), vec2 = log weights (K,).
    rf: mat1 = Wx (p, D), mat2 = A_eff (D, p), mat3 = offset(t_l) on the grid (L + 1, p).
    """

    kind: int
    mat1: np.ndarray
    mat2: np.ndarray = field(default_factory=lambda: _EMPTY2)
    mat3: np.ndarray = field(default_factory=lambda: _EMPTY2)
    vec1: np.ndarray = field(default_factory=lambda: _EMPTY1)
    vec2: np.ndarray = field(default_factory=lambda: _EMPTY1)
    act: int = 0
    param: int = 0


def _c(x: Any) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x, dtype=np.float64))


def is_random_feature_score(obj: Any) -> bool:
    """Duck-typed test for a random-feature score (see module docstring)."""
    return all(hasattr(obj, name) for name in RF_ATTRIBUTES)


def classify(score: Any, where: str) -> tuple[str, Callable, Any, int | None]:
    """Return ``(kind, reference, process_or_None, dim_or_None)`` for a score object.

    ``reference(x (M, D), t (M,)) -> (M, D)`` is the numpy statement of the score (the
    object's own ``_score``).
    """
    if isinstance(score, (SmoothedEmpirical, GaussianMixture)):
        kind = "empirical" if isinstance(score, SmoothedEmpirical) else "gmm"
        if score.dtype != np.float64:
            kind = "generic"  # the fused kernels are float64; float32 runs its own numpy path
        return kind, score._score, score.process, score.dim
    if is_random_feature_score(score):
        ref = score._score if isinstance(score, AbstractScoreModel) else score.score
        if score.activation not in _ACT or score.parametrization not in _PARAM:
            raise RidgeTheoryError(
                f"`score` passed to {where} has activation {score.activation!r} and "
                f"parametrization {score.parametrization!r}; expected one of {tuple(_ACT)} and "
                f"one of {tuple(_PARAM)}."
            )
        dim = int(np.shape(score.Wx)[1])
        return "rf", ref, score.process, dim
    if isinstance(score, AbstractScoreModel):
        return "generic", score._score, score.process, score.dim
    if callable(score):
        return "generic", score, getattr(score, "process", None), getattr(score, "dim", None)
    raise RidgeTheoryError(
        f"`score` passed to {where} must be a score model (e.g. rt.SmoothedEmpirical) or a "
        f"callable f(x, t); got {type(score).__name__}."
    )


def kernel_spec(score: Any, kind: str, grid: np.ndarray) -> KernelSpec:
    """Pack the arrays of a score object for the fused kernels."""
    if kind == "empirical":
        data = _c(score.data)
        # exp(cut) * n < 2^-60: terms that far below the anchor are skipped by the kernels
        # (cut > -88 for any n < 1e19, the domain of the numba kernel's exp)
        cut = -60.0 * np.log(2.0) - np.log(data.shape[0])
        return KernelSpec(0, data, mat2=_c(data.T), vec1=_c(np.einsum("nd,nd->n", data, data)),
                          vec2=np.array([cut]))
    if kind == "gmm":
        # a^2 v + h and its log per grid time, computed once as GaussianMixture._parts does
        a = score.process.alpha(grid)[:, None]
        svar = a**2 * score.variances[None, :] + score.process.h(grid)[:, None]
        cut = -60.0 * np.log(2.0) - np.log(score.n_components)
        return KernelSpec(1, _c(score.means), mat2=_c(svar), mat3=_c(np.log(svar)),
                          vec1=np.array([cut]), vec2=_c(score.log_weights))
    Wx, A = _c(score.Wx), _c(score.A_eff)
    p, D = Wx.shape
    if A.shape != (D, p):
        raise RidgeTheoryError(
            f"`score` has A_eff of shape {A.shape}; expected ({D}, {p}) to match Wx {Wx.shape}."
        )
    off = _c(np.stack([np.asarray(score.offset(float(t)), dtype=np.float64) for t in grid]))
    if off.shape != (grid.shape[0], p):
        raise RidgeTheoryError(
            f"`score.offset(t)` must return shape ({p},); got {off.shape[1:]}."
        )
    return KernelSpec(2, Wx, mat2=A, mat3=off, act=_ACT[score.activation],
                      param=_PARAM[score.parametrization])
