"""Cost of the predictions against the numba simulation of the same members and grid.

Issue 12, item 6: predicting M members over L steps (``rt.predict.predict``: the slide with
its automatic start, including the simulated part above it, and the align moments in the
same pass) should cost at most 5x simulating them (``simulate``, numba, Euler-Maruyama).
Both are timed side by side in one run, after a warm-up call that compiles the kernels; the
ratio is of medians. ``predict_slide`` followed by ``predict_alignment`` (two passes) and the
numpy reference path of the slide are timed beside them.

Usage: ``python benchmarks/bench_predict.py [--repeats 3] [--members 2000] [--steps 300]``.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from _util import environment, median_time, write_json

import ridgetheory as rt
from ridgetheory.predict import predict, predict_alignment, predict_slide

CASES = {
    "hexagon_D2": lambda: 3.0 * np.stack([np.cos(np.arange(6) * np.pi / 3),
                                          np.sin(np.arange(6) * np.pi / 3)], 1),
    "gaussian_D8": lambda: np.random.default_rng(42).normal(0.0, 2.0, (4, 8)),
}


def run_case(name: str, M: int, L: int, repeats: int) -> dict:
    p = rt.SmoothedEmpirical(CASES[name]())
    ridge = rt.Ridge(p, 1)
    grid = rt.grids.exponential(10.0, 1e-3, L)
    x0 = rt.sample_pt(p, 10.0, M, seed=1)

    def sim():
        return rt.simulate(p, y0=x0, grid=grid, method="em", backend="numba", seed=0,
                           progress=False)

    state = {}

    def one_pass():
        state["pred"] = predict(p, p, ridge, grid, x0, seed=0)

    def one_pass_loose():
        predict(p, p, ridge, grid, x0, seed=0, tol=1e-6)

    def slide():
        state["slide"] = predict_slide(p, p, ridge, grid, x0, seed=0)

    def slide_numpy():
        predict_slide(p, p, ridge, grid, x0, seed=0, fast=False)

    def align():
        sl = state["slide"]
        predict_alignment(p, p, ridge, sl.times, sl, seed=1)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rt.PredictionWarning)
        t_sim = median_time(sim, repeats)
        t_pred = median_time(one_pass, repeats)
        t_loose = median_time(one_pass_loose, repeats)
        t_slide = median_time(slide, repeats)
        t_align = median_time(align, repeats)
        t_slide_np = median_time(slide_numpy, 1, warmup=0)
        t_sim2 = median_time(sim, repeats)  # again, after: the machine is shared
    sl = state["slide"]
    return {
        "case": name, "members": M, "steps": L, "start": sl.start.as_dict(),
        "reduced_steps": len(sl.times) - 1,
        "simulate": t_sim, "simulate_after": t_sim2, "predict": t_pred,
        "predict_tol_1e-6": t_loose, "slide": t_slide,
        "align": t_align, "slide_numpy_path": t_slide_np,
        "ratio_predict_to_simulate": t_pred["median_s"]
        / min(t_sim["median_s"], t_sim2["median_s"]),
        "ratio_predict_tol_1e-6_to_simulate": t_loose["median_s"]
        / min(t_sim["median_s"], t_sim2["median_s"]),
        "ratio_two_passes_to_simulate": (t_slide["median_s"] + t_align["median_s"])
        / min(t_sim["median_s"], t_sim2["median_s"]),
        "traj_steps_per_s": {"simulate": M * L / t_sim["median_s"],
                             "predict": M * L / t_pred["median_s"]},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--members", type=int, default=2000)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    rows = []
    for name in CASES:
        r = run_case(name, args.members, args.steps, args.repeats)
        print(f"{name}: simulate {r['simulate']['median_s']:.3f} s, predict "
              f"{r['predict']['median_s']:.3f} s (ratio {r['ratio_predict_to_simulate']:.1f}x; "
              f"tol 1e-6 {r['ratio_predict_tol_1e-6_to_simulate']:.1f}x); "
              f"slide {r['slide']['median_s']:.3f} s + align {r['align']['median_s']:.3f} s "
              f"(ratio {r['ratio_two_passes_to_simulate']:.1f}x); numpy slide "
              f"{r['slide_numpy_path']['median_s']:.2f} s", flush=True)
        rows.append(r)
    path = write_json("bench_predict", {"environment": environment(), "cases": rows}, args.out)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
