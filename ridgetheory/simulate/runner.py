"""One runner per backend: the object that advances a chunk of trajectories.

:func:`ridgetheory.simulate` plans a run (:class:`~ridgetheory.simulate.plan.RunPlan`),
builds the backend's runner once, and for every chunk of trajectories calls ``start``, then
``advance(l0, l1)`` per segment of the grid (between save points and progress updates),
reading ``result()`` where states are recorded. A new backend is one file defining a
:class:`Runner` subclass, registered in :data:`RUNNERS` (and known to
:mod:`ridgetheory.backend`).
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .plan import RunPlan

__all__ = ["Runner", "RUNNERS", "make_runner"]

#: backend -> "module:class" of its runner (modules of this package, imported when used)
RUNNERS = {
    "numpy": "runner_numpy:NumpyRunner",
    "numba": "runner_numba:NumbaRunner",
    "cupy": "runner_cupy:CupyRunner",
}


class Runner(ABC):
    """Advances the trajectories of one chunk through segments of the grid on one backend.

    Built once per run (per-grid tables, kernel inputs, device copies); ``start`` takes each
    chunk in turn.
    """

    def __init__(self, plan: RunPlan):
        self.plan = plan
        #: per-step scheme coefficients, and their (L, 7) table A0, A1, B0 .. B4 for kernels
        self.coefficients = plan.scheme.coefficients(plan.process, plan.grid)
        self.table = np.ascontiguousarray(self.coefficients.table)

    @abstractmethod
    def start(self, c0: int, Y: np.ndarray) -> None:
        """Take trajectories ``c0 .. c0 + m - 1`` of the run with start states ``Y`` (m, D).

        ``Y`` is a fresh C-contiguous array of ``plan.dtype`` the runner may keep and overwrite.
        """

    @abstractmethod
    def advance(self, l0: int, l1: int) -> None:
        """Take steps ``l0 .. l1 - 1``: from ``grid[l0]`` to ``grid[l1]``."""

    @abstractmethod
    def result(self) -> np.ndarray:
        """The chunk's current states (m, D) in host memory (valid until the next call)."""


def make_runner(plan: RunPlan) -> Runner:
    """The runner of ``plan.backend`` (see :data:`RUNNERS`)."""
    module, cls = RUNNERS[plan.backend].split(":")
    return getattr(importlib.import_module(f".{module}", __package__), cls)(plan)
