"""Controlled score errors: the exact score plus a designed normal or tangential field.

This is the clean experiment for the directional claims of theory.md section 4: a purely
normal error should change the final distance to the ridge and not the position along it;
a purely tangential error should move samples along the ridge and leave them on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._checks import RidgeTheoryError, check_array, check_choice
from .protocol import AbstractDensity, AbstractScoreModel

__all__ = ["InjectedError"]

SizeProfile = float | Callable[[np.ndarray], np.ndarray]


def _profile(value: Any, name: str) -> Callable[[np.ndarray], np.ndarray]:
    if callable(value):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise RidgeTheoryError(
            f"`{name}` passed to InjectedError must be a number or a callable of t; got "
            f"{type(value).__name__}."
        )
    if not np.isfinite(value):
        raise RidgeTheoryError(f"`{name}` passed to InjectedError must be finite; got {value}.")
    size = float(value)
    return lambda t: np.full(np.shape(t), size)


def _unit_in(basis: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Unit vector along the projection of ``ref`` (D,) onto span(basis) (M, D, k)."""
    coef = np.einsum("mdk,d->mk", basis, ref)
    v = np.einsum("mdk,mk->md", basis, coef)
    norm = np.linalg.norm(v, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norm > 1e-12, v / norm, 0.0)


class InjectedError(AbstractScoreModel):
    """Exact score of ``density`` plus a designed error that is purely normal or tangential.

    ``s_theta(x, t) = s(x, t) + e(x, t)`` with
    ``e = n(t) * unit(P_N(x, t) u_N) + tau(t) * unit(P_T(x, t) u_T)`` where ``P_N, P_T`` are the
    ridge projectors at x, ``u_N, u_T`` fixed reference directions, and ``n(t), tau(t)`` the
    chosen size profiles.

    Parameters
    ----------
    density : AbstractDensity
        The smoothed training density (its score is the exact part).
    ridge : Ridge
        Ridge of ``density`` whose frames split the error (``ridge.density`` should be
        ``density``).
    normal, tangent : float or callable, default=0.0
        Size of the normal and tangential error; a callable maps times (M,) to sizes (M,).
    units : {"score", "denoiser"}, default="score"
        ``"score"``: sizes are in score units. ``"denoiser"``: sizes are denoiser errors
        ``|m_theta - m|``, so the score error is ``size / h_t`` (theory.md section 3).
    normal_direction, tangent_direction : array of shape (D,), optional
        Reference directions ``u_N`` (default: the last axis) and ``u_T`` (default: the first
        axis). Where a reference is orthogonal to the local subspace the error there is 0.

    Notes
    -----
    Frames are those of ``ridge.frames`` at the query point itself. Where the frame is
    flagged undetermined the designed error is set to zero there (no arbitrary direction is
    trusted); ``undetermined_calls`` counts such evaluations.

    Examples
    --------
    >>> import numpy as np, ridgetheory as rt
    >>> p = rt.SmoothedEmpirical(np.array([[-3.0, 0.0], [3.0, 0.0]]))
    >>> m = rt.InjectedError(p, rt.Ridge(p, 1), normal=0.5)
    >>> (m.score([1.0, 0.0], 0.5) - p.score([1.0, 0.0], 0.5)).round(12)
    array([0. , 0.5])
    """

    def __init__(
        self,
        density: AbstractDensity,
        ridge: Any,
        normal: SizeProfile = 0.0,
        tangent: SizeProfile = 0.0,
        *,
        units: str = "score",
        normal_direction: Any = None,
        tangent_direction: Any = None,
    ):
        where = "InjectedError"
        if not isinstance(density, AbstractDensity):
            raise RidgeTheoryError(
                f"`density` passed to {where} must be a density such as rt.SmoothedEmpirical; "
                f"got {type(density).__name__}."
            )
        if not hasattr(ridge, "frames") or getattr(ridge, "density", None) is not density:
            raise RidgeTheoryError(
                f"`ridge` passed to {where} must be rt.Ridge(density, d) of the same density."
            )
        self.density, self.ridge = density, ridge
        self.process, self.dim, self.dtype = density.process, density.dim, density.dtype
        self.units = check_choice(units, "units", where, ("score", "denoiser"))
        self._normal = _profile(normal, "normal")
        self._tangent = _profile(tangent, "tangent")
        self.normal_size, self.tangent_size = normal, tangent
        D = self.dim
        self.normal_direction = self._direction(normal_direction, np.eye(D)[-1], "normal_direction")
        self.tangent_direction = self._direction(
            tangent_direction, np.eye(D)[0], "tangent_direction"
        )
        self.undetermined_calls = 0

    def _direction(self, value, default, name):
        if value is None:
            return default
        v = check_array(value, name, "InjectedError", ndim=1)
        if v.shape != (self.dim,) or not np.linalg.norm(v) > 0:
            raise RidgeTheoryError(
                f"`{name}` passed to InjectedError must be a nonzero vector of shape "
                f"({self.dim},); got shape {v.shape}."
            )
        return v / np.linalg.norm(v)

    def __repr__(self) -> str:
        return (
            f"InjectedError({self.density!r}, d={self.ridge.d}, normal={self.normal_size!r}, "
            f"tangent={self.tangent_size!r}, units={self.units!r})"
        )

    def error(self, x: Any, t: Any) -> np.ndarray:
        """The designed score error ``e(x, t)``, shape as ``x``."""
        xx, tt, single = self._prepare(x, t, "error")
        return self._finish(self._error(xx, tt), single)

    def _error(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        n_size = np.broadcast_to(np.asarray(self._normal(t), dtype=np.float64), t.shape)
        t_size = np.broadcast_to(np.asarray(self._tangent(t), dtype=np.float64), t.shape)
        if self.units == "denoiser":
            h = self.process.h(t)
            n_size, t_size = n_size / h, t_size / h
        e = np.zeros_like(x, dtype=np.float64)
        if not (np.any(n_size) or np.any(t_size)):
            return e.astype(x.dtype)
        fr = self.ridge.frames(x, t)
        if np.any(n_size):
            e += n_size[:, None] * _unit_in(fr.normal, self.normal_direction)
        if np.any(t_size) and fr.tangent.shape[-1]:
            e += t_size[:, None] * _unit_in(fr.tangent, self.tangent_direction)
        und = np.asarray(fr.undetermined)
        if und.any():
            self.undetermined_calls += int(und.sum())
            e[und] = 0.0
        return e.astype(x.dtype)

    def _score(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        return self.density._score(x, t) + self._error(x, t)
