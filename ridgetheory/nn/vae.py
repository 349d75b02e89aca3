"""The MLP VAE of the MNIST latent pipeline (theory.md section 7)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from torch import nn

from .._checks import check_array, check_int, check_scalar, check_seed

__all__ = ["MLPVAE", "train_vae"]


class MLPVAE(nn.Module):
    """784-400-200-(mu, logvar) encoder and the mirrored decoder (Bernoulli logits).

    Parameters
    ----------
    latent : int, default=32
        Latent dimension (theory.md section 7 uses 32).
    input_dim : int, default=784
    hidden : tuple of int, default=(400, 200)
    seed : int, default=0
        Seed of the initial weights.

    Examples
    --------
    >>> import torch
    >>> from ridgetheory.nn import MLPVAE
    >>> vae = MLPVAE(latent=4)
    >>> vae.encode(torch.zeros(3, 784))[0].shape
    torch.Size([3, 4])
    """

    def __init__(self, latent: int = 32, input_dim: int = 784, hidden: Any = (400, 200),
                 seed: int = 0):
        super().__init__()
        latent = check_int(latent, "latent", "MLPVAE", low=1)
        h1, h2 = (int(w) for w in hidden)
        self.config = {"latent": latent, "input_dim": int(input_dim), "hidden": [h1, h2],
                       "seed": int(seed)}
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            self.enc = nn.Sequential(nn.Linear(input_dim, h1), nn.ReLU(), nn.Linear(h1, h2),
                                     nn.ReLU())
            self.mu = nn.Linear(h2, latent)
            self.logvar = nn.Linear(h2, latent)
            self.dec = nn.Sequential(nn.Linear(latent, h2), nn.ReLU(), nn.Linear(h2, h1),
                                     nn.ReLU(), nn.Linear(h1, input_dim))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        e = self.enc(x)
        return self.mu(e), self.logvar(e)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec(z)

    def loss(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Negative ELBO per image: BCE (summed over pixels) + KL(q(z|x) || N(0, I))."""
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * eps
        bce = nn.functional.binary_cross_entropy_with_logits(
            self.decode_logits(z), x, reduction="sum")
        kl = -0.5 * torch.sum(1 + logvar - mu**2 - logvar.exp())
        return (bce + kl) / x.shape[0]

    def encode_mean(self, images: Any, batch: int = 4096) -> np.ndarray:
        """Encoder means of images (N, 784) in [0, 1], as float64 (N, latent)."""
        x = check_array(images, "images", "MLPVAE.encode_mean", ndim=2)
        out = []
        with torch.no_grad():
            for s in range(0, x.shape[0], batch):
                out.append(self.encode(torch.as_tensor(x[s:s + batch], dtype=torch.float32))[0])
        return torch.cat(out).numpy().astype(np.float64)

    def decode(self, z: Any, batch: int = 4096) -> np.ndarray:
        """Decoded images (Bernoulli means) of latents (N, latent), float64 (N, 784)."""
        zz = check_array(z, "z", "MLPVAE.decode", ndim=2)
        out = []
        with torch.no_grad():
            for s in range(0, zz.shape[0], batch):
                zb = torch.as_tensor(zz[s:s + batch], dtype=torch.float32)
                out.append(torch.sigmoid(self.decode_logits(zb)))
        return torch.cat(out).numpy().astype(np.float64)


def train_vae(vae: MLPVAE, images: Any, *, epochs: int = 30, batch_size: int = 1024,
              lr: float = 1e-3, seed: int = 0, progress: bool = False) -> dict[str, Any]:
    """Train ``vae`` in place (BCE + KL, Adam), one pass over shuffled data per epoch.

    Returns
    -------
    dict
        ``loss`` (mean negative ELBO per epoch, list) and ``seconds``.
    """
    where = "train_vae"
    x = torch.as_tensor(check_array(images, "images", where, ndim=2, min_rows=1),
                        dtype=torch.float32)
    epochs = check_int(epochs, "epochs", where, low=1)
    batch_size = check_int(batch_size, "batch_size", where, low=1)
    lr = check_scalar(lr, "lr", where, low=0.0, low_open=True)
    gen = torch.Generator().manual_seed(check_seed(seed, where))
    opt = torch.optim.Adam(vae.parameters(), lr=lr)
    from tqdm.auto import tqdm

    history, start = [], time.perf_counter()
    vae.train()
    for _ in tqdm(range(epochs), disable=not progress, desc="VAE", leave=False):
        perm = torch.randperm(x.shape[0], generator=gen)
        total = 0.0
        for s in range(0, x.shape[0], batch_size):
            xb = x[perm[s:s + batch_size]]
            eps = torch.randn(xb.shape[0], vae.config["latent"], generator=gen)
            loss = vae.loss(xb, eps)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * xb.shape[0]
        history.append(total / x.shape[0])
    vae.eval()
    return {"loss": history, "seconds": time.perf_counter() - start}
