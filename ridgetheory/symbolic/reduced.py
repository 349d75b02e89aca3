"""Exact reduced dynamics along a straight ridge (theory.md sections 3 and 4).

For collinear training points ``y_i = p0 + u_i e`` (unit direction ``e``, foot ``p0`` of the
perpendicular from the origin, ``p0 . e = 0``) every centre ``a_t y_i`` lies on the line
``a_t L``; reflection symmetry makes that line a 1-ridge of ``p_t`` at every t. Write a point as
``x = a_t p0 + u e + nu`` with ``nu`` normal to ``e`` and orthogonal to the line's offset
direction. Then, exactly (not linearised):

* the tangential score depends on ``u`` only: ``s_1(u, t) = (sum_i g_i a_t u_i - u) / h_t``,
  the score of the one-dimensional smoothed empirical density of the ``u_i``;
* the normal Hessian eigenvalue is ``-1/h_t`` everywhere;
* on the backward clock ``s`` the reverse SDE splits into
  ``du  = [-f u + g^2 (s_1(u, t) + e_T)] ds + g dB_1`` and
  ``dnu = [-k_t nu + g^2 e_N] ds + g dB_N`` with ``k_t = f + g^2 / h_t``
  (OU: ``f = -1``, ``g^2 = 2``: ``du = [u + 2 s_1 + 2 e_T] ds + sqrt(2) dB`` and
  ``k_t = 2/h_t - 1``); the probability-flow ODE has ``g^2 / 2`` in place of ``g^2``, no noise,
  and normal rate ``f + g^2 / (2 h_t)``;
* the normal moments per direction obey the linear equations
  ``dmu/ds = -k_t mu + g^2 e_N`` and ``dv/ds = -2 k_t v + g^2`` (SDE; ODE: ``-2 k v``).

For OU with a constant normal error these integrate in closed form
(:meth:`ReducedRidgeDynamics.normal_moment_solution`):
``mu(t) = sinh t [mu_T / sinh T + 2 e_N (ln tanh(T/2) - ln tanh(t/2))]`` and
``v(t) = sinh^2 t [v_T / sinh^2 T + 2 (coth t - coth T)]``; at small t the mean grows like
``2 e_N t ln(1/t)`` and the variance like ``2 t`` (theory.md section 4).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp

from .._checks import RidgeTheoryError, check_array, check_choice
from .._mixture import anchored_softmax
from ._common import T, exact_points, process_functions

__all__ = ["ReducedRidgeDynamics"]

_WHERE = "ReducedRidgeDynamics"


class ReducedRidgeDynamics:
    """Exact one-dimensional sampler dynamics along the ridge of collinear points.

    Parameters
    ----------
    points : sequence of n >= 2 tuples of length D
        Collinear training points (exact numbers, not symbols: the numeric methods need
        values; floats are taken at their exact binary value).
    process : {"ou", "ve"} or (alpha, h), default="ou"
        As for ``SymbolicDensity``.

    Attributes
    ----------
    u, t : sympy.Symbol
        Coordinate along the ridge and time.
    e_T, e_N, mu, v : sympy.Symbol
        Tangential and normal score errors, normal mean and normal variance.
    direction : tuple of sympy.Expr
        Unit vector ``e`` (from the first point to the last).
    foot : tuple of sympy.Expr
        ``p0``, the point of the line closest to the origin; the ridge at time t is
        ``{a_t p0 + u e}``.
    positions : tuple of sympy.Expr
        ``u_i = e . y_i``.
    alpha, h, f, g2 : sympy.Expr
        ``a_t``, ``h_t``, the drift coefficient ``a'/a`` and the squared diffusion
        ``h' - 2 f h``.
    score_expr : sympy.Expr
        Tangential score ``s_1(u, t)``.
    tangent_curvature_expr, normal_curvature_expr : sympy.Expr
        Hessian eigenvalues along and across the ridge on the ridge: ``d s_1 / du`` and
        ``-1/h_t``.
    normal_rate_expr : sympy.Expr
        ``k_t = f + g^2 / h_t`` (OU: ``2/h_t - 1``).

    Examples
    --------
    >>> import numpy as np, sympy as sp
    >>> from ridgetheory.symbolic import ReducedRidgeDynamics
    >>> r = ReducedRidgeDynamics([(-3, 0), (3, 0)])
    >>> r.normal_rate_expr          # k_t = 2/h_t - 1 for OU
    1/tanh(t)
    >>> r.moment_equations()["mean"]
    e_N*g2(t) - mu*k(t)
    >>> r.drift(np.array([0.0, 1.0]), 1.0, error=0.1).round(6)
    array([0.2     , 1.070889])
    """

    def __init__(self, points: Any, process: Any = "ou"):
        pts = exact_points(points, _WHERE)
        if any(v.free_symbols for p in pts for v in p):
            raise RidgeTheoryError(f"`points` passed to {_WHERE} must be numbers (the numeric "
                                   f"methods need values); use SymbolicDensity for symbols.")
        if len(pts) < 2:
            raise RidgeTheoryError(f"`points` passed to {_WHERE} must hold at least two "
                                   f"points; got {len(pts)}.")
        Y = [sp.Matrix(p) for p in pts]
        span = Y[-1] - Y[0]
        for y in Y:
            if (y - Y[0]).norm() == 0:
                continue
            if span.norm() == 0:
                span = y - Y[0]
        if span.norm() == 0:
            raise RidgeTheoryError(f"`points` passed to {_WHERE} must contain two distinct "
                                   f"points.")
        e = span / span.norm()
        for y in Y:
            d = y - Y[0]
            if sp.simplify((d - d.dot(e) * e).norm()) != 0:
                raise RidgeTheoryError(f"`points` passed to {_WHERE} must be collinear; "
                                       f"{tuple(y)} is off the line.")
        self.points = pts
        self.dim = len(pts[0])
        self.direction = tuple(sp.simplify(v) for v in e)
        self.positions = tuple(sp.simplify(y.dot(e)) for y in Y)
        self.foot = tuple(sp.simplify(v) for v in (Y[0] - Y[0].dot(e) * e))
        self.alpha, self.h, self.process = process_functions(process, _WHERE)
        self.t = T
        self.u = sp.Symbol("u", real=True)
        self.e_T, self.e_N = sp.symbols("e_T e_N", real=True)
        self.mu = sp.Symbol("mu", real=True)
        self.v = sp.Symbol("v", nonnegative=True)
        a, h = self.alpha, self.h
        self.f = sp.simplify(sp.diff(a, T) / a)
        self.g2 = sp.simplify(sp.diff(h, T) - 2 * self.f * h)
        E = [sp.exp(-(self.u - a * ui) ** 2 / (2 * h)) for ui in self.positions]
        Z = sp.Add(*E)
        m = sp.Add(*[w * a * ui for w, ui in zip(E, self.positions, strict=True)]) / Z
        self.score_expr = (m - self.u) / h
        self.tangent_curvature_expr = sp.diff(self.score_expr, self.u)
        self.normal_curvature_expr = -1 / h
        self.normal_rate_expr = sp.simplify(self.f + self.g2 / h)
        # numeric helpers
        self._u_np = np.array([float(ui) for ui in self.positions])
        self._a = sp.lambdify(T, a, "numpy")
        self._h = sp.lambdify(T, h, "numpy")
        self._f = sp.lambdify(T, self.f, "numpy")
        self._g2 = sp.lambdify(T, self.g2, "numpy")

    def __repr__(self) -> str:
        return f"ReducedRidgeDynamics(positions={list(self.positions)}, process={self.process!r})"

    # -- symbolic ------------------------------------------------------------------------
    def drift_expr(self, kind: str = "sde") -> sp.Expr:
        """Drift of ``u`` on the backward clock, with the tangential error symbol ``e_T``.

        Parameters
        ----------
        kind : {"sde", "ode"}, default="sde"
            Reverse SDE (``-f u + g^2 (s_1 + e_T)``) or probability flow (``g^2 / 2``).
        """
        kind = check_choice(kind, "kind", f"{_WHERE}.drift_expr", ("sde", "ode"))
        c = self.g2 if kind == "sde" else self.g2 / 2
        return -self.f * self.u + c * (self.score_expr + self.e_T)

    def moment_equations(self, kind: str = "sde", explicit: bool = False) -> dict[str, sp.Expr]:
        """Right-hand sides ``dmu/ds`` and ``dv/ds`` of the normal-moment equations.

        Parameters
        ----------
        kind : {"sde", "ode"}, default="sde"
        explicit : bool, default=False
            False: in terms of ``k(t)`` and ``g2(t)`` (undefined functions, readable);
            True: with this process's ``k_t`` and ``g_t^2`` substituted.

        Returns
        -------
        dict with keys "mean" and "variance" (sympy.Expr in mu, v, t, e_N)

        Notes
        -----
        SDE: ``dmu/ds = -k mu + g^2 e_N``, ``dv/ds = -2 k v + g^2`` with ``k = f + g^2/h``
        (OU: ``(1 - 2/h) mu + 2 e_N`` and ``2 (1 - 2/h) v + 2``). ODE:
        ``k = f + g^2/(2h)``, ``dmu/ds = -k mu + (g^2/2) e_N``, ``dv/ds = -2 k v``.
        """
        kind = check_choice(kind, "kind", f"{_WHERE}.moment_equations", ("sde", "ode"))
        k, g2 = sp.Function("k")(T), sp.Function("g2")(T)
        if kind == "sde":
            eqs = {"mean": -k * self.mu + g2 * self.e_N, "variance": -2 * k * self.v + g2}
            rate = self.normal_rate_expr
        else:
            eqs = {"mean": -k * self.mu + g2 / 2 * self.e_N, "variance": -2 * k * self.v}
            rate = sp.simplify(self.f + self.g2 / (2 * self.h))
        if explicit:
            eqs = {key: sp.expand(ex.subs({k: rate, g2: self.g2})) for key, ex in eqs.items()}
        return eqs

    def normal_moment_solution(self) -> dict[str, sp.Expr]:
        """OU closed-form normal moments for a constant normal error (SDE).

        Returns
        -------
        dict with keys "mean" and "variance"
            Expressions in ``t``, the start time ``T_0`` (symbol ``T``), the start moments
            ``mu_T``, ``v_T`` and ``e_N``; see the module docstring.
        """
        if self.process != "ou":
            raise RidgeTheoryError(f"{_WHERE}.normal_moment_solution is available for process "
                                   f"'ou' only; integrate moment_rhs numerically otherwise.")
        T0 = sp.Symbol("T", positive=True)
        mu_T, v_T = sp.symbols("mu_T v_T", real=True)
        t = T
        mean = sp.sinh(t) * (mu_T / sp.sinh(T0) + 2 * self.e_N * (
            sp.log(sp.tanh(T0 / 2)) - sp.log(sp.tanh(t / 2))))
        var = sp.sinh(t) ** 2 * (v_T / sp.sinh(T0) ** 2 + 2 * (sp.coth(t) - sp.coth(T0)))
        return {"mean": mean, "variance": var}

    # -- numeric -------------------------------------------------------------------------
    def _ut(self, u: Any, t: Any, method: str) -> tuple[np.ndarray, np.ndarray]:
        where = f"{_WHERE}.{method}"
        uu = check_array(u, "u", where)
        tt = check_array(t, "t", where)
        if tt.size and np.any(tt <= 0):
            raise RidgeTheoryError(f"`t` passed to {where} must be finite and > 0; got "
                                   f"{float(tt.reshape(-1)[np.argmax(tt.reshape(-1) <= 0)])}.")
        try:
            uu, tt = np.broadcast_arrays(uu, tt)
        except ValueError as exc:
            raise RidgeTheoryError(f"`t` passed to {where} must broadcast against u; got "
                                   f"shapes {uu.shape} and {tt.shape}.") from exc
        return uu, tt

    def _coef(self, fn: Callable, t: np.ndarray) -> np.ndarray:
        return np.broadcast_to(np.asarray(fn(t), dtype=np.float64), t.shape)

    def score(self, u: Any, t: Any) -> np.ndarray:
        """Tangential score ``s_1(u, t)`` (log-sum-exp, anchored: accurate as t -> 0).

        Parameters
        ----------
        u : array_like, float64
            Coordinates along the ridge (any shape).
        t : float or array_like broadcasting against u, > 0

        Returns
        -------
        array of the broadcast shape, float64
        """
        shape, uf, a, h, ui, r, k = self._posterior(u, t, "score")
        offset = (a * ui[k] - uf) + a * (r @ ui - r.sum(axis=1) * ui[k])
        return (offset / h).reshape(shape)

    def drift(self, u: Any, t: Any, error: Any = 0.0, kind: str = "sde") -> np.ndarray:
        """Drift of ``u`` on the backward clock: ``-f u + g^2 (s_1(u, t) + e_T)``.

        Parameters
        ----------
        u : array_like, float64
            Coordinates along the ridge (any shape).
        t : float or array_like broadcasting against u, > 0
        error : float, array_like or callable, default=0.0
            Tangential score error ``e_T``: a number, an array broadcasting against u, or a
            function ``error(u, t)`` returning one.
        kind : {"sde", "ode"}, default="sde"
            ``g^2`` (reverse SDE) or ``g^2 / 2`` (probability flow).

        Returns
        -------
        array of the broadcast shape, float64
        """
        kind = check_choice(kind, "kind", f"{_WHERE}.drift", ("sde", "ode"))
        uu, tt = self._ut(u, t, "drift")
        err = error(uu, tt) if callable(error) else error
        err = check_array(err, "error", f"{_WHERE}.drift")
        c = self._coef(self._g2, tt) * (1.0 if kind == "sde" else 0.5)
        return -self._coef(self._f, tt) * uu + c * (self.score(uu, tt) + err)

    def diffusion(self, t: Any) -> np.ndarray:
        """Noise amplitude ``g_t`` of the reverse SDE (OU: ``sqrt(2)``), shape of t."""
        _, tt = self._ut(0.0, t, "diffusion")
        return np.sqrt(self._coef(self._g2, tt))

    def normal_rate(self, t: Any, kind: str = "sde") -> np.ndarray:
        """Normal contraction rate ``k_t`` (SDE: ``f + g^2/h``; OU ``2/h_t - 1``), shape of t.

        ``kind="ode"`` gives the probability-flow rate ``f + g^2/(2 h)`` (OU ``1/h_t - 1``).
        """
        kind = check_choice(kind, "kind", f"{_WHERE}.normal_rate", ("sde", "ode"))
        _, tt = self._ut(0.0, t, "normal_rate")
        c = 1.0 if kind == "sde" else 0.5
        return self._coef(self._f, tt) + c * self._coef(self._g2, tt) / self._coef(self._h, tt)

    def _posterior(self, u: Any, t: Any, name: str):
        """Anchored posterior weights over the points on the line (score and curvature)."""
        uu, tt = self._ut(u, t, name)
        uf, tf = uu.reshape(-1), tt.reshape(-1)
        a, h = self._coef(self._a, tf), self._coef(self._h, tf)
        ui = self._u_np
        logits = -((uf[:, None] - a[:, None] * ui[None, :]) ** 2) / (2 * h[:, None])
        r, _, k, _ = anchored_softmax(logits)
        return uu.shape, uf, a, h, ui, r, k

    def tangent_curvature(self, u: Any, t: Any) -> np.ndarray:
        """Hessian eigenvalue along the ridge, ``-1/h + Var_g(a u_i)/h^2``, broadcast shape."""
        shape, uf, a, h, ui, r, k = self._posterior(u, t, "tangent_curvature")
        d = a[:, None] * (ui[None, :] - ui[k][:, None])
        m1 = np.einsum("mk,mk->m", r, d)
        var = np.einsum("mk,mk->m", r, d * d) - m1 * m1
        return (-1.0 / h + var / h**2).reshape(shape)

    def moment_rhs(self, t: Any, mu: Any, v: Any, error: Any = 0.0,
                   kind: str = "sde") -> tuple[np.ndarray, np.ndarray]:
        """Numeric right-hand sides ``(dmu/ds, dv/ds)`` of :meth:`moment_equations`.

        Parameters
        ----------
        t : float or array_like, > 0
        mu, v : array_like, float64
            Normal mean and variance per direction (broadcast against t).
        error : float or array_like, default=0.0
            Normal score error ``e_N``.
        kind : {"sde", "ode"}, default="sde"

        Returns
        -------
        (dmu, dv) : tuple of arrays of the broadcast shape, float64
        """
        kind = check_choice(kind, "kind", f"{_WHERE}.moment_rhs", ("sde", "ode"))
        where = f"{_WHERE}.moment_rhs"
        mu = check_array(mu, "mu", where)
        v = check_array(v, "v", where)
        err = check_array(error, "error", where)
        _, tt = self._ut(0.0, t, "moment_rhs")
        k = self.normal_rate(tt, kind)
        g2 = self._coef(self._g2, tt)
        if kind == "sde":
            return -k * mu + g2 * err, -2.0 * k * v + g2
        return -k * mu + 0.5 * g2 * err, -2.0 * k * v

    def normal_moments(self, t: Any, t_start: float, mu_start: Any = 0.0, v_start: Any = 0.0,
                       error: Any = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """OU closed-form normal mean and variance at times ``t <= t_start`` (SDE).

        Parameters
        ----------
        t : float or array_like
            Times in (0, t_start].
        t_start : float
            Start time ``T`` of the reverse run.
        mu_start, v_start : float or array_like, default=0.0
            Normal mean and variance at ``t_start``.
        error : float or array_like, default=0.0
            Constant normal score error ``e_N``.

        Returns
        -------
        (mean, variance) : tuple of float64 arrays, broadcast shape

        Examples
        --------
        >>> from ridgetheory.symbolic import ReducedRidgeDynamics
        >>> r = ReducedRidgeDynamics([(-3, 0), (3, 0)])
        >>> mean, var = r.normal_moments(1e-3, 10.0, error=1.0)
        >>> round(float(mean), 4), round(float(var ** 0.5), 4)
        (0.0152, 0.0447)
        """
        if self.process != "ou":
            raise RidgeTheoryError(f"{_WHERE}.normal_moments is available for process 'ou' "
                                   f"only; integrate moment_rhs numerically otherwise.")
        where = f"{_WHERE}.normal_moments"
        tt = check_array(t, "t", where)
        T0 = float(check_array(t_start, "t_start", where, ndim=0))
        if tt.size and (np.any(tt <= 0) or np.any(tt > T0)):
            raise RidgeTheoryError(f"`t` passed to {where} must lie in (0, t_start = {T0}].")
        mu0 = check_array(mu_start, "mu_start", where)
        v0 = check_array(v_start, "v_start", where)
        err = check_array(error, "error", where)
        s = np.sinh(tt)
        lt = np.log(np.tanh(0.5 * T0)) - np.log(np.tanh(0.5 * tt))
        mean = s * (mu0 / np.sinh(T0) + 2.0 * err * lt)
        # coth t - coth T written as sinh(T - t) / (sinh t sinh T): no cancellation
        var = s**2 * v0 / np.sinh(T0) ** 2 + 2.0 * s * np.sinh(T0 - tt) / np.sinh(T0)
        return mean, var
