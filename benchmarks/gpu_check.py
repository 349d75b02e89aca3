"""GPU check for rt.simulate's CuPy backend (under three minutes on one GPU).

1. Agreement: for the exact empirical score, a Gaussian mixture and a random-feature score,
   and every method, the cupy backend's final states are compared with the numpy reference
   on the same seed: ``max |diff| / (1 + max |y|) <= CUPY_RTOL`` (1e-9; the noise is
   bit-identical, the rest differs by CUDA vs CPU rounding of exp/log/tanh). The counter-based
   normals are checked bit for bit.
2. Throughput (trajectory-steps per second) on the GPU for the three score types, with the
   numba rate on the same machine's CPU for scale.

Without a usable GPU it says "no usable GPU" with the reason, writes that to the JSON and
exits 0. Output: ``--out PATH``, else ``$OUT/gpu_check.json`` when ``$OUT`` is set, else
benchmarks/results/gpu_check.json.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

import numpy as np

import ridgetheory as rt
from ridgetheory.backend import backend_status


def _out_path(arg):
    if arg:
        return arg
    if os.environ.get("OUT"):
        return os.path.join(os.environ["OUT"], "gpu_check.json")
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "gpu_check.json")


def _write(path, obj):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(obj, fh, indent=2)
    os.replace(tmp, path)


def _rf_score(D, p, seed=0):
    """The package's RandomFeatureScore with a random read-out."""
    from ridgetheory.random_features import RandomFeatureModel, RandomFeatureScore

    model = RandomFeatureModel(p, K=8, T=5.0, activation="tanh", dim=D, seed=seed)
    A = np.random.default_rng(seed + 1).standard_normal((D, p)) / np.sqrt(p)
    return RandomFeatureScore(model, A, rt.OU())


def scores(small):
    rng = np.random.default_rng(0)
    D = 2 if small else 16
    emp = rt.SmoothedEmpirical(rng.standard_normal((200 if small else 2000, D)) * 2.0)
    gmm = rt.GaussianMixture(np.array([[-3.0, 0.0], [3.0, 0.0], [0.0, 4.0]]),
                             np.array([0.1, 0.1, 0.1]))
    return {"empirical": emp, "gmm": gmm, "rf": _rf_score(D, 64 if small else 512)}


def _sync():
    import cupy

    cupy.cuda.Device().synchronize()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    out_path = _out_path(args.out)
    st = backend_status("cupy")
    report = {"gpu": st.available, "cupy": st.version, "detail": st.detail}
    if not st.available:
        print(f"no usable GPU: {st.detail}")
        report["result"] = "skipped: no usable GPU"
        _write(out_path, report)
        print("wrote", out_path)
        return 0
    from ridgetheory.simulate import compare_backends
    from ridgetheory.simulate.kernels_cupy import CUPY_RTOL, normals_cupy
    from ridgetheory.simulate.noise import normals, seed_key

    t_start = time.perf_counter()
    idx = np.arange(100_000, dtype=np.int64)
    report["noise_bit_identical"] = bool(
        np.array_equal(normals(3, idx, 5, 4), normals_cupy(seed_key(3), idx, 5, 4)))
    report["tolerance_rel"] = CUPY_RTOL
    agreement = {}
    ok = report["noise_bit_identical"]
    for name, score in scores(small=True).items():
        grid = (rt.grids.exponential(3.0, 1e-3, 100) if name != "rf"
                else rt.grids.exponential(2.0, 5e-2, 60))
        for method in ("em", "exponential", "heun-ode", "euler-ode"):
            r = compare_backends(score, "cupy", n=2000, grid=grid, method=method, seed=1)
            r["pass"] = bool(r["rel"] <= CUPY_RTOL)
            ok &= r["pass"]
            agreement[f"{name}/{method}"] = r
            print(f"agree {name:9s} {method:12s} rel={r['rel']:.2e} pass={r['pass']}", flush=True)
    report["agreement"] = agreement
    report["agreement_pass"] = bool(ok)

    throughput = {}
    big = scores(small=False)
    sizes = {"gmm": (1_000_000, 200), "empirical": (100_000, 50), "rf": (200_000, 100)}
    for name, (M, steps) in sizes.items():
        score = big[name]
        grid = (rt.grids.exponential(5.0, 1e-3, steps) if name != "rf"
                else rt.grids.exponential(2.0, 5e-2, steps))
        rt.simulate(score, n=1024, grid=grid[:3], backend="cupy", seed=0, progress=False)
        _sync()
        t0 = time.perf_counter()
        rt.simulate(score, n=M, grid=grid, backend="cupy", seed=0, progress=False)
        _sync()
        gpu_s = time.perf_counter() - t0
        entry = {"M": M, "steps": steps, "D": score.dim, "gpu_seconds": gpu_s,
                 "gpu_rate": M * steps / gpu_s}
        if backend_status("numba").available:
            Mc = max(1000, M // 100)
            rt.simulate(score, n=64, grid=grid[:3], backend="numba", seed=0, progress=False)
            t0 = time.perf_counter()
            rt.simulate(score, n=Mc, grid=grid, backend="numba", seed=0, progress=False)
            entry["numba_rate"] = Mc * steps / (time.perf_counter() - t0)
            entry["numba_M"] = Mc
            entry["gpu_over_numba"] = entry["gpu_rate"] / entry["numba_rate"]
        throughput[name] = entry
        print(f"rate {name:9s} gpu {entry['gpu_rate']:.3g} traj-steps/s "
              f"(numba {entry.get('numba_rate', float('nan')):.3g})", flush=True)
    report["throughput"] = throughput
    report["wall_seconds"] = time.perf_counter() - t_start
    _write(out_path, report)
    print("agreement", "PASS" if ok else "FAIL", "| wrote", out_path)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
