"""The cupy runner: the CUDA kernel of :mod:`.kernels_cupy`, one GPU thread per trajectory."""

from __future__ import annotations

import numpy as np

from . import kernels_cupy
from .noise import seed_key
from .runner import Runner
from .spec import kernel_inputs

__all__ = ["CupyRunner"]


class CupyRunner(Runner):
    """Keeps a chunk in column-major (D, m) device arrays; the score data are copied once."""

    def __init__(self, plan):
        super().__init__(plan)
        cp, module = kernels_cupy.compiled()
        self.cp, self.kernel = cp, module.get_function("run")
        inputs = kernel_inputs(plan.score, plan.score_kind, plan.grid)
        self.kind = int(inputs.kind)
        self.score_args = kernels_cupy.input_arguments(inputs, cp.asarray)
        self.coef, self.a, self.h = (
            cp.asarray(np.ascontiguousarray(v))
            for v in (self.table, plan.process.alpha(plan.grid), plan.process.h(plan.grid)))
        self.skey = seed_key(plan.seed) if plan.seed is not None else 0

    def start(self, c0, Y):
        cp = self.cp
        self.c0 = c0
        self.Y = cp.asarray(np.ascontiguousarray(Y.T))
        self.S1 = cp.empty_like(self.Y)
        self.S2 = cp.empty_like(self.Y)
        self.U = cp.empty_like(self.Y)

    def advance(self, l0, l1):
        scheme = self.plan.scheme
        args = kernels_cupy.run_arguments(self.Y, self.S1, self.S2, self.U, self.c0, l0, l1,
                                          self.coef, self.a, self.h, self.kind, self.score_args,
                                          self.skey, scheme.stochastic, scheme.stages)
        self.kernel((kernels_cupy.blocks(self.Y.shape[1]),), (kernels_cupy.THREADS,), args)

    def result(self):
        return np.ascontiguousarray(self.cp.asnumpy(self.Y).T)
