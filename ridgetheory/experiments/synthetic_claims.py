"""The claims of synthetic experiments, each a registered check with declared settings.

A config checks a claim by naming it, ``[claims.<name>]``, with any of the claim's settings
and the common keys ``description``, ``expect``, ``reason``. Each check reads
:class:`~ridgetheory.experiments.synthetic.SyntheticResults` and returns a
:class:`~ridgetheory.validate.claims.Verdict`; none modifies the results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._checks import RidgeTheoryError
from ..measure import allocation_test, memorization_fraction
from ..predict import PhaseTimes
from ..predict.phases import first_time_at_least
from ..validate.claims import Verdict, register_claim
from ..validate.schema import param
from ..validate.values import at_least, at_most, between

__all__ = ["KIND"]

KIND = "synthetic"


@dataclass(frozen=True)
class MemorizationSettings:
    min: float = param(0.95, "smallest memorized share that passes", low=0.0, high=1.0)
    run: str = param("main", "which run: the config's model ('main') or the exact-score "
                     "baseline ('exact')", choices=("main", "exact"))


@register_claim(KIND, "memorization", MemorizationSettings)
def memorization(res: Any, s: MemorizationSettings) -> Verdict:
    """Share of final samples that memorize (nearest/second-nearest ratio < 1/3) >= ``min``."""
    r = res.runs[0] if s.run == "exact" else res.main_runs[-1]
    mem = memorization_fraction(r["traj"].final, res.centres, seed=res.seed)
    return Verdict(at_least(s.min), mem, None, mem["fraction"] >= s.min,
                   text=f"memorized share >= {s.min:g}")


@dataclass(frozen=True)
class IncludeExact:
    include_exact: bool = param(False, "count the exact-score baseline as size 0")


def _normal_runs(res: Any, include_exact: bool) -> list[dict[str, Any]]:
    runs = res.of("normal")
    return [dict(res.runs[0], size=0.0)] + runs if include_exact else runs


@register_claim(KIND, "normal_distance_increases", IncludeExact)
def normal_distance_increases(res: Any, s: IncludeExact) -> Verdict:
    """Final mean distance to the ridge increases strictly with the normal error size."""
    runs = _normal_runs(res, s.include_exact)
    sizes = [r["size"] for r in runs]
    finals = [float(r["meas"]["mean_distance"][-1]) for r in runs]
    return Verdict(None, {"sizes": sizes, "final": finals}, None,
                   bool(np.all(np.diff(finals) > 0)),
                   text="final mean distance strictly increasing in the normal error size")


@dataclass(frozen=True)
class DistancePredictionSettings:
    factor: float = param(2.0, "largest allowed ratio of measured to predicted (either way)",
                          low=1.0)
    include_exact: bool = param(False, "count the exact-score baseline as size 0")


@register_claim(KIND, "normal_distance_prediction", DistancePredictionSettings)
def normal_distance_prediction(res: Any, s: DistancePredictionSettings) -> Verdict:
    """Final mean distance within a factor ``factor`` of the moment equations at every size."""
    runs = _normal_runs(res, s.include_exact)
    pred = [float(r["pred"]["align"].mean_distance[-1]) for r in runs]
    meas = [float(r["meas"]["mean_distance"][-1]) for r in runs]
    ratio = [m / q for m, q in zip(meas, pred, strict=True)]
    ok = all(1 / s.factor <= x <= s.factor for x in ratio)
    return Verdict(pred, {"final": meas, "ratio": ratio}, between(1 / s.factor, s.factor), ok,
                   text=f"measured/predicted final distance in [1/{s.factor:g}, {s.factor:g}] "
                        "at every size")


@dataclass(frozen=True)
class FactorSettings:
    factor: float = param(1.5, "largest allowed ratio to the exact-score level", low=1.0)


@register_claim(KIND, "tangent_keeps_distance", FactorSettings)
def tangent_keeps_distance(res: Any, s: FactorSettings) -> Verdict:
    """With a tangential error the final mean distance stays within ``factor`` of the
    exact-score run."""
    base = float(res.runs[0]["meas"]["mean_distance"][-1])
    meas = [float(r["meas"]["mean_distance"][-1]) for r in res.of("tangent")]
    return Verdict(at_most(s.factor * base), meas, {"factor": s.factor, "exact": base},
                   all(m <= s.factor * base for m in meas),
                   text=f"final mean distance <= {s.factor:g} x the exact-score run's")


def _signed_shift(points: np.ndarray, centres: np.ndarray, model: Any, t: float) -> float:
    """Mean displacement from the nearest centre along the injected tangent direction at the
    point (:meth:`InjectedError.directions`: the first axis on a straight ridge, the
    counter-clockwise tangent on a ring with a rotational field)."""
    d2 = ((points[:, None, :] - centres[None]) ** 2).sum(-1)
    near = centres[np.argmin(d2, axis=1)]
    _, u = model.directions(points, t)
    return float(np.mean(np.einsum("md,md->m", points - near, u)))


@dataclass(frozen=True)
class ShiftSettings:
    rtol: float = param(0.3, "relative tolerance", low=0.0)
    atol: float = param(0.02, "absolute tolerance", low=0.0)


@register_claim(KIND, "tangent_resting_shift", ShiftSettings)
def tangent_resting_shift(res: Any, s: ShiftSettings) -> Verdict:
    """The mean signed tangential displacement of final samples from their nearest training
    point matches the slide prediction within ``rtol`` (relative) + ``atol``."""
    runs = res.of("tangent")
    t_min = float(res.grid[-1])
    pred = [_signed_shift(r["pred"]["slide"].final[r["pred"]["slide"].usable], res.centres,
                          r["model"], t_min) for r in runs]
    meas = [_signed_shift(r["traj"].final, res.centres, r["model"], t_min) for r in runs]
    ok = all(abs(m - q) <= s.rtol * abs(q) + s.atol for m, q in zip(meas, pred, strict=True))
    return Verdict(pred, meas, {"rtol": s.rtol, "atol": s.atol}, ok,
                   text=f"|measured - predicted| <= {s.rtol:g} |predicted| + {s.atol:g}")


@dataclass(frozen=True)
class NormalBelowTangentSettings:
    ratio: float = param(100.0, "required E_T / E_N", low=0.0, low_open=True)
    t_late: float = param(0.1, "late times: t <= t_late", low=0.0, low_open=True)


@register_claim(KIND, "normal_below_tangent", NormalBelowTangentSettings)
def normal_below_tangent(res: Any, s: NormalBelowTangentSettings) -> Verdict:
    """Late in sampling (t <= ``t_late``), ``E_N <= E_T / ratio`` (training view)."""
    from ..error_profile import error_profile

    late = res.grid[res.grid <= s.t_late]
    if late.size == 0:
        raise RidgeTheoryError(
            f"claim 'normal_below_tangent' of {res.name}: no grid time is <= t_late = "
            f"{s.t_late:g} (t_min = {res.grid[-1]:g}).")
    times = late[:: max(1, len(late) // 12)]
    prof = error_profile(res.main_runs[-1]["model"], res.density, res.ridge, times,
                         n_samples=res.params.n_profile, seed=res.seed)
    en, et = np.asarray(prof.E_N).ravel(), np.asarray(prof.E_T).ravel()
    ratios = en / np.maximum(et, 1e-300)
    worst = float(np.max(ratios))
    return Verdict(at_most(1 / s.ratio),
                   {"max_ratio": worst,
                    "geometric_mean_ratio": float(np.exp(np.mean(np.log(np.maximum(ratios,
                                                                                    1e-300))))),
                    "E_N": en, "E_T": et},
                   None, worst <= 1 / s.ratio, record={"times": times},
                   text=f"max E_N/E_T <= {1 / s.ratio:g} for t <= {s.t_late:g}")


@dataclass(frozen=True)
class TubeSettings:
    tol: float = param(0.05, "allowed shortfall below 0.9", low=0.0, high=0.9)


@register_claim(KIND, "inside_tube", TubeSettings)
def inside_tube(res: Any, s: TubeSettings) -> Verdict:
    """The share of final samples within the predicted 90% distance quantile is
    >= 0.9 - ``tol``."""
    r = res.main_runs[-1]
    q90 = float(r["pred"]["align"].quantiles[-1, -1])
    frac = float(np.mean(r["meas"]["final_distance"] <= q90))
    return Verdict({"share": 0.9, "q90": q90}, frac, s.tol, frac >= 0.9 - s.tol,
                   text=f"share of final samples within the predicted q90 >= 0.9 - {s.tol:g}")


@dataclass(frozen=True)
class TolSettings:
    tol: float = param(0.1, "allowed absolute difference", low=0.0)


@register_claim(KIND, "intermode_fraction", TolSettings)
def intermode_fraction(res: Any, s: TolSettings) -> Verdict:
    """Measured inter-mode mass within ``tol`` of the predicted one."""
    r = res.main_runs[-1]
    pred = float(r["pred"]["intermode"])
    meas = float(np.mean(r["meas"]["labels"] < 0))
    return Verdict(pred, meas, s.tol, abs(meas - pred) <= s.tol,
                   text=f"|measured - predicted| inter-mode mass <= {s.tol:g}")


@dataclass(frozen=True)
class PhaseSettings:
    rate: float = param(10.0, "normal/tangent rate ratio that marks alignment", low=0.0,
                        low_open=True)


@register_claim(KIND, "phase_order", PhaseSettings)
def phase_order(res: Any, s: PhaseSettings) -> Verdict:
    """Measured (and predicted) phase times are ordered reach >= align >= slide."""
    r = res.main_runs[-1]
    m, pr = r["meas"], r["pred"]
    mc, pc = m["curves"], pr["curves"]
    measured = mc.phase_times(rate=s.rate)
    # predicted reach from the exact p_t mass (the reduced part starts below it)
    pa = pc.phase_times(rate=s.rate)
    predicted = PhaseTimes(reach=first_time_at_least(m["times"], pr["reach"].fraction, 0.9),
                           align=pa.align, slide=pa.slide)
    record = {
        "times": mc.times,
        "measured_median_ratio": mc.normal_rate / np.maximum(mc.tangent_rate, 1e-300),
        "measured_separation": mc.separation,
        "predicted_times": pc.times,
        "predicted_separation": pc.separation,
    }
    return Verdict(predicted.as_dict(), measured.as_dict(), None,
                   measured.ordered and predicted.ordered, record=record,
                   text="phase times ordered reach >= align >= slide, measured and predicted")


@dataclass(frozen=True)
class AlphaSettings:
    alpha: float = param(0.01, "significance level of the chi-square test", low=0.0,
                         high=1.0, low_open=True, high_open=True)


@register_claim(KIND, "allocation_matches", AlphaSettings)
def allocation_matches(res: Any, s: AlphaSettings) -> Verdict:
    """Resting counts per training point, predicted against simulated: chi-square homogeneity
    p-value >= ``alpha`` for every run."""
    rows = []
    for r in [x for x in res.runs if x["below"] is None]:
        test = allocation_test(r["pred"]["allocation"], r["meas"]["allocation"])
        rows.append({"model": r["kind"], "size": r["size"], "predicted": r["pred"]["allocation"],
                     "measured": r["meas"]["allocation"], **test})
    return Verdict(None,
                   {"runs": rows, "slide_start": res.runs[0]["pred"]["slide"].start.as_dict()},
                   {"alpha": s.alpha}, all(x["p_value"] >= s.alpha for x in rows),
                   text=f"chi-square p >= {s.alpha:g} for every run (predicted vs simulated)")


def _keeps_allocation(res: Any, s: AlphaSettings, pool: list[dict[str, Any]], name: str,
                      needs: str) -> Verdict:
    if not pool:
        raise RidgeTheoryError(f"claim {name!r} in experiment {res.name!r} needs {needs}.")
    base = res.runs[0]["meas"]["allocation"]
    rows = [{"size": r["size"], "below": r["below"], "measured": r["meas"]["allocation"],
             **allocation_test(r["meas"]["allocation"], base)} for r in pool]
    return Verdict({"exact": base}, {"runs": rows}, {"alpha": s.alpha},
                   all(x["p_value"] >= s.alpha for x in rows),
                   text=f"chi-square p >= {s.alpha:g} against the exact score at every size")


@register_claim(KIND, "normal_keeps_allocation", AlphaSettings)
def normal_keeps_allocation(res: Any, s: AlphaSettings) -> Verdict:
    """With a normal error the simulated allocation among training points stays that of the
    exact score (chi-square p >= ``alpha`` at every size): the directional claim."""
    return _keeps_allocation(res, s, res.of("normal"), "normal_keeps_allocation",
                             "injected normal runs")


@register_claim(KIND, "normal_keeps_allocation_below_start", AlphaSettings)
def normal_keeps_allocation_below_start(res: Any, s: AlphaSettings) -> Verdict:
    """The same with the normal error switched on only below the slide start (the last
    critical time); needs ``[params.injected] below_start = true``."""
    return _keeps_allocation(res, s, list(res.late_runs), "normal_keeps_allocation_below_start",
                             "injected runs and [params.injected] below_start = true")

