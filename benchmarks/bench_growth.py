"""Growth of cost of the sampler with n, D and M (issue 14, item 4).

The exact-score sampler (numba, Euler-Maruyama, float64) is timed on a short grid at large
times (T = 2 -> 0.5, 5 steps: the posterior weights there are spread, so few terms fall below
the negligible-weight cut and every pair costs its D multiply-adds) while one of n
(1e2 ... 1e5), D (2 ... 1024) and M (1e3 ... 1e6) varies and the other two are fixed. The
exponent of each is the slope of log(time) against log(size) by least squares over the points
where the work is at least 1e8 pair-coordinates (below that, fixed costs show), and is
compared with the model O(M n D). Memory: the peak of the allocations tracemalloc sees
(numpy arrays: the states, the training set and the kernel inputs; the numba kernel's scratch
is O(n + 8 D) per thread and is added from its definition), against (M + n) D float64s.

Usage: ``python benchmarks/bench_growth.py [--quick]``; writes
``benchmarks/results/bench_growth.json`` and ``docs/img/growth.png``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _util import RESULTS, environment, write_json  # noqa: E402

import ridgetheory as rt  # noqa: E402

GRID = rt.grids.exponential(2.0, 0.5, 5)
STEPS = len(GRID) - 1
WORK_MIN = 1e8


def run(n, D, M, repeats):
    data = np.random.default_rng(0).standard_normal((n, D))
    p = rt.SmoothedEmpirical(data)
    rt.simulate(p, n=8, grid=GRID[:2], backend="numba", seed=0, progress=False)
    secs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        rt.simulate(p, n=M, grid=GRID, backend="numba", seed=0, progress=False)
        secs.append(time.perf_counter() - t0)
    tracemalloc.start()
    rt.simulate(p, n=M, grid=GRID[:2], backend="numba", seed=0, progress=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"n": n, "D": D, "M": M, "seconds": secs, "median_s": statistics.median(secs),
            "work": float(M) * n * D * STEPS, "peak_traced_bytes": peak,
            "model_bytes": 8.0 * (M + n) * D}


def slope(rows, key):
    pts = [(np.log(r[key]), np.log(r["median_s"])) for r in rows if r["work"] >= WORK_MIN]
    if len(pts) < 2:
        return None
    x, y = np.array(pts).T
    return float(np.polyfit(x, y, 1)[0])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(RESULTS / "bench_growth.json"))
    args = ap.parse_args(argv)
    q = args.quick
    reps = 1 if q else args.repeats
    sweeps = {
        "n": [dict(n=n, D=16, M=2000 if q else 10_000)
              for n in ([100, 1000, 10_000] if q else [100, 1000, 10_000, 100_000])],
        "D": [dict(n=1000, D=D, M=500 if q else 2000)
              for D in ([2, 16, 128] if q else [2, 8, 32, 128, 512, 1024])],
        "M": [dict(n=100, D=8, M=M)
              for M in ([1000, 10_000, 100_000] if q else [1000, 10_000, 100_000, 1_000_000])],
    }
    out = {"environment": environment(), "grid": GRID.tolist(), "work_min": WORK_MIN,
           "model": "time O(M n D), memory O((M + n) D)", "sweeps": {}, "exponents": {}}
    for key, cfgs in sweeps.items():
        rows = []
        for c in cfgs:
            r = run(c["n"], c["D"], c["M"], reps)
            rows.append(r)
            print(key, {k: v for k, v in r.items() if k != "seconds"}, flush=True)
        out["sweeps"][key] = rows
        out["exponents"][key] = slope(rows, key)
        mem = [r["peak_traced_bytes"] / r["model_bytes"] for r in rows]
        out["exponents"][f"{key}_memory_over_model"] = [min(mem), max(mem)]
    print(out["exponents"], flush=True)
    write_json("bench_growth", out, args.out)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 3, figsize=(11, 3.3))
        for ax, (key, rows) in zip(axes, out["sweeps"].items(), strict=True):
            xs = np.array([r[key] for r in rows], float)
            ys = np.array([r["median_s"] for r in rows])
            ax.loglog(xs, ys, "o-", label="measured")
            ref = ys[-1] * xs / xs[-1]
            ax.loglog(xs, ref, "k--", lw=0.8, label="slope 1")
            e = out["exponents"][key]
            ax.set_title(f"{key}: exponent {e:.2f}" if e is not None else key)
            ax.set_xlabel(key)
        axes[0].set_ylabel("seconds (5 steps)")
        axes[0].legend(frameon=False)
        fig.tight_layout()
        img = os.path.join(os.path.dirname(__file__), "..", "docs", "img", "growth.png")
        os.makedirs(os.path.dirname(img), exist_ok=True)
        fig.savefig(img + ".tmp.png", dpi=110)
        os.replace(img + ".tmp.png", img)
        plt.close(fig)
    except ImportError:
        pass


if __name__ == "__main__":
    main()
