"""Overhead of the sweep engine, and what a second worker buys on a CPU-bound sweep.

Issue 13, item 7: the sweep's overhead per point under 5 % of running the point alone, and
two workers at least 1.7x faster than one. One CPU-bound point is a synthetic experiment
(exact score, two modes, ``--points-samples`` trajectories) with one numba thread, as in a
worker. Measured side by side in one run:

* ``alone``: the same N points (same configs, same seeds, so the same work) run one after
  another with ``run_experiment`` in this process (median over repeats of the total, after
  a warm-up that compiles the kernels);
* ``sweep_1`` / ``sweep_2``: ``rt.sweep`` of N such points (distinct seeds, empty cache) on a
  LocalCluster of one / two workers, passed by address: the cluster is started once and
  warmed by a first sweep (worker imports, numba cache loads), then the timed sweeps run
  (``timings["points_s"]``: dispatch to the last result). It has the settings of the cluster
  ``rt.sweep`` starts (``QUIET_WORKERS``: the profiler off). The cold first sweep, cluster
  start included, is recorded beside them (``cold_wall_s``).

Overhead per point = points_s(sweep_1) / N / alone - 1. Speed-up = points_s(sweep_1) /
points_s(sweep_2).

Usage: ``python benchmarks/bench_sweep.py [--points 8] [--samples 12000] [--repeats 3]``.
"""

from __future__ import annotations

import os

# one BLAS thread here as in a sweep worker (set before numpy is imported)
for _k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_k] = "1"

import argparse  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from _util import environment, write_json  # noqa: E402

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
    def spec(offset: int):
        seeds = list(range(offset, offset + args.points))
        return sweep_spec({"sweep": {"experiment": str(base), "seeds": seeds}}, "bench")

    timed_spec = spec(0)
    run_experiment(load_config(base), out_dir=work / "warm", seed=99)  # compile
    alone = []
    for r in range(args.repeats):
        t0 = time.perf_counter()
        for pt in timed_spec.points:
            run_experiment(pt.config, out_dir=work / f"alone{r}", seed=pt.seed)
        alone.append(time.perf_counter() - t0)
    t_alone = statistics.median(alone) / args.points  # per point
    import dask
    from dask.distributed import LocalCluster

    from ridgetheory.sweeps.engine import QUIET_WORKERS

    one = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    rows = {}
    for workers in (1, 2):
        t0 = time.perf_counter()
        # the cluster rt.sweep would start (same settings), started here to warm it once
        with dask.config.set(QUIET_WORKERS), LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True,
                dashboard_address=None, silence_logs=40, env=one) as cluster:
            runs = []
            for k in range(1 + args.repeats):
                out = work / f"w{workers}_{k}"
                # the warm-up sweep has other seeds; the timed ones are the points run alone
                res = rt.sweep(spec(1000 * workers) if k == 0 else timed_spec, out_dir=out,
                               scheduler=cluster.scheduler_address, progress=False)
                assert res.n_failed == 0 and res.n_run == args.points
                runs.append({"points_s": res.timings["points_s"], "wall_s": res.wall_s})
                if k == 0:
                    cold = time.perf_counter() - t0
                shutil.rmtree(out, ignore_errors=True)
        timed = runs[1:]
        rows[f"sweep_{workers}"] = {
            "points_s_median": statistics.median(r["points_s"] for r in timed),
            "wall_s_median": statistics.median(r["wall_s"] for r in timed),
            "cold_wall_s": cold,
            "runs": timed,
        }
    p1 = rows["sweep_1"]["points_s_median"]
    p2 = rows["sweep_2"]["points_s_median"]
    out = {
        "environment": environment(),
        "points": args.points,
        "samples_per_point": args.samples,
        "alone_s_per_point": t_alone,
        "alone_total_s": alone,
        **rows,
        "overhead_per_point": p1 / args.points / t_alone - 1.0,
        "overhead_per_point_cold_start":
            rows["sweep_1"]["cold_wall_s"] / args.points / t_alone - 1.0,
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
