"""Cold first call of each public entry point, as in a fresh install.

Each entry point runs in its own interpreter with an empty numba cache (``NUMBA_CACHE_DIR``)
and an empty bytecode cache (``PYTHONPYCACHEPREFIX``), so what is timed is what a user sees
on the first call after ``pip install``: import, numba compiling, then the work. The work is
small on purpose; the time is compile time. A second run in the same cache after the
first shows what the cache saves (``warm``). Each child's stderr is scanned for the compile
notice (``ridgetheory._compile.NOTICE``): ``notices`` counts it, once per kernel group that
really compiled.

    python benchmarks/bench_cold_start.py [--only NAME ...] [--label before|after] [--out FILE]
        [--source CHECKOUT]

For a before/after table: ``git worktree add /tmp/rt-before <commit>``, then
``--label before --source /tmp/rt-before`` and ``--label after`` in one session.

Writes ``benchmarks/results/bench_cold_start.json``: one table per ``--label`` (default
``after``); the other labels already in the file are kept, so ``before`` and ``after`` sit
side by side. The 1-minute load average before and after the run is recorded, since the
compile times scale with the cores that are free.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from _util import RESULTS, environment, write_json

SETUP = """
import numpy as np, ridgetheory as rt
pts = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
p = rt.SmoothedEmpirical(pts)
x = np.random.default_rng(0).standard_normal((64, 2))
grid = rt.grids.exponential(10.0, 1e-3, 50)
"""

SIM = "rt.simulate({}, n=256, grid=grid, seed=0, progress=False, backend='{}')"

# name -> (extra setup, timed call); the names are the public entry points of the docs
CASES: dict[str, tuple[str, str]] = {
    "import ridgetheory": ("", ""),
    "SmoothedEmpirical.score": ("", "p.score(x, 0.5)"),
    "Ridge.frames": ("r = rt.Ridge(p, 1)", "r.frames(x, 0.5)"),
    "Ridge.project (scms)": ("r = rt.Ridge(p, 1)", "r.project(x, 0.5)"),
    "Ridge.project (newton)": ("r = rt.Ridge(p, 1)", "r.project(x, 0.5, 'newton')"),
    "Ridge.extract (d=0)": ("r = rt.Ridge(p, 0)", "r.extract(0.5, n_seeds=64)"),
    "Ridge.trace": ("r = rt.Ridge(p, 1)", "r.trace(0.5, n_seeds=32)"),
    "simulate (numba, exponential)": ("", SIM.format("p", "numba', method='exponential")),
    "simulate (numba, em)": ("", SIM.format("p", "numba', method='em")),
    "simulate (numpy)": ("", SIM.format("p", "numpy")),
    "simulate (GaussianMixture, numba)": (
        "g = rt.GaussianMixture(pts, 0.1 * np.ones(3))", SIM.format("g", "numba")),
    "RandomFeatureModel.fit": (
        "m = rt.RandomFeatureModel(64, dim=2, seed=0)",
        "m.fit(pts)"),
    "predict.predict": (
        "r = rt.Ridge(p, 1); e = rt.InjectedError(p, r, normal=0.1); "
        "s0 = rt.sample_pt(p, 10.0, 64, seed=1)",
        "rt.predict.predict(e, p, r, grid, s0, seed=0)"),
    # beyond D = 2: the general ridge kernels (and the frame transport of predict)
    "Ridge.project (D=5)": (
        "p5 = rt.SmoothedEmpirical(np.random.default_rng(1).standard_normal((20, 5))); "
        "x5 = np.random.default_rng(0).standard_normal((64, 5)); r = rt.Ridge(p5, 1)",
        "r.project(x5, 0.5)"),
    "predict.predict (D=3)": (
        "p3 = rt.SmoothedEmpirical(np.array([[0.0, 0, 0], [1, 0, 0], [2, 0, 0]])); "
        "r = rt.Ridge(p3, 1); e = rt.InjectedError(p3, r, normal=0.1); "
        "s0 = rt.sample_pt(p3, 10.0, 64, seed=1)",
        "rt.predict.predict(e, p3, r, grid, s0, seed=0)"),
    "RandomFeatureModel.fit (exact)": (
        "m = rt.RandomFeatureModel(64, dim=2, seed=0)",
        "m.fit(pts, quadrature='exact', time_nodes=41)"),
    "simulate (RandomFeatureScore, numba)": (
        "s = rt.RandomFeatureModel(64, dim=2, seed=0).fit(pts, time_nodes=41).at(np.inf)",
        SIM.format("s", "numba")),
    "warmup (every group)": ("", "rt.warmup(progress=False)"),
}
WARMUP = "warmup (every group)"


def _child(name: str) -> str:
    setup, call = CASES[name]
    return textwrap.dedent(f"""
        import json, time
        t0 = time.perf_counter()
        import numpy as np, ridgetheory as rt
        t_import = time.perf_counter() - t0
        {SETUP.strip().replace(chr(10), chr(10) + ' ' * 8)}
        {setup}
        t1 = time.perf_counter()
        {call or 'pass'}
        t_call = time.perf_counter() - t1
        print(json.dumps({{"import_s": t_import, "call_s": t_call}}))
    """)


NOTICE = "ridgetheory: compiling "


def run_case(name: str, cache: str, source: str | None = None) -> dict[str, float]:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPYCACHEPREFIX=cache + "/pyc")
    env.pop("RIDGETHEORY_QUIET", None)
    if source:  # another checkout of the package, ahead of the installed one
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    out = subprocess.run([sys.executable, "-c", _child(name)], env=env, capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["notices"] = sum(line.startswith(NOTICE) for line in out.stderr.splitlines())
    return row


def _total(row: dict[str, float]) -> float:
    return row.get("import_s", 0.0) + row.get("call_s", 0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", help="case names (default: all)")
    ap.add_argument("--label", default="after", help="name of this table (default: after)")
    ap.add_argument("--out", help="JSON path (default: benchmarks/results/bench_cold_start.json)")
    ap.add_argument("--source", help="run the package from this checkout (for example a git "
                                     "worktree of the previous commit) instead of the installed "
                                     "one; recorded in the table")
    args = ap.parse_args()
    names = args.only or list(CASES)
    bad = [n for n in names if n not in CASES]
    if bad:
        raise SystemExit(f"--only: unknown case(s) {bad}; known: {list(CASES)}")
    load0 = os.getloadavg()[0]
    rows = {}
    for name in names:
        with tempfile.TemporaryDirectory(prefix="rt-cold-") as cache:
            cold = run_case(name, cache, args.source)
            warm = run_case(name, cache, args.source)
        rows[name] = {"cold": cold, "warm": warm}
        call = cold.get("call_s", float("nan"))
        print(f"{name:36s} cold {_total(cold):6.1f} s (call {call:6.1f},"
              f" {cold.get('notices', 0)} notice)   cached {_total(warm):5.1f} s"
              f"  {cold.get('error', '')}{warm.get('error', '')}", flush=True)
    worst = _worst(rows)
    table = {"environment": environment(), "source": args.source or "installed",
             "load_1min": [load0, os.getloadavg()[0]],
             "cases": rows, "worst": worst, "worst_cold_s": _total(rows[worst]["cold"])}
    path = Path(args.out) if args.out else RESULTS / "bench_cold_start.json"
    payload = json.loads(path.read_text()) if path.exists() else {}
    payload.setdefault("runs", {})
    if args.only and args.label in payload["runs"]:  # a partial rerun updates its rows
        old = payload["runs"][args.label]
        old["cases"].update(rows)
        old["worst"] = _worst(old["cases"])
        old["worst_cold_s"] = _total(old["cases"][old["worst"]]["cold"])
        old["environment"], old["load_1min"] = table["environment"], table["load_1min"]
    else:
        payload["runs"][args.label] = table
    payload["table"] = _side_by_side(payload["runs"])
    write_json("bench_cold_start", payload, path)
    print(f"worst: {worst} ({table['worst_cold_s']:.1f} s); load {load0:.2f} -> "
          f"{os.getloadavg()[0]:.2f}; wrote {path}")


def _worst(rows: dict) -> str:
    """The slowest entry point; warmup compiles every group on purpose and is left out."""
    return max((n for n in rows if n != WARMUP), key=lambda n: _total(rows[n]["cold"]))


def _side_by_side(runs: dict) -> list[dict]:
    """One row per case, the cold seconds of every labelled run, worst first (by ``before``,
    else by the first label)."""
    labels = list(runs)
    key = "before" if "before" in runs else labels[0]
    names = list(dict.fromkeys(n for r in runs.values() for n in r["cases"]))
    rows = [{"case": n, **{f"{lab}_cold_s": round(_total(runs[lab]["cases"][n]["cold"]), 2)
                           for lab in labels if n in runs[lab]["cases"]
                           and "error" not in runs[lab]["cases"][n]["cold"]}} for n in names]
    return sorted(rows, key=lambda r: -r.get(f"{key}_cold_s", 0.0))


if __name__ == "__main__":
    main()
