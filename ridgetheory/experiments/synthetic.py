"""Synthetic validation experiments: 2-D layouts with exact, injected, random-feature or MLP scores.

One runner serves every synthetic config. It builds the smoothed density of a layout and
its ridge, builds the score model(s) named in the config (a sweep when the config has one),
simulates the reverse SDE, measures distance to the ridge, resting places and memorization,
computes the reach/align/slide predictions, and checks the claims the config names.

Claims this runner knows (a config lists the ones it checks under ``[claims.<name>]``):

``memorization``
    Share of final samples that memorize (nearest/second-nearest ratio < 1/3) >= ``min``.
``normal_distance_increases``
    Final mean distance to the ridge increases with the normal error size.
``normal_distance_prediction``
    Final mean distance within a factor ``factor`` of the moment-equation prediction at
    every size.
``tangent_keeps_distance``
    With a tangential error the final mean distance stays within ``factor`` of the
    exact-score run.
``tangent_resting_shift``
    The mean signed tangential displacement of final samples from their nearest training
    point matches the slide prediction within ``rtol`` (relative) + ``atol``.
``normal_below_tangent``
    Late in sampling (t <= ``t_late``), ``E_N <= E_T / ratio`` (training view).
``inside_tube``
    The share of final samples within the predicted 90% distance quantile is >= 0.9 - ``tol``.
``intermode_fraction``
    Measured inter-mode mass within ``tol`` of the predicted one.
``phase_order``
    Measured (and predicted) phase times are ordered reach >= align >= slide.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .. import grids
from .._checks import RidgeTheoryError, check_choice
from ..densities import SmoothedEmpirical
from ..injected import InjectedError
from ..measure import memorization_fraction
from ..plotting import experiments as figures
from ..predict import (
    classify_resting,
    phase_times,
    predict_alignment,
    predict_reach,
    predict_slide,
    rates,
)
from ..processes import OU
from ..ridge import Ridge
from ..simulate import sample_pt, simulate
from ..validate.claims import ExperimentContext, ExperimentResult
from .layouts import layout

__all__ = ["run", "build_model"]


def _grid(p: dict[str, Any]) -> np.ndarray:
    return grids.exponential(
        float(p.get("T", 10.0)), float(p.get("t_min", 1e-3)), int(p.get("steps", 1000))
    )


def _save_indices(n_steps: int, n_save: int) -> np.ndarray:
    idx = np.unique(np.round(np.linspace(0, n_steps, n_save)).astype(int))
    return idx


def build_model(
    kind: str,
    density: SmoothedEmpirical,
    ridge: Ridge,
    p: dict[str, Any],
    size: float | None,
    seed: int,
    progress: bool,
) -> Any:
    """The score model of one run: ``exact``, ``injected``, ``random_features`` or ``mlp``."""
    if kind == "exact":
        return density
    if kind == "injected":
        inj = dict(p.get("injected", {}))
        which = check_choice(inj.get("sweep", "normal"), "sweep", "the [params.injected] table",
                             ("normal", "tangent"))
        sizes = {"normal": 0.0, "tangent": 0.0}
        sizes[which] = float(size if size is not None else 0.0)
        return InjectedError(
            density,
            ridge,
            normal=sizes["normal"],
            tangent=sizes["tangent"],
            units=inj.get("units", "score"),
        )
    if kind == "random_features":
        from ..random_features import RandomFeatureModel

        rf = dict(p.get("rf", {}))
        model = RandomFeatureModel(
            int(rf.get("p", 2000)),
            K=int(rf.get("K", 128)),
            T=float(rf.get("T", p.get("T", 10.0))),
            activation=rf.get("activation", "relu"),
            bias=bool(rf.get("bias", True)),
            parametrization=rf.get("parametrization", "denoiser"),
            dim=density.dim,
            seed=seed,
        )
        fit = model.fit(
            density.data,
            density.process,
            weight=rf.get("weight", "1"),
            t0=float(rf.get("t0", 1e-3)),
            time_nodes=int(rf.get("time_nodes", 400)),
            quadrature=rf.get("quadrature", "exact"),
            noise_draws=int(rf.get("noise_draws", 4000)),
        )
        tau = rf.get("tau", "inf")
        return fit.at(np.inf if tau == "inf" else float(tau))
    if kind == "mlp":
        from ..nn import train_score_mlp

        mlp = dict(p.get("mlp", {}))
        return train_score_mlp(
            density.data,
            density.process,
            hidden=tuple(mlp.get("hidden", (256, 256))),
            steps=int(mlp.get("steps", 4000)),
            weight=mlp.get("weight", "1"),
            parametrization=mlp.get("parametrization", "denoiser"),
            seed=seed,
            t0=float(mlp.get("t0", 1e-3)),
            T=float(p.get("T", 10.0)),
            batch_size=int(mlp.get("batch_size", 512)),
            lr=float(mlp.get("lr", 2e-3)),
            time_sampling=mlp.get("time_sampling", "uniform"),
            progress=progress,
        )
    raise RidgeTheoryError(
        f"`model` in the experiment config must be one of 'exact', 'injected', "
        f"'random_features', 'mlp'; got {kind!r}."
    )


def _measure(
    ridge: Ridge,
    traj,
    save_t: np.ndarray,
    n_measure: int,
    centres: np.ndarray,
    radius: float,
    tube_factor: float,
    density,
) -> dict[str, Any]:
    """Distances to the ridge, tube fractions and foot paths at the saved times."""
    states = traj.states[:, :n_measure]
    dist_mean, dist_q, tube, normal_mean = [], [], [], []
    feet = np.empty_like(states)
    for j, t in enumerate(save_t):
        pr = ridge.project(states[j], float(t), tol=1e-8, max_iter=500)
        off = np.asarray(pr.displacement)
        feet[j] = pr.points
        dist_mean.append(float(off[:, 0].mean()))
        normal_mean.append(float(off[:, 1].mean()))
        dist_q.append(np.quantile(off[:, 0], [0.1, 0.5, 0.9]).tolist())
        r = tube_factor * np.sqrt(float(density.process.h(t)))
        tube.append(float(np.mean(off[:, 0] <= r)))
    steps = np.linalg.norm(np.diff(feet, axis=0), axis=2)  # (n_save - 1, M)
    path = np.concatenate([[0.0], np.cumsum(np.median(steps, axis=1))])
    final = traj.final
    labels = classify_resting(final, centres, radius)
    return {
        "times": save_t,
        "mean_distance": np.array(dist_mean),
        "normal_distance": np.array(normal_mean),
        "distance_quantiles": np.array(dist_q),
        "tube_fraction": np.array(tube),
        "path_length": path,
        "final": final,
        "feet": feet,
        "labels": labels,
        "final_distance": off[:, 0],
    }


def _predict(model, density, ridge, grid, save_idx, p, seed, centres, radius, tube_factor):
    M = int(p.get("n_predict", 400))
    start = sample_pt(density, float(grid[0]), M, seed + 101)
    slide = predict_slide(model, density, ridge, grid, start, seed=seed + 102)
    align = predict_alignment(
        model,
        density,
        ridge,
        grid,
        slide.feet,
        start_displacements=start - slide.feet[0],
        seed=seed + 103,
    )
    save_t = grid[save_idx]
    reach = predict_reach(density, ridge, save_t, radius_factor=tube_factor, n=M, seed=seed + 104)
    feet = slide.feet[save_idx]
    steps = np.linalg.norm(np.diff(feet, axis=0), axis=2)
    path = np.concatenate([[0.0], np.cumsum(np.median(steps, axis=1))])
    return {
        "slide": slide,
        "align": align,
        "reach": reach,
        "path_length": path,
        "intermode": slide.intermode_fraction(centres, radius),
        "start": start,
    }


def _separation(feet: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Running maximum of the median distance between coupled foot points, per saved time."""
    return np.maximum.accumulate(np.median(np.linalg.norm(feet - base, axis=2), axis=1))


def _signed_shift(points: np.ndarray, centres: np.ndarray, direction: np.ndarray) -> float:
    d2 = ((points[:, None, :] - centres[None]) ** 2).sum(-1)
    near = centres[np.argmin(d2, axis=1)]
    return float(np.mean((points - near) @ direction))


def run(ctx: ExperimentContext) -> ExperimentResult:
    """Run one synthetic experiment (see the module docstring for the claims)."""
    p = ctx.params
    t_start = time.perf_counter()
    data = layout(p.get("layout", "two_mode"))
    process = OU()
    density = SmoothedEmpirical(data, process)
    d = int(p.get("ridge_dim", 1))
    ridge = Ridge(density, d)
    grid = _grid(p)
    save_idx = _save_indices(len(grid) - 1, int(p.get("n_save", 16)))
    save_t = grid[save_idx]
    a_min = float(process.alpha(grid[-1]))
    centres = a_min * data
    radius = float(p.get("mode_radius", 0.5))
    tube_factor = float(p.get("tube_factor", 2.0))
    n = int(p.get("n_samples", 20000))
    n_measure = min(n, int(p.get("n_measure", 2000)))
    kind = p.get("model", "exact")
    sweep = sorted(p.get("injected", {}).get("sizes", [])) if kind == "injected" else [None]
    if not sweep:
        raise RidgeTheoryError(
            f"`sizes` in the [params.injected] table of {ctx.name} must list at least one size."
        )
    backend = p.get("backend", "auto")
    result = ExperimentResult()
    runs = []
    # An exact-score baseline accompanies every learned or injected model. All variants share
    # the simulation and prediction seeds, so trajectories are coupled through their noise:
    # differences between variants are the effect of the score error, not of the draw.
    variants = [("exact", None)] + ([(kind, s) for s in sweep] if kind != "exact" else [])
    for k, size in variants:
        t0 = time.perf_counter()
        model = build_model(k, density, ridge, p, size, ctx.seed + 7, ctx.progress)
        t_model = time.perf_counter() - t0
        traj = simulate(
            model,
            process,
            n=n,
            grid=grid,
            method=p.get("method", "em"),
            backend=backend if k != "injected" else "numpy",
            seed=ctx.seed + 11,
            save_at=save_t,
            progress=ctx.progress,
        )
        t_sim = time.perf_counter() - t0 - t_model
        meas = _measure(ridge, traj, save_t, n_measure, centres, radius, tube_factor, density)
        pred = _predict(
            model, density, ridge, grid, save_idx, p, ctx.seed + 13, centres, radius, tube_factor
        )
        t_all = time.perf_counter() - t0
        runs.append(
            {
                "kind": k,
                "size": size,
                "model": model,
                "traj": traj,
                "meas": meas,
                "pred": pred,
                "timings": {"model_s": t_model, "simulate_s": t_sim, "total_s": t_all},
                "backend": traj.meta.get("backend"),
            }
        )
    main_runs = [r for r in runs if r["kind"] == kind] if kind != "exact" else runs
    result.claims += _claims(ctx, p, density, ridge, runs, main_runs, centres, radius, grid)
    result.figures += figures.experiment_figures(
        ctx, density, ridge, runs, main_runs, grid, save_t, p
    )
    result.data = _record(runs, save_t)
    result.timings = {"total_s": time.perf_counter() - t_start}
    return result


def _record(runs, save_t) -> dict[str, Any]:
    out = {"save_times": save_t, "runs": []}
    for r in runs:
        m, pr = r["meas"], r["pred"]
        out["runs"].append(
            {
                "model": r["kind"],
                "size": r["size"],
                "backend": r["backend"],
                "timings": r["timings"],
                "measured_mean_distance": m["mean_distance"],
                "measured_tube_fraction": m["tube_fraction"],
                "predicted_mean_distance": pr["align"].mean_distance[-1],
                "predicted_fixed_point_distance": pr["align"].fixed_point_distance[-1],
                "predicted_tube_fraction": pr["reach"].fraction,
                "predicted_intermode": pr["intermode"],
                "measured_intermode": float(np.mean(m["labels"] < 0)),
                "rates": r.get("rates"),
            }
        )
    return out


def _claims(ctx, p, density, ridge, runs, main_runs, centres, radius, grid):
    claims = []
    names = list(ctx.config.get("claims", {}))
    for name in names:
        s = ctx.claim_settings(name)
        if name == "memorization":
            r = main_runs[-1]
            train = centres
            mem = memorization_fraction(r["traj"].final, train, seed=ctx.seed)
            lo = float(s.get("min", 0.95))
            claims.append(ctx.claim(name, f">= {lo}", mem, lo, mem["fraction"] >= lo))
        elif name == "normal_distance_increases":
            sizes = [r["size"] for r in main_runs]
            finals = [r["meas"]["mean_distance"][-1] for r in main_runs]
            ok = bool(np.all(np.diff(finals) > 0))
            claims.append(
                ctx.claim(
                    name, "increasing in size", {"sizes": sizes, "final": finals}, "strict", ok
                )
            )
        elif name == "normal_distance_prediction":
            fac = float(s.get("factor", 2.0))
            pred = [float(r["pred"]["align"].mean_distance[-1]) for r in main_runs]
            meas = [float(r["meas"]["mean_distance"][-1]) for r in main_runs]
            ratio = [m / q for m, q in zip(meas, pred, strict=True)]
            ok = all(1 / fac <= x <= fac for x in ratio)
            claims.append(
                ctx.claim(name, pred, meas, f"ratio in [1/{fac:g}, {fac:g}]: {ratio}", ok)
            )
        elif name == "tangent_keeps_distance":
            fac = float(s.get("factor", 1.5))
            base = float(runs[0]["meas"]["mean_distance"][-1])
            meas = [float(r["meas"]["mean_distance"][-1]) for r in main_runs]
            ok = all(m <= fac * base for m in meas)
            claims.append(ctx.claim(name, f"<= {fac:g} x exact ({base:.4g})", meas, fac, ok))
        elif name == "tangent_resting_shift":
            rtol, atol = float(s.get("rtol", 0.3)), float(s.get("atol", 0.02))
            u = np.eye(density.dim)[0]
            pred = [_signed_shift(r["pred"]["slide"].final, centres, u) for r in main_runs]
            meas = [_signed_shift(r["traj"].final, centres, u) for r in main_runs]
            ok = all(abs(m - q) <= rtol * abs(q) + atol for m, q in zip(meas, pred, strict=True))
            claims.append(ctx.claim(name, pred, meas, f"rtol {rtol:g} + atol {atol:g}", ok))
        elif name == "normal_below_tangent":
            from ..error_profile import error_profile

            ratio = float(s.get("ratio", 100.0))
            t_late = float(s.get("t_late", 0.1))
            times = grid[grid <= t_late][:: max(1, len(grid[grid <= t_late]) // 12)]
            prof = error_profile(
                main_runs[-1]["model"],
                density,
                ridge,
                times,
                n_samples=int(p.get("n_profile", 1000)),
                seed=ctx.seed,
            )
            en, et = np.asarray(prof.E_N).ravel(), np.asarray(prof.E_T).ravel()
            worst = float(np.max(en / np.maximum(et, 1e-300)))
            main_runs[-1]["profile"] = prof
            claims.append(
                ctx.claim(
                    name,
                    f"E_N/E_T <= {1 / ratio:g} for t <= {t_late:g}",
                    {"max_ratio": worst, "E_N": en, "E_T": et},
                    1 / ratio,
                    worst <= 1 / ratio,
                )
            )
        elif name == "inside_tube":
            tol = float(s.get("tol", 0.05))
            r = main_runs[-1]
            q90 = float(r["pred"]["align"].quantiles[-1, -1])
            frac = float(np.mean(r["meas"]["final_distance"] <= q90))
            claims.append(
                ctx.claim(
                    name, f">= 0.9 within predicted q90 = {q90:.4g}", frac, tol, frac >= 0.9 - tol
                )
            )
        elif name == "intermode_fraction":
            tol = float(s.get("tol", 0.1))
            r = main_runs[-1]
            pred = float(r["pred"]["intermode"])
            meas = float(np.mean(r["meas"]["labels"] < 0))
            claims.append(ctx.claim(name, pred, meas, tol, abs(meas - pred) <= tol))
        elif name == "phase_order":
            r, base = main_runs[-1], runs[0]
            m, pr = r["meas"], r["pred"]
            # slide: when the error-induced separation of coupled foot points (model vs exact
            # score, same noise) develops
            sep_m = _separation(m["feet"], base["meas"]["feet"])
            idx = np.searchsorted(-grid, -m["times"])
            sep_p = _separation(pr["slide"].feet[idx], base["pred"]["slide"].feet[idx])
            rate = float(s.get("rate", 10.0))
            km = [rates(density, ridge, m["feet"][j], float(t)) for j, t in enumerate(m["times"])]
            kp = [
                rates(density, ridge, pr["slide"].feet[i], float(t))
                for i, t in zip(idx, m["times"], strict=True)
            ]
            measured = phase_times(
                m["times"], m["tube_fraction"], [np.median(k[0]) for k in km], sep_m, rate=rate
            )
            predicted = phase_times(
                m["times"], pr["reach"].fraction, [np.median(k[0]) for k in kp], sep_p, rate=rate
            )
            r["rates"] = {
                "times": m["times"],
                "measured_median_ratio": [
                    float(np.median(k[0] / np.maximum(k[1], 1e-300))) for k in km
                ],
                "measured_separation": sep_m,
                "predicted_separation": sep_p,
            }
            claims.append(
                ctx.claim(
                    name,
                    predicted.as_dict(),
                    measured.as_dict(),
                    "reach >= align >= slide",
                    measured.ordered and predicted.ordered,
                )
            )
        else:
            raise RidgeTheoryError(
                f"claim {name!r} in experiment {ctx.name!r} is not known to the synthetic runner."
            )
    return claims
