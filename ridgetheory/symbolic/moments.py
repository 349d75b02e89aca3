"""Symbolic derivation of the Gaussian ReLU moments of :mod:`ridgetheory.gaussian_moments`.

Every closed form used numerically is stated here as a sympy expression and derived or checked
independently:

* one Gaussian ``u ~ N(mu, s^2)``: ``E[relu(u)]`` and ``E[u relu(u)] = E[relu(u)^2]`` by sympy
  integration of the density over ``u > 0`` (:func:`derive`);
* ``E[u relu(v)]`` by conditioning on ``v`` and integrating;
* ``E[relu(u) relu(v)]``: Rosenbaum's orthant moments in terms of the bivariate normal CDF
  :class:`Phi2` (a sympy function whose derivatives are known). Price's theorem
  ``d/drho E[relu(u) relu(v)] = s1 s2 E[1{u>0} 1{v>0}] = s1 s2 Phi2(a, b; rho)`` together
  with the factorised value at ``rho = 0`` determines the moment, and
  :func:`cross_moment_certificate` checks that the closed form satisfies both.

Symbols: ``mu, mu_1, mu_2`` (real), ``s, s_1, s_2`` (positive), ``rho`` (real, ``|rho| < 1``).

Examples
--------
>>> import sympy as sp
>>> from ridgetheory.symbolic import moments
>>> sp.simplify((moments.derive("relu_mean") - moments.closed_form("relu_mean")).rewrite(sp.erf))
0
"""

from __future__ import annotations

from typing import Any

import mpmath
import sympy as sp
from mpmath.libmp import prec_to_dps

from .._checks import RidgeTheoryError
from ._common import zero_simplify as _zero_simplify

__all__ = [
    "mu", "mu1", "mu2", "s", "s1", "s2", "rho",
    "Phi", "phi", "Phi2", "phi2",
    "closed_form", "derive", "cross_moment_certificate", "evaluate",
    "NAMES",
]

mu = sp.Symbol("mu", real=True)
mu1 = sp.Symbol("mu_1", real=True)
mu2 = sp.Symbol("mu_2", real=True)
s = sp.Symbol("s", positive=True)
s1 = sp.Symbol("s_1", positive=True)
s2 = sp.Symbol("s_2", positive=True)
rho = sp.Symbol("rho", real=True)
_y = sp.Symbol("y", real=True)

#: the closed forms this module knows
NAMES = ("relu_mean", "relu_first_moment", "relu_second_moment", "relu_linear_moment",
         "relu_cross_moment")


def Phi(z: sp.Expr) -> sp.Expr:
    """Standard normal CDF as a sympy expression."""
    return (1 + sp.erf(z / sp.sqrt(2))) / 2


def phi(z: sp.Expr) -> sp.Expr:
    """Standard normal density as a sympy expression."""
    return sp.exp(-z**2 / 2) / sp.sqrt(2 * sp.pi)


def phi2(h: sp.Expr, k: sp.Expr, r: sp.Expr) -> sp.Expr:
    """Standard bivariate normal density with correlation ``r``."""
    return sp.exp(-(h**2 - 2 * r * h * k + k**2) / (2 * (1 - r**2))) / (
        2 * sp.pi * sp.sqrt(1 - r**2))


class Phi2(sp.Function):
    """Bivariate normal CDF ``Phi2(h, k, rho) = P(X <= h, Y <= k)`` as a sympy function.

    Its derivatives are the classical ones (``d/drho Phi2 = phi2``, Plackett's identity;
    ``d/dh Phi2 = phi(h) Phi((k - rho h) / sqrt(1 - rho^2))``), at ``rho = 0`` it factorises,
    and ``evalf`` integrates ``Phi(h) Phi(k) + int_0^rho phi2(h, k; r) dr`` with mpmath at the
    requested precision.
    """

    nargs = 3

    @classmethod
    def eval(cls, h, k, r):  # noqa: D102 - sympy hook
        if r.is_zero:
            return Phi(h) * Phi(k)
        return None

    def fdiff(self, argindex=1):  # noqa: D102 - sympy hook
        h, k, r = self.args
        q = sp.sqrt(1 - r**2)
        if argindex == 1:
            return phi(h) * Phi((k - r * h) / q)
        if argindex == 2:
            return phi(k) * Phi((h - r * k) / q)
        if argindex == 3:
            return phi2(h, k, r)
        raise sp.ArgumentIndexError(self, argindex)

    def _eval_evalf(self, prec):
        if not all(a.is_number for a in self.args):
            return None
        with mpmath.workprec(prec + 30):
            h, k, r = (mpmath.mpf(sp.Float(a, prec_to_dps(prec) + 10)) for a in self.args)
            def dens(x):
                return mpmath.exp(-(h * h - 2 * x * h * k + k * k) / (2 * (1 - x * x))) / (
                    2 * mpmath.pi * mpmath.sqrt(1 - x * x))
            val = mpmath.ncdf(h) * mpmath.ncdf(k) + mpmath.quad(dens, [0, r])
        return sp.Float(val, prec_to_dps(prec))


def closed_form(name: str) -> sp.Expr:
    """The closed form that :mod:`ridgetheory.gaussian_moments` evaluates.

    Parameters
    ----------
    name : {"relu_mean", "relu_first_moment", "relu_second_moment", "relu_linear_moment",
            "relu_cross_moment"}

    Returns
    -------
    sympy.Expr
        In ``mu, s`` (one Gaussian) or ``mu_1, s_1, mu_2, s_2, rho`` (two).

    Examples
    --------
    >>> from ridgetheory.symbolic import moments
    >>> moments.closed_form("relu_mean").subs(moments.mu, 0)
    sqrt(2)*s/(2*sqrt(pi))
    """
    if name == "relu_mean":
        return mu * Phi(mu / s) + s * phi(mu / s)
    if name in ("relu_first_moment", "relu_second_moment"):
        return (mu**2 + s**2) * Phi(mu / s) + mu * s * phi(mu / s)
    if name == "relu_linear_moment":
        return mu1 * (mu2 * Phi(mu2 / s2) + s2 * phi(mu2 / s2)) + rho * s1 * s2 * Phi(mu2 / s2)
    if name == "relu_cross_moment":
        a, b = mu1 / s1, mu2 / s2
        q = sp.sqrt(1 - rho**2)
        L = Phi2(a, b, rho)
        Pb, Pa = Phi((b - rho * a) / q), Phi((a - rho * b) / q)
        ex = phi(a) * Pb + rho * phi(b) * Pa
        ey = phi(b) * Pa + rho * phi(a) * Pb
        exy = rho * L - rho * a * phi(a) * Pb - rho * b * phi(b) * Pa + (1 - rho**2) * phi2(
            a, b, rho)
        return mu1 * mu2 * L + mu1 * s2 * ey + mu2 * s1 * ex + s1 * s2 * exy
    raise RidgeTheoryError(f"`name` passed to closed_form must be one of {', '.join(NAMES)}; "
                           f"got {name!r}.")


def derive(name: str) -> sp.Expr:
    """Derive a one-Gaussian or linear moment by sympy integration (independent of closed_form).

    Parameters
    ----------
    name : {"relu_mean", "relu_first_moment", "relu_second_moment", "relu_linear_moment"}
        ``relu_cross_moment`` has no elementary antiderivative: see
        :func:`cross_moment_certificate`.

    Returns
    -------
    sympy.Expr
        The integral, in erf/erfc form.
    """
    dens = phi(_y)  # y standard normal, u = mu + s y
    if name == "relu_mean":
        return sp.integrate((mu + s * _y) * dens, (_y, -mu / s, sp.oo), conds="none")
    if name in ("relu_first_moment", "relu_second_moment"):
        return sp.integrate((mu + s * _y) ** 2 * dens, (_y, -mu / s, sp.oo), conds="none")
    if name == "relu_linear_moment":
        # v = mu2 + s2 y; given y, E[u | y] = mu1 + rho s1 y
        return sp.integrate((mu1 + rho * s1 * _y) * (mu2 + s2 * _y) * dens,
                            (_y, -mu2 / s2, sp.oo), conds="none")
    raise RidgeTheoryError(f"`name` passed to derive must be one of {', '.join(NAMES[:4])}; "
                           f"got {name!r}.")


def cross_moment_certificate() -> tuple[sp.Expr, sp.Expr]:
    """Residuals that vanish iff the cross-moment closed form is right.

    Returns
    -------
    (derivative_residual, initial_residual) : tuple of sympy.Expr
        ``d/drho C - s1 s2 Phi2(a, b; rho)`` (Price's theorem) and
        ``C(rho = 0) - E[relu(u)] E[relu(v)]``, both simplified; each is ``0``.

    Examples
    --------
    >>> from ridgetheory.symbolic import moments
    >>> moments.cross_moment_certificate()
    (0, 0)
    """
    C = closed_form("relu_cross_moment")
    d = sp.diff(C, rho) - s1 * s2 * Phi2(mu1 / s1, mu2 / s2, rho)
    m1 = closed_form("relu_mean").subs({mu: mu1, s: s1})
    m2 = closed_form("relu_mean").subs({mu: mu2, s: s2})
    init = C.subs(rho, 0) - m1 * m2
    # work in the standardized means a = mu1/s1, b = mu2/s2 and bring every exponent to
    # one canonical rational function so that equal exponentials are recognised as equal
    a, b = sp.symbols("a b", real=True)
    subs = {mu1: a * s1, mu2: b * s2}
    return _zero_simplify(d.subs(subs)), _zero_simplify(init.subs(subs))


def evaluate(name: str, values: dict[Any, Any], dps: int = 30) -> sp.Float:
    """Evaluate a closed form at numbers with ``dps`` significant digits (mpmath underneath).

    Parameters
    ----------
    name : str
        One of :data:`NAMES`.
    values : dict
        Numbers for the symbols, keyed by symbol or by name (``{"mu": 0.3, "s": 1.2}``);
        floats are taken at their exact binary value.
    dps : int, default=30

    Returns
    -------
    sympy.Float

    Examples
    --------
    >>> import sympy as sp
    >>> from ridgetheory.symbolic import moments
    >>> v = moments.evaluate("relu_cross_moment",
    ...                      {"mu_1": 0, "s_1": 1, "mu_2": 0, "s_2": 1, "rho": sp.Rational(1, 2)})
    >>> v   # the arc-cosine kernel (sqrt(1 - rho^2) + rho (pi - acos rho)) / (2 pi)
    0.304498890522114679044498291245
    """
    expr = closed_form(name)
    byname = {sym.name: sym for sym in expr.free_symbols}
    subs = {}
    for key, val in values.items():
        sym = key if isinstance(key, sp.Symbol) else byname.get(str(key))
        if sym is None or sym not in expr.free_symbols:
            continue
        subs[sym] = sp.Rational(float(val)) if isinstance(val, float) else sp.sympify(val)
    return sp.N(expr.subs(subs), dps)
