"""ridgetheory against its peers, side by side in one run (issue 14).

Cases (the issue's table):

* ``sde_three``  -- reverse SDE with the exact empirical score of (0,0), (5,0), (0,5), D = 2,
  M = 1e5 trajectories x 1000 steps;
* ``sde_gauss16`` -- the same for four anisotropic Gaussians in D = 16, n = 2000, M = 1e4
  trajectories x 100 steps;
* ``scms_gauss16`` -- ridge projection (d = 1) of 1000 walkers on the same data at
  t in {0.05, 0.2, 0.5};
* ``scms_circle`` -- a circle of radius 3 with noise 0.1, n = 1000, D = 2, 1000 walkers
  (and 10,000 for ridgetheory) at the same times;
* ``scms_small``  -- 2, 3 and 4 points in 2-D and 5-D, 1000 walkers.

Every sampler runs Euler-Maruyama in float64 on the OU process over the exponential grid
T = 10 -> 1e-3. Peers:

* torchsde (``sdeint``, method "euler", Ito, diagonal noise, float64) on the time change
  ``t = T (t_min / T)^u``, u in [0, 1], so that its fixed ``dt = 1 / steps`` lands on the same
  grid;
* sdeint (``itoEuler``) on the same time change, the batch as one state vector with a
  diagonal noise matrix (``G.dot(dW)`` elementwise: the cheapest form its API allows);
* sconce-scms (``EucSCMS.SCMSLog``) on the unscaled data at bandwidth ``sqrt(h_t) / a_t`` with
  the equivalent stopping tolerance ``a_t tol / h_t``.

The peers' scores are the best plain forms: the softmax of ``-|x - a x_j|^2 / 2h`` by matrix
products and log-sum-exp. A dense peer costs the same at every step and in proportion to the
batch, so peers run on 100 steps of the same grid (and 2000 trajectories on the D = 16 case)
and are quoted as rates (trajectory-steps per second); ridgetheory runs the whole case. Ridge
projection is timed by SCMS (the comparison asked for) and by the subspace-constrained Newton
method of ``Ridge.project`` (same tolerance), both against sconce-scms's SCMS. Walkers
"converged" are those whose normal mean-shift step at the returned point is at most ``tol``
(evaluated by one numpy pass for every method); every method gets ``max_iter = 500``.

This script installs nothing: peers that do not import are recorded as skipped. Install them
in a scratch place, e.g. ``pip install --target /tmp/peers --no-deps torchsde trampoline
sdeint sconce-scms`` and run with ``PYTHONPATH=/tmp/peers`` (torchsde needs torch).

Usage: ``python benchmarks/bench_peers.py [--quick] [--repeats 3] [--cases a,b]``; writes
``benchmarks/results/bench_peers.json``, keeping the previous run's medians beside the new ones.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _util import RESULTS, environment, write_json  # noqa: E402
from bench_ridge import sconce_scms, seeds_for  # noqa: E402

import ridgetheory as rt  # noqa: E402

_OU = rt.OU()

T, TMIN = 10.0, 1e-3
TOL = 1e-8
MAX_ITER = 500
TIMES = (0.05, 0.2, 0.5)


# -- data ------------------------------------------------------------------------------------
def three_points() -> np.ndarray:
    return np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])


def four_gaussians(n: int = 2000, D: int = 16, seed: int = 0) -> np.ndarray:
    """Four anisotropic Gaussians in D: orthogonal centres of norm 4, axis scales from 1 to
    0.05, each cluster in its own random rotation."""
    rng = np.random.default_rng(seed)
    centres = 4.0 * np.linalg.qr(rng.standard_normal((D, 4)))[0].T
    scales = np.geomspace(1.0, 0.05, D)
    parts = []
    for c in range(4):
        Q = np.linalg.qr(rng.standard_normal((D, D)))[0]
        parts.append(centres[c] + (rng.standard_normal((n // 4, D)) * scales) @ Q.T)
    return np.concatenate(parts)


def circle(n: int = 1000, radius: float = 3.0, noise: float = 0.1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    th = rng.uniform(0.0, 2.0 * np.pi, n)
    return radius * np.c_[np.cos(th), np.sin(th)] + noise * rng.standard_normal((n, 2))


def small_sets() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(5)
    return {"two_2d": np.array([[-3.0, 0.0], [3.0, 0.0]]),
            "three_2d": three_points(),
            "four_5d": 3.0 * np.linalg.qr(rng.standard_normal((5, 4)))[0].T}


def ou(t):
    """``(a_t, h_t)`` of the package's OU process (the one every sampler here runs)."""
    return float(_OU.alpha(t)), float(_OU.h(t))


# draws from p_t with a fixed seed, and sconce's SCMS at the equivalent bandwidth and
# tolerance: the helpers of the ridge benchmark
walkers = seeds_for


# -- peers' scores: plain matrix-product softmax ---------------------------------------------
def numpy_score(data: np.ndarray):
    sq = np.einsum("nd,nd->n", data, data)

    def score(y, t):
        a, h = ou(t)
        lg = (a / h) * (y @ data.T) - (0.5 * a * a / h) * sq
        lg -= lg.max(axis=1, keepdims=True)
        w = np.exp(lg)
        w /= w.sum(axis=1, keepdims=True)
        return (a * (w @ data) - y) / h

    return score


def time_change(steps: int):
    """u in [0, 1] -> t = T (t_min/T)^u and |dt/du|: a uniform u-grid is the exponential grid."""
    lam = np.log(T / TMIN)
    return lam, np.linspace(0.0, 1.0, steps + 1)


def torchsde_rate(data, M, steps, repeats):
    try:
        import torch
        import torchsde
    except Exception as exc:  # not installed, or a broken install
        return {"available": False, "reason": f"{type(exc).__name__}: {exc}"[:200]}
    torch.set_num_threads(os.cpu_count() or 1)
    X = torch.tensor(data, dtype=torch.float64)
    sq = (X * X).sum(1)
    lam, us = time_change(steps)

    class Reverse(torch.nn.Module):
        noise_type = "diagonal"
        sde_type = "ito"

        def _t(self, u):
            return T * float(np.exp(-lam * float(u)))

        def f(self, u, y):
            t = self._t(u)
            a, h = np.exp(-t), -np.expm1(-2.0 * t)
            lg = (a / h) * (y @ X.T) - (0.5 * a * a / h) * sq
            w = torch.softmax(lg, dim=1)
            s = (a * (w @ X) - y) / h
            return (y + 2.0 * s) * (t * lam)

        def g(self, u, y):
            t = self._t(u)
            return torch.full_like(y, float(np.sqrt(2.0 * t * lam)))

    sde = Reverse()
    ts = torch.tensor(us, dtype=torch.float64)
    seconds = []
    out = None
    for r in range(repeats):
        torch.manual_seed(r)
        y0 = torch.randn(M, data.shape[1], dtype=torch.float64)
        t0 = time.perf_counter()
        with torch.no_grad():
            out = torchsde.sdeint(sde, y0, ts[[0, -1]], method="euler", dt=1.0 / steps)
        seconds.append(time.perf_counter() - t0)
    med = statistics.median(seconds)
    return {"available": True, "version": torchsde.__version__, "torch": torch.__version__,
            "threads": torch.get_num_threads(), "M": M, "steps": steps, "seconds": seconds,
            "rate_median": M * steps / med, "final": out[-1].numpy()}


class _Diagonal:
    """The noise matrix ``diag(g)`` of sdeint's API without forming it."""

    def __init__(self, g, d):
        self.g = g
        self.shape = (d, d)
        self.ndim = 2

    def dot(self, dw):
        return self.g * dw


def sdeint_rate(data, M, steps, repeats):
    try:
        import sdeint
    except Exception as exc:
        return {"available": False, "reason": f"{type(exc).__name__}: {exc}"[:200]}
    D = data.shape[1]
    score = numpy_score(data)
    lam, us = time_change(steps)

    def f(yv, u):
        t = T * np.exp(-lam * u)
        y = yv.reshape(M, D)
        return ((y + 2.0 * score(y, t)) * (t * lam)).ravel()

    def G(yv, u):
        t = T * np.exp(-lam * u)
        return _Diagonal(np.sqrt(2.0 * t * lam), M * D)

    seconds = []
    out = None
    for r in range(repeats):
        gen = np.random.default_rng(r)
        y0 = gen.standard_normal(M * D)
        t0 = time.perf_counter()
        out = sdeint.itoEuler(f, G, y0, us, generator=gen)
        seconds.append(time.perf_counter() - t0)
    med = statistics.median(seconds)
    return {"available": True, "version": _version("sdeint"), "M": M, "steps": steps,
            "seconds": seconds, "rate_median": M * steps / med,
            "final": out[-1].reshape(M, D)}


def _version(mod):
    try:
        from importlib.metadata import version

        return version({"sdeint": "sdeint", "sconce": "sconce-scms"}.get(mod, mod))
    except Exception:
        return "unknown"


def ours_sde(data, M, steps, repeats):
    p = rt.SmoothedEmpirical(data)
    grid = rt.grids.exponential(T, TMIN, steps)
    rt.simulate(p, n=64, grid=grid[:3], backend="numba", seed=0, progress=False)  # compiled
    seconds = []
    out = None
    for r in range(repeats):
        t0 = time.perf_counter()
        out = rt.simulate(p, n=M, grid=grid, backend="numba", method="em", seed=r,
                          progress=False)
        seconds.append(time.perf_counter() - t0)
    med = statistics.median(seconds)
    return {"M": M, "steps": steps, "seconds": seconds, "rate_median": M * steps / med,
            "pairs_per_s": M * steps * len(data) / med, "final": out.final,
            "meta": {k: v for k, v in out.meta.items() if isinstance(v, (str, int, float))}
            if hasattr(out, "meta") else {}}


def nn_summary(data, y):
    """Median distance to the nearest training point and the allocation (share per point for
    n <= 4): a check that every sampler solved the same SDE."""
    d2 = (y * y).sum(1)[:, None] - 2 * y @ data.T + (data * data).sum(1)[None]
    k = d2.argmin(1)
    out = {"median_nn": float(np.median(np.sqrt(np.maximum(d2.min(1), 0.0))))}
    if len(data) <= 4:
        out["allocation"] = np.bincount(k, minlength=len(data)).tolist()
    return out


def sde_case(name, data, M, steps, peer_M, peer_steps, repeats):
    r = {"n": len(data), "D": data.shape[1], "T": T, "t_min": TMIN}
    ours = ours_sde(data, M, steps, repeats)
    r["ridgetheory"] = {k: v for k, v in ours.items() if k != "final"}
    r["ridgetheory"]["check"] = nn_summary(data, ours["final"])
    for peer, fn in (("torchsde", torchsde_rate), ("sdeint", sdeint_rate)):
        res = fn(data, peer_M, peer_steps, repeats)
        if res.get("available"):
            res["check"] = nn_summary(data, res.pop("final"))
            res["ridgetheory_over"] = ours["rate_median"] / res["rate_median"]
        r[peer] = res
        print(name, peer, {k: v for k, v in res.items() if k not in ("seconds",)}, flush=True)
    print(name, "ridgetheory", r["ridgetheory"]["rate_median"], flush=True)
    return r


# -- SCMS ------------------------------------------------------------------------------------
def residual(data, x, t, d):
    """``|P_N (m - x)|`` at ``x`` by the numpy reference (the same judge for every method)."""
    ridge = rt.Ridge(rt.SmoothedEmpirical(data), d, backend="numpy")
    pr = ridge.project(x, t, tol=TOL, max_iter=0)
    return pr.residual * float(ou(t)[1])


def scms_case(name, data, m_ours, m_peer, repeats, d=1, times=TIMES):
    try:
        importlib.import_module("sconce.EucSCMS")
        have = True
    except Exception as exc:
        have = False
        why = f"{type(exc).__name__}: {exc}"[:200]
    ridge = rt.Ridge(rt.SmoothedEmpirical(data), d)
    ridge.project(walkers(data, 0.2, 4), 0.2, tol=TOL)  # compiled
    out = {"n": len(data), "D": data.shape[1], "d": d, "tol": TOL, "max_iter": MAX_ITER,
           "by_time": {}}
    for t in times:
        r = {}
        for method in ("scms", "newton"):
            tag = "" if method == "scms" else "newton_"
            for m in sorted({1000, m_ours}):
                x0 = walkers(data, t, m)
                secs = []
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    pr = ridge.project(x0, t, method, tol=TOL, max_iter=MAX_ITER)
                    secs.append(time.perf_counter() - t0)
                res = residual(data, pr.points, t, d)
                r[f"ridgetheory_{tag}{m}"] = {
                    "method": method, "walkers": m, "seconds": secs,
                    "rate_median": m / statistics.median(secs),
                    "converged_share": float(np.mean(res <= TOL * (1 + 1e-6))),
                    "kernel_converged_share": float(np.mean(pr.converged)),
                    "median_iters": float(np.median(pr.iterations))}
        if have:
            x0 = walkers(data, t, 1000)[:m_peer]
            t0 = time.perf_counter()
            pts = sconce_scms(data, x0, t, d, TOL, max_iter=MAX_ITER)
            sec = time.perf_counter() - t0
            res = residual(data, pts, t, d)
            ours_pts = ridge.project(x0, t, tol=TOL, max_iter=MAX_ITER).points
            r["sconce"] = {"walkers": m_peer, "seconds": sec, "rate": m_peer / sec,
                           "converged_share": float(np.mean(res <= TOL * (1 + 1e-6))),
                           "same_point_share": float(np.mean(
                               np.linalg.norm(pts - ours_pts, axis=1) < 1e-5))}
            for key in [k for k in r if k.startswith("ridgetheory_")]:
                r[f"{key}_over_sconce"] = r[key]["rate_median"] / r["sconce"]["rate"]
        else:
            r["sconce"] = {"available": False, "reason": why}
        out["by_time"][str(t)] = r
        print(name, t, json.dumps({k: (v if not isinstance(v, dict) else
                                       {kk: vv for kk, vv in v.items() if kk != "seconds"})
                                   for k, v in r.items()}), flush=True)
    return out


# -- main ------------------------------------------------------------------------------------
def previous_medians(path):
    """The previous run's headline numbers, kept beside the new ones."""
    try:
        with open(path) as fh:
            old = json.load(fh)
    except (OSError, ValueError):
        return None
    return {"time": old.get("environment", {}).get("time"), "headline": old.get("headline")}


def headline(cases):
    h = {}
    for name, c in cases.items():
        if name.startswith("sde_"):
            h[f"{name}.rate"] = c["ridgetheory"]["rate_median"]
            h[f"{name}.pairs_per_s"] = c["ridgetheory"]["pairs_per_s"]
            for peer in ("torchsde", "sdeint"):
                if "ridgetheory_over" in c[peer]:
                    h[f"{name}.over_{peer}"] = c[peer]["ridgetheory_over"]
        else:
            for sub, cc in (c.items() if "by_time" not in c else [("", c)]):
                for t, r in cc["by_time"].items():
                    key = f"{name}{'.' + sub if sub else ''}.t={t}"
                    for k, v in r.items():
                        if k.endswith("_over_sconce"):
                            h[f"{key}.{k}"] = v
                        elif k.startswith("ridgetheory_"):
                            h[f"{key}.{k}.rate"] = v["rate_median"]
    return h


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cases", default="sde_three,sde_gauss16,scms_gauss16,scms_circle,"
                                        "scms_small")
    ap.add_argument("--out", default=str(RESULTS / "bench_peers.json"))
    args = ap.parse_args(argv)
    q = args.quick
    reps = 1 if q else args.repeats
    cases = {}
    want = args.cases.split(",")
    if "sde_three" in want:
        cases["sde_three"] = sde_case("sde_three", three_points(), 10_000 if q else 100_000,
                                      100 if q else 1000, 10_000 if q else 100_000,
                                      20 if q else 100, reps)
    if "sde_gauss16" in want:
        cases["sde_gauss16"] = sde_case("sde_gauss16", four_gaussians(), 1000 if q else 10_000,
                                        20 if q else 100, 500 if q else 2000,
                                        20 if q else 100, reps)
    if "scms_gauss16" in want:
        cases["scms_gauss16"] = scms_case("scms_gauss16", four_gaussians(), 1000,
                                          20 if q else 100, reps)
    if "scms_circle" in want:
        cases["scms_circle"] = scms_case("scms_circle", circle(), 1000 if q else 10_000,
                                         50 if q else 300, reps)
    if "scms_small" in want:
        cases["scms_small"] = {k: scms_case(f"scms_small.{k}", v, 1000, 100 if q else 1000,
                                            reps) for k, v in small_sets().items()}
    head = headline(cases)
    prev = previous_medians(args.out)
    change = None
    if prev and prev.get("headline"):
        change = {k: v / prev["headline"][k] for k, v in head.items()
                  if isinstance(prev["headline"].get(k), (int, float)) and prev["headline"][k]}
    payload = {"environment": environment(), "quick": q, "repeats": reps,
               "peers": {m: _version(m) for m in ("torchsde", "sdeint", "sconce")},
               "cases": cases, "headline": head, "previous": prev,
               "change_over_previous": change}
    print(json.dumps(payload["headline"], indent=1))
    if change:
        print("new / previous:", json.dumps(change, indent=1))
    write_json("bench_peers", payload, args.out)


if __name__ == "__main__":
    main()
