"""The fused per-query kernel against the blocked GEMM path of the empirical score (issue 14).

For each (n, D) the sampler (numba, Euler-Maruyama, exponential grid T = 10 -> 1e-3 of 20
steps, so that both the spread and the concentrated posteriors are in the mix) advances the
same M trajectories with each path: the fused kernel (:mod:`ridgetheory.simulate.
kernels_numba`), the blocked GEMM path in float64 and in float32
(:mod:`ridgetheory.simulate.kernels_blocked`). Paths alternate within each repeat, so that
the machine's load falls on all of them alike; medians of ``--repeats``. The JSON records
pair evaluations per second, the ratio GEMM / fused, which path the rule
(:func:`~ridgetheory.simulate.kernels_blocked.choose_path`) picks and whether that is the
faster one, and the largest difference of the final states of each path against the fused
float64 one (relative to the states' scale).

Usage: ``python benchmarks/bench_blocked.py [--quick] [--repeats R]``; writes
``benchmarks/results/bench_blocked.json`` (keeping the previous run's medians beside the new
ones as ``previous`` and their ratio).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _util import RESULTS, environment, write_json  # noqa: E402

import ridgetheory as rt  # noqa: E402
from ridgetheory.simulate import kernels_blocked, kernels_numba  # noqa: E402
from ridgetheory.simulate.noise import seed_key  # noqa: E402
from ridgetheory.simulate.runner_numba import positional_inputs  # noqa: E402
from ridgetheory.simulate.schemes import get_scheme  # noqa: E402
from ridgetheory.simulate.spec import kernel_inputs  # noqa: E402

GRID = rt.grids.exponential(10.0, 1e-3, 20)
PAIR_TARGET = 4e8  # pair evaluations per timed run at D <= 16 (scaled by 16 / D above)


def _case(n, D, M):
    rng = np.random.default_rng(0)
    data = rng.standard_normal((n, D)) * 2.0
    p = rt.SmoothedEmpirical(data)
    proc = p.process
    co = get_scheme("em", "bench").coefficients(proc, GRID)
    coef = np.ascontiguousarray(co.table)
    a = np.ascontiguousarray(proc.alpha(GRID))
    h = np.ascontiguousarray(proc.h(GRID))
    y0 = rng.standard_normal((M, D))
    skey = np.uint64(seed_key(0))
    L = len(GRID) - 1
    runs = {}

    inputs = kernel_inputs(p, "empirical", GRID)
    emp = (inputs.data, inputs.dataT, inputs.sqnorm, inputs.cut)
    _, mixt, rft = positional_inputs(inputs)

    def fused():
        Y = y0.copy()
        kernels_numba.run(Y, 0, 0, L, coef, a, h, 0, emp, mixt, rft, skey, True, 1)
        return Y

    runs["fused"] = fused
    for name, dt in (("gemm", np.float64), ("gemm32", np.float32)):
        work = kernels_blocked.Workspace(kernel_inputs(p, "empirical", GRID, dt))

        def blocked(work=work, dt=dt):
            Y = y0.astype(dt)
            kernels_blocked.run(Y, 0, 0, L, co, a, h, skey, True, 1, work)
            return Y

        runs[name] = blocked
    return runs


def measure(n, D, repeats):
    target = PAIR_TARGET * min(1.0, 16.0 / D)
    M = int(max(64, min(200_000, target / (n * (len(GRID) - 1)))))
    runs = _case(n, D, M)
    finals = {k: f() for k, f in runs.items()}  # compile and warm
    secs = {k: [] for k in runs}
    for _ in range(repeats):
        for k, f in runs.items():
            t0 = time.perf_counter()
            f()
            secs[k].append(time.perf_counter() - t0)
    pairs = M * n * (len(GRID) - 1)
    ref = finals["fused"]
    scale = 1.0 + float(np.max(np.abs(ref)))
    row = {"n": n, "D": D, "M": M, "steps": len(GRID) - 1}
    for k in runs:
        med = statistics.median(secs[k])
        row[k] = {"seconds": secs[k], "median_s": med, "pairs_per_s": pairs / med,
                  "max_diff_vs_fused_f64": float(np.max(np.abs(finals[k] - ref))) / scale}
    row["gemm_over_fused"] = row["fused"]["median_s"] / row["gemm"]["median_s"]
    row["gemm32_over_gemm"] = row["gemm"]["median_s"] / row["gemm32"]["median_s"]
    path, why = kernels_blocked.choose_path(n, D, np.dtype(np.float64))
    faster = "gemm" if row["gemm_over_fused"] > 1.0 else "fused"
    row["rule"] = {"path": path, "why": why, "faster": faster, "agrees": path == faster}
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=None)
    ap.add_argument("--sizes", default=None,
                    help="n:D,n:D,... measured and merged into the existing JSON's rows")
    args = ap.parse_args()
    if args.sizes:
        sizes = [tuple(int(v) for v in nd.split(":")) for nd in args.sizes.split(",")]
    elif args.quick:
        sizes = [(200, 2), (2000, 16), (2000, 64)]
    else:
        sizes = [(n, D) for D in (2, 16, 64, 256, 1024)
                 for n in (100, 300, 1000, 2000, 20000) if n * D <= 2e6]
    rows = []
    for n, D in sizes:
        r = measure(n, D, args.repeats)
        print(f"n={n:6d} D={D:5d}  fused {r['fused']['pairs_per_s']:.3g}  gemm "
              f"{r['gemm']['pairs_per_s']:.3g}  gemm32 {r['gemm32']['pairs_per_s']:.3g}  "
              f"ratio {r['gemm_over_fused']:.2f}  rule {r['rule']['path']}"
              f"{'' if r['rule']['agrees'] else ' (MISS)'}", flush=True)
        rows.append(r)
    out = {"environment": environment(), "quick": args.quick, "repeats": args.repeats,
           "grid": GRID.tolist(), "rule": {"GEMM_MIN_POINTS": kernels_blocked.GEMM_MIN_POINTS},
           "rows": rows}
    path = args.out or os.path.join(RESULTS, "bench_blocked.json")
    if os.path.exists(path) and not args.quick:
        with open(path) as fh:
            old = json.load(fh)
        prev = {(r["n"], r["D"]): r for r in old.get("rows", [])}
        if args.sizes:  # merged: the other rows stay as they were measured
            new = {(r["n"], r["D"]) for r in rows}
            out["rows"] = sorted([r for k, r in prev.items() if k not in new] + rows,
                                 key=lambda r: (r["D"], r["n"]))
            out["merged"] = old.get("merged", []) + [{"sizes": args.sizes,
                                                      "environment": out["environment"]}]
            out["environment"] = old["environment"]
        for r in rows:
            o = prev.get((r["n"], r["D"]))
            if o:
                r["previous"] = {k: o[k]["median_s"] for k in ("fused", "gemm", "gemm32")}
                r["change_over_previous"] = {k: o[k]["median_s"] / r[k]["median_s"]
                                             for k in ("fused", "gemm", "gemm32")}
    write_json("bench_blocked", out, path)


if __name__ == "__main__":
    main()
