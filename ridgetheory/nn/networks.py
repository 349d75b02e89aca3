"""MLP score networks with Gaussian-Fourier time features (theory.md section 7)."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from .._checks import RidgeTheoryError, check_choice, check_int, check_scalar

__all__ = ["GaussianFourierFeatures", "ScoreMLP"]

_ACTIVATIONS = {"silu": nn.SiLU, "relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}


class GaussianFourierFeatures(nn.Module):
    """Fixed random Fourier features of log-time: ``[sin(2 pi w c), cos(2 pi w c)]``.

    ``c = log(t)`` so that the small times where the score changes fastest are resolved as
    finely as the large ones; ``w ~ N(0, scale^2)`` is drawn once (a buffer, not trained).

    Parameters
    ----------
    features : int, even, default=128
        Output width (half sines, half cosines).
    scale : float, default=1.0
        Standard deviation of the frequencies ``w``.
    seed : int, default=0
        Seed of the frequencies.
    """

    def __init__(self, features: int = 128, scale: float = 1.0, seed: int = 0):
        super().__init__()
        where = "GaussianFourierFeatures"
        features = check_int(features, "features", where, low=2)
        if features % 2:
            raise RidgeTheoryError(f"`features` passed to {where} must be even; got {features}.")
        scale = check_scalar(scale, "scale", where, low=0.0, low_open=True)
        gen = torch.Generator().manual_seed(int(seed))
        self.register_buffer("freq", torch.randn(features // 2, generator=gen) * scale)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        arg = 2.0 * math.pi * torch.log(t)[:, None] * self.freq[None, :]
        return torch.cat([torch.sin(arg), torch.cos(arg)], dim=1)


class ScoreMLP(nn.Module):
    """``[x, Fourier(t)] -> hidden -> ... -> D``: the raw network output ``f(x, t)``.

    What ``f`` means (denoiser, score or noise) is fixed by the parametrization used to
    train it and to wrap it (:class:`~ridgetheory.nn.NetworkScore`); the network itself
    carries no scaling, so nothing is applied twice.

    Parameters
    ----------
    dim : int
        Data dimension D.
    hidden : sequence of int, default=(512, 512)
        Hidden widths (theory.md section 7 uses 512-512 for MNIST latents).
    time_features : int, default=128
        Width of the Gaussian-Fourier time embedding.
    time_scale : float, default=1.0
        Frequency scale of the embedding.
    activation : {"silu", "relu", "tanh", "gelu"}, default="silu"
    seed : int, default=0
        Seed of the initial weights and of the time frequencies.

    Examples
    --------
    >>> import torch
    >>> from ridgetheory.nn import ScoreMLP
    >>> net = ScoreMLP(2, hidden=(16, 16), time_features=8)
    >>> net(torch.zeros(5, 2), torch.full((5,), 0.1)).shape
    torch.Size([5, 2])
    """

    def __init__(
        self,
        dim: int,
        hidden: Any = (512, 512),
        time_features: int = 128,
        time_scale: float = 1.0,
        activation: str = "silu",
        seed: int = 0,
    ):
        super().__init__()
        where = "ScoreMLP"
        dim = check_int(dim, "dim", where, low=1)
        widths = [check_int(w, "hidden", where, low=1) for w in hidden]
        if not widths:
            raise RidgeTheoryError(f"`hidden` passed to {where} must list at least one width.")
        check_choice(activation, "activation", where, tuple(_ACTIVATIONS))
        seed = check_int(seed, "seed", where, low=0)
        self.config = {
            "dim": dim, "hidden": widths, "time_features": int(time_features),
            "time_scale": float(time_scale), "activation": activation, "seed": seed,
        }
        self.dim = dim
        self.time = GaussianFourierFeatures(time_features, time_scale, seed=seed + 1)
        # Seeded initial weights without touching the caller's global torch RNG state.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            layers: list[nn.Module] = []
            width = dim + time_features
            for w in widths:
                layers += [nn.Linear(width, w), _ACTIVATIONS[activation]()]
                width = w
            layers.append(nn.Linear(width, dim))
            self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([x, self.time(t)], dim=1))
