"""Times at which a symmetric critical point enters or leaves a ridge (theory.md section 2).

At a point that is critical for every t (the midpoint of two points, the centroid of a regular
polygon) the score vanishes and the Hessian is ``H = (S - h_t I) / h_t^2``. Its sorted
eigenvalues ``l_1 >= ... >= l_D`` change sign where an eigenvalue of the posterior covariance
``S`` crosses ``h_t``; ``l_{d+1}`` crossing zero is the moment the point enters or leaves the
d-ridge (for ``d = 0``: a mode turns into a saddle).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mpmath
import sympy as sp

from .._checks import RidgeTheoryError, check_int
from ._common import T, exact_points, parameter_values, zero_simplify
from .density import SymbolicDensity

__all__ = ["critical_times"]

_WHERE = "critical_times"


def _is_zero(expr: sp.Expr, sample: Mapping[sp.Symbol, sp.Expr]) -> bool:
    if zero_simplify(expr) == 0:
        return True
    # second line: high-precision evaluation at several times (and the sample parameters)
    for tv in ("1/7", "1/2", "3", "11"):
        val = sp.N(expr.subs(sample).subs(T, sp.Rational(tv)), 40)
        if abs(val) > sp.Float("1e-30"):
            return False
    return True


def critical_times(
    points: Any,
    at: Any,
    dim: int = 0,
    *,
    process: Any = "ou",
    sample: Mapping[Any, Any] | None = None,
    t_range: tuple[float, float] = (1e-3, 30.0),
) -> list[sp.Expr]:
    """Times at which the curvature ``l_{dim+1}`` at a symmetric critical point crosses zero.

    Parameters
    ----------
    points : sequence of n tuples of length D
        Training points (exact numbers or sympy expressions), as for ``SymbolicDensity``.
    at : tuple of length D
        The point, in data coordinates: the critical point of ``p_t`` is ``a_t * at`` (the
        scaling identity of theory.md section 1; the same point when ``at`` is the origin or the
        process is VE). It must be critical for every t, else RidgeTheoryError.
    dim : int, default=0
        Ridge dimension d, ``0 <= d < D``; the crossing of ``l_{d+1}`` is reported.
    process : {"ou", "ve"} or (alpha, h), default="ou"
    sample : mapping, optional
        Values for symbolic parameters, used only to order eigenvalue branches whose order
        sympy cannot decide (default: every parameter set to 2).
    t_range : (float, float), default=(1e-3, 30.0)
        Search interval of the numeric fallback.

    Returns
    -------
    list of sympy.Expr
        Crossing times in increasing order: exact when the posterior weights at the point do
        not depend on t (equidistant points, then ``S = a_t^2 C`` and a crossing solves
        ``a_t^2 mu = h_t`` for each eigenvalue ``mu`` of ``C``), otherwise ``sympy.Float``
        roots (25 digits) from a bracketing scan and an mpmath root finder, each verified by
        a sign change of ``l_{dim+1}`` at 40 digits.

    Examples
    --------
    >>> import sympy as sp
    >>> from ridgetheory.symbolic import critical_times
    >>> c = sp.Symbol("c", positive=True)
    >>> critical_times([(-c,), (c,)], at=(0,))
    [log(c**2 + 1)/2]
    >>> critical_times([(0, 0), (5, 0), (0, 5), (5, 5)], at=(sp.Rational(5, 2),) * 2)
    [log(29/4)/2]
    """
    dim = check_int(dim, "dim", _WHERE, low=0)
    dens = SymbolicDensity(points, process)
    D = dens.dim
    if dim >= D:
        raise RidgeTheoryError(f"`dim` passed to {_WHERE} must be < D = {D}; got {dim}.")
    (at_row,) = exact_points([at], _WHERE)
    if len(at_row) != D:
        raise RidgeTheoryError(f"`at` passed to {_WHERE} must have length {D}; got "
                               f"{len(at_row)}.")
    if sample is None:
        sample_subs = {p: sp.Integer(2) for p in dens.parameters}
    else:
        sample_subs = parameter_values(dens.parameters, sample, {}, _WHERE)
    a, h = dens.alpha, dens.h
    point = {xi: a * v for xi, v in zip(dens.x, at_row, strict=True)}
    for j in range(D):
        if not _is_zero(dens.score[j].subs(point), sample_subs):
            raise RidgeTheoryError(
                f"`at` passed to {_WHERE} must be a critical point of p_t for every t; the "
                f"score at a_t * {tuple(at_row)} has a non-zero component {j + 1}.")
    S = dens.posterior_covariance.subs(point)
    C = (S / a**2).applyfunc(sp.simplify)
    if not C.has(T):
        return _exact_times(C, a, h, dim, sample_subs)
    if dens.parameters:
        raise RidgeTheoryError(
            f"`points` passed to {_WHERE} give posterior weights at `at` that depend on t, so "
            f"the crossings are transcendental; substitute numbers for "
            f"{[p.name for p in dens.parameters]} to get verified numeric roots.")
    return _numeric_times(S, h, dim, t_range)


def _exact_times(C, a, h, dim, sample):
    eig = C.eigenvals()  # {mu: multiplicity}
    branches = [(sp.simplify(mu), int(m)) for mu, m in eig.items()]

    def greater(m1, m2):
        diff = sp.simplify(m1 - m2)
        if diff.is_positive is not None:
            return bool(diff.is_positive)
        return bool(sp.N(diff.subs(sample), 40) > 0)

    out = []
    for mu, mult in branches:
        positive = mu.is_positive
        if positive is None:
            positive = bool(sp.N(mu.subs(sample), 40) > 0)
        if not positive:
            continue  # l = (a^2 mu - h)/h^2 < 0 for every t
        above = sum(m for other, m in branches if other is not mu and greater(other, mu))
        if not (above < dim + 1 <= above + mult):
            continue
        out.append(_solve_crossing(mu, a, h))
    return sorted(out, key=lambda e: float(sp.N(e.subs(sample), 30)))


def _solve_crossing(mu, a, h):
    if a == sp.exp(-T) and sp.simplify(h - (1 - sp.exp(-2 * T))) == 0:
        return sp.log(1 + mu) / 2  # e^{-2t} mu = 1 - e^{-2t}
    sols = [s for s in sp.solve(sp.Eq(a**2 * mu, h), T) if s.is_real is not False]
    if len(sols) != 1:
        raise RidgeTheoryError(f"`process` passed to {_WHERE}: sympy found {len(sols)} "
                               f"solutions of a_t^2 * {mu} = h_t; expected one.")
    return sols[0]


def _numeric_times(S, h, dim, t_range):
    lo, hi = (float(v) for v in t_range)
    if not 0 < lo < hi:
        raise RidgeTheoryError(f"`t_range` passed to {_WHERE} must satisfy 0 < low < high; got "
                               f"{t_range}.")
    D = S.shape[0]
    Sf = sp.lambdify(T, S - h * sp.eye(D), "mpmath")

    def curvature(tv):
        # sign of l_{dim+1} = sign of the (dim+1)-th largest eigenvalue of S - h I
        val = Sf(tv)
        M = mpmath.matrix(val.tolist() if hasattr(val, "tolist") else val)
        ev = sorted(mpmath.eigsy(M, eigvals_only=True), reverse=True)
        return ev[dim]

    out = []
    with mpmath.workdps(40):
        grid = [mpmath.mpf(lo) * (mpmath.mpf(hi) / lo) ** (mpmath.mpf(i) / 400)
                for i in range(401)]
        vals = [curvature(tv) for tv in grid]
        for t0, f0, t1, f1 in zip(grid[:-1], vals[:-1], grid[1:], vals[1:], strict=True):
            if f0 == 0:
                out.append(t0)
            elif f0 * f1 < 0:
                root = mpmath.findroot(curvature, (t0, t1), solver="anderson", tol=1e-35)
                dl = root * mpmath.mpf("1e-20")
                if not (curvature(root - dl) * curvature(root + dl) < 0):
                    raise RidgeTheoryError(f"{_WHERE}: the root near t = {float(root)} failed "
                                           f"verification; try another `t_range`.")
                out.append(root)
    return [sp.Float(r, 25) for r in out]
