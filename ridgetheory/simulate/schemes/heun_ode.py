"""Heun's method (explicit trapezoid) for the probability-flow ODE.

With ``k(y, t) = -f(t) y + (g^2(t)/2) s(y, t)``: ``u = y + dt k(y, t_l)`` and
``y' = y + (dt/2) [k(y, t_l) + k(u, t_{l+1})]``, i.e.

    u  = (1 - f_l dt) y + (g_l^2 dt / 2) s(y, t_l)
    y' = (1 - f_l dt/2) y + (g_l^2 dt/4) s(y, t_l)
         - (f_{l+1} dt/2) u + (g_{l+1}^2 dt/4) s(u, t_{l+1}).
"""

from __future__ import annotations

from .base import AbstractScheme, Coefficients, _zeros, register_scheme


class HeunODE(AbstractScheme):
    """Heun on the probability-flow ODE: order 2, two scores per step."""

    name = "heun-ode"
    order = 2.0
    stochastic = False
    stages = 2

    def coefficients(self, process, grid):
        t, tn, dt = grid[:-1], grid[1:], grid[:-1] - grid[1:]
        f, g2 = process.drift_coefficient(t), process.diffusion_squared(t)
        fn, g2n = process.drift_coefficient(tn), process.diffusion_squared(tn)
        z = _zeros(grid)
        return Coefficients(
            1.0 - f * dt, 0.5 * g2 * dt,
            1.0 - 0.5 * f * dt, 0.25 * g2 * dt, -0.5 * fn * dt, 0.25 * g2n * dt, z,
        )


register_scheme(HeunODE())
