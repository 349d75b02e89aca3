"""Euler-Maruyama for the reverse SDE (theory.md section 3).

``y' = y + (-f y + g^2 s) dt + g sqrt(dt) xi`` with f, g^2 at ``t_l``; for OU this is
``y + (y + 2 s) dt + sqrt(2 dt) xi``.
"""

from __future__ import annotations

from .base import AbstractScheme, euler_coefficients, register_scheme


class EulerMaruyama(AbstractScheme):
    """Euler-Maruyama: strong order 1 here (additive noise), one score per step."""

    name = "em"
    order = 1.0
    stochastic = True

    def coefficients(self, process, grid):
        return euler_coefficients(process, grid, 1.0, noise=True)


register_scheme(EulerMaruyama())
