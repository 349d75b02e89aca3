"""A trained network as a score model: numpy in, numpy out (theory.md section 3)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._checks import RidgeTheoryError, check_choice, check_int
from ..conventions import PARAMETRIZATIONS, to_denoiser
from ..processes import AbstractProcess, check_process
from ..protocol import AbstractScoreModel

__all__ = ["NetworkScore"]

class NetworkScore(AbstractScoreModel):
    """Wrap a trained torch network ``f(x, t)`` as an :class:`~ridgetheory.AbstractScoreModel`.

    Parameters
    ----------
    net : torch.nn.Module
        Called as ``net(x, t)`` with ``x`` (B, D) and ``t`` (B,) tensors; returns (B, D).
        It must expose ``dim`` (or ``config["dim"]``).
    process : AbstractProcess
        The forward process the network was trained under.
    parametrization : {"denoiser", "score", "noise"}, default="denoiser"
        What ``f`` is. denoiser: ``s = (f - x) / h_t``; score: ``s = f``; noise:
        ``s = -f / sqrt(h_t)`` (theory.md section 3). The scaling happens here once; the
        network carries none, so nothing is divided by ``sqrt(h_t)`` twice.
    batch_size : int, default=8192
        Rows per forward pass.

    Notes
    -----
    Queries are float64 numpy arrays of shape (M, D) or (D,) with t scalar or (M,), as in
    the score protocol; outputs are float64 numpy arrays of the same shape. The network
    runs in its own precision (float32 for :class:`~ridgetheory.nn.ScoreMLP`) under
    ``torch.no_grad`` in eval mode; the parametrization's arithmetic (``f - x``, the
    divisions by ``h_t``) is done afterwards in float64 with the exact ``x`` and ``h_t``.
    So the wrapped score has float32 network error (relative 1e-7 in ``f``), amplified by
    ``1/h_t`` in the denoiser parametrization at small t.

    Examples
    --------
    >>> import numpy as np, ridgetheory as rt
    >>> from ridgetheory.nn import ScoreMLP, NetworkScore
    >>> model = NetworkScore(ScoreMLP(2, hidden=(8,), time_features=4), rt.OU(), "score")
    >>> model.score(np.zeros((3, 2)), 0.5).dtype
    dtype('float64')
    """

    def __init__(
        self,
        net: Any,
        process: AbstractProcess,
        parametrization: str = "denoiser",
        *,
        batch_size: int = 8192,
    ):
        where = "NetworkScore"
        if not isinstance(net, torch.nn.Module):
            raise RidgeTheoryError(
                f"`net` passed to {where} must be a torch.nn.Module; got {type(net).__name__}."
            )
        check_process(process, where)
        self.parametrization = check_choice(
            parametrization, "parametrization", where, PARAMETRIZATIONS
        )
        dim = getattr(net, "dim", None) or getattr(net, "config", {}).get("dim")
        self.dim = check_int(dim, "net.dim", where, low=1)
        self.batch_size = check_int(batch_size, "batch_size", where, low=1)
        self.net = net
        self.process = process
        self.dtype = np.dtype(np.float64)

    def __repr__(self) -> str:
        return (f"NetworkScore({type(self.net).__name__}, {self.process!r}, "
                f"parametrization={self.parametrization!r})")

    def raw(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Raw network output ``f`` on clean (M, D) points and (M,) times, as float64."""
        param = next(self.net.parameters(), None)
        tdtype = param.dtype if param is not None else torch.float32
        device = param.device if param is not None else torch.device("cpu")
        out = np.empty(x.shape, dtype=np.float64)
        was_training = self.net.training
        self.net.eval()
        try:
            with torch.no_grad():
                for start in range(0, x.shape[0], self.batch_size):
                    sl = slice(start, start + self.batch_size)
                    xb = torch.as_tensor(x[sl], dtype=tdtype, device=device)
                    tb = torch.as_tensor(t[sl], dtype=tdtype, device=device)
                    out[sl] = self.net(xb, tb).detach().cpu().numpy().astype(np.float64)
        finally:
            self.net.train(was_training)
        return out

    def _denoiser(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        h = self.process.h(t)[:, None]
        return to_denoiser(self.raw(x, t), x, h, self.parametrization)

    def _score(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        f = self.raw(x, t)
        h = self.process.h(t)[:, None]
        if self.parametrization == "denoiser":
            return (f - x) / h
        if self.parametrization == "score":
            return f
        return -f / np.sqrt(h)
