"""Score throughput of SmoothedEmpirical: query-point pairs per second and peak memory.

Usage: python benchmarks/bench_score.py [--quick] [--out PATH]
Writes benchmarks/results/bench_score.json (medians over repeats).
"""

from __future__ import annotations

import argparse
import sys
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import environment, median_time, write_json  # noqa: E402

import ridgetheory as rt  # noqa: E402

GRID = [  # (M queries, n data points, D)
    (1_000, 1_000, 2),
    (10_000, 1_000, 2),
    (10_000, 10_000, 2),
    (10_000, 2_000, 16),
    (10_000, 60_000, 32),
    (100_000, 60_000, 32),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="only the three smallest cases")
    ap.add_argument("--out", default=None)
    ap.add_argument("--budget-mib", type=int, default=256)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    for M, n, D in GRID[:3] if args.quick else GRID:
        data = rng.normal(size=(n, D))
        x = rng.normal(size=(M, D)) * 1.5
        p = rt.SmoothedEmpirical(data, memory_budget=args.budget_mib * 2**20)
        repeats = 3 if M * n <= 1e8 else 1
        timing = median_time(
            lambda p=p, x=x: p.score(x, 0.3), repeats=repeats, warmup=1 if repeats > 1 else 0
        )
        tracemalloc.start()
        p.score(x[: min(M, 20_000)], 0.3)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        row = {
            "M": M,
            "n": n,
            "D": D,
            **timing,
            "pairs_per_s": M * n / timing["median_s"],
            "peak_mib_20k_queries": peak / 2**20,
        }
        rows.append(row)
        print(
            f"M={M:>7} n={n:>6} D={D:>3}: {row['pairs_per_s']:.3e} pairs/s, "
            f"median {timing['median_s']:.3f} s, peak {row['peak_mib_20k_queries']:.1f} MiB"
        )
    path = write_json(
        "bench_score",
        {
            "benchmark": "score throughput",
            "env": environment(),
            "budget_mib": args.budget_mib,
            "rows": rows,
        },
        args.out,
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
