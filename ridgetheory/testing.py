"""Hypothesis strategies for property-testing predictions built on ridgetheory.

Users import these to draw data sets, processes, times and query points that respect the
package's contracts (finite float64, t > 0, shapes that match). Requires ``hypothesis``
(the ``test`` extra).

Examples
--------
>>> import numpy as np
>>> from hypothesis import given
>>> from ridgetheory.testing import density_and_queries
>>> @given(density_and_queries())
... def test_weights_sum_to_one(case):
...     p, x, t = case
...     assert np.allclose(p.weights(x, t).sum(axis=1), 1.0)
>>> test_weights_sum_to_one()
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .densities import SmoothedEmpirical
from .processes import OU, VE, AbstractProcess, VPCosine, VPLinear

__all__ = [
    "coordinates",
    "datasets",
    "processes",
    "times",
    "query_points",
    "densities",
    "density_and_queries",
]


def coordinates(scale: float = 5.0) -> st.SearchStrategy[float]:
    """Finite float64 coordinates in [-scale, scale] (no NaN, no inf, no subnormals)."""
    return st.floats(-scale, scale, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def datasets(
    draw,
    min_points: int = 1,
    max_points: int = 8,
    min_dim: int = 1,
    max_dim: int = 4,
    dim: int | None = None,
    scale: float = 5.0,
    distinct: bool = True,
) -> np.ndarray:
    """Training sets: float64 arrays of shape (n, D).

    With ``distinct`` (the default) points are at least 1e-3 apart, so frames are not
    degenerate by construction.
    """
    D = dim if dim is not None else draw(st.integers(min_dim, max_dim))
    n = draw(st.integers(min_points, max_points))
    data = draw(hnp.arrays(np.float64, (n, D), elements=coordinates(scale)))
    if distinct and n > 1:
        diff = data[:, None, :] - data[None, :, :]
        dist = np.sqrt((diff**2).sum(-1)) + np.eye(n) * 1e9
        from hypothesis import assume

        assume(dist.min() > 1e-3)
    return data


def processes(include_bounded: bool = True) -> st.SearchStrategy[AbstractProcess]:
    """Forward processes: OU and, optionally, the bounded-horizon VP-linear, VP-cosine, VE."""
    options: list[st.SearchStrategy[AbstractProcess]] = [st.just(OU())]
    if include_bounded:
        options += [
            st.builds(VPLinear, st.floats(0.05, 1.0), st.floats(5.0, 20.0), st.just(1.0)),
            st.builds(VPCosine, st.floats(0.001, 0.05), st.just(1.0)),
            st.builds(VE, st.floats(0.005, 0.05), st.floats(5.0, 50.0)),
        ]
    return st.one_of(*options)


def times(
    process: AbstractProcess | None = None, low: float = 0.02, high: float = 3.0
) -> st.SearchStrategy[float]:
    """Diffusion times in [low, min(high, 0.9 * process.t_max)]."""
    top = (
        high
        if process is None or not np.isfinite(process.t_max)
        else min(high, 0.9 * process.t_max)
    )
    return st.floats(low, top, allow_nan=False, allow_infinity=False)


def query_points(
    dim: int, min_rows: int = 1, max_rows: int = 6, scale: float = 6.0
) -> st.SearchStrategy[np.ndarray]:
    """Query points: float64 arrays of shape (M, dim)."""
    return st.integers(min_rows, max_rows).flatmap(
        lambda m: hnp.arrays(np.float64, (m, dim), elements=coordinates(scale))
    )


@st.composite
def densities(
    draw, max_points: int = 6, max_dim: int = 3, process: AbstractProcess | None = None
) -> SmoothedEmpirical:
    """SmoothedEmpirical densities over drawn data sets (OU unless ``process`` is given)."""
    data = draw(datasets(max_points=max_points, max_dim=max_dim))
    return SmoothedEmpirical(data, OU() if process is None else process)


@st.composite
def density_and_queries(
    draw,
    max_points: int = 6,
    max_dim: int = 3,
    max_rows: int = 5,
    low: float = 0.02,
    high: float = 3.0,
):
    """A tuple ``(density, x, t)`` with matching dimension: x (M, D), t a float."""
    p = draw(densities(max_points=max_points, max_dim=max_dim))
    x = draw(query_points(p.dim, max_rows=max_rows))
    t = draw(times(p.process, low, high))
    return p, x, t
