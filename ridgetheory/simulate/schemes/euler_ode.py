"""Euler's method for the probability-flow ODE ``dy/ds = -f y + (g^2/2) s``."""

from __future__ import annotations

from .base import AbstractScheme, euler_coefficients, register_scheme


class EulerODE(AbstractScheme):
    """Explicit Euler on the probability-flow ODE: order 1, one score per step."""

    name = "euler-ode"
    order = 1.0
    stochastic = False

    def coefficients(self, process, grid):
        return euler_coefficients(process, grid, 0.5, noise=False)


register_scheme(EulerODE())
