"""Benchmark: ridge projection (issue 3) against a per-point loop SCMS and sconce-scms.

Cases (d = 1, M seeds drawn from p_t with a fixed seed, same tolerance for every method):

* ``two_point``  -- (-3, 0), (3, 0), D = 2, t = 0.3
* ``three_mode`` -- (0, 0), (5, 0), (0, 5), D = 2, t = 0.5
* ``circle``     -- n = 1000 points on the unit circle with noise 0.05, D = 2, t = 0.02
* ``curve16``    -- n = 2000 points on a closed curve in D = 16 with noise 0.05, t = 0.05

Methods: ``rt.Ridge.project`` with the numba kernel (SCMS and Newton) and the batched numpy
reference, a straightforward per-point loop of log-density SCMS written here, and
sconce-scms's ``SCMSLog`` (run on the unscaled data at bandwidth ``sqrt(e^{2t}-1)`` with the
equivalent stopping tolerance ``a_t tol / h_t``; skipped when not importable). The slow
references run on a random subset of the seeds and are scaled to M by their time per point
(recorded as such). Fixed points are compared on the subset.

Usage: ``python benchmarks/bench_ridge.py [--quick] [--m 10000] [--sub 200] [--threads K]``;
writes ``benchmarks/results/bench_ridge.json``: wall-clock medians of ``--repeat`` runs
(``*_s``, ``ratio_*``) and CPU seconds (``*_cpu_s``, ``cpu_ratio_*``; ours summed over numba
threads, so a CPU ratio is a per-core comparison and is robust on a shared machine).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import tempfile
import time

import numpy as np

import ridgetheory as rt

TOL = 1e-8


def make_case(name: str):
    rng = np.random.default_rng(12345)
    if name == "two_point":
        return np.array([[-3.0, 0.0], [3.0, 0.0]]), 0.3
    if name == "three_mode":
        return np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]]), 0.5
    if name == "circle":
        th = rng.uniform(0, 2 * np.pi, 1000)
        return np.c_[np.cos(th), np.sin(th)] + 0.05 * rng.standard_normal((1000, 2)), 0.02
    if name == "curve16":
        s = rng.uniform(0, 2 * np.pi, 2000)
        k = np.arange(1, 9)
        Q, _ = np.linalg.qr(rng.standard_normal((16, 16)))
        base = np.concatenate([np.cos(np.outer(s, k)) / k, np.sin(np.outer(s, k)) / k], axis=1)
        return base @ Q.T + 0.05 * rng.standard_normal((2000, 16)), 0.05
    raise ValueError(name)


def seeds_for(data, t, m):
    rng = np.random.default_rng(7)
    a, h = np.exp(-t), -np.expm1(-2 * t)
    return a * data[rng.integers(0, len(data), m)] + np.sqrt(h) * rng.standard_normal(
        (m, data.shape[1]))


def loop_scms(data, x0, t, d, tol, max_iter=1000):
    """Per-point log-density SCMS on p_t (textbook formulas, log-sum-exp weights)."""
    a, h = np.exp(-t), -np.expm1(-2 * t)
    Y = a * data
    D = data.shape[1]
    out = np.empty_like(x0)
    conv = np.zeros(len(x0), bool)
    for i, x in enumerate(x0):
        x = x.copy()
        for _ in range(max_iter):
            diff = Y - x
            lg = -0.5 * np.sum(diff**2, axis=1) / h
            w = np.exp(lg - lg.max())
            w /= w.sum()
            m = w @ Y
            mc = Y - m
            S = (mc.T * w) @ mc
            lam, V = np.linalg.eigh(S)
            VN = V[:, : D - d]
            step = VN @ (VN.T @ (m - x))
            if np.linalg.norm(step) <= tol:
                conv[i] = True
                break
            x = x + step
        out[i] = x
    return out, conv


def sconce_scms(data, x0, t, d, tol, max_iter=1000):
    from sconce.EucSCMS import SCMSLog

    a, h = np.exp(-t), -np.expm1(-2 * t)
    sigma = np.sqrt(h) / a
    with contextlib.redirect_stdout(io.StringIO()):
        path = SCMSLog(x0 / a, data, d=d, h=sigma, eps=a * tol / h, max_iter=max_iter)
    return a * path[:, :, -1]


def timed(fn, repeat):
    """Median wall time of ``repeat`` calls (and the CPU seconds of the last one)."""
    times, out = [], None
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        timed.cpu = time.process_time() - c0
    return float(np.median(times)), times, out


def run_case(name, args, have_sconce, d=1):
    """Time every method on one case; returns a dict of numbers."""
    data, t = make_case(name)
    x0 = seeds_for(data, t, args.m)
    ridge = rt.Ridge(rt.SmoothedEmpirical(data), d)
    ridge.project(x0[:10], t, tol=TOL)  # load the compiled kernel
    sub = np.random.default_rng(3).choice(args.m, args.sub, replace=False)
    r = {"n": len(data), "D": data.shape[1], "t": t}
    med, times, pr = timed(lambda: ridge.project(x0, t, tol=TOL), args.repeat)
    r["numba_scms_s"] = med
    r["numba_scms_all_s"] = times
    r["numba_scms_cpu_s"] = timed.cpu
    r["numba_scms_converged"] = float(pr.converged.mean())
    r["numba_scms_median_iters"] = float(np.median(pr.iterations))
    medn, _, prn = timed(lambda: ridge.project(x0, t, "newton", tol=TOL), args.repeat)
    r["numba_newton_s"] = medn
    r["numba_newton_cpu_s"] = timed.cpu
    r["numba_newton_converged"] = float(prn.converged.mean())
    r["numba_newton_median_iters"] = float(np.median(prn.iterations))
    # batched numpy reference on a slice, scaled per point
    msl = min(args.m, 2000 if data.shape[1] == 2 else 300)
    tn, _, prnp = timed(lambda: ridge.project(x0[:msl], t, tol=TOL, backend="numpy"), 1)
    r["numpy_scms_s_scaled"] = tn / msl * args.m
    r["numpy_points_run"] = msl
    # per-point loop
    tl, _, (loop_pts, loop_conv) = timed(lambda: loop_scms(data, x0[sub], t, d, TOL), 1)
    r["loop_cpu_s_scaled"] = timed.cpu / args.sub * args.m
    r["loop_s_scaled"] = tl / args.sub * args.m
    ours = pr.points[sub]
    both = loop_conv & pr.converged[sub]
    r["loop_agree_frac"] = float(np.mean(np.linalg.norm(loop_pts - ours, axis=1)[both] < 1e-6))
    r["ratio_vs_loop"] = r["loop_s_scaled"] / med
    r["cpu_ratio_vs_loop"] = r["loop_cpu_s_scaled"] / r["numba_scms_cpu_s"]
    if have_sconce:
        ts, _, sc = timed(lambda: sconce_scms(data, x0[sub], t, d, TOL), 1)
        r["sconce_cpu_s_scaled"] = timed.cpu / args.sub * args.m
        r["sconce_s_scaled"] = ts / args.sub * args.m
        dist = np.linalg.norm(sc - ours, axis=1)
        r["sconce_agree_frac"] = float(np.mean(dist < 1e-6))
        r["sconce_median_dist"] = float(np.median(dist))
        if name == "two_point":
            r["sconce_max_offaxis"] = float(np.abs(sc[:, 1]).max())
            r["ours_max_offaxis"] = float(np.abs(pr.points[:, 1]).max())
        r["ratio_vs_sconce"] = r["sconce_s_scaled"] / med
        r["ratio_vs_sconce_newton"] = r["sconce_s_scaled"] / medn
        # CPU seconds (ours summed over threads): robust to a shared, loaded machine
        r["cpu_ratio_vs_sconce"] = r["sconce_cpu_s_scaled"] / r["numba_scms_cpu_s"]
        r["cpu_ratio_vs_sconce_newton"] = r["sconce_cpu_s_scaled"] / r["numba_newton_cpu_s"]
    return r


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--m", type=int, default=10_000)
    ap.add_argument("--sub", type=int, default=200, help="seeds for the slow references")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=0, help="numba threads (0: numba default)")
    ap.add_argument("--cases", default="two_point,three_mode,circle,curve16")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results",
                                                  "bench_ridge.json"))
    args = ap.parse_args(argv)
    if args.quick:
        args.m, args.sub, args.repeat = 1000, 30, 1
    try:
        import sconce.EucSCMS  # noqa: F401

        have_sconce = True
    except ImportError:
        have_sconce = False
    import numba

    if args.threads:
        numba.set_num_threads(args.threads)
    results = {"tol": TOL, "M": args.m, "sub": args.sub, "repeat": args.repeat,
               "numba_threads": numba.get_num_threads(), "machine": platform.platform(),
               "processor": platform.processor(), "cpu_count": os.cpu_count(),
               "sconce": have_sconce, "cases": {}}
    for name in args.cases.split(","):
        r = run_case(name, args, have_sconce)
        results["cases"][name] = r
        print(name, json.dumps({k: v for k, v in r.items() if not k.endswith("all_s")}),
              flush=True)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(args.out), suffix=".json.tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(results, fh, indent=2)
    os.replace(tmp, args.out)
    return results


if __name__ == "__main__":
    main()
