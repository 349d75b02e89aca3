"""Trained score networks (extra ``nn``: ``pip install ridgetheory[nn]``, torch==2.13.0).

MLP score networks with Gaussian-Fourier time features, denoising score matching in three
parametrizations, checkpoints, and :class:`NetworkScore`, which wraps a trained network as
an :class:`~ridgetheory.AbstractScoreModel` (numpy in, numpy out) so that the ridge engine,
predictions and ``rt.simulate`` accept it. See ``docs/nn.md``.
"""

try:
    import torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "ridgetheory.nn needs PyTorch: install the `nn` extra "
        "(pip install 'ridgetheory[nn]', which pins torch==2.13.0)."
    ) from exc

from ..conventions import PARAMETRIZATIONS, TIME_WEIGHTS
from .checkpoints import load_checkpoint, save_checkpoint
from .networks import GaussianFourierFeatures, ScoreMLP
from .score import NetworkScore
from .training import TrainHistory, dsm_loss, train_dsm, train_score_mlp
from .vae import MLPVAE, train_vae

__all__ = [
    "GaussianFourierFeatures",
    "ScoreMLP",
    "NetworkScore",
    "PARAMETRIZATIONS",
    "TIME_WEIGHTS",
    "TrainHistory",
    "dsm_loss",
    "train_dsm",
    "train_score_mlp",
    "save_checkpoint",
    "load_checkpoint",
    "MLPVAE",
    "train_vae",
]
