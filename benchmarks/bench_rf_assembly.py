"""Random-feature assembly: quadrature accuracy per cost, and assembly time at scale.

Writes benchmarks/results/rf_assembly.json (atomically). Usage::

    python benchmarks/bench_rf_assembly.py              # accuracy table + p = 2000 and 4000
    python benchmarks/bench_rf_assembly.py --quick      # accuracy table + p = 500
    python benchmarks/bench_rf_assembly.py --sizes 2000 # only the sizes named

Part 1 (small case: p = 30, K = 8, T = 5, 3 points, 21 nodes): the max-entry error of U and V,
relative to max |U| and max |V|, for Gauss-Hermite orders and Monte-Carlo draw counts, taking
the exact (bivariate-normal) assembly as reference; the exact assembly itself is checked
against Gauss-Hermite of order 600. Wall times are medians of 3 runs.

Part 2 (reference configuration: (-3,0),(3,0), K = 128, T = 10, 400 nodes, OU, weight 1):
assembly seconds for Gauss-Hermite order 10 (100 nodes per (time node, point)), Monte Carlo
with 400 draws (the reference's 4000 draws cost 10x that: the cost is linear in the draws),
the exact assembly timed on 4 time nodes and scaled to 400, and the eigh of U behind the
closed form. One run each (these take minutes on the shared 2 cores).
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

from ridgetheory.random_features import RandomFeatureModel

DATA3 = np.array([[-3.0, 0.0], [3.0, 0.0], [0.0, 2.0]])
TWO = np.array([[-3.0, 0.0], [3.0, 0.0]])
OUT = Path(__file__).parent / "results" / "rf_assembly.json"


def _time(f, reps):
    ts, out = [], None
    for _ in range(reps):
        t = time.perf_counter()
        out = f()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts)), out


def accuracy_table(reps=3):
    model = RandomFeatureModel(30, K=8, T=5.0, seed=0)
    kw = dict(time_nodes=21, t0=0.01)
    t_ex, ref = _time(lambda: model.fit(DATA3, quadrature="exact", **kw), reps)
    su, sv = np.abs(ref.U).max(), np.abs(ref.V).max()

    def err(f):
        return (float(np.abs(f.U - ref.U).max() / su), float(np.abs(f.V - ref.V).max() / sv))

    rows = [{"method": "exact", "nodes_per_pair": 1, "err_U": 0.0, "err_V": 0.0,
             "seconds": t_ex, "note": "reference; bivariate CDF by 20-node Gauss-Legendre"}]
    for q in (4, 8, 16, 32, 64, 128, 256):
        t, f = _time(lambda q=q: model.fit(DATA3, quadrature="gauss-hermite", gh_order=q, **kw),
                     reps)
        eu, ev = err(f)
        rows.append({"method": "gauss-hermite", "order": q, "nodes_per_pair": q * q,
                     "err_U": eu, "err_V": ev, "seconds": t})
    for n in (100, 400, 1600, 6400, 25600):
        errs = [err(model.fit(DATA3, quadrature="mc", noise_draws=n, seed=s, **kw))
                for s in range(5)]
        t, _ = _time(lambda n=n: model.fit(DATA3, quadrature="mc", noise_draws=n, **kw), 1)
        rows.append({"method": "mc", "draws": n, "nodes_per_pair": n,
                     "err_U": float(np.median([e[0] for e in errs])),
                     "err_V": float(np.median([e[1] for e in errs])), "seconds": t})
    gh600 = model.fit(DATA3, quadrature="gauss-hermite", gh_order=600, **kw)
    check = err(gh600)

    # fitted convergence laws err = c * nodes^-rate, used to state the nodes a target needs
    def law(method):
        r = [x for x in rows if x["method"] == method]
        lx = np.log([x["nodes_per_pair"] for x in r])
        ly = np.log([x["err_U"] for x in r])
        slope, icpt = np.polyfit(lx, ly, 1)
        return float(-slope), float(np.exp(icpt))

    needed = {}
    for method in ("gauss-hermite", "mc"):
        rate, c = law(method)
        needed[method] = {"rate": rate,
                          **{f"nodes_for_{eps:g}": float((c / eps) ** (1 / rate))
                             for eps in (1e-3, 1e-5)}}
    return {"case": "p=30, K=8, T=5, n=3, D=2, 21 nodes, ReLU, denoiser", "rows": rows,
            "exact_vs_gh600": {"err_U": check[0], "err_V": check[1]}, "convergence": needed}


def scale_run(p, full=True):
    model = RandomFeatureModel(p, K=128, T=10.0, seed=0)
    kw = dict(time_nodes=400, t0=1e-3)
    out = {"p": p, "nodes": 400, "n": 2}
    t = time.perf_counter()
    fit = model.fit(TWO, quadrature="gauss-hermite", gh_order=10, **kw)
    out["gauss_hermite_10_seconds"] = time.perf_counter() - t
    t = time.perf_counter()
    fit.eig()
    out["eigh_seconds"] = time.perf_counter() - t
    out["U_bytes"] = int(fit.U.nbytes)
    if full:
        t = time.perf_counter()
        model.fit(TWO, quadrature="mc", noise_draws=400, **kw)
        out["mc_400_seconds"] = time.perf_counter() - t
        out["mc_4000_seconds_extrapolated"] = 10 * out["mc_400_seconds"]
        nodes4 = np.linspace(1e-3, 10.0, 400)[:4]
        t = time.perf_counter()
        model.fit(TWO, quadrature="exact", time_nodes=nodes4, time_rule="trapezoid")
        out["exact_seconds_extrapolated"] = (time.perf_counter() - t) * 100
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sizes", type=int, nargs="*", default=None)
    ap.add_argument("--no-accuracy", action="store_true")
    args = ap.parse_args()
    sizes = args.sizes if args.sizes is not None else ([500] if args.quick else [2000, 4000])
    result = {"machine": platform.platform(), "cpus": os.cpu_count(),
              "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default")}
    if OUT.exists():  # keep parts measured by earlier partial runs
        result = {**json.loads(OUT.read_text()), **result}
    if not args.no_accuracy:
        result["accuracy"] = accuracy_table()
        print(json.dumps(result["accuracy"]["convergence"], indent=1))
    scale = {str(r["p"]): r for r in result.get("scale", [])}
    for p in sizes:
        r = scale_run(p, full=p <= 2000)
        print(r)
        scale[str(p)] = r
    result["scale"] = [scale[k] for k in sorted(scale, key=int)]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=OUT.parent, suffix=".json")
    with os.fdopen(fd, "w") as fh:
        json.dump(result, fh, indent=1)
    os.replace(tmp, OUT)


if __name__ == "__main__":
    main()
