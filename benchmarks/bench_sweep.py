"""Overhead of the sweep engine, and what a second worker buys on a CPU-bound sweep.

Issue 13, item 7: the sweep's overhead per point under 5 % of running the point alone, and
two workers at least 1.7x faster than one. One CPU-bound point is a synthetic experiment
(exact score, two modes, ``--points-samples`` trajectories) with one numba thread, as in a
worker. Measured side by side in one run:

* ``alone``: ``run_experiment`` on the point's config in this process (median of repeats,
  after a warm-up that compiles the kernels);
* ``sweep_1`` / ``sweep_2``: ``rt.sweep`` of N such points (distinct seeds, empty cache) on a
  LocalCluster of one / two workers; the points phase (``timings["points_s"]``: dispatch
  to the last result, workers warmed up by a first sweep) and the whole call (cluster start
  included) are both recorded.

Overhead per point = points_s(sweep_1) / N / alone - 1. Speed-up = points_s(sweep_1) /
points_s(sweep_2).

Usage: ``python benchmarks/bench_sweep.py [--points 8] [--samples 12000] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import textwrap
import time
from pathlib import Path

from _util import environment, write_json

CONFIG = textwrap.dedent("""
    [experiment]
    kind = "synthetic"
    [params]
    layout = "two_mode"
    model = "exact"
    T = 10.0
    t_min = 1e-3
    steps = 300
    n_samples = {n}
    n_measure = 400
    n_predict = 200
    n_save = 8
    backend = "numba"
    [claims.memorization]
    [claims.intermode_fraction]
""")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=8)
    ap.add_argument("--samples", type=int, default=12000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    import numba

    import ridgetheory as rt
    from ridgetheory.sweeps import sweep_spec
    from ridgetheory.validate.runner import load_config, run_experiment

    work = Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    base = work / "point.toml"
    base.write_text(CONFIG.format(n=args.samples))
    numba.set_num_threads(1)  # as in a worker

    cfg = load_config(base)
    run_experiment(cfg, out_dir=work / "warm", seed=99)  # compile
    alone = []
    for r in range(args.repeats):
        t0 = time.perf_counter()
        run_experiment(cfg, out_dir=work / f"alone{r}", seed=100 + r)
        alone.append(time.perf_counter() - t0)
    t_alone = statistics.median(alone)

    def spec(offset: int):
        seeds = list(range(offset, offset + args.points))
        return sweep_spec({"sweep": {"experiment": str(base), "seeds": seeds}}, "bench")

    rows = {}
    for workers in (1, 2):
        # a first sweep warms the workers' imports and numba caches; then the timed one
        runs = []
        for k in range(1 + args.repeats):
            out = work / f"w{workers}_{k}"
            res = rt.sweep(spec(1000 * (workers * 10 + k)), out_dir=out, workers=workers,
                           progress=False)
            assert res.n_failed == 0 and res.n_run == args.points
            runs.append({"points_s": res.timings["points_s"], "wall_s": res.wall_s})
            shutil.rmtree(out, ignore_errors=True)
        timed = runs[1:]
        rows[f"sweep_{workers}"] = {
            "points_s_median": statistics.median(r["points_s"] for r in timed),
            "wall_s_median": statistics.median(r["wall_s"] for r in timed),
            "runs": timed,
        }
    p1 = rows["sweep_1"]["points_s_median"]
    p2 = rows["sweep_2"]["points_s_median"]
    out = {
        "environment": environment(),
        "points": args.points,
        "samples_per_point": args.samples,
        "alone_s_median": t_alone,
        "alone_s": alone,
        **rows,
        "overhead_per_point": p1 / args.points / t_alone - 1.0,
        "overhead_per_point_with_cluster_start":
            rows["sweep_1"]["wall_s_median"] / args.points / t_alone - 1.0,
        "speedup_2_workers": p1 / p2,
        "targets": {"overhead_per_point": "< 0.05", "speedup_2_workers": ">= 1.7"},
    }
    write_json("bench_sweep", out)
    print(f"alone {t_alone:.2f} s; 1 worker {p1 / args.points:.2f} s/point "
          f"(overhead {out['overhead_per_point']:+.1%}); 2 workers {p2 / args.points:.2f} "
          f"s/point, speed-up {out['speedup_2_workers']:.2f}x")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
