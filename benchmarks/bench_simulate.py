"""Trajectory-steps per second of rt.simulate, per backend and method (issue 6).

Problems (as in the issue):
  (a) Gaussian mixture, n = 3 modes in D = 2, M = 1e5 trajectories;
  (b) exact empirical score of n = 2000 points in D = 16, M = 1e4 trajectories.

The issue's runs have 1000 steps; the rate (trajectory-steps per second) is measured here on an
exponential grid T = 5 -> 1e-3 with fewer steps (``--steps-a``, ``--steps-b``; the same grid for
every backend), which samples the same distribution of log t as the 1000-step grid. Every
configuration is timed ``--repeats`` times side by side (backends interleaved) and the median is
reported. Peak memory is measured in a separate short run under tracemalloc (numpy-visible
allocations: the numpy reference's temporaries; numba's per-thread scratch is O(n) and not
traced). torchsde's fixed-step Euler scheme with the same mixture score is timed on (a) when
torch and torchsde import.

Usage: python benchmarks/bench_simulate.py [--quick] [--repeats 3] [--out PATH]
Writes JSON to benchmarks/results/bench_simulate.json (atomically).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc

import numpy as np

import ridgetheory as rt
from ridgetheory.backend import backend_status

METHODS = ("em", "exponential", "heun-ode", "euler-ode")
T, TMIN = 5.0, 1e-3


def problem_a():
    means = np.array([[-3.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    return rt.GaussianMixture(means, np.array([0.1, 0.1, 0.1])), 100_000


def problem_b():
    data = np.random.default_rng(0).standard_normal((2000, 16))
    return rt.SmoothedEmpirical(data), 10_000


def backends():
    out = ["numpy"]
    for b in ("numba", "cupy"):
        if backend_status(b).available:
            out.append(b)
    return out


def time_run(score, M, grid, backend, method):
    t0 = time.perf_counter()
    rt.simulate(score, n=M, grid=grid, backend=backend, method=method, seed=0, progress=False)
    return time.perf_counter() - t0


def peak_memory(score, M, backend, method):
    grid = rt.grids.exponential(T, TMIN, 3)
    tracemalloc.start()
    rt.simulate(score, n=M, grid=grid, backend=backend, method=method, seed=0, progress=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def torchsde_rate(score, M, steps, repeats):
    """torchsde Euler (fixed dt) on the reverse SDE with the same mixture score, or a reason."""
    try:
        import torch
        import torchsde
    except Exception as exc:  # not installed, or a broken install
        return {"available": False, "reason": f"{type(exc).__name__}: {exc}"[:200]}
    torch.set_default_dtype(torch.float64)
    means = torch.as_tensor(score.means)
    var = torch.as_tensor(score.variances)
    logw = torch.as_tensor(score.log_weights)
    D = means.shape[1]

    class ReverseOU(torch.nn.Module):
        noise_type, sde_type = "diagonal", "ito"

        def f(self, s, y):  # backward clock s = T - t
            t = T - s
            a, h = torch.exp(-t), -torch.expm1(-2 * t)
            sv = a * a * var + h
            diff = y[:, None, :] - a * means[None]
            logits = logw - 0.5 * (diff**2).sum(-1) / sv - 0.5 * D * torch.log(sv)
            g = torch.softmax(logits, dim=1)
            sc = -torch.einsum("mk,mkd->md", g / sv, diff)
            return y + 2.0 * sc

        def g(self, s, y):
            return torch.full_like(y, np.sqrt(2.0))

    sde = ReverseOU()
    y0 = torch.randn(M, D, generator=torch.Generator().manual_seed(0))
    ts = torch.tensor([0.0, T - TMIN])
    dt = (T - TMIN) / steps
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        with torch.no_grad():
            torchsde.sdeint(sde, y0, ts, method="euler", dt=dt)
        times.append(time.perf_counter() - t0)
    return {"available": True, "version": torchsde.__version__, "torch": torch.__version__,
            "threads": torch.get_num_threads(), "steps": steps, "grid": "linear",
            "seconds": times, "rate_median": M * steps / statistics.median(times)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps-a", type=int, default=100)
    ap.add_argument("--steps-b", type=int, default=20)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results",
                                                  "bench_simulate.json"))
    args = ap.parse_args(argv)
    methods = args.methods.split(",")
    bks = backends()
    results = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "load_avg_start": os.getloadavg(), "python": sys.version.split()[0],
                    "numpy": np.__version__,
                    "numba": backend_status("numba").detail,
                    "cupy": backend_status("cupy").detail},
        "repeats": args.repeats,
        "note": "rates in trajectory-steps per second on exponential grids T=5 -> 1e-3 with the "
                "stated steps (the issue's 1000-step runs have the same per-step work); medians",
        "problems": {},
    }
    for name, make, steps in (("a_gmm_K3_D2", problem_a, args.steps_a),
                              ("b_empirical_n2000_D16", problem_b, args.steps_b)):
        score, M = make()
        if args.quick:
            M, steps = M // 100, max(2, steps // 10)
        grid = rt.grids.exponential(T, TMIN, steps)
        for b in bks[1:]:  # compile / warm up outside the timings
            for m in methods:
                rt.simulate(score, n=8, grid=grid[:3], backend=b, method=m, seed=0,
                            progress=False)
        entry = {"M": M, "steps": steps, "n_train": getattr(score, "n", None),
                 "D": score.dim, "by_backend": {}}
        times = {b: {m: [] for m in methods} for b in bks}
        for _ in range(args.repeats):
            for m in methods:
                for b in bks:  # interleaved, so load changes hit all backends alike
                    times[b][m].append(time_run(score, M, grid, b, m))
                    print(f"{name} {b:6s} {m:12s} {times[b][m][-1]:.3f}s", flush=True)
        for b in bks:
            entry["by_backend"][b] = {
                m: {"seconds": times[b][m],
                    "rate_median": M * steps / statistics.median(times[b][m]),
                    "peak_traced_MB": peak_memory(score, M, b, m)}
                for m in methods
            }
        if "numba" in bks:
            entry["numba_over_numpy"] = {
                m: entry["by_backend"]["numba"][m]["rate_median"]
                / entry["by_backend"]["numpy"][m]["rate_median"] for m in methods}
        if name.startswith("a_"):
            tsde = torchsde_rate(score, M, steps, args.repeats)
            entry["torchsde_euler"] = tsde
            if tsde.get("available") and "numba" in bks:
                lin = rt.grids.linear(T, TMIN, steps)
                tl = [time_run(score, M, lin, "numba", "em") for _ in range(args.repeats)]
                entry["numba_em_linear_rate"] = M * steps / statistics.median(tl)
                entry["numba_over_torchsde"] = entry["numba_em_linear_rate"] / tsde["rate_median"]
        results["problems"][name] = entry
    results["machine"]["load_avg_end"] = os.getloadavg()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(args.out)), suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(results, fh, indent=2)
    os.replace(tmp, args.out)
    for name, e in results["problems"].items():
        print(name, "numba/numpy:", {k: round(v, 2) for k, v in e.get("numba_over_numpy",
                                                                       {}).items()})
        if "numba_over_torchsde" in e:
            print(name, "numba/torchsde:", round(e["numba_over_torchsde"], 2))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
