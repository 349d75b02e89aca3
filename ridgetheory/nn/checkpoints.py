"""Checkpoints: a torch state dict plus a JSON of hyper-parameters, both written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from .. import processes as _processes
from .._checks import RidgeTheoryError
from .networks import ScoreMLP
from .score import NetworkScore

__all__ = ["save_checkpoint", "load_checkpoint"]


def _atomic(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _paths(path: str | os.PathLike) -> tuple[Path, Path]:
    base = Path(path)
    if base.suffix in (".pt", ".json"):
        base = base.with_suffix("")
    return base.with_suffix(".pt"), base.with_suffix(".json")


def save_checkpoint(path: str | os.PathLike, model: Any, meta: dict[str, Any] | None = None
                    ) -> Path:
    """Save a :class:`ScoreMLP` or a :class:`NetworkScore` wrapping one.

    Writes ``<path>.pt`` (the state dict) and ``<path>.json`` (the network's constructor
    arguments, for a NetworkScore also its process and parametrization, plus ``meta``).

    Returns
    -------
    pathlib.Path
        The ``.pt`` file.

    Examples
    --------
    >>> import tempfile, ridgetheory as rt
    >>> from ridgetheory.nn import ScoreMLP, NetworkScore, save_checkpoint, load_checkpoint
    >>> model = NetworkScore(ScoreMLP(2, hidden=(8,), time_features=4), rt.OU(), "noise")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = save_checkpoint(f"{d}/net", model)
    ...     again, meta = load_checkpoint(f"{d}/net")
    >>> again.parametrization
    'noise'
    """
    net = model.net if isinstance(model, NetworkScore) else model
    if not isinstance(net, ScoreMLP):
        raise RidgeTheoryError(
            "`model` passed to save_checkpoint must be a ScoreMLP or a NetworkScore wrapping "
            f"one; got {type(net).__name__}."
        )
    info: dict[str, Any] = {"network": "ScoreMLP", "config": net.config, "meta": meta or {}}
    if isinstance(model, NetworkScore):
        info["process"] = {"name": type(model.process).__name__, "params": model.process.params()}
        info["parametrization"] = model.parametrization
    pt, js = _paths(path)
    _atomic(pt, lambda fh: torch.save(net.state_dict(), fh))
    _atomic(js, lambda fh: fh.write(json.dumps(info, indent=2, sort_keys=True).encode()))
    return pt


def load_checkpoint(path: str | os.PathLike) -> tuple[Any, dict[str, Any]]:
    """Load what :func:`save_checkpoint` wrote.

    Returns
    -------
    model : NetworkScore or ScoreMLP
        A NetworkScore when the checkpoint recorded a process, else the bare network
        (in eval mode).
    meta : dict
        The ``meta`` saved with it.
    """
    pt, js = _paths(path)
    if not pt.exists() or not js.exists():
        raise RidgeTheoryError(f"`path` passed to load_checkpoint: no checkpoint at {pt} / {js}.")
    info = json.loads(js.read_text())
    net = ScoreMLP(**info["config"])
    net.load_state_dict(torch.load(pt, map_location="cpu", weights_only=True))
    net.eval()
    if "process" not in info:
        return net, info.get("meta", {})
    cls = getattr(_processes, info["process"]["name"])
    process = cls(**info["process"]["params"])
    return NetworkScore(net, process, info["parametrization"]), info.get("meta", {})
