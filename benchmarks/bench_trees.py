"""Benchmark: the same hot paths on two source trees, side by side (refactoring guard).

A refactoring must not slow the package down, and the machine is shared and noisy, so the
two trees are timed in one run, alternating: round r runs every case on tree A, then on tree
B, each in a fresh subprocess (``PYTHONPATH`` set to the tree) that warms up once (numba
compiles into the tree's own cache) and then times ``--inner`` calls. The JSON keeps every
sample, the medians per tree and the ratio ``median(new) / median(base)`` per case.

Cases (float64, fixed seeds):

* ``sim_gmm_em``      -- rt.simulate, Gaussian mixture K = 3 in 2-D, M = 1e5, 100 EM steps, numba
* ``sim_emp16_em``    -- rt.simulate, exact empirical score n = 2000, D = 16, M = 2000, 50 EM steps
* ``sim_emp16_heun``  -- the same with the Heun ODE (two score evaluations a step)
* ``sim_rf_em``       -- rt.simulate, random-feature score p = 500 in 2-D, M = 2e4, 100 EM steps
* ``ridge_circle``    -- Ridge(d=1).project (SCMS, numba) on a noisy circle n = 1000, M = 1e4
* ``ridge_curve16``   -- the same on a closed curve n = 2000 in D = 16, M = 1000
* ``ridge_two_newton``-- Newton projection on (-3, 0), (3, 0), M = 1e4
* ``score_numpy``     -- SmoothedEmpirical.score (numpy), M = 2e4 queries, n = 1e4, D = 32
* ``postcov_numpy``   -- SmoothedEmpirical.posterior_covariance (numpy), M = 2000, n = 2000, D = 8
* ``rf_exact``        -- RandomFeatureModel(p = 300).fit(quadrature="exact"), 3 points, 21 nodes

Usage: ``python benchmarks/bench_trees.py --base /path/to/old/tree [--new .] [--rounds 3]
[--inner 3] [--cases a,b]``; writes ``benchmarks/results/bench_trees.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import environment, write_json  # noqa: E402


def _case(name: str):
    """Build the case (untimed) and return the call to time."""
    import numpy as np

    import ridgetheory as rt

    rng = np.random.default_rng(0)
    if name.startswith("sim_"):
        if name == "sim_gmm_em":
            score = rt.GaussianMixture(np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]]),
                                       np.array([0.1, 0.2, 0.3]))
            M, L, method = 100_000, 100, "em"
        elif name == "sim_rf_em":
            model = rt.RandomFeatureModel(500, K=8, T=5.0, dim=2, seed=0)
            fit = model.fit(np.array([[-3.0, 0.0], [3.0, 0.0]]), time_nodes=21, t0=0.01,
                            quadrature="gauss-hermite", gh_order=6)
            score, M, L, method = fit.at(np.inf), 20_000, 100, "em"
        else:
            means = rng.normal(scale=3.0, size=(4, 16))
            data = means[rng.integers(0, 4, 2000)] + rng.normal(size=(2000, 16)) * np.linspace(
                0.2, 1.0, 16)
            score = rt.SmoothedEmpirical(data)
            M, L = 2000, 50
            method = "heun-ode" if name.endswith("heun") else "em"
        grid = rt.grids.exponential(5.0, 1e-3, L)
        return lambda: rt.simulate(score, n=M, grid=grid, method=method, backend="numba",
                                   seed=1, progress=False)
    if name.startswith("ridge_"):
        if name == "ridge_circle":
            th = rng.uniform(0, 2 * np.pi, 1000)
            data = np.c_[np.cos(th), np.sin(th)] + 0.05 * rng.normal(size=(1000, 2))
            t, M, method = 0.02, 10_000, "scms"
        elif name == "ridge_curve16":
            s = rng.uniform(0, 2 * np.pi, 2000)
            k = np.arange(1, 9)
            Q, _ = np.linalg.qr(rng.normal(size=(16, 16)))
            base = np.concatenate([np.cos(np.outer(s, k)) / k, np.sin(np.outer(s, k)) / k], 1)
            data = base @ Q.T + 0.05 * rng.normal(size=(2000, 16))
            t, M, method = 0.05, 1000, "scms"
        else:
            data, t, M, method = np.array([[-3.0, 0.0], [3.0, 0.0]]), 0.3, 10_000, "newton"
        p = rt.SmoothedEmpirical(data)
        x0 = rt.sample_pt(p, t, M, seed=7)
        ridge = rt.Ridge(p, 1)
        return lambda: ridge.project(x0, t, method, tol=1e-8, backend="numba")
    if name == "score_numpy":
        p = rt.SmoothedEmpirical(rng.normal(size=(10_000, 32)))
        x = rng.normal(size=(20_000, 32))
        return lambda: p.score(x, 0.5)
    if name == "postcov_numpy":
        p = rt.SmoothedEmpirical(rng.normal(size=(2000, 8)))
        x = rng.normal(size=(2000, 8))
        return lambda: p.posterior_covariance(x, 0.3)
    if name == "rf_exact":
        model = rt.RandomFeatureModel(300, K=4, T=5.0, dim=2, seed=0)
        data = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
        return lambda: model.fit(data, time_nodes=21, t0=0.01, quadrature="exact")
    raise ValueError(f"unknown case {name!r}")


CASES = ("sim_gmm_em", "sim_emp16_em", "sim_emp16_heun", "sim_rf_em", "ridge_circle",
         "ridge_curve16", "ridge_two_newton", "score_numpy", "postcov_numpy", "rf_exact")


def _child(name: str, inner: int) -> None:
    fn = _case(name)
    fn()  # warm-up: numba compiles (or loads its cache), caches fill
    times = []
    for _ in range(inner):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    print(json.dumps(times))


def _run(tree: str, name: str, inner: int) -> list[float]:
    env = dict(os.environ, PYTHONPATH=tree)
    out = subprocess.run([sys.executable, __file__, "--child", name, "--inner", str(inner)],
                         env=env, capture_output=True, text=True, check=True, cwd=tree)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", help="source tree of the old code (its root, holding ridgetheory/)")
    ap.add_argument("--new", default=str(Path(__file__).resolve().parents[1]))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--inner", type=int, default=3)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    if args.child:
        _child(args.child, args.inner)
        return 0
    if not args.base:
        ap.error("--base is required")
    trees = {"base": str(Path(args.base).resolve()), "new": str(Path(args.new).resolve())}
    cases = [c for c in args.cases.split(",") if c]
    samples = {c: {k: [] for k in trees} for c in cases}
    for r in range(args.rounds):
        for c in cases:
            for k, tree in trees.items():
                samples[c][k] += _run(tree, c, args.inner)
            med = {k: statistics.median(v) for k, v in samples[c].items()}
            print(f"round {r + 1} {c}: base {med['base']:.4f} s, new {med['new']:.4f} s, "
                  f"ratio {med['new'] / med['base']:.3f}", flush=True)
    results = {}
    for c in cases:
        med = {k: statistics.median(v) for k, v in samples[c].items()}
        results[c] = {"median_s": med, "ratio_new_over_base": med["new"] / med["base"],
                      "samples_s": samples[c]}
    payload = {"machine": environment(), "trees": trees, "rounds": args.rounds,
               "inner": args.inner, "load_avg_end": list(os.getloadavg()), "cases": results}
    path = write_json("bench_trees", payload, args.out)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
