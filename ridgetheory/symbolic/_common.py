"""Shared helpers of the symbolic package: exact points, processes, parameter values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
import sympy as sp

from .._checks import RidgeTheoryError

#: the time symbol every symbolic object uses
T = sp.Symbol("t", positive=True)


def coordinate_symbols(dim: int, name: str = "x") -> tuple[sp.Symbol, ...]:
    """``x_1 .. x_D`` as real symbols."""
    return tuple(sp.Symbol(f"{name}_{j + 1}", real=True) for j in range(dim))


def to_exact(value: Any, name: str, where: str) -> sp.Expr:
    """A number or sympy expression as an exact sympy expression.

    Python and numpy floats become the rational with the same binary value, so that a
    symbolic density built from float data is the numeric one exactly.
    """
    if isinstance(value, bool):
        raise RidgeTheoryError(f"`{name}` passed to {where} must be real numbers or sympy "
                               f"expressions; got {value!r}.")
    if isinstance(value, Integral):
        return sp.Integer(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not np.isfinite(v):
            raise RidgeTheoryError(f"`{name}` passed to {where} must be finite; got {v}.")
        return sp.Rational(v)
    if isinstance(value, Real):
        return sp.nsimplify(value)
    if isinstance(value, sp.Basic):
        expr = sp.sympify(value)
        if expr.has(sp.I) or expr.has(sp.zoo, sp.oo, sp.nan):
            raise RidgeTheoryError(f"`{name}` passed to {where} must be real and finite; "
                                   f"got {expr}.")
        return expr
    raise RidgeTheoryError(f"`{name}` passed to {where} must be real numbers or sympy "
                           f"expressions; got {type(value).__name__}.")


def exact_points(points: Any, where: str) -> tuple[tuple[sp.Expr, ...], ...]:
    """Validate a small configuration: a non-empty sequence of equal-length coordinate tuples."""
    if isinstance(points, np.ndarray):
        points = points.tolist()
    if not isinstance(points, Sequence) or isinstance(points, str) or len(points) == 0:
        raise RidgeTheoryError(f"`points` passed to {where} must be a non-empty sequence of "
                               f"coordinate tuples; got {points!r}.")
    rows = []
    for p in points:
        if isinstance(p, np.ndarray):
            p = p.tolist()
        if not isinstance(p, Sequence) or isinstance(p, str):
            p = (p,)
        rows.append(tuple(to_exact(v, "points", where) for v in p))
    dims = {len(r) for r in rows}
    if len(dims) != 1 or 0 in dims:
        raise RidgeTheoryError(f"`points` passed to {where} must all have the same positive "
                               f"length; got lengths {sorted(dims)}.")
    return tuple(rows)


def process_functions(process: Any, where: str) -> tuple[sp.Expr, sp.Expr, str]:
    """``(alpha(t), h(t), name)`` for "ou", "ve", a pair of sympy expressions in ``t``, or a
    numeric ``OU()`` / ``VE(sigma_min, sigma_max)`` instance (translated exactly).

    "ve" is the Brownian variance-exploding process ``a_t = 1``, ``h_t = t``; ``rt.VE`` has the
    geometric schedule ``h_t = sigma_min^2 ((sigma_max / sigma_min)^(2 t) - 1)``.
    """
    from ..processes import OU, VE

    if isinstance(process, OU):
        process = "ou"
    elif isinstance(process, VE):
        smin, smax = (sp.Rational(v) for v in (process.sigma_min, process.sigma_max))
        return sp.Integer(1), smin**2 * (sp.exp(2 * sp.log(smax / smin) * T) - 1), "custom"
    if isinstance(process, str):
        if process == "ou":
            return sp.exp(-T), 1 - sp.exp(-2 * T), "ou"
        if process == "ve":
            return sp.Integer(1), T, "ve"
        raise RidgeTheoryError(f"`process` passed to {where} must be one of 'ou', 've', OU(), "
                               f"VE(...) or a pair (alpha, h) of sympy expressions in t; got "
                               f"{process!r}.")
    if isinstance(process, tuple) and len(process) == 2:
        pair = []
        for e in process:
            expr = sp.sympify(e)
            # accept any symbol named t as the time symbol
            subs = {s: T for s in expr.free_symbols if s.name == "t"}
            expr = expr.subs(subs)
            if expr.free_symbols - {T}:
                raise RidgeTheoryError(f"`process` passed to {where} must depend on t only; "
                                       f"got free symbols {sorted(map(str, expr.free_symbols))}.")
            pair.append(expr)
        return pair[0], pair[1], "custom"
    raise RidgeTheoryError(f"`process` passed to {where} must be one of 'ou', 've', OU(), "
                           f"VE(...) or a pair (alpha, h) of sympy expressions in t; got "
                           f"{process!r}.")


def parameter_values(
    parameters: Sequence[sp.Symbol], values: Mapping[Any, Any] | None, kwargs: Mapping[str, Any],
    where: str,
) -> dict[sp.Symbol, sp.Expr]:
    """Map every free parameter to a number given by symbol or by name."""
    given: dict[str, Any] = {}
    for k, v in dict(values or {}).items():
        given[k.name if isinstance(k, sp.Symbol) else str(k)] = v
    given.update(kwargs)
    names = {p.name: p for p in parameters}
    extra = sorted(set(given) - set(names))
    if extra:
        raise RidgeTheoryError(f"`values` passed to {where} name unknown parameters {extra}; "
                               f"the parameters are {sorted(names)}.")
    missing = sorted(set(names) - set(given))
    if missing:
        raise RidgeTheoryError(f"`values` passed to {where} must give a number for every "
                               f"parameter; missing {missing}.")
    return {names[k]: to_exact(v, k, where) for k, v in given.items()}


def zero_simplify(expr: sp.Expr) -> sp.Expr:
    """Simplify an expression expected to vanish: 0 when it does.

    Exponential-polynomial sums (scores, Hessians, Gaussian moments) defeat ``sympy.simplify``
    slowly; here the expression becomes one fraction, its numerator is expanded without
    splitting exponentials, each term's exponentials are merged and every exponent is brought
    to one canonical rational form, so equal terms cancel; ``sympy.simplify`` finishes.

    Returns
    -------
    sympy.Expr
        ``0`` if the expression vanishes identically (as far as sympy can tell), otherwise a
        non-zero expression that vanishes exactly where the input does (the simplified
        numerator).

    Examples
    --------
    >>> import sympy as sp
    >>> from ridgetheory.symbolic import zero_simplify
    >>> x = sp.Symbol("x")
    >>> zero_simplify(sp.exp(x) * sp.exp(x**2 / 2) - sp.exp((x**2 + 2 * x) / 2))
    0
    """

    def canon(e: sp.Expr) -> sp.Expr:
        return e.replace(lambda f: isinstance(f, sp.exp),
                         lambda f: sp.exp(sp.cancel(sp.together(f.args[0]))))

    # the expression vanishes iff the numerator of its single fraction does
    expr = sp.fraction(sp.together(expr))[0]
    # power_exp=False: expanding must not split exp(a + b) into exp(a) exp(b)
    expr = sp.expand(expr, power_exp=False)
    expr = sp.Add(*[sp.powsimp(term, combine="exp") for term in sp.Add.make_args(expr)])
    expr = sp.expand(canon(expr), power_exp=False)
    return expr if expr == 0 else sp.simplify(expr)
