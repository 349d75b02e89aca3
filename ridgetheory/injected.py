"""Controlled score errors: the exact score plus a designed normal or tangential field.

This is the clean experiment for the directional claims of theory.md section 4: a purely
normal error should change the final distance to the ridge and not the position along it;
a purely tangential error should move samples along the ridge and leave them on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import _repr
from ._checks import RidgeTheoryError, check_array, check_choice
from .protocol import AbstractDensity, AbstractScoreModel

__all__ = ["InjectedError", "radial", "rotational"]

SizeProfile = float | Callable[[np.ndarray], np.ndarray]
DirectionField = Callable[[np.ndarray, np.ndarray], np.ndarray]


class radial:  # noqa: N801 (a field used like a function)
    """Direction field ``u(x) = x - centre``: outward from ``centre``.

    Used as ``normal_direction`` on a ring-shaped ridge it makes a positive ``normal`` error
    point outward (away from ``centre``) everywhere on the ridge.

    Parameters
    ----------
    centre : array of shape (D,), optional
        Default the origin.
    """

    def __init__(self, centre: Any = None):
        self.centre = None if centre is None else check_array(centre, "centre", "radial", ndim=1)

    def __call__(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        if self.centre is None:
            return np.array(x, dtype=np.float64)
        if self.centre.shape != (x.shape[1],):
            raise RidgeTheoryError(
                f"`centre` passed to radial must have shape ({x.shape[1]},); got "
                f"{self.centre.shape}.")
        return x - self.centre

    def __repr__(self) -> str:
        return f"radial(centre={None if self.centre is None else self.centre.tolist()})"


class rotational:  # noqa: N801
    """Direction field turning about ``centre`` in the plane of axes ``plane``: counter-clockwise
    (from axis ``plane[0]`` toward ``plane[1]``).

    Used as ``tangent_direction`` on a ring-shaped ridge a positive ``tangent`` error moves
    samples counter-clockwise along it.

    Parameters
    ----------
    centre : array of shape (D,), optional
        Default the origin.
    plane : tuple of two int, default=(0, 1)
    """

    def __init__(self, centre: Any = None, plane: tuple[int, int] = (0, 1)):
        self.centre = None if centre is None else check_array(centre, "centre", "rotational",
                                                              ndim=1)
        if (not isinstance(plane, (tuple, list)) or len(plane) != 2
                or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool)
                           and i >= 0 for i in plane)
                or plane[0] == plane[1]):
            raise RidgeTheoryError(
                f"`plane` passed to rotational must be two different non-negative axis "
                f"indices; got {plane!r}.")
        self.plane = (int(plane[0]), int(plane[1]))

    def __call__(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        D = x.shape[1]
        i, j = self.plane
        if max(i, j) >= D:
            raise RidgeTheoryError(
                f"`plane` passed to rotational names axis {max(i, j)}; the points have {D}.")
        r = x if self.centre is None else x - self.centre
        u = np.zeros_like(x, dtype=np.float64)
        u[:, i], u[:, j] = -r[:, j], r[:, i]
        return u

    def __repr__(self) -> str:
        c = None if self.centre is None else self.centre.tolist()
        return f"rotational(centre={c}, plane={self.plane})"


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


#: projections shorter than this times the reference are treated as vanishing (error 0)
VANISH_RTOL = 1e-8


def _unit_in(basis: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors along the projection of ``ref`` ((D,) or (M, D)) onto span(basis)
    (M, D, k), and where the projection vanishes (M,) (those rows are 0)."""
    ref2 = np.broadcast_to(ref, basis.shape[:2])
    coef = np.einsum("mdk,md->mk", basis, ref2)
    v = np.einsum("mdk,mk->md", basis, coef)
    norm = np.linalg.norm(v, axis=1)
    gone = ~(norm > VANISH_RTOL * np.linalg.norm(ref2, axis=1))
    safe = np.where(gone, 1.0, norm)
    return np.where(gone[:, None], 0.0, v / safe[:, None]), gone


class InjectedError(AbstractScoreModel):
    """Exact score of ``density`` plus a designed error that is purely normal or tangential.

    ``s_theta(x, t) = s(x, t) + e(x, t)`` with
    ``e = n(t) * unit(P_N(x, t) u_N(x, t)) + tau(t) * unit(P_T(x, t) u_T(x, t))`` where
    ``P_N, P_T`` are the ridge projectors at x, ``u_N, u_T`` reference directions (fixed
    vectors or direction fields), and ``n(t), tau(t)`` the chosen size profiles.

    Sign convention: a positive size points the error along the projected reference, so the
    sampler's drift ``g^2 e`` pushes samples that way. On a curved ridge a fixed reference
    flips sign or vanishes where it turns perpendicular to the local normal (or tangent)
    space; a field that follows the ridge does not, for example :class:`radial` (outward
    normal on a ring) and :class:`rotational` (counter-clockwise tangent).

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
    normal_direction, tangent_direction : array of shape (D,) or callable, optional
        Reference directions ``u_N`` (default: the last axis) and ``u_T`` (default: the first
        axis): a fixed vector, or a field ``u(x (M, D), t (M,)) -> (M, D)`` such as
        ``rt.injected.radial(centre)``. A fixed vector must be nonzero (it is normalized).
        Where the projection of a reference onto the local subspace vanishes (shorter than
        1e-8 times the reference) the error there is 0 and ``vanishing_calls`` counts it.

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
    >>> ring = rt.SmoothedEmpirical(3 * np.array([[1.0, 0], [0, 1], [-1, 0], [0, -1]]))
    >>> out = rt.InjectedError(ring, rt.Ridge(ring, 1), normal=1.0,
    ...                        normal_direction=rt.injected.radial())
    >>> e = out.error(np.array([[1.5, 1.45], [-1.45, -1.5]]), 0.05)
    >>> e.round(4).tolist()  # outward on both chords; a fixed reference points one way
    [[0.7071, 0.7071], [-0.7071, -0.7071]]
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
        self.vanishing_calls = 0

    def _direction(self, value, default, name):
        if value is None:
            return default
        if callable(value):
            return value
        v = check_array(value, name, "InjectedError", ndim=1)
        if v.shape != (self.dim,):
            raise RidgeTheoryError(
                f"`{name}` passed to InjectedError must be a nonzero vector of shape "
                f"({self.dim},) or a callable (x, t) -> (M, {self.dim}); got shape {v.shape}."
            )
        norm = np.linalg.norm(v)
        if not norm > 0:
            raise RidgeTheoryError(
                f"`{name}` passed to InjectedError must be a nonzero vector (a reference "
                f"direction, normalized to unit length); got the zero vector of shape "
                f"{v.shape}."
            )
        return v / norm

    def _unreproducible(self) -> str | None:
        """Why no code can rebuild this model (a callable it cannot write down), or None."""
        if not isinstance(self.density, _repr.Reproducible):
            return f"its density {type(self.density).__name__} has no reproducible repr"
        for arg, v in (("normal", self.normal_size), ("tangent", self.tangent_size),
                       ("normal_direction", self.normal_direction),
                       ("tangent_direction", self.tangent_direction)):
            if callable(v) and not isinstance(v, (radial, rotational)):
                return f"`{arg}` is the callable {v!r}"
        return None

    def _kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {"normal": self.normal_size, "tangent": self.tangent_size,
                              "units": self.units}
        D = self.dim
        for name, default in (("normal_direction", np.eye(D)[-1]),
                              ("tangent_direction", np.eye(D)[0])):
            v = getattr(self, name)
            if callable(v) or not np.array_equal(v, default):
                kw[name] = v
        return kw

    def _ridge_expr(self, density: str) -> str:
        from .ridge.frames import GAP_ATOL, GAP_RTOL

        r = self.ridge
        kw: dict[str, Any] = {"d": r.d}
        if r.gap_rtol != GAP_RTOL:
            kw["gap_rtol"] = r.gap_rtol
        if r.gap_atol != GAP_ATOL:
            kw["gap_atol"] = r.gap_atol
        if r.backend != "auto":
            kw["backend"] = r.backend
        return _repr.call("Ridge", _repr.Raw(density), **kw)

    def __repr__(self) -> str:
        """``InjectedError(density := <density>, Ridge(density, d=...), normal=..., ...)``,
        which evaluates back to an equal model, when the density prints in full and no size
        or direction is an arbitrary callable; else a summary (see :meth:`reproduce`)."""
        why = self._unreproducible()
        if why is None and not repr(self.density).startswith("<"):
            return _repr.call("InjectedError", _repr.Raw(f"density := {self.density!r}"),
                              _repr.Raw(self._ridge_expr("density")), **self._kwargs())
        note = ".reproduce() rebuilds it" if why is None else f"not reproducible: {why}"
        return _repr.summary("InjectedError", note, density=_repr.Raw(repr(self.density)),
                             d=self.ridge.d, **self._kwargs())

    _repr_pretty_ = _repr.Reproducible._repr_pretty_  # hypothesis prints the repr above

    def reproduce(self, name: str = "model") -> str:
        """Python code that rebuilds this model: imports, ``density = ...``, then ``name = ...``.

        Raises
        ------
        RidgeTheoryError
            A size profile or direction is a callable other than :class:`radial` and
            :class:`rotational`, or the density has no ``reproduce``.
        """
        why = self._unreproducible()
        if why is not None:
            raise RidgeTheoryError(f"InjectedError.reproduce cannot write this model: {why}.")
        density = "density" if name != "density" else "density_"
        expr = _repr.call("InjectedError", _repr.Raw(density), _repr.Raw(self._ridge_expr(density)),
                          **self._kwargs())
        return _repr.snippet([(density, self.density._expr()), (name, expr)])

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
        u_n, u_t, gone = self._directions(x, t, fr, np.any(n_size), np.any(t_size))
        e += n_size[:, None] * u_n + t_size[:, None] * u_t
        gone = (gone[0] & (n_size != 0)) | (gone[1] & (t_size != 0))
        self.vanishing_calls += int(gone.sum())
        und = np.asarray(fr.undetermined)
        if und.any():
            self.undetermined_calls += int(und.sum())
            e[und] = 0.0
        return e.astype(x.dtype)

    def directions(self, x: Any, t: Any) -> tuple[np.ndarray, np.ndarray]:
        """Unit normal and tangent directions of the error at ``x``: ``unit(P_N u_N)`` and
        ``unit(P_T u_T)`` (0 where the projection vanishes), each shaped like ``x``.

        The error is ``normal(t) * first + tangent(t) * second``; for example, the signed
        displacement of a resting place along the second is the tangential shift."""
        xx, tt, single = self._prepare(x, t, "directions")
        fr = self.ridge.frames(xx, tt)
        u_n, u_t, _ = self._directions(xx, tt, fr, True, True)
        return self._finish(u_n, single), self._finish(u_t, single)

    def _directions(self, x, t, fr, want_n, want_t):
        zero = np.zeros(x.shape, dtype=np.float64)
        none = np.zeros(len(x), dtype=bool)
        u_n, g_n = (_unit_in(fr.normal, self._reference(self.normal_direction, x, t,
                                                        "normal_direction"))
                    if want_n else (zero, none))
        u_t, g_t = ((_unit_in(fr.tangent, self._reference(self.tangent_direction, x, t,
                                                          "tangent_direction")))
                    if want_t and fr.tangent.shape[-1] else (zero, none))
        return u_n, u_t, (g_n, g_t)

    def _reference(self, ref: Any, x: np.ndarray, t: np.ndarray, name: str) -> np.ndarray:
        if not callable(ref):
            return ref
        u = np.asarray(ref(x, t), dtype=np.float64)
        if u.shape != x.shape or not np.all(np.isfinite(u)):
            got = f"shape {u.shape}" if u.shape != x.shape else "non-finite values"
            raise RidgeTheoryError(
                f"`{name}` passed to InjectedError must return finite directions of shape "
                f"{x.shape}; got {got}.")
        return u

    def _score(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        return self.density._score(x, t) + self._error(x, t)
