"""Which fused kernel runs a score object, and the named inputs that kernel reads.

A score object declares its fused kernel by the capability class attribute ``fused_kernel``
of the protocol (:mod:`ridgetheory.protocol`): ``"empirical"`` (:class:`SmoothedEmpirical`,
reads ``data``), ``"gmm"`` (:class:`GaussianMixture`, reads ``means``, ``variances``,
``log_weights``) or ``"rf"`` (a random-feature score, reads ``Wx``, ``A_eff``,
``activation``, ``parametrization`` and ``time_bias(t)``). The fused kernels are float64;
any other score (``fused_kernel = None``, another dtype, or a plain callable
``f(x (M, D), t (M,)) -> (M, D)``) is ``"generic"`` and runs on the numpy backend only.

The enums :class:`ScoreKind`, :class:`Activation` and :class:`Parametrization` are the one
statement of the integer codes: the numba kernels read them as constants and the CUDA source
has them filled in (:func:`ridgetheory.simulate.kernels_cupy._fill`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar

import numpy as np

from .._checks import RidgeTheoryError
from ..protocol import AbstractScoreModel

__all__ = [
    "ScoreKind",
    "Activation",
    "Parametrization",
    "FUSED_KINDS",
    "NEGLIGIBLE_BITS",
    "negligible_log_weight",
    "EmpiricalInputs",
    "MixtureInputs",
    "RandomFeatureInputs",
    "KernelInputs",
    "INPUT_TYPES",
    "classify",
    "kernel_inputs",
]


class ScoreKind(IntEnum):
    """The fused score kernels."""

    EMPIRICAL = 0
    MIXTURE = 1
    RANDOM_FEATURES = 2


class Activation(IntEnum):
    """Activations of the random-feature kernel (``RandomFeatureScore.activation``)."""

    RELU = 0
    TANH = 1
    SIGMOID = 2


class Parametrization(IntEnum):
    """What the random-feature read-out is (``RandomFeatureScore.parametrization``)."""

    DENOISER = 0
    SCORE = 1


#: ``fused_kernel`` capability -> kernel
FUSED_KINDS = {"empirical": ScoreKind.EMPIRICAL, "gmm": ScoreKind.MIXTURE,
               "rf": ScoreKind.RANDOM_FEATURES}

#: terms whose weight is below ``2^-NEGLIGIBLE_BITS / n`` of the anchor's are skipped by the
#: fused kernels: they cannot change a float64 sum
NEGLIGIBLE_BITS = 60


def negligible_log_weight(n: int) -> float:
    """Log-weight relative to the anchor below which a term is skipped (n terms).

    ``> -88`` for any ``n < 1e19``: well inside the domain of the kernels' ``exp``.
    """
    return -NEGLIGIBLE_BITS * math.log(2.0) - math.log(n)


def _c(x: Any) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x, dtype=np.float64))


@dataclass(frozen=True)
class EmpiricalInputs:
    """The exact score of :class:`SmoothedEmpirical` (C-contiguous; float64, or ``data`` and
    ``dataT`` in float32 for the blocked float32 path).

    ``data`` (n, D), ``dataT`` its transpose (D, n), ``sqnorm`` = ``|x_i|^2`` (n,), ``cut``
    the log-weight relative to the anchor below which a term is skipped.
    """

    kind: ClassVar[ScoreKind] = ScoreKind.EMPIRICAL
    data: np.ndarray
    dataT: np.ndarray
    sqnorm: np.ndarray
    cut: float

    @classmethod
    def placeholder(cls) -> EmpiricalInputs:
        """1-element stand-ins (the kernels take every kind's inputs positionally)."""
        return cls(np.zeros((1, 1)), np.zeros((1, 1)), np.zeros(1), 0.0)


@dataclass(frozen=True)
class MixtureInputs:
    """The score of :class:`GaussianMixture` (float64, C-contiguous).

    ``means`` (K, D), ``log_weights`` (K,), ``svar`` = ``a_t^2 v_c + h_t`` on the grid
    (L + 1, K) and ``log_svar`` its log, ``cut`` as in :class:`EmpiricalInputs`.
    """

    kind: ClassVar[ScoreKind] = ScoreKind.MIXTURE
    means: np.ndarray
    log_weights: np.ndarray
    svar: np.ndarray
    log_svar: np.ndarray
    cut: float

    @classmethod
    def placeholder(cls) -> MixtureInputs:
        """1-element stand-ins (the kernels take every kind's inputs positionally)."""
        return cls(np.zeros((1, 1)), np.zeros(1), np.ones((1, 1)), np.zeros((1, 1)), 0.0)


@dataclass(frozen=True)
class RandomFeatureInputs:
    """A random-feature score ``A_eff act(Wx y + time_bias(t))`` (float64, C-contiguous).

    ``Wx`` (p, D), ``A_eff`` (D, p), ``time_bias`` on the grid (L + 1, p).
    """

    kind: ClassVar[ScoreKind] = ScoreKind.RANDOM_FEATURES
    Wx: np.ndarray
    A_eff: np.ndarray
    time_bias: np.ndarray
    activation: Activation
    parametrization: Parametrization

    @classmethod
    def placeholder(cls) -> RandomFeatureInputs:
        """1-element stand-ins (the kernels take every kind's inputs positionally)."""
        return cls(np.zeros((1, 1)), np.zeros((1, 1)), np.zeros((1, 1)), Activation.RELU,
                   Parametrization.DENOISER)


KernelInputs = EmpiricalInputs | MixtureInputs | RandomFeatureInputs

#: the kernels' per-kind input groups, in the order the kernels take them
INPUT_TYPES = (EmpiricalInputs, MixtureInputs, RandomFeatureInputs)

# the kernels' codes by the models' names (the enum members are those names, upper-cased)
_ACTIVATIONS = {m.name.lower(): m for m in Activation}
_PARAMETRIZATIONS = {m.name.lower(): m for m in Parametrization}


def classify(score: Any, where: str) -> tuple[str, Callable, Any, int | None]:
    """Return ``(kind, reference, process_or_None, dim_or_None)`` for a score object.

    ``kind`` is the object's ``fused_kernel`` (float64 objects; float32 ones for
    ``"empirical"``, which the blocked GEMM path of the numba backend runs) or ``"generic"``;
    ``reference(x (M, D), t (M,)) -> (M, D)`` is the numpy statement of the score (the
    object's own ``_score``, or the callable itself).
    """
    if isinstance(score, AbstractScoreModel):
        kind = type(score).fused_kernel
        if kind not in FUSED_KINDS or (np.dtype(score.dtype) != np.float64
                                       and kind != "empirical"):
            kind = "generic"  # these fused kernels are float64; float32 runs on numpy
        if kind == "rf" and (score.activation not in _ACTIVATIONS
                             or score.parametrization not in _PARAMETRIZATIONS):
            raise RidgeTheoryError(
                f"`score` passed to {where} has activation {score.activation!r} and "
                f"parametrization {score.parametrization!r}; expected one of "
                f"{tuple(_ACTIVATIONS)} and one of {tuple(_PARAMETRIZATIONS)}."
            )
        return kind, score._score, score.process, score.dim
    if callable(score):
        return "generic", score, getattr(score, "process", None), getattr(score, "dim", None)
    raise RidgeTheoryError(
        f"`score` passed to {where} must be a score model (e.g. rt.SmoothedEmpirical) or a "
        f"callable f(x, t); got {type(score).__name__}."
    )


def kernel_inputs(score: Any, kind: str, grid: np.ndarray,
                  dtype: Any = np.float64) -> KernelInputs:
    """The named inputs of the fused kernel ``kind`` (from :func:`classify`) on ``grid``
    (``dtype`` float32: the empirical data in float32, their squared norms in float64)."""
    if kind == "empirical":
        data = np.ascontiguousarray(np.asarray(score.data, dtype=dtype))
        return EmpiricalInputs(data=data, dataT=np.ascontiguousarray(data.T),
                               sqnorm=_c(np.einsum("nd,nd->n", _c(data), _c(data))),
                               cut=negligible_log_weight(data.shape[0]))
    if kind == "gmm":
        svar = score.smoothed_variances(grid)  # a^2 v + h per grid time, the density's own
        return MixtureInputs(means=_c(score.means), log_weights=_c(score.log_weights),
                             svar=_c(svar), log_svar=_c(np.log(svar)),
                             cut=negligible_log_weight(score.means.shape[0]))
    if kind != "rf":
        raise RidgeTheoryError(f"no fused kernel for score kind {kind!r}.")
    Wx, A = _c(score.Wx), _c(score.A_eff)
    p, D = Wx.shape
    if A.shape != (D, p):
        raise RidgeTheoryError(
            f"`score` has A_eff of shape {A.shape}; expected ({D}, {p}) to match Wx {Wx.shape}."
        )
    bias = _c(np.stack([np.asarray(score.time_bias(float(t)), dtype=np.float64) for t in grid]))
    if bias.shape != (grid.shape[0], p):
        raise RidgeTheoryError(
            f"`score.time_bias(t)` must return shape ({p},); got {bias.shape[1:]}."
        )
    return RandomFeatureInputs(Wx=Wx, A_eff=A, time_bias=bias,
                               activation=_ACTIVATIONS[score.activation],
                               parametrization=_PARAMETRIZATIONS[score.parametrization])
