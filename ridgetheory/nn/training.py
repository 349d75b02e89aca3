"""Denoising score matching (theory.md sections 3 and 5) with seeds and early stopping."""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .._checks import (
    RidgeTheoryError,
    check_array,
    check_choice,
    check_int,
    check_scalar,
    check_seed,
)
from ..conventions import PARAMETRIZATIONS, TIME_WEIGHTS, time_weight
from ..processes import AbstractProcess, check_process
from .score import NetworkScore

__all__ = ["TrainHistory", "dsm_loss", "train_dsm", "train_score_mlp"]

def _sq_residual(f, x0, z, a, h, parametrization):
    """``|m_theta - a_t x0|^2`` per row, written so that nothing cancels in float32.

    With ``x_t = a x0 + sqrt(h) z``: denoiser ``m - a x0 = f - a x0``; score
    ``m - a x0 = sqrt(h) (sqrt(h) f + z)``; noise ``m - a x0 = -sqrt(h) (f - z)``.
    """
    if parametrization == "denoiser":
        return ((f - a * x0) ** 2).sum(dim=1)
    if parametrization == "score":
        return h[:, 0] * ((h.sqrt() * f + z) ** 2).sum(dim=1)
    return h[:, 0] * ((f - z) ** 2).sum(dim=1)


def dsm_loss(
    net: torch.nn.Module,
    x0: torch.Tensor,
    t: torch.Tensor,
    z: torch.Tensor,
    process: AbstractProcess,
    parametrization: str = "denoiser",
    weight: str = "1",
) -> torch.Tensor:
    """Denoising score-matching loss ``mean_b w(t_b) |m_theta(x_t, t_b) - a_t x0_b|^2 / D``.

    Parameters
    ----------
    net : torch.nn.Module
        ``net(x, t)`` -> raw output ``f`` (B, D).
    x0, z : tensors of shape (B, D)
        Clean data and standard normal noise; ``x_t = a_t x0 + sqrt(h_t) z``.
    t : tensor of shape (B,)
        Times > 0.
    process : AbstractProcess
    parametrization : {"denoiser", "score", "noise"}, default="denoiser"
    weight : {"1", "h", "h2", "1/h", "1/h2"}, default="1"
        ``w(t)`` on the denoiser-units loss (see :data:`ridgetheory.conventions.TIME_WEIGHTS`).

    Returns
    -------
    torch scalar

    Notes
    -----
    Up to a constant, its expectation is ``(1/D) E_t w(t) E |m_theta - m|^2`` (theory.md
    section 5), whatever the parametrization: the parametrization fixes only how ``m_theta``
    is read from ``f``.
    """
    tt = t.detach().cpu().numpy().astype(np.float64)
    a = torch.as_tensor(process.alpha(tt), dtype=x0.dtype, device=x0.device)[:, None]
    h = torch.as_tensor(process.h(tt), dtype=x0.dtype, device=x0.device)[:, None]
    xt = a * x0 + h.sqrt() * z
    f = net(xt, t)
    w = time_weight(weight, h[:, 0])
    return (w * _sq_residual(f, x0, z, a, h, parametrization)).mean() / x0.shape[1]


@dataclass
class TrainHistory:
    """What :func:`train_dsm` did.

    Attributes
    ----------
    steps : int
        Optimizer steps taken.
    eval_steps, train_loss, val_loss : lists of float
        At each evaluation: the step, the mean training loss since the previous evaluation,
        and the monitored (held-out) loss on fixed noise draws.
    best_step : int
        Step whose weights were kept (lowest monitored loss).
    stopped_early : bool
    seconds : float
    """

    steps: int = 0
    eval_steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_step: int = 0
    best_loss: float = math.inf
    stopped_early: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _draw_times(rng, n, t0, T, sampling):
    if sampling == "uniform":
        return rng.uniform(t0, T, n)
    return np.exp(rng.uniform(math.log(t0), math.log(T), n))


def train_dsm(
    net: torch.nn.Module,
    data: Any,
    process: AbstractProcess,
    *,
    parametrization: str = "denoiser",
    weight: str = "1",
    steps: int = 1000,
    batch_size: int = 256,
    lr: float = 1e-3,
    lr_final: float | None = None,
    t0: float = 1e-3,
    T: float = 10.0,
    time_sampling: str = "uniform",
    seed: int = 0,
    val_fraction: float = 0.0,
    val_data: Any = None,
    val_size: int = 4096,
    eval_every: int = 200,
    patience: int | None = None,
    progress: bool = False,
) -> TrainHistory:
    """Train ``net`` in place by denoising score matching with Adam.

    Parameters
    ----------
    net : torch.nn.Module
        ``net(x, t)`` -> (B, D) raw output, e.g. :class:`~ridgetheory.nn.ScoreMLP`.
    data : array of shape (n, D), float
        Training points.
    process : AbstractProcess
        Forward process (``a_t``, ``h_t``).
    parametrization : {"denoiser", "score", "noise"}, default="denoiser"
    weight : {"1", "h", "h2", "1/h", "1/h2"}, default="1"
        Time weight on the denoiser-units loss (:data:`ridgetheory.conventions.TIME_WEIGHTS`).
    steps : int, default=1000
        Maximum optimizer steps.
    batch_size : int, default=256
    lr : float, default=1e-3
        Adam learning rate; with ``lr_final`` it decays by a cosine to ``lr_final``.
    t0, T : float, default=1e-3, 10
        Training times ``t ~ U(t0, T)`` (or log-uniform, see ``time_sampling``).
    time_sampling : {"uniform", "log"}, default="uniform"
    seed : int, default=0
        Seed of the batch, time and noise draws and of the train/validation split.
    val_fraction : float in [0, 1), default=0
        Share of ``data`` held out for early stopping (ignored when ``val_data`` is given).
        With no held-out data the monitored loss is the training loss on fixed draws.
    val_data : array of shape (n_val, D), default=None
    val_size : int, default=4096
        Rows (point, time, noise) of the fixed monitoring draws.
    eval_every : int, default=200
        Steps between evaluations of the monitored loss.
    patience : int, default=None
        Stop after this many evaluations without improvement (None: never stop early). The
        weights with the best monitored loss are restored at the end in every case.
    progress : bool, default=False
        Show a tqdm progress bar.

    Returns
    -------
    TrainHistory

    Examples
    --------
    >>> import numpy as np, ridgetheory as rt
    >>> from ridgetheory.nn import ScoreMLP, train_dsm
    >>> net = ScoreMLP(2, hidden=(16,), time_features=8)
    >>> hist = train_dsm(net, np.zeros((4, 2)), rt.OU(), steps=20, eval_every=10, seed=0)
    >>> hist.steps
    20
    """
    where = "train_dsm"
    check_process(process, where)
    x = check_array(data, "data", where, ndim=2, min_rows=1)
    check_choice(parametrization, "parametrization", where, PARAMETRIZATIONS)
    check_choice(weight, "weight", where, tuple(TIME_WEIGHTS))
    check_choice(time_sampling, "time_sampling", where, ("uniform", "log"))
    steps = check_int(steps, "steps", where, low=1)
    batch_size = check_int(batch_size, "batch_size", where, low=1)
    lr = check_scalar(lr, "lr", where, low=0.0, low_open=True)
    t0 = check_scalar(t0, "t0", where, low=0.0, low_open=True)
    T = check_scalar(T, "T", where, low=t0, low_open=True, high=process.t_max)
    seed = check_seed(seed, where)
    val_fraction = check_scalar(val_fraction, "val_fraction", where, low=0.0, high=1.0,
                                high_open=True)
    val_size = check_int(val_size, "val_size", where, low=1)
    eval_every = check_int(eval_every, "eval_every", where, low=1)
    if patience is not None:
        patience = check_int(patience, "patience", where, low=1)
    rng = np.random.default_rng(seed)
    if val_data is not None:
        xv = check_array(val_data, "val_data", where, ndim=2, min_rows=1)
    elif val_fraction > 0 and x.shape[0] >= 2:
        perm = rng.permutation(x.shape[0])
        n_val = min(x.shape[0] - 1, max(1, int(round(val_fraction * x.shape[0]))))
        xv, x = x[perm[:n_val]], x[perm[n_val:]]
    else:
        xv = x
    if xv.shape[1] != x.shape[1]:
        raise RidgeTheoryError(f"`val_data` passed to {where} must have {x.shape[1]} columns.")

    param = next(net.parameters())
    dtype, device = param.dtype, param.device
    xt = torch.as_tensor(x, dtype=dtype, device=device)
    # Fixed monitoring draws: the monitored loss is a deterministic function of the weights.
    vrng = np.random.default_rng([seed, 1])
    vx = torch.as_tensor(xv[vrng.integers(0, xv.shape[0], val_size)], dtype=dtype, device=device)
    vt = torch.as_tensor(_draw_times(vrng, val_size, t0, T, time_sampling), dtype=dtype,
                         device=device)
    vz = torch.as_tensor(vrng.standard_normal((val_size, x.shape[1])), dtype=dtype, device=device)

    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = None
    if lr_final is not None:
        lr_final = check_scalar(lr_final, "lr_final", where, low=0.0)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=lr_final)

    def monitored() -> float:
        net.eval()
        with torch.no_grad():
            total = 0.0
            for s in range(0, val_size, 8192):
                sl = slice(s, s + 8192)
                part = dsm_loss(net, vx[sl], vt[sl], vz[sl], process, parametrization, weight)
                total += float(part) * vx[sl].shape[0]
        net.train()
        return total / val_size

    from tqdm.auto import tqdm

    hist = TrainHistory()
    best_state = copy.deepcopy(net.state_dict())
    hist.best_loss, bad, running, count = monitored(), 0, 0.0, 0
    start = time.perf_counter()
    net.train()
    bar = tqdm(total=steps, disable=not progress, desc="DSM", leave=False)
    try:
        for step in range(1, steps + 1):
            idx = rng.integers(0, x.shape[0], batch_size)
            tb = torch.as_tensor(_draw_times(rng, batch_size, t0, T, time_sampling), dtype=dtype,
                                 device=device)
            zb = torch.as_tensor(rng.standard_normal((batch_size, x.shape[1])), dtype=dtype,
                                 device=device)
            loss = dsm_loss(net, xt[idx], tb, zb, process, parametrization, weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            running += float(loss.detach())
            count += 1
            hist.steps = step
            bar.update(1)
            if step % eval_every == 0 or step == steps:
                val = monitored()
                hist.eval_steps.append(step)
                hist.train_loss.append(running / count)
                hist.val_loss.append(val)
                running, count = 0.0, 0
                bar.set_postfix(train=hist.train_loss[-1], val=val)
                if val < hist.best_loss:
                    hist.best_loss, hist.best_step, bad = val, step, 0
                    best_state = copy.deepcopy(net.state_dict())
                else:
                    bad += 1
                    if patience is not None and bad >= patience:
                        hist.stopped_early = True
                        break
    finally:
        bar.close()
    net.load_state_dict(best_state)
    net.eval()
    hist.seconds = time.perf_counter() - start
    return hist


def train_score_mlp(
    data: Any,
    process: AbstractProcess,
    *,
    hidden: Any = (256, 256),
    steps: int = 3000,
    weight: str = "1",
    parametrization: str = "denoiser",
    seed: int = 0,
    t0: float = 1e-3,
    T: float = 10.0,
    batch_size: int = 512,
    lr: float = 2e-3,
    time_features: int = 64,
    time_sampling: str = "uniform",
    progress: bool = False,
) -> NetworkScore:
    """Train a small :class:`~ridgetheory.nn.ScoreMLP` on low-dimensional data; return it wrapped.

    For the synthetic layouts (2-D Dirac mixtures): the whole data set is the training set
    (no held-out split; the best weights on fixed monitoring draws are kept), Adam with a
    cosine decay from ``lr`` to ``lr / 20``.

    Parameters
    ----------
    data : array of shape (n, D)
    process : AbstractProcess
    hidden : sequence of int, default=(256, 256)
    steps : int, default=3000
    weight : {"1", "h", "h2", "1/h", "1/h2"}, default="1"
    parametrization : {"denoiser", "score", "noise"}, default="denoiser"
    seed : int, default=0
        Seed of the initial weights and of every draw.
    t0, T : float, default=1e-3, 10
    batch_size : int, default=512
    lr : float, default=2e-3
    time_features : int, default=64
    time_sampling : {"uniform", "log"}, default="uniform"
    progress : bool, default=False

    Returns
    -------
    NetworkScore
        The trained network, wrapped (numpy in, numpy out, float64).

    Examples
    --------
    >>> import numpy as np, ridgetheory as rt
    >>> from ridgetheory.nn import train_score_mlp
    >>> model = train_score_mlp(np.array([[0.0, 0.0], [5.0, 0.0]]), rt.OU(), hidden=(32,),
    ...                         steps=50, seed=0)
    >>> model.score(np.zeros((4, 2)), 0.5).shape
    (4, 2)
    """
    from .networks import ScoreMLP

    x = check_array(data, "data", "train_score_mlp", ndim=2, min_rows=1)
    net = ScoreMLP(x.shape[1], hidden=hidden, time_features=time_features, seed=seed)
    train_dsm(net, x, process, parametrization=parametrization, weight=weight, steps=steps,
              batch_size=batch_size, lr=lr, lr_final=lr / 20, t0=t0, T=T,
              time_sampling=time_sampling, seed=seed, eval_every=max(1, steps // 10),
              progress=progress)
    return NetworkScore(net, process, parametrization)
