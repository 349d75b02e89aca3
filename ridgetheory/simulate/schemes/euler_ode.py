"""Euler's method for the probability-flow ODE ``dy/ds = -f y + (g^2/2) s``."""

from __future__ import annotations

from .base import AbstractScheme, Coefficients, _zeros, register_scheme


class EulerODE(AbstractScheme):
    """Explicit Euler on the probability-flow ODE: order 1, one score per step."""

    name = "euler-ode"
    order = 1.0
    stochastic = False

    def coefficients(self, process, grid):
        t, dt = grid[:-1], grid[:-1] - grid[1:]
        f, g2 = process.drift_coefficient(t), process.diffusion_squared(t)
        z = _zeros(grid)
        return Coefficients(z, z, 1.0 - f * dt, 0.5 * g2 * dt, z, z, z)


register_scheme(EulerODE())
