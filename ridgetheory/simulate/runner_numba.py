"""The numba runner: the fused CPU kernel of :mod:`.kernels_numba`, parallel over trajectories,
or for the empirical score the blocked GEMM path of :mod:`.kernels_blocked` (the plan's
``score_path``)."""

from __future__ import annotations

from dataclasses import fields
from enum import IntEnum

import numpy as np

from . import kernels_blocked
from .kernels_numba import run
from .noise import seed_key
from .runner import Runner
from .spec import INPUT_TYPES, KernelInputs, kernel_inputs

__all__ = ["NumbaRunner", "positional_inputs"]


def _as_tuple(record) -> tuple:
    # enums as plain ints: numba sees the same types for every kind
    return tuple(int(v) if isinstance(v, IntEnum) else v
                 for v in (getattr(record, f.name) for f in fields(record)))


_PLACEHOLDERS = {cls: _as_tuple(cls.placeholder()) for cls in INPUT_TYPES}


def positional_inputs(inputs: KernelInputs) -> tuple[tuple, ...]:
    """Every kind's input tuple, in the kernel's order: ``inputs`` for its own kind (fields in
    record order), placeholders for the others (the one place the records are flattened)."""
    return tuple(_as_tuple(inputs) if type(inputs) is cls else _PLACEHOLDERS[cls]
                 for cls in INPUT_TYPES)


class NumbaRunner(Runner):
    """Advances a chunk in place with :func:`.kernels_numba.run`."""

    def __init__(self, plan):
        super().__init__(plan)
        inputs = kernel_inputs(plan.score, plan.score_kind, plan.grid, plan.dtype)
        self.kind = int(inputs.kind)
        self.blocked = None
        if plan.score_path == "gemm":
            self.blocked = kernels_blocked.Workspace(inputs)
        self.inputs = positional_inputs(inputs)
        self.a = np.ascontiguousarray(plan.process.alpha(plan.grid))
        self.h = np.ascontiguousarray(plan.process.h(plan.grid))
        self.skey = np.uint64(seed_key(plan.seed) if plan.seed is not None else 0)

    def start(self, c0, Y):
        self.Y, self.c0 = Y, c0

    def advance(self, l0, l1):
        scheme = self.plan.scheme
        if self.blocked is not None:
            kernels_blocked.run(self.Y, self.c0, l0, l1, self.coefficients, self.a, self.h,
                                self.skey, scheme.stochastic, scheme.stages, self.blocked)
            return
        run(self.Y, self.c0, l0, l1, self.table, self.a, self.h, self.kind, *self.inputs,
            self.skey, scheme.stochastic, scheme.stages)

    def result(self):
        return self.Y
