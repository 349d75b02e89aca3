"""The result object of :func:`ridgetheory.simulate`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Trajectories"]


@dataclass
class Trajectories:
    """Sampler output: saved states, final states and what produced them.

    Attributes
    ----------
    grid : array of shape (L + 1,), float64
        The decreasing time grid that was integrated.
    times : array of shape (n_saved,), float64
        The ``save_at`` times (grid times, in grid order: decreasing).
    save_index : array of shape (n_saved,), int
        Index of each saved time in ``grid`` (0 is the start state).
    states : array of shape (n_saved, n, D), float64
        States at ``times``.
    final : array of shape (n, D), float64
        States at ``grid[-1] = t_min``.
    meta : dict
        ``backend`` (the one that ran; ``backend_requested`` what was asked), ``method``,
        ``seed``, ``wall_time`` (seconds), ``score_kind``, ``chunk``, ``steps``, ``n``,
        ``score_evaluations`` and backend details.
    status : str
        ``"ok"``, or ``"nonfinite"`` when some final state is NaN or inf (``meta`` then holds
        ``n_nonfinite``).
    """

    grid: np.ndarray
    times: np.ndarray
    save_index: np.ndarray
    states: np.ndarray
    final: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)
    status: str = "ok"

    @property
    def n(self) -> int:
        """Number of trajectories."""
        return int(self.final.shape[0])

    @property
    def dim(self) -> int:
        """Dimension D."""
        return int(self.final.shape[1])

    def __repr__(self) -> str:
        m = self.meta
        return (
            f"Trajectories(n={self.n}, D={self.dim}, steps={self.grid.shape[0] - 1}, "
            f"saved={self.times.shape[0]}, method={m.get('method')!r}, "
            f"backend={m.get('backend')!r}, status={self.status!r})"
        )
