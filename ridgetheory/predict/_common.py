"""Small shared pieces of the prediction modules: process coefficients along a grid."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._checks import RidgeTheoryError
from ..protocol import AbstractDensity, AbstractScoreModel


def grid_coefficients(process, grid: np.ndarray) -> dict[str, np.ndarray]:
    """``f`` and ``g^2`` at the grid times and the backward step sizes ``dt_l = t_l - t_{l+1}``."""
    return {
        "f": np.asarray(process.drift_coefficient(grid), dtype=np.float64),
        "g2": np.asarray(process.diffusion_squared(grid), dtype=np.float64),
        "dt": grid[:-1] - grid[1:],
    }


def check_model(model: Any, density: Any, ridge: Any, where: str) -> None:
    if not isinstance(model, AbstractScoreModel) and not callable(getattr(model, "score", None)):
        raise RidgeTheoryError(
            f"`model` passed to {where} must be a score model with score(x, t); got "
            f"{type(model).__name__}."
        )
    if not isinstance(density, AbstractDensity):
        raise RidgeTheoryError(
            f"`density` passed to {where} must be a density such as rt.SmoothedEmpirical; got "
            f"{type(density).__name__}."
        )
    if getattr(ridge, "density", None) is not density:
        raise RidgeTheoryError(
            f"`ridge` passed to {where} must be rt.Ridge(density, d) of `density`."
        )
    if model.dim != density.dim:
        raise RidgeTheoryError(
            f"`model` passed to {where} has dimension {model.dim}; the density has {density.dim}."
        )


def score_error(model, density, x: np.ndarray, t: float) -> np.ndarray:
    """``e = s_theta - s`` at (M, D) points and one time."""
    return np.asarray(model.score(x, t), dtype=np.float64) - density.score(x, t)


def phi1(z: np.ndarray) -> np.ndarray:
    """``(e^z - 1) / z`` with its limit 1 at z = 0 (no cancellation for small |z|)."""
    z = np.asarray(z, dtype=np.float64)
    small = np.abs(z) < 1e-8
    safe = np.where(small, 1.0, z)
    return np.where(small, 1.0 + 0.5 * z, np.expm1(safe) / safe)


def at_mode(density, x: np.ndarray, t: float, eigenvalues: np.ndarray, tol: float) -> np.ndarray:
    """Which points (M, D) sit on a mode of ``p_t``: mean shift ``|m - x|`` below
    ``max(10 tol, 1e-6 sqrt(h_t))`` and every Hessian eigenvalue (M, D) negative.

    A member that has come to rest on a mode where two branches of the ridge meet (a corner
    of a polygonal ridge) has an undetermined frame there, but nothing to decide: the exact
    drift vanishes and no branch is taken. Such member-steps are counted, not excluded."""
    if not len(x):
        return np.zeros(0, dtype=bool)
    from ..ridge.frames import mean_shift

    h = float(density.process.h(t))
    ms = mean_shift(density, x, np.full(len(x), float(t)))
    return (np.linalg.norm(ms, axis=1) <= max(10 * tol, 1e-6 * np.sqrt(h))) & np.all(
        np.asarray(eigenvalues) < 0, axis=1)


def exclusion_counts(why: np.ndarray, reasons: tuple[str, ...]) -> dict[str, int]:
    """Members left out by reason: ``why`` (M,) holds 0 (kept) or an index into ``reasons``."""
    return {r: int(np.sum(why == i)) for i, r in enumerate(reasons) if i and np.any(why == i)}


def describe_exclusions(counts: dict[str, int]) -> str:
    """``"3 start undetermined, 1 final unconverged"`` for the warnings and errors."""
    return ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items()) or "none"
