"""float32 against float64 on the validation quantities (issue 14, item 3).

The same runs (numba, Euler-Maruyama, T = 10 -> 1e-3 exponential grid, the same seed, so the
same noise) with a float64 and a float32 ``SmoothedEmpirical`` of the benchmark layouts of
``bench_peers.py``: three points in 2-D and four anisotropic Gaussians in D = 16 (n = 2000).
float64 runs the path the rule picks; float32 runs the blocked GEMM path. Compared:

* the final distance to the 1-ridge of ``p_{t_min}`` (SCMS projection in float64 of both
  sample sets; median and 90 % quantile, and the largest per-sample difference);
* the memorization fraction (nearest / second-nearest ratio below 1/3);
* the allocation: the share of samples whose nearest training point differs between the two
  runs, and the total-variation distance of the per-cluster counts;
* the per-sample final-state difference (median and max);
* the wall time (median of ``--repeats``, the two dtypes alternated) and its ratio.

Usage: ``python benchmarks/bench_float32.py [--quick] [--repeats R]``; writes
``benchmarks/results/bench_float32.json``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _util import RESULTS, environment, write_json  # noqa: E402
from bench_peers import four_gaussians, three_points  # noqa: E402

import ridgetheory as rt  # noqa: E402

T, T_MIN = 10.0, 1e-3


def _ridge_distance(p, x, d=1):
    proj = rt.Ridge(p, d).project(x, T_MIN, method="scms", max_iter=500)
    dist = np.linalg.norm(proj.points - x, axis=1)
    return dist, np.asarray(proj.converged)


def case(name, data, M, steps, repeats, n_ridge, labels):
    grid = rt.grids.exponential(T, T_MIN, steps)
    p = {dt: rt.SmoothedEmpirical(data, dtype=dt) for dt in (np.float64, np.float32)}
    kw = dict(n=M, grid=grid, method="em", seed=11, progress=False, backend="numba")
    runs = {dt: rt.simulate(p[dt], **kw) for dt in p}  # compiles and warms
    secs = {dt: [] for dt in p}
    for _ in range(repeats):
        for dt in p:
            t0 = time.perf_counter()
            runs[dt] = rt.simulate(p[dt], **kw)
            secs[dt].append(time.perf_counter() - t0)
    f64 = runs[np.float64].final
    f32 = runs[np.float32].final.astype(np.float64)
    out = {"n": data.shape[0], "D": data.shape[1], "M": M, "steps": steps,
           "paths": {str(np.dtype(dt)): runs[dt].meta["score_path"] for dt in p}}
    for dt in p:
        out[f"seconds_{np.dtype(dt)}"] = secs[dt]
    m64, m32 = statistics.median(secs[np.float64]), statistics.median(secs[np.float32])
    out["speed_float32_over_float64"] = m64 / m32
    diff = np.linalg.norm(f32 - f64, axis=1)
    out["state_difference"] = {"median": float(np.median(diff)), "max": float(diff.max())}
    # distance to the ridge, both sample sets projected in float64
    sub = slice(0, n_ridge)
    d64, c64 = _ridge_distance(p[np.float64], f64[sub])
    d32, c32 = _ridge_distance(p[np.float64], f32[sub])
    both = c64 & c32
    out["ridge_distance"] = {
        "samples": n_ridge, "converged_both": int(both.sum()),
        "median_float64": float(np.median(d64[both])),
        "median_float32": float(np.median(d32[both])),
        "q90_float64": float(np.quantile(d64[both], 0.9)),
        "q90_float32": float(np.quantile(d32[both], 0.9)),
        "max_abs_difference": float(np.max(np.abs(d64[both] - d32[both]))),
    }
    mem = {str(np.dtype(dt)): rt.measure.memorization_fraction(
        runs[dt].final.astype(np.float64), data, n_boot=200) for dt in p}
    out["memorization"] = {k: {"fraction": v["fraction"], "ci": [v["low"], v["high"]]}
                           for k, v in mem.items()}
    i64 = rt.measure.nearest_training(f64, data, k=1)[0][:, 0]
    i32 = rt.measure.nearest_training(f32, data, k=1)[0][:, 0]
    k = labels.max() + 1
    c64 = np.bincount(labels[i64], minlength=k) / M
    c32 = np.bincount(labels[i32], minlength=k) / M
    out["allocation"] = {"nearest_point_differs": float(np.mean(i64 != i32)),
                         "cluster_shares_float64": c64.tolist(),
                         "cluster_shares_float32": c32.tolist(),
                         "total_variation": float(0.5 * np.abs(c64 - c32).sum())}
    print(name, {k: out[k] for k in ("speed_float32_over_float64", "state_difference",
                                     "ridge_distance", "memorization", "allocation")},
          flush=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    three = three_points()
    gauss = four_gaussians()
    g_labels = np.repeat(np.arange(4), gauss.shape[0] // 4)
    if args.quick:
        cases = {"three_2d": case("three_2d", three, 2000, 200, 1, 500, np.arange(3)),
                 "gauss16": case("gauss16", gauss, 200, 100, 1, 100, g_labels)}
    else:
        cases = {"three_2d": case("three_2d", three, 20000, 1000, args.repeats, 2000,
                                  np.arange(3)),
                 "gauss16": case("gauss16", gauss, 2000, 1000, args.repeats, 500, g_labels)}
    write_json("bench_float32", {"environment": environment(), "quick": args.quick,
                                 "T": T, "t_min": T_MIN, "cases": cases},
               args.out or os.path.join(RESULTS, "bench_float32.json"))


if __name__ == "__main__":
    main()
