"""The numpy reference runner: one vectorized step at a time with the score's own ``_score``."""

from __future__ import annotations

import numpy as np

from .._checks import RidgeTheoryError
from .noise import normals_from_keys, traj_keys
from .runner import Runner

__all__ = ["NumpyRunner"]


class NumpyRunner(Runner):
    """Runs every score (the reference); the only backend that takes explicit ``noise``."""

    def start(self, c0, Y):
        plan = self.plan
        m = Y.shape[0]
        self.Y = Y
        traj = np.arange(c0, c0 + m, dtype=np.int64)
        self.keys = traj_keys(plan.seed, traj) if plan.seed is not None else None
        self.noise = None if plan.noise is None else plan.noise[:, c0:c0 + m]

    def advance(self, l0, l1):
        plan, Y = self.plan, self.Y
        grid, scheme, reference = plan.grid, plan.scheme, plan.reference
        m, D = Y.shape
        co = self.coefficients
        for l in range(l0, l1):
            t = np.full(m, grid[l])
            s1 = _call(reference, Y, t, plan.dtype)
            if scheme.stages == 2:
                u = co.stage_point(l, Y, s1)
                s2 = _call(reference, u, np.full(m, grid[l + 1]), plan.dtype)
                Y[...] = co.step(l, Y, s1, u=u, s2=s2)
            elif scheme.stochastic:
                xi = normals_from_keys(self.keys, l, D) if self.noise is None else self.noise[l]
                Y[...] = co.step(l, Y, s1, xi)
            else:
                Y[...] = co.step(l, Y, s1)

    def result(self):
        return self.Y


def _call(reference, x, t, dtype):
    out = np.asarray(reference(x, t), dtype=dtype)
    if out.shape != x.shape:
        raise RidgeTheoryError(
            f"`score` passed to simulate returned shape {out.shape} for x of shape {x.shape}; "
            "a score must return an array shaped like x."
        )
    return out
