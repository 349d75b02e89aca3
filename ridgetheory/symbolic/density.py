"""Exact smoothed empirical densities for small configurations (theory.md section 1).

:class:`SymbolicDensity` writes ``p_t(x) = (1/n) sum_i N(x; a_t y_i, h_t I)`` for a handful of
points with exact (rational or symbolic) coordinates as sympy expressions in ``x_1 .. x_D`` and
``t``, and turns them into numpy functions with :meth:`SymbolicDensity.lambdify`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import sympy as sp

from .._checks import RidgeTheoryError, check_points, check_times
from ._common import T, coordinate_symbols, exact_points, parameter_values, process_functions

__all__ = ["SymbolicDensity", "LambdifiedDensity"]


class SymbolicDensity:
    """The smoothed empirical density of a small configuration, as sympy expressions.

    Parameters
    ----------
    points : sequence of n tuples of length D
        Training points; entries are integers, floats (taken at their exact binary value),
        rationals or sympy expressions such as a separation ``c = sympy.Symbol("c",
        positive=True)``.
    process : {"ou", "ve"} or (alpha, h), default="ou"
        ``"ou"``: ``a_t = exp(-t)``, ``h_t = 1 - exp(-2 t)``; ``"ve"``: ``a_t = 1``,
        ``h_t = t``; or a pair of sympy expressions in a symbol named ``t``.

    Attributes
    ----------
    x : tuple of D sympy.Symbol
        Coordinates ``x_1 .. x_D`` (real).
    t : sympy.Symbol
        Time (positive).
    alpha, h : sympy.Expr
        ``a_t`` and ``h_t``.
    parameters : tuple of sympy.Symbol
        Free symbols of the points (sorted by name); :meth:`lambdify` needs values for them.
    weights : list of n sympy.Expr
        Posterior weights ``g_i = softmax_i(-|x - a_t y_i|^2 / (2 h_t))``.
    log_prob : sympy.Expr
        ``log p_t(x)``.
    denoiser : sympy.Matrix (D, 1)
        ``m = sum_i g_i a_t y_i``.
    score : sympy.Matrix (D, 1)
        ``(m - x) / h_t`` (theory.md section 1; the tests check it is ``grad log p_t``).
    posterior_covariance : sympy.Matrix (D, D)
        ``S = sum_i g_i (a_t y_i - m)(a_t y_i - m)^T``.
    hessian : sympy.Matrix (D, D)
        ``-I / h_t + S / h_t^2``.

    Examples
    --------
    >>> import sympy as sp
    >>> from ridgetheory.symbolic import SymbolicDensity
    >>> c = sp.Symbol("c", positive=True)
    >>> p = SymbolicDensity([(-c, 0), (c, 0)])
    >>> sp.simplify(p.score[1].subs(p.x[1], 0))   # no normal score on the axis
    0
    >>> f = p.lambdify(c=3)
    >>> f.score([[0.5, 0.0]], 1.0).round(6) + 0.0   # + 0.0 turns -0. into 0.
    array([[0.14119, 0.     ]])
    """

    def __init__(self, points: Any, process: Any = "ou"):
        where = "SymbolicDensity"
        self.points = exact_points(points, where)
        self.n = len(self.points)
        self.dim = len(self.points[0])
        self.alpha, self.h, self.process = process_functions(process, where)
        self.t = T
        self.x = coordinate_symbols(self.dim)
        free: set[sp.Symbol] = set()
        for p in self.points:
            for v in p:
                free |= v.free_symbols
        if T in free:
            raise RidgeTheoryError(f"`points` passed to {where} must not depend on t.")
        self.parameters = tuple(sorted(free, key=lambda s: s.name))

        a, h = self.alpha, self.h
        X = sp.Matrix(self.x)
        centres = [a * sp.Matrix(p) for p in self.points]
        self.centres = centres
        logits = [-((X - c).dot(X - c)) / (2 * h) for c in centres]
        self.logits = logits
        E = [sp.exp(e) for e in logits]
        Z = sp.Add(*E)
        self.weights = [e / Z for e in E]
        self.log_prob = sp.log(Z / self.n) - sp.Rational(self.dim, 2) * sp.log(2 * sp.pi * h)
        m = sp.zeros(self.dim, 1)
        for g, c in zip(self.weights, centres, strict=True):
            m += g * c
        self.denoiser = m
        self.score = (m - X) / h
        S = sp.zeros(self.dim, self.dim)
        for g, c in zip(self.weights, centres, strict=True):
            S += g * (c * c.T)
        self.posterior_covariance = S - m * m.T
        self.hessian = -sp.eye(self.dim) / h + self.posterior_covariance / h**2

    def __repr__(self) -> str:
        pts = ", ".join("(" + ", ".join(map(str, p)) + ")" for p in self.points)
        return f"SymbolicDensity([{pts}], process={self.process!r})"

    def direct_score(self) -> sp.Matrix:
        """``grad log p_t`` by sympy differentiation (for checks; unsimplified)."""
        return sp.Matrix([sp.diff(self.log_prob, xi) for xi in self.x])

    def direct_hessian(self) -> sp.Matrix:
        """Second derivatives of ``log p_t`` by sympy differentiation (for checks)."""
        return sp.hessian(self.log_prob, self.x)

    def at(self, point: Any) -> dict[sp.Symbol, sp.Expr]:
        """Substitution ``{x_j: point_j}`` for a point given like one row of ``points``."""
        (row,) = exact_points([point], "SymbolicDensity.at")
        if len(row) != self.dim:
            raise RidgeTheoryError(f"`point` passed to SymbolicDensity.at must have length "
                                   f"{self.dim}; got {len(row)}.")
        return dict(zip(self.x, row, strict=True))

    def lambdify(self, values: Mapping[Any, Any] | None = None, **kwargs: Any
                 ) -> LambdifiedDensity:
        """Numpy functions of the expressions, with numbers for the parameters.

        Parameters
        ----------
        values : mapping, optional
            Parameter values keyed by symbol or by name; keyword arguments work too.

        Returns
        -------
        LambdifiedDensity
            Methods ``log_prob``, ``score``, ``denoiser``, ``hessian``,
            ``posterior_covariance`` and ``weights`` taking x of shape (M, D) or (D,) and
            t a scalar or (M,).

        Notes
        -----
        The functions evaluate the expressions literally (plain ``exp``, no log-sum-exp), so
        they are accurate where no weight underflows: moderate t and x within a few
        ``sqrt(h_t)`` of the points. Use :class:`ridgetheory.SmoothedEmpirical` elsewhere.
        """
        subs = parameter_values(self.parameters, values, kwargs, "SymbolicDensity.lambdify")
        return LambdifiedDensity(self, subs)


class LambdifiedDensity:
    """Numpy-callable versions of a :class:`SymbolicDensity` (made by ``lambdify``).

    Every method takes ``x`` of shape (M, D) or (D,) (float64) and ``t`` a scalar or an array
    of shape (M,), and returns float64 arrays following ``x``: (M,), (M, D), (M, D, D), or
    (M, n) for the weights.
    """

    def __init__(self, density: SymbolicDensity, subs: Mapping[sp.Symbol, sp.Expr]):
        self.dim = density.dim
        self.n = density.n
        self.values = dict(subs)
        args = (*density.x, density.t)

        def make(exprs: list[sp.Expr]) -> Callable[..., list[Any]]:
            return sp.lambdify(args, [sp.sympify(e).subs(subs) for e in exprs], "numpy",
                               cse=True)

        D = self.dim
        self._log_prob = make([density.log_prob])
        self._score = make(list(density.score))
        self._denoiser = make(list(density.denoiser))
        self._hessian = make(list(density.hessian))
        self._cov = make(list(density.posterior_covariance))
        self._weights = make(list(density.weights))
        self._shapes = {"log_prob": (), "score": (D,), "denoiser": (D,), "hessian": (D, D),
                        "posterior_covariance": (D, D), "weights": (self.n,)}

    def _eval(self, fn, x, t, method):
        where = f"LambdifiedDensity.{method}"
        xx, single = check_points(x, "x", where, self.dim)
        tt = check_times(t, "t", where, xx.shape[0], single)
        m = xx.shape[0]
        comps = fn(*xx.T, tt)
        out = np.stack([np.broadcast_to(np.asarray(c, dtype=np.float64), (m,)) for c in comps],
                       axis=-1).reshape((m, *self._shapes[method]))
        return out[0] if single else out

    def log_prob(self, x: Any, t: Any) -> np.ndarray:
        """``log p_t(x)``, shape (M,) or ()."""
        return self._eval(self._log_prob, x, t, "log_prob")

    def score(self, x: Any, t: Any) -> np.ndarray:
        """Score ``(m - x) / h_t``, shape (M, D) or (D,)."""
        return self._eval(self._score, x, t, "score")

    def denoiser(self, x: Any, t: Any) -> np.ndarray:
        """Denoiser ``m(x, t)``, shape (M, D) or (D,)."""
        return self._eval(self._denoiser, x, t, "denoiser")

    def hessian(self, x: Any, t: Any) -> np.ndarray:
        """Hessian of ``log p_t``, shape (M, D, D) or (D, D)."""
        return self._eval(self._hessian, x, t, "hessian")

    def posterior_covariance(self, x: Any, t: Any) -> np.ndarray:
        """Posterior covariance ``S``, shape (M, D, D) or (D, D)."""
        return self._eval(self._cov, x, t, "posterior_covariance")

    def weights(self, x: Any, t: Any) -> np.ndarray:
        """Posterior weights, shape (M, n) or (n,)."""
        return self._eval(self._weights, x, t, "weights")
