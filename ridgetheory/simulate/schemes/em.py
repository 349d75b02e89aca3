"""Euler-Maruyama for the reverse SDE (theory.md section 3).

``y' = y + (-f y + g^2 s) dt + g sqrt(dt) xi`` with f, g^2 at ``t_l``; for OU this is
``y + (y + 2 s) dt + sqrt(2 dt) xi``.
"""

from __future__ import annotations

import numpy as np

from .base import AbstractScheme, Coefficients, _zeros, register_scheme


class EulerMaruyama(AbstractScheme):
    """Euler-Maruyama: strong order 1 here (additive noise), one score per step."""

    name = "em"
    order = 1.0
    stochastic = True

    def coefficients(self, process, grid):
        t, dt = grid[:-1], grid[:-1] - grid[1:]
        f, g2 = process.drift_coefficient(t), process.diffusion_squared(t)
        z = _zeros(grid)
        return Coefficients(z, z, 1.0 - f * dt, g2 * dt, z, z, np.sqrt(g2 * dt))


register_scheme(EulerMaruyama())
