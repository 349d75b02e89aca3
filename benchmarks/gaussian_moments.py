"""Benchmark the closed-form ReLU moment matrix against the Monte Carlo it replaces.

Writes benchmarks/results/gaussian_moments.json (atomically). Usage::

    python benchmarks/gaussian_moments.py [--p 2000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from ridgetheory.gaussian_moments import relu_cross_moment, relu_moment_matrix


def _median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--p", type=int, default=2000)
    ap.add_argument("--dim", type=int, default=2)
    ap.add_argument("--draws", type=int, default=4000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    p, D = args.p, args.dim
    # the random-feature setting: W ~ N(0, 1/D), pre-activation covariance h_t W W^T
    W = rng.normal(0.0, 1.0 / np.sqrt(D), (p, D))
    h = 0.5
    cov = h * W @ W.T
    mu = rng.normal(size=p)
    s = np.sqrt(np.diag(cov))
    rho = np.clip(cov / np.outer(s, s), -1, 1)
    np.fill_diagonal(rho, 1.0)
    L = np.sqrt(h) * W

    results = {}
    results["moment_matrix_numpy_s"], raw_np = _median_time(
        lambda: relu_moment_matrix(mu, cov), args.repeats)
    relu_moment_matrix(mu[:2], cov[:2, :2], backend="numba")  # compile outside the timing
    results["moment_matrix_numba_s"], raw_nb = _median_time(
        lambda: relu_moment_matrix(mu, cov, backend="numba"), args.repeats)
    results["cross_full_broadcast_numpy_s"], raw_full = _median_time(
        lambda: relu_cross_moment(mu[:, None], s[:, None], mu[None, :], s[None, :], rho),
        args.repeats)

    def monte_carlo():
        z = rng.standard_normal((args.draws, D))
        F = np.maximum(mu + z @ L.T, 0.0)
        return F.T @ F / args.draws

    results["monte_carlo_s"], raw_mc = _median_time(monte_carlo, args.repeats)
    exact = relu_moment_matrix(mu, cov)
    mc = monte_carlo()
    results["monte_carlo_max_abs_error"] = float(np.max(np.abs(mc - exact)))
    results["monte_carlo_median_rel_error"] = float(np.median(np.abs(mc - exact)
                                                              / np.maximum(exact, 1e-300)))
    results["ratio_numpy_over_mc"] = results["moment_matrix_numpy_s"] / results["monte_carlo_s"]
    results["ratio_numba_over_mc"] = results["moment_matrix_numba_s"] / results["monte_carlo_s"]
    payload = {
        "benchmark": "gaussian_moments",
        "what": f"E[relu(u) relu(u)^T], u ~ N(mu, h W W^T), p={p}, D={D}",
        "p": p, "D": D, "draws": args.draws, "repeats": args.repeats,
        "median_seconds_and_ratios": results,
        "raw_seconds": {"numpy": raw_np, "numba": raw_nb, "full_broadcast": raw_full,
                        "monte_carlo": raw_mc},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "numpy": np.__version__},
    }
    out = Path(__file__).resolve().parent / "results" / "gaussian_moments.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=out.parent, delete=False, suffix=".tmp") as fh:
        json.dump(payload, fh, indent=2)
        tmp = fh.name
    os.replace(tmp, out)
    print(json.dumps(payload["median_seconds_and_ratios"], indent=2))


if __name__ == "__main__":
    main()
