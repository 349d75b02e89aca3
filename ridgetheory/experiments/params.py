"""The parameters of every experiment kind, declared once (docs/parameters.md is made from here).

Each kind's ``[params]`` table (with ``[quick]`` merged over it in quick mode) is parsed into
its frozen dataclass by :func:`ridgetheory.validate.schema.parse`: unknown keys, wrong types
and out-of-range values are errors that name the key. ``report.json`` records the parsed
instance, defaults included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..backend import BACKENDS
from ..conventions import PARAMETRIZATIONS, TIME_WEIGHTS
from ..random_features.assembly import QUADRATURES
from ..random_features.features import ACTIVATIONS, EMBEDDINGS
from ..random_features.model import RF_PARAMETRIZATIONS
from ..simulate.schemes import SCHEMES
from ..validate.schema import PointsValue, param, table

__all__ = [
    "InjectedParams",
    "RandomFeatureParams",
    "MLPParams",
    "SyntheticParams",
    "MemorizationParams",
    "MnistLatentParams",
]

_WEIGHTS = tuple(TIME_WEIGHTS)
_SCHEMES = tuple(SCHEMES)


@dataclass(frozen=True)
class InjectedParams:
    """``[params.injected]``: the injected score errors an ``injected`` model sweeps."""

    sweep: str | list[str] = param(
        "normal", "part(s) of the error the runs sweep: 'normal', 'tangent' or a list of both",
        choices=("normal", "tangent"))
    units: str = param("score", "units of the sizes: 'score' or 'denoiser'",
                       choices=("score", "denoiser"))
    normal_units: str | None = param(None, "units of the normal sizes (default: `units`)",
                                     choices=("score", "denoiser"))
    tangent_units: str | None = param(None, "units of the tangent sizes (default: `units`)",
                                      choices=("score", "denoiser"))
    sizes: list[float] = param([], "error sizes of every swept part (when no `<part>_sizes`)")
    normal_sizes: list[float] | None = param(None, "sizes of the normal error")
    tangent_sizes: list[float] | None = param(None, "sizes of the tangent error")
    normal_direction: str = param("fixed", "normal direction: the ridge frame's first normal "
                                  "('fixed') or away from the layout's centre ('radial')",
                                  choices=("fixed", "radial"))
    tangent_direction: str = param("fixed", "tangent direction: the frame's first tangent "
                                   "('fixed') or counter-clockwise about the centre "
                                   "('rotational')", choices=("fixed", "rotational"))
    below_start: bool = param(False, "also run every normal size switched on only below the "
                              "slide start (the last critical time)")


@dataclass(frozen=True)
class RandomFeatureParams:
    """``[params.rf]``: the random-feature score model, fitted in closed form."""

    p: int = param(2000, "number of random features", low=1)
    K: int = param(128, "frequencies of the time embedding (length 2K + 1)", low=0)
    T: float | None = param(None, "upper end of the training time integral "
                            "(default: `params.T`)", low=0.0, low_open=True)
    period: float | None = param(None, "period of the Fourier time embedding (default: the "
                                 "integral's T)", low=0.0, low_open=True)
    embedding: str = param("fourier", "time embedding: 'fourier' (periodic in t) or "
                           "'chebyshev-log' (not periodic)", choices=EMBEDDINGS)
    activation: str = param("relu", "feature activation", choices=ACTIVATIONS)
    bias: bool = param(True, "whether the features carry a random bias")
    parametrization: str = param("denoiser", "what the read-out fits",
                                 choices=RF_PARAMETRIZATIONS)
    weight: str = param("1", "time weight of the loss", choices=_WEIGHTS)
    t0: float = param(1e-3, "lower end of the training time integral", low=0.0, low_open=True)
    time_nodes: int = param(400, "nodes of the time quadrature", low=3)
    quadrature: str = param("exact", "Gaussian expectation of the features",
                            choices=QUADRATURES)
    noise_draws: int = param(4000, "draws of the 'mc' quadrature", low=1)
    tau: float | Literal["inf"] = param(
        "inf", "flow time of gradient descent ('inf': the minimiser)", low=0.0)


@dataclass(frozen=True)
class MLPParams:
    """``[params.mlp]``: the trained score network (torch, extra ``nn``)."""

    hidden: list[int] = param([256, 256], "hidden layer widths")
    steps: int = param(4000, "optimiser steps", low=1)
    weight: str = param("1", "time weight of the loss", choices=_WEIGHTS)
    parametrization: str = param("denoiser", "what the network outputs",
                                 choices=PARAMETRIZATIONS)
    t0: float = param(1e-3, "smallest training time", low=0.0, low_open=True)
    batch_size: int = param(512, "batch size", low=1)
    lr: float = param(2e-3, "learning rate", low=0.0, low_open=True)
    time_sampling: str = param("uniform", "law of the training times",
                               choices=("uniform", "log"))


@dataclass(frozen=True)
class SyntheticParams:
    """``[params]`` of ``kind = "synthetic"``: a training set in any D >= 2 and a score model."""

    layout: PointsValue = param(
        "two_mode", "training set: a named layout ('hexagon'), a call ('ring(6, 3.0)', "
        "'grid(3)', 'gaussian(4, 8, 42)'), a .npy/.csv file (relative to the config) or an "
        "inline array [[x, y, ...], ...]")
    model: str = param("exact", "score model",
                       choices=("exact", "injected", "random_features", "mlp"))
    T: float = param(10.0, "start time of reverse sampling", low=0.0, low_open=True)
    t_min: float = param(1e-3, "end time of reverse sampling", low=0.0, low_open=True)
    steps: int = param(1000, "sampler steps (exponential grid)", low=1)
    n_samples: int = param(20000, "simulated trajectories", low=1)
    n_measure: int = param(2000, "trajectories measured along the way (projected)", low=1)
    n_predict: int = param(400, "members of the predicted ensemble", low=1)
    n_save: int = param(16, "saved times along the grid", low=2)
    n_profile: int = param(1000, "draws of the score-error profile", low=1)
    ridge_dim: int = param(1, "dimension d of the ridge", low=1)
    mode_radius: float = param(0.5, "radius around a_tmin x_i that counts as at a training "
                               "point", low=0.0, low_open=True)
    method: str = param("em", "sampler scheme", choices=_SCHEMES)
    backend: str = param("auto", "simulation backend", choices=("auto", *BACKENDS))
    injected: InjectedParams = table(InjectedParams, "injected score errors")
    rf: RandomFeatureParams = table(RandomFeatureParams, "random-feature model")
    mlp: MLPParams = table(MLPParams, "trained network")


@dataclass(frozen=True)
class MemorizationParams:
    """``[params]`` of ``kind = "rf_memorization"``: when does a random-feature model memorize?

    The closed-form fit on ``n`` training points is read at every flow time of ``taus``;
    at each the reverse SDE is sampled and the memorization fraction measured. ``tau_mem``
    is where the fraction first crosses ``threshold`` (log-linear interpolation)."""

    layout: PointsValue = param("gaussian(16, 2, 0, 3.0)", "training set (as for synthetic)")
    p: int = param(640, "number of random features", low=1)
    K: int = param(16, "frequencies of the time embedding", low=0)
    activation: str = param("relu", "feature activation", choices=ACTIVATIONS)
    parametrization: str = param("score", "what the read-out fits ('score': at tau = 0 the "
                                 "model is zero and samples stay spread, so an early "
                                 "collapse cannot pass for memorization)",
                                 choices=RF_PARAMETRIZATIONS)
    weight: str = param("1", "time weight of the loss", choices=_WEIGHTS)
    t0: float = param(1e-3, "lower end of the training time integral", low=0.0, low_open=True)
    time_nodes: int = param(40, "nodes of the time quadrature", low=3)
    time_spacing: str = param("log", "spacing of the time nodes on [t0, T]: 'log' resolves "
                              "the small times where memorization is decided",
                              choices=("linear", "log"))
    quadrature: str = param("exact", "Gaussian expectation of the features: 'exact' averages "
                            "the loss over the noise, 'mc' fits a finite set of noisy samples",
                            choices=QUADRATURES)
    noise_draws: int = param(4, "noise draws per training point and time node ('mc')", low=1)
    taus: list[float] = param([1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3, 1e4, 1e5],
                              "flow times of gradient descent, increasing")
    T: float = param(10.0, "start time of reverse sampling", low=0.0, low_open=True)
    t_min: float = param(1e-3, "end time of reverse sampling", low=0.0, low_open=True)
    steps: int = param(150, "sampler steps (exponential grid)", low=1)
    n_samples: int = param(400, "simulated trajectories per flow time", low=1)
    threshold: float = param(0.5, "memorization fraction that defines tau_mem", low=0.0,
                             high=1.0, low_open=True, high_open=True)
    ratio: float = param(1 / 3, "nearest / second-nearest distance ratio below which a sample "
                         "memorizes", low=0.0, high=1.0, low_open=True)


@dataclass(frozen=True)
class MnistLatentParams:
    """``[params]`` of ``kind = "mnist_latent"`` (docs/mnist.md)."""

    cache_dir: str = param("", "stage cache ('' : <data cache>/mnist_latent)")
    vae_digits: list[int] = param([], "digits the VAE is trained on ([] = all)")
    vae_latent: int = param(32, "latent dimension", low=1)
    vae_epochs: int = param(30, "VAE epochs", low=1)
    vae_batch: int = param(1024, "VAE batch size", low=1)
    vae_lr: float = param(1e-3, "VAE learning rate", low=0.0, low_open=True)
    digits: list[int] = param([1], "digits whose latents form the training set ([] = all)")
    n_train: int = param(0, "keep the first n_train latents (0 = all)", low=0)
    latent_scale: str = param("std", "'std': divide by one scalar to unit mean variance",
                              choices=("std", "none"))
    score_hidden: list[int] = param([512, 512], "score network hidden widths")
    score_time_features: int = param(128, "score network time features", low=1)
    score_parametrization: str = param("noise", "score network output",
                                       choices=PARAMETRIZATIONS)
    score_weight: str = param("1/h", "time weight of the DSM loss", choices=_WEIGHTS)
    score_steps: int = param(8000, "optimiser steps", low=1)
    score_batch: int = param(512, "batch size", low=1)
    score_lr: float = param(5e-4, "learning rate", low=0.0, low_open=True)
    score_patience: int = param(8, "early-stopping patience (evaluations)", low=1)
    T: float = param(10.0, "horizon", low=0.0, low_open=True)
    t0: float = param(1e-3, "smallest training time", low=0.0, low_open=True)
    t_min: float = param(1e-3, "end time of sampling", low=0.0, low_open=True)
    sampler_steps: int = param(1000, "sampler steps", low=1)
    n_samples: int = param(2000, "samples", low=1)
    n_saved: int = param(12, "saved times", low=2)
    ridge_dims: list[int] = param([3, 4, 20, 25], "ridge dimensions analysed")
    claim_dim: int = param(3, "ridge dimension of the claims", low=1)
    n_analysis: int = param(300, "samples analysed along trajectories and projected", low=1)
    project_max_iter: int = param(500, "projection iterations", low=1)
    project_tol: float = param(1e-7, "projection tolerance", low=0.0, low_open=True)
    t_late: float = param(0.02, "late times: t <= t_late", low=0.0, low_open=True)
    late_share: float = param(0.5, "share of the residual drop required late", low=0.0,
                              high=1.0)
    memorization_ratio: float = param(1 / 3, "nearest/second-nearest ratio of memorization",
                                      low=0.0, high=1.0, low_open=True)
    memorization_bound: float = param(0.1, "largest memorized share allowed", low=0.0,
                                      high=1.0)
    n_boot: int = param(1000, "bootstrap draws", low=1)
    exact_control: bool = param(True, "also sample with the exact empirical score")
    n_images: int = param(8, "decoded images in the figure", low=0)
