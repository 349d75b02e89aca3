"""Where cached data sets live, and how files get there atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["DatasetUnavailable", "data_dir", "atomic_save_npz"]

ENV_VAR = "RIDGETHEORY_DATA"


class DatasetUnavailable(RuntimeError):
    """A data set is neither cached nor fetchable; the message says how to provide it."""


def data_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """The data cache directory (not created).

    Parameters
    ----------
    cache_dir : path-like, default=None
        Explicit directory. When None: ``$RIDGETHEORY_DATA`` if set, else
        ``$XDG_CACHE_HOME/ridgetheory``, else ``~/.cache/ridgetheory``.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> from ridgetheory.datasets import data_dir
    >>> data_dir("/tmp/somewhere").name
    'somewhere'
    """
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "ridgetheory"


def atomic_save_npz(path: Path, **arrays: Any) -> None:
    """Write a compressed npz through a temporary file in the same directory + os.replace."""
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the cache is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
