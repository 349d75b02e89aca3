"""Synthetic validation experiments: layouts in any dimension with exact, injected, random-feature
or MLP scores.

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
``allocation_matches``
    Resting counts per training point, predicted against simulated: chi-square homogeneity
    p-value >= ``alpha`` (0.01) for every run.
``normal_keeps_allocation``
    With a normal error the simulated allocation among training points stays that of the
    exact score (chi-square p >= ``alpha`` at every size): the directional claim.
``normal_keeps_allocation_below_start``
    The same with the normal error switched on only below the slide start (the last critical
    time); needs ``[params.injected] below_start = true``.

Distances, tube fractions, rates and separations come from
:func:`ridgetheory.predict.trajectory_curves` and :func:`ridgetheory.predict.prediction_curves`.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from .. import grids
from .._checks import PredictionWarning, RidgeTheoryError, check_choice
from ..densities import SmoothedEmpirical
from ..injected import InjectedError, radial, rotational
from ..measure import allocation_test, memorization_fraction
from ..plotting import experiments as figures
from ..predict import (
    PhaseTimes,
    allocation,
    classify_resting,
    predict,
    predict_reach,
    prediction_curves,
    trajectory_curves,
)
from ..predict.phases import first_time_at_least
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
    # always the end: the final distances are read from the last saved time
    return np.unique(np.r_[np.round(np.linspace(0, n_steps, n_save)).astype(int), n_steps])


def build_model(
    kind: str,
    density: SmoothedEmpirical,
    ridge: Ridge,
    p: dict[str, Any],
    size: float | None,
    seed: int,
    progress: bool,
    below: float | None = None,
    part: str | None = None,
) -> Any:
    """The score model of one run: ``exact``, ``injected``, ``random_features`` or ``mlp``.

    For ``injected``: ``part`` is "normal" or "tangent" (default the table's ``sweep``) and
    ``below`` switches the error on only at ``t <= below``."""
    if kind == "exact":
        return density
    if kind == "injected":
        inj = dict(p.get("injected", {}))
        table = "the [params.injected] table"
        which = part if part is not None else _parts(inj)[0]
        sizes: dict[str, Any] = {"normal": 0.0, "tangent": 0.0}
        value = float(size if size is not None else 0.0)
        sizes[which] = value if below is None else (
            lambda t, v=value, b=below: np.where(np.asarray(t) <= b, v, 0.0))
        centre = density.data.mean(axis=0)
        nd = check_choice(inj.get("normal_direction", "fixed"), "normal_direction", table,
                          ("fixed", "radial"))
        td = check_choice(inj.get("tangent_direction", "fixed"), "tangent_direction", table,
                          ("fixed", "rotational"))
        return InjectedError(
            density,
            ridge,
            normal=sizes["normal"],
            tangent=sizes["tangent"],
            units=inj.get(f"{which}_units", inj.get("units", "score")),
            normal_direction=radial(centre) if nd == "radial" else None,
            tangent_direction=rotational(centre) if td == "rotational" else None,
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


def _parts(inj: dict[str, Any]) -> list[str]:
    """The injected parts a config sweeps: ``sweep = "normal"`` or a list of parts."""
    sweep = inj.get("sweep", "normal")
    parts = [sweep] if isinstance(sweep, str) else list(sweep)
    for x in parts:
        check_choice(x, "sweep", "the [params.injected] table", ("normal", "tangent"))
    return parts


def _sizes(inj: dict[str, Any], part: str, name: str) -> list[float]:
    sizes = sorted(float(v) for v in inj.get(f"{part}_sizes", inj.get("sizes", [])))
    if not sizes:
        raise RidgeTheoryError(
            f"`{part}_sizes` (or `sizes`) in the [params.injected] table of {name} must list "
            "at least one size.")
    return sizes


def _measure(ridge, traj, n_measure, centres, radius, density, reference=None) -> dict[str, Any]:
    """Phase curves at the saved times, resting places and the allocation."""
    cur = trajectory_curves(density, ridge, traj, members=n_measure, reference=reference)
    final = traj.final
    return {
        "curves": cur,
        "times": cur.times,
        "mean_distance": cur.mean_distance,
        "distance_quantiles": cur.distance_quantiles.T,
        "tube_fraction": cur.tube_fraction,
        "feet": cur.feet,
        "final": final,
        "labels": classify_resting(final, centres, radius),
        "allocation": allocation(final, centres),
        # the last saved time is t_min (_save_indices keeps the end): its distances are these
        "final_distance": cur.distance[-1],
    }


def _predict(model, density, ridge, grid, save_t, p, seed, centres, radius, reference=None):
    M = int(p.get("n_predict", 400))
    start = sample_pt(density, float(grid[0]), M, seed + 101)
    with warnings.catch_warnings():
        # the counts are recorded in the report (predicted_excluded), not printed per run
        warnings.simplefilter("ignore", PredictionWarning)
        both = predict(model, density, ridge, grid, start, seed=seed + 102,
                       method=p.get("method", "em"), align_seed=seed + 103)
    slide, align = both.slide, both.align
    reach = predict_reach(density, ridge, save_t, n=M, seed=seed + 104)
    # the reduced part covers t <= the slide start; above it the prediction is the simulation
    on = save_t[save_t <= slide.times[0] * (1 + 1e-12)]
    curves = prediction_curves(density, ridge, slide, align, times=on, reference=reference)
    return {
        "slide": slide,
        "align": align,
        "reach": reach,
        "curves": curves,
        "intermode": slide.intermode_fraction(centres, radius),
        "allocation": slide.allocation(centres),
        "start": start,
    }


def _signed_shift(points: np.ndarray, centres: np.ndarray, model: Any, t: float) -> float:
    """Mean displacement from the nearest centre along the injected tangent direction at the
    point (:meth:`InjectedError.directions`: the first axis on a straight ridge, the
    counter-clockwise tangent on a ring with a rotational field)."""
    d2 = ((points[:, None, :] - centres[None]) ** 2).sum(-1)
    near = centres[np.argmin(d2, axis=1)]
    _, u = model.directions(points, t)
    return float(np.mean(np.einsum("md,md->m", points - near, u)))


def run(ctx: ExperimentContext) -> ExperimentResult:
    """Run one synthetic experiment (see the module docstring for the claims)."""
    p = ctx.params
    t_start = time.perf_counter()
    data = layout(p.get("layout", "two_mode"))
    if data.shape[1] < 2:
        raise RidgeTheoryError(
            f"`layout` of {ctx.name} must have points in D >= 2; got shape {data.shape}.")
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
    n = int(p.get("n_samples", 20000))
    n_measure = min(n, int(p.get("n_measure", 2000)))
    kind = p.get("model", "exact")
    backend = p.get("backend", "auto")
    result = ExperimentResult()
    runs = []
    # An exact-score baseline accompanies every learned or injected model. All variants share
    # the simulation and prediction seeds, so trajectories are coupled through their noise:
    # differences between variants are the effect of the score error, not of the draw.
    variants: list[tuple[str, float | None, float | None, str | None]] = [
        ("exact", None, None, None)]
    if kind == "injected":
        inj = dict(p.get("injected", {}))
        parts = _parts(inj)
        variants += [(kind, z, None, q) for q in parts for z in _sizes(inj, q, ctx.name)]
        if inj.get("below_start", False):
            from ..predict import slide_start

            t_s = slide_start(density, ridge, grid).time
            variants += [("injected_below_start", z, t_s, "normal")
                         for z in _sizes(inj, "normal", ctx.name)]
    elif kind != "exact":
        variants.append((kind, None, None, None))
    for k, size, below, part in variants:
        t0 = time.perf_counter()
        model = build_model("injected" if k == "injected_below_start" else k, density, ridge,
                            p, size, ctx.seed + 7, ctx.progress, below=below, part=part)
        t_model = time.perf_counter() - t0
        traj = simulate(
            model,
            process,
            n=n,
            grid=grid,
            method=p.get("method", "em"),
            backend=backend if not k.startswith("injected") else "numpy",
            seed=ctx.seed + 11,
            save_at=save_t,
            progress=ctx.progress,
        )
        t_sim = time.perf_counter() - t0 - t_model
        ref = runs[0] if runs else None
        meas = _measure(ridge, traj, n_measure, centres, radius, density,
                        reference=ref["meas"]["curves"] if ref else None)
        pred = _predict(model, density, ridge, grid, save_t, p, ctx.seed + 13, centres, radius,
                        reference=ref["pred"]["curves"] if ref else None)
        t_all = time.perf_counter() - t0
        runs.append(
            {
                "kind": k,
                "size": size,
                "below": below,
                "part": part,
                "model": model,
                "traj": traj,
                "meas": meas,
                "pred": pred,
                "timings": {"model_s": t_model, "simulate_s": t_sim, "total_s": t_all},
                "backend": traj.meta.get("backend"),
            }
        )
    main_runs = [r for r in runs if r["kind"] == kind] if kind != "exact" else runs
    late_runs = [r for r in runs if r["kind"] == "injected_below_start"]
    result.claims += _claims(ctx, p, density, ridge, runs, main_runs, centres, radius, grid,
                             late_runs)
    result.figures += figures.experiment_figures(
        ctx, density, ridge, [r for r in runs if r["below"] is None], main_runs, grid, save_t, p
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
                "part": r["part"],
                "backend": r["backend"],
                "timings": r["timings"],
                "measured_mean_distance": m["mean_distance"],
                "measured_tube_fraction": m["tube_fraction"],
                "predicted_mean_distance": pr["align"].mean_distance[-1],
                "predicted_fixed_point_distance": pr["align"].fixed_point_distance[-1],
                "predicted_tube_fraction": pr["reach"].fraction,
                "predicted_intermode": pr["intermode"],
                "measured_intermode": float(np.mean(m["labels"] < 0)),
                "predicted_allocation": pr["allocation"],
                "measured_allocation": m["allocation"],
                "slide_start": pr["slide"].start.as_dict(),
                "predicted_excluded": {"slide": pr["slide"].excluded,
                                       "align": pr["align"].meta["excluded"]},
                "below_start": r["below"],
                "rates": r.get("rates"),
            }
        )
    return out


def _of(runs: list[dict[str, Any]], part: str) -> list[dict[str, Any]]:
    """The runs of one injected part (all runs when the model is not injected)."""
    return [r for r in runs if r["part"] in (part, None)]


def _claims(ctx, p, density, ridge, runs, main_runs, centres, radius, grid, late_runs=()):
    claims = []
    all_main = main_runs
    names = list(ctx.config.get("claims", {}))
    for name in names:
        s = ctx.claim_settings(name)
        if name == "memorization":
            # run = "exact": the exact-score baseline of an injected or learned config
            r = runs[0] if s.get("run", "main") == "exact" else main_runs[-1]
            train = centres
            mem = memorization_fraction(r["traj"].final, train, seed=ctx.seed)
            lo = float(s.get("min", 0.95))
            claims.append(ctx.claim(name, f">= {lo}", mem, lo, mem["fraction"] >= lo))
        elif name == "normal_distance_increases":
            main_runs = _of(all_main, "normal")
            if s.get("include_exact", False):  # the exact baseline as size 0
                main_runs = [dict(runs[0], size=0.0)] + main_runs
            sizes = [r["size"] for r in main_runs]
            finals = [r["meas"]["mean_distance"][-1] for r in main_runs]
            ok = bool(np.all(np.diff(finals) > 0))
            claims.append(
                ctx.claim(
                    name, "increasing in size", {"sizes": sizes, "final": finals}, "strict", ok
                )
            )
        elif name == "normal_distance_prediction":
            main_runs = _of(all_main, "normal")
            if s.get("include_exact", False):  # the exact baseline as size 0
                main_runs = [dict(runs[0], size=0.0)] + main_runs
            fac = float(s.get("factor", 2.0))
            pred = [float(r["pred"]["align"].mean_distance[-1]) for r in main_runs]
            meas = [float(r["meas"]["mean_distance"][-1]) for r in main_runs]
            ratio = [m / q for m, q in zip(meas, pred, strict=True)]
            ok = all(1 / fac <= x <= fac for x in ratio)
            claims.append(
                ctx.claim(name, pred, meas, f"ratio in [1/{fac:g}, {fac:g}]: {ratio}", ok)
            )
        elif name == "tangent_keeps_distance":
            main_runs = _of(all_main, "tangent")
            fac = float(s.get("factor", 1.5))
            base = float(runs[0]["meas"]["mean_distance"][-1])
            meas = [float(r["meas"]["mean_distance"][-1]) for r in main_runs]
            ok = all(m <= fac * base for m in meas)
            claims.append(ctx.claim(name, f"<= {fac:g} x exact ({base:.4g})", meas, fac, ok))
        elif name == "tangent_resting_shift":
            main_runs = _of(all_main, "tangent")
            rtol, atol = float(s.get("rtol", 0.3)), float(s.get("atol", 0.02))
            t_min = float(grid[-1])
            pred = [_signed_shift(r["pred"]["slide"].final[r["pred"]["slide"].usable], centres,
                                  r["model"], t_min) for r in main_runs]
            meas = [_signed_shift(r["traj"].final, centres, r["model"], t_min) for r in main_runs]
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
            r = main_runs[-1]
            m, pr = r["meas"], r["pred"]
            rate = float(s.get("rate", 10.0))
            mc, pc = m["curves"], pr["curves"]
            measured = mc.phase_times(rate=rate)
            # predicted reach from the exact p_t mass (the reduced part starts below it)
            pa = pc.phase_times(rate=rate)
            predicted = PhaseTimes(
                reach=first_time_at_least(m["times"], pr["reach"].fraction, 0.9),
                align=pa.align, slide=pa.slide)
            r["rates"] = {
                "times": mc.times,
                "measured_median_ratio": mc.normal_rate / np.maximum(mc.tangent_rate, 1e-300),
                "measured_separation": mc.separation,
                "predicted_times": pc.times,
                "predicted_separation": pc.separation,
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
        elif name == "allocation_matches":
            alpha = float(s.get("alpha", 0.01))
            rows = []
            for r in [x for x in runs if x["below"] is None]:
                test = allocation_test(r["pred"]["allocation"], r["meas"]["allocation"])
                rows.append({"model": r["kind"], "size": r["size"],
                             "predicted": r["pred"]["allocation"],
                             "measured": r["meas"]["allocation"], **test})
            ok = all(x["p_value"] >= alpha for x in rows)
            claims.append(ctx.claim(name, "chi-square p >= alpha for every run",
                                    {"runs": rows,
                                     "slide_start": runs[0]["pred"]["slide"].start.as_dict()},
                                    alpha, ok))
        elif name in ("normal_keeps_allocation", "normal_keeps_allocation_below_start"):
            alpha = float(s.get("alpha", 0.01))
            pool = _of(all_main, "normal") if name == "normal_keeps_allocation" else list(late_runs)
            if not pool:
                raise RidgeTheoryError(
                    f"claim {name!r} in experiment {ctx.name!r} needs injected runs"
                    + (" and [params.injected] below_start = true"
                       if name.endswith("below_start") else "") + ".")
            base = runs[0]["meas"]["allocation"]
            rows = [{"size": r["size"], "below": r["below"], "measured": r["meas"]["allocation"],
                     **allocation_test(r["meas"]["allocation"], base)} for r in pool]
            ok = all(x["p_value"] >= alpha for x in rows)
            claims.append(ctx.claim(name, {"exact": base},
                                    {"runs": rows}, f"chi-square p >= {alpha:g} at every size",
                                    ok))
        else:
            raise RidgeTheoryError(
                f"claim {name!r} in experiment {ctx.name!r} is not known to the synthetic runner."
            )
    return claims
