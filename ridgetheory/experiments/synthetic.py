"""Synthetic validation experiments: layouts in any dimension with exact, injected, random-feature
or MLP scores.

One runner serves every synthetic config. It builds the smoothed density of a layout and
its ridge, builds the score model(s) named in the config (a sweep when the config has one),
simulates the reverse SDE, measures distance to the ridge, resting places and memorization,
computes the reach/align/slide predictions, and checks the claims the config names.

The claims it can check are registered in :mod:`ridgetheory.experiments.synthetic_claims`
(docs/parameters.md lists them with their settings); its parameters are
:class:`ridgetheory.experiments.params.SyntheticParams`.

Distances, tube fractions, rates and separations come from
:func:`ridgetheory.predict.trajectory_curves` and :func:`ridgetheory.predict.prediction_curves`.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import grids
from .._checks import PredictionWarning, RidgeTheoryError
from ..densities import SmoothedEmpirical
from ..injected import InjectedError, radial, rotational
from ..plotting import experiments as figures
from ..predict import (
    allocation,
    classify_resting,
    predict,
    predict_reach,
    prediction_curves,
    trajectory_curves,
)
from ..processes import OU
from ..ridge import Ridge
from ..simulate import sample_pt, simulate
from ..validate.claims import ExperimentContext, ExperimentResult
from .layouts import resolve
from .params import InjectedParams, SyntheticParams

__all__ = ["run", "build_model", "SyntheticResults"]


def _grid(p: SyntheticParams) -> np.ndarray:
    if p.t_min >= p.T:
        raise RidgeTheoryError(f"`params.t_min` must be below `params.T` ({p.T:g}); got "
                               f"{p.t_min:g}.")
    return grids.exponential(p.T, p.t_min, p.steps)


def _save_indices(n_steps: int, n_save: int) -> np.ndarray:
    # always the end: the final distances are read from the last saved time
    return np.unique(np.r_[np.round(np.linspace(0, n_steps, n_save)).astype(int), n_steps])


def build_model(
    kind: str,
    density: SmoothedEmpirical,
    ridge: Ridge,
    p: SyntheticParams,
    size: float | None,
    seed: int,
    progress: bool,
    below: float | None = None,
    part: str | None = None,
) -> Any:
    """The score model of one run: ``exact``, ``injected``, ``random_features`` or ``mlp``.

    For ``injected``: ``part`` is "normal" or "tangent" (default the first swept part) and
    ``below`` switches the error on only at ``t <= below``."""
    if kind == "exact":
        return density
    if kind == "injected":
        inj = p.injected
        which = part if part is not None else _parts(inj)[0]
        sizes: dict[str, Any] = {"normal": 0.0, "tangent": 0.0}
        value = float(size if size is not None else 0.0)
        sizes[which] = value if below is None else (
            lambda t, v=value, b=below: np.where(np.asarray(t) <= b, v, 0.0))
        centre = density.data.mean(axis=0)
        units = getattr(inj, f"{which}_units") or inj.units
        return InjectedError(
            density,
            ridge,
            normal=sizes["normal"],
            tangent=sizes["tangent"],
            units=units,
            normal_direction=radial(centre) if inj.normal_direction == "radial" else None,
            tangent_direction=rotational(centre) if inj.tangent_direction == "rotational"
            else None,
        )
    if kind == "random_features":
        from ..random_features import RandomFeatureModel

        rf = p.rf
        T = rf.T if rf.T is not None else p.T
        model = RandomFeatureModel(
            rf.p,
            K=rf.K,
            T=T,
            activation=rf.activation,
            bias=rf.bias,
            parametrization=rf.parametrization,
            dim=density.dim,
            seed=seed,
            period=rf.period,
            embedding=rf.embedding,
            embedding_t0=rf.t0,
        )
        fit = model.fit(
            density.data,
            density.process,
            weight=rf.weight,
            t0=rf.t0,
            time_nodes=rf.time_nodes,
            quadrature=rf.quadrature,
            noise_draws=rf.noise_draws,
        )
        return fit.at(np.inf if rf.tau == "inf" else float(rf.tau))
    if kind == "mlp":
        from ..nn import train_score_mlp

        mlp = p.mlp
        return train_score_mlp(
            density.data,
            density.process,
            hidden=tuple(mlp.hidden),
            steps=mlp.steps,
            weight=mlp.weight,
            parametrization=mlp.parametrization,
            seed=seed,
            t0=mlp.t0,
            T=p.T,
            batch_size=mlp.batch_size,
            lr=mlp.lr,
            time_sampling=mlp.time_sampling,
            progress=progress,
        )
    raise RidgeTheoryError(
        f"`model` in the experiment config must be one of 'exact', 'injected', "
        f"'random_features', 'mlp'; got {kind!r}."
    )


def _parts(inj: InjectedParams) -> list[str]:
    """The injected parts a config sweeps: ``sweep = "normal"`` or a list of parts."""
    parts = [inj.sweep] if isinstance(inj.sweep, str) else list(inj.sweep)
    for x in parts:
        if x not in ("normal", "tangent"):
            raise RidgeTheoryError(
                f"`params.injected.sweep` must name 'normal' and/or 'tangent'; got {x!r}.")
    return parts


def _sizes(inj: InjectedParams, part: str, name: str) -> list[float]:
    own = getattr(inj, f"{part}_sizes")
    sizes = sorted(own if own is not None else inj.sizes)
    if not sizes:
        raise RidgeTheoryError(
            f"`params.injected.{part}_sizes` (or `sizes`) in {name} must list at least one "
            "size.")
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
    M = p.n_predict
    start = sample_pt(density, float(grid[0]), M, seed + 101)
    with warnings.catch_warnings():
        # the counts are recorded in the report (predicted_excluded), not printed per run
        warnings.simplefilter("ignore", PredictionWarning)
        both = predict(model, density, ridge, grid, start, seed=seed + 102,
                       method=p.method, align_seed=seed + 103)
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


def run(ctx: ExperimentContext) -> ExperimentResult:
    """Run one synthetic experiment (see the module docstring for the claims)."""
    p: SyntheticParams = ctx.params
    t_start = time.perf_counter()
    data = resolve(p.layout, ctx.config.base_dir, f"in {ctx.name}")
    if data.shape[1] < 2:
        raise RidgeTheoryError(
            f"`layout` of {ctx.name} must have points in D >= 2; got shape {data.shape}.")
    if not 1 <= p.ridge_dim < data.shape[1]:
        raise RidgeTheoryError(
            f"`params.ridge_dim` of {ctx.name} must be in [1, D - 1] = [1, {data.shape[1] - 1}]; "
            f"got {p.ridge_dim}.")
    process = OU()
    density = SmoothedEmpirical(data, process)
    ridge = Ridge(density, p.ridge_dim)
    grid = _grid(p)
    save_idx = _save_indices(len(grid) - 1, p.n_save)
    save_t = grid[save_idx]
    a_min = float(process.alpha(grid[-1]))
    centres = a_min * data
    radius = p.mode_radius
    n = p.n_samples
    n_measure = min(n, p.n_measure)
    kind = p.model
    backend = p.backend
    result = ExperimentResult()
    runs = []
    # An exact-score baseline accompanies every learned or injected model. All variants share
    # the simulation and prediction seeds, so trajectories are coupled through their noise:
    # differences between variants are the effect of the score error, not of the draw.
    variants: list[tuple[str, float | None, float | None, str | None]] = [
        ("exact", None, None, None)]
    if kind == "injected":
        inj = p.injected
        parts = _parts(inj)
        variants += [(kind, z, None, q) for q in parts for z in _sizes(inj, q, ctx.name)]
        if inj.below_start:
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
            method=p.method,
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
    res = SyntheticResults(
        name=ctx.name, seed=ctx.seed, params=p, density=density, ridge=ridge, grid=grid,
        centres=centres, radius=radius, runs=runs, main_runs=main_runs,
        late_runs=[r for r in runs if r["kind"] == "injected_below_start"])
    result.claims, records = ctx.check_claims(res)
    result.figures += figures.experiment_figures(
        ctx, density, ridge, [r for r in runs if r["below"] is None], main_runs, grid, save_t, p
    )
    result.data = _record(runs, save_t)
    result.data["claims"] = records
    result.data["summary"] = _summary(res)
    result.timings = {"total_s": time.perf_counter() - t_start}
    return result


@dataclass(frozen=True)
class SyntheticResults:
    """What the claim checks of a synthetic experiment read (they do not modify it).

    ``runs`` are dicts with ``kind``, ``size``, ``below``, ``part``, ``model``, ``traj``,
    ``meas`` (measured curves and resting places), ``pred`` (slide, align, reach and their
    curves); ``runs[0]`` is the exact-score baseline; ``main_runs`` those of the config's
    model; ``late_runs`` the normal errors switched on below the slide start."""

    name: str
    seed: int
    params: SyntheticParams
    density: SmoothedEmpirical
    ridge: Ridge
    grid: np.ndarray
    centres: np.ndarray
    radius: float
    runs: list[dict[str, Any]]
    main_runs: list[dict[str, Any]]
    late_runs: list[dict[str, Any]]

    def of(self, part: str) -> list[dict[str, Any]]:
        """The main runs of one injected part (all of them when the model is not injected)."""
        return [r for r in self.main_runs if r["part"] in (part, None)]


def _summary(res: SyntheticResults) -> dict[str, float]:
    """Scalars of the main run (the last of the config's model) that a sweep tabulates."""
    r = res.main_runs[-1]
    m, pr = r["meas"], r["pred"]
    return {
        "final_mean_distance": float(m["mean_distance"][-1]),
        "predicted_final_mean_distance": float(pr["align"].mean_distance[-1]),
        "intermode_measured": float(np.mean(m["labels"] < 0)),
        "intermode_predicted": float(pr["intermode"]),
        "slide_start_time": float(pr["slide"].start.time),
        "n_train": float(res.centres.shape[0]),
        "dim": float(res.centres.shape[1]),
    }


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
            }
        )
    return out
