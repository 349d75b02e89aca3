"""When does a random-feature model start to memorize? (``kind = "rf_memorization"``)

The closed-form fit (theory.md section 6) gives the read-out at every gradient-flow time
``tau`` from one eigendecomposition. For each ``tau`` of the config the reverse SDE is sampled
with the model and the memorization fraction (nearest / second-nearest training distance
below ``ratio``, Bonnaire et al. 2025) measured at ``t_min``; ``tau_mem`` is the flow time where
the fraction first reaches ``threshold``, interpolated linearly in ``log tau``. Every ``tau``
shares the simulation seed, so the curve against ``tau`` is coupled through the noise.

Parameters: :class:`ridgetheory.experiments.params.MemorizationParams`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import grids
from .._checks import RidgeTheoryError
from ..measure import memorization_fraction
from ..processes import OU
from ..simulate import simulate
from ..validate.claims import ExperimentContext, ExperimentResult, Verdict, register_claim
from ..validate.schema import param
from ..validate.values import Undetermined, at_least, below, between
from .layouts import resolve
from .params import MemorizationParams

__all__ = ["run", "crossing", "MemorizationResults"]

KIND = "rf_memorization"


def crossing(taus: np.ndarray, fractions: np.ndarray, level: float) -> float | None:
    """First ``tau`` where ``fractions`` reaches ``level``, linear in ``log tau`` between the
    two flow times around it; None when it never does (or already does at the first)."""
    f = np.asarray(fractions, dtype=np.float64)
    above = np.flatnonzero(f >= level)
    if above.size == 0 or above[0] == 0:
        return None
    j = int(above[0])
    lo, hi = np.log(taus[j - 1]), np.log(taus[j])
    w = (level - f[j - 1]) / (f[j] - f[j - 1])
    return float(np.exp(lo + w * (hi - lo)))


@dataclass(frozen=True)
class MemorizationResults:
    """What the claim checks read: flow times, fractions (with bootstrap bounds), tau_mem."""

    params: MemorizationParams
    taus: np.ndarray
    fraction: np.ndarray
    low: np.ndarray
    high: np.ndarray
    tau_mem: float | None


def run(ctx: ExperimentContext) -> ExperimentResult:
    """Fit once, sample at every flow time, measure memorization (see the module docstring)."""
    from ..random_features import RandomFeatureModel

    p: MemorizationParams = ctx.params
    t_start = time.perf_counter()
    taus = np.asarray(p.taus, dtype=np.float64)
    if taus.size < 2 or np.any(np.diff(taus) <= 0) or taus[0] <= 0:
        raise RidgeTheoryError(
            f"`params.taus` of {ctx.name} must be at least two increasing flow times > 0; got "
            f"{p.taus}.")
    if p.t_min >= p.T:
        raise RidgeTheoryError(f"`params.t_min` must be below `params.T` ({p.T:g}); got "
                               f"{p.t_min:g}.")
    data = resolve(p.layout, ctx.config.base_dir, f"in {ctx.name}")
    if data.shape[0] < 2:
        raise RidgeTheoryError(f"`layout` of {ctx.name} must have at least 2 points (the "
                               f"memorization ratio needs a second-nearest); got {data.shape[0]}.")
    process = OU()
    model = RandomFeatureModel(p.p, K=p.K, T=p.T, activation=p.activation,
                               parametrization=p.parametrization, dim=data.shape[1],
                               seed=ctx.seed + 7)
    t0 = time.perf_counter()
    nodes = (np.geomspace(p.t0, p.T, p.time_nodes) if p.time_spacing == "log"
             else p.time_nodes)
    fit = model.fit(data, process, weight=p.weight, t0=p.t0, time_nodes=nodes,
                    quadrature=p.quadrature, noise_draws=p.noise_draws, seed=ctx.seed + 5)
    fit.eig()
    t_fit = time.perf_counter() - t0
    grid = grids.exponential(p.T, p.t_min, p.steps)
    centres = float(process.alpha(p.t_min)) * data
    rows, near = [], []
    t0 = time.perf_counter()
    for tau in taus:
        # Euler-Maruyama, as when the shipped sweep results were made (simulate's default
        # became the exponential integrator later)
        traj = simulate(fit.at(float(tau)), process, n=p.n_samples, grid=grid, method="em",
                        seed=ctx.seed + 11, progress=False)
        rows.append(memorization_fraction(traj.final, centres, ratio=p.ratio, seed=ctx.seed))
        d1 = np.sqrt(((traj.final[:, None, :] - centres[None]) ** 2).sum(-1).min(axis=1))
        near.append(float(np.median(d1)))
    t_sim = time.perf_counter() - t0
    frac = np.array([r["fraction"] for r in rows])
    res = MemorizationResults(p, taus, frac, np.array([r["low"] for r in rows]),
                              np.array([r["high"] for r in rows]),
                              crossing(taus, frac, p.threshold))
    result = ExperimentResult()
    result.claims, records = ctx.check_claims(res)
    from ..plotting.experiments import memorization_curve

    name = f"{ctx.name}_memorization.png"
    memorization_curve(ctx.out_dir / name, res, title=f"{ctx.name}: n = {data.shape[0]}, "
                       f"D = {data.shape[1]}, p = {p.p}")
    result.figures.append(name)
    i_max = int(np.argmax(frac))
    result.data = {
        "taus": taus, "fraction": frac, "low": res.low, "high": res.high,
        # median distance of a sample to its nearest training point: small when memorized,
        # large when the samples leave the data (an overfitted read-out at large tau)
        "median_nearest_distance": near,
        "tau_mem": res.tau_mem,
        "tau_mem_undetermined": None if res.tau_mem is not None else (
            "the fraction never reaches the threshold" if frac[-1] < p.threshold
            else "the fraction is above the threshold already at the first flow time"),
        "n_train": int(data.shape[0]), "dim": int(data.shape[1]), "claims": records,
        "summary": {
            "tau_mem": res.tau_mem if res.tau_mem is not None else "undetermined",
            "log10_tau_mem": (float(np.log10(res.tau_mem)) if res.tau_mem is not None
                              else "undetermined"),
            "fraction_at_max_tau": float(frac[-1]),
            "fraction_at_min_tau": float(frac[0]),
            "max_fraction": float(frac[i_max]),
            "log10_tau_of_max": float(np.log10(taus[i_max])),
            "median_nearest_distance_at_max_tau": near[-1],
            "n_train": float(data.shape[0]),
            "p": float(p.p),
        },
    }
    result.timings = {"fit_s": t_fit, "simulate_s": t_sim, "total_s": time.perf_counter() - t_start}
    return result


@dataclass(frozen=True)
class FractionBound:
    bound: float = param(0.5, "the bound on the memorized share", low=0.0, high=1.0)


@register_claim(KIND, "memorizes", FractionBound)
def memorizes(res: MemorizationResults, s: FractionBound) -> Verdict:
    """At some flow time of the range the memorized share is at least ``bound``: the model
    does memorize, so there is an onset to measure."""
    i = int(np.argmax(res.fraction))
    return Verdict(at_least(s.bound),
                   {"max_fraction": float(res.fraction[i]), "tau": float(res.taus[i])},
                   None, bool(res.fraction[i] >= s.bound),
                   text=f"max over tau of the memorized share >= {s.bound:g}")


@register_claim(KIND, "generalizes_at_small_tau", FractionBound)
def generalizes_at_small_tau(res: MemorizationResults, s: FractionBound) -> Verdict:
    """At the smallest flow time the memorized share is below ``bound``."""
    return Verdict(below(s.bound), float(res.fraction[0]), None,
                   bool(res.fraction[0] < s.bound),
                   text=f"memorized share < {s.bound:g} at tau = {res.taus[0]:g}")


@register_claim(KIND, "tau_mem_found")
def tau_mem_found(res: MemorizationResults, s: Any) -> Verdict:
    """The memorization fraction crosses ``threshold`` inside the flow-time range."""
    found = res.tau_mem is not None
    return Verdict(between(res.taus[0], res.taus[-1]),
                   res.tau_mem if found else Undetermined(
                       f"the share never crosses {res.params.threshold:g} in the range"),
                   None, found,
                   text=f"the memorized share crosses {res.params.threshold:g} in "
                        f"[{res.taus[0]:g}, {res.taus[-1]:g}]")
