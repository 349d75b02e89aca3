"""Hypothesis strategies for property-testing predictions built on ridgetheory.

Users import these to draw data sets, processes, times, densities, score models, points on
a ridge, time grids and rotations that respect the package's contracts (finite float64,
``t > 0``, shapes that match, distinct training points). Requires ``hypothesis`` (the
``test`` extra); nothing here runs at import except the strategies' definitions.

Every strategy checks its arguments when it is called (not when it is drawn from) and
raises :class:`ridgetheory.RidgeTheoryError` naming the argument. Drawn densities and models
print as code: a failing example shows ``SmoothedEmpirical(np.array([[0.0, 1.0]]),
process=OU())``, which ``eval(text, ridgetheory.testing.namespace())`` rebuilds.

The projection and the integrators compile numba kernels on first use (tens of seconds on
a cold cache): :func:`warm_kernels`, or the session fixture ``ridgetheory_warm`` (enable it
with ``pytest_plugins = ["ridgetheory.testing"]`` in a conftest.py), pays that once before
any example runs, so hypothesis' deadline and health checks see warm examples only.

Examples
--------
>>> import numpy as np
>>> from hypothesis import given, settings
>>> from ridgetheory.testing import density_and_queries
>>> @settings(max_examples=10)
... @given(density_and_queries())
... def test_weights_sum_to_one(case):
...     p, x, t = case
...     assert np.allclose(p.weights(x, t).sum(axis=1), 1.0)
>>> test_weights_sum_to_one()
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from . import _repr
from . import grids as _grids
from ._checks import RidgeTheoryError, check_int, check_scalar
from ._repr import namespace
from .densities import GaussianMixture, SmoothedEmpirical
from .injected import InjectedError
from .processes import OU, VE, AbstractProcess, VPCosine, VPLinear
from .protocol import AbstractDensity

__all__ = [
    "coordinates",
    "datasets",
    "processes",
    "times",
    "query_points",
    "densities",
    "density_and_queries",
    "gaussian_mixtures",
    "random_feature_models",
    "injected_errors",
    "ridge_points",
    "RidgePoints",
    "time_grids",
    "rotations",
    "namespace",
    "warm_kernels",
]

_Strategy = st.SearchStrategy

#: default minimum distance between drawn training points (see :func:`datasets`)
SEPARATION = 1e-3


# -- argument checks ------------------------------------------------------------------------
def _where(fn: str) -> str:
    return f"ridgetheory.testing.{fn}"


def _positive(value: Any, name: str, fn: str) -> float:
    return check_scalar(value, name, _where(fn), low=0.0, low_open=True)


def _range(lo: Any, hi: Any, names: tuple[str, str], fn: str, low: int) -> tuple[int, int]:
    """Two integer bounds: ``lo >= low`` and ``hi >= lo``."""
    a = check_int(lo, names[0], _where(fn), low=low)
    b = check_int(hi, names[1], _where(fn), low=a)
    return a, b


def _flag(value: Any, name: str, fn: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise RidgeTheoryError(
            f"`{name}` passed to {_where(fn)} must be True or False; got {value!r}.")
    return bool(value)


def _int_strategy(value: Any, name: str, fn: str, low: int,
                  default: tuple[int, int]) -> _Strategy[int]:
    """``value`` as a strategy of integers >= low: a strategy, an int, or None (the default
    range)."""
    if value is None:
        return st.integers(*default)
    if isinstance(value, _Strategy):
        return value.map(lambda v: check_int(v, name, _where(fn), low=low))
    return st.just(check_int(value, name, _where(fn), low=low))


def _process_strategy(value: Any, fn: str) -> _Strategy[AbstractProcess]:
    """``process`` as a strategy: None (OU), a process, or a strategy of processes."""
    if value is None:
        return st.just(OU())
    if isinstance(value, AbstractProcess):
        return st.just(value)
    if isinstance(value, _Strategy):
        return value
    raise RidgeTheoryError(
        f"`process` passed to {_where(fn)} must be None, a process such as rt.OU() or a "
        f"strategy such as processes(); got {type(value).__name__}.")


def _top(process: Any, high: float, fn: str) -> float:
    """``min(high, 0.9 * process.t_max)`` after checking ``process`` (None or a process)."""
    if process is not None and not isinstance(process, AbstractProcess):
        raise RidgeTheoryError(
            f"`process` passed to {_where(fn)} must be None or a process such as rt.OU(); got "
            f"{type(process).__name__}.")
    if process is None or not np.isfinite(process.t_max):
        return high
    return min(high, 0.9 * process.t_max)


def _choices(given: Any, name: str, fn: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """``given`` as a non-empty tuple of names from ``allowed``."""
    if (not isinstance(given, (tuple, list)) or not given
            or not all(isinstance(a, str) and a in allowed for a in given)):
        raise RidgeTheoryError(
            f"`{name}` passed to {_where(fn)} must be a non-empty tuple of "
            f"{', '.join(repr(a) for a in allowed)}; got {given!r}.")
    return tuple(given)


# -- numbers and arrays ---------------------------------------------------------------------
def coordinates(scale: float = 5.0) -> _Strategy[float]:
    """Finite float64 coordinates in [-scale, scale] (no NaN, no inf, no subnormals).

    Parameters
    ----------
    scale : float, default=5.0
        Half-width of the interval, > 0.
    """
    s = _positive(scale, "scale", "coordinates")
    return st.floats(-s, s, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def _zigzag(d: np.ndarray) -> np.ndarray:
    """0, 1, 2, 3, 4, ... -> 0, 1, -1, 2, -2, ... (so shrinking moves toward the origin)."""
    return np.where(d % 2 == 1, (d + 1) // 2, -(d // 2))


def _lattice(scale: float, separation: float) -> int:
    """Lattice cells per axis: centres ``2 * separation * c`` with ``|c| <= c_max``."""
    return 2 * int((scale - separation / 4) // (2 * separation)) + 1


@st.composite
def _distinct(draw, n: int, D: int, scale: float, separation: float) -> np.ndarray:
    # n distinct cells of a lattice of spacing 2 * separation, chosen by sorted offsets
    # (u sorted, then u_i + i: distinct by construction, no rejection), in a drawn order,
    # each point jittered by at most separation / 4 per axis: any two points differ by at
    # least 1.5 * separation along some axis.
    K = _lattice(scale, separation)
    cells = K**D
    u = sorted(draw(st.lists(st.integers(0, cells - n), min_size=n, max_size=n)))
    flat = [v + i for i, v in enumerate(u)]
    order = draw(st.permutations(range(n)))
    digits = np.array([[(flat[i] // K**k) % K for k in range(D)] for i in order], dtype=np.int64)
    q = separation / 4
    jitter = draw(hnp.arrays(np.float64, (n, D), elements=st.floats(
        -q, q, allow_nan=False, allow_subnormal=False)))
    return 2.0 * separation * _zigzag(digits) + jitter


def datasets(
    min_points: int = 1,
    max_points: int = 8,
    min_dim: int = 1,
    max_dim: int = 4,
    dim: int | _Strategy[int] | None = None,
    scale: float = 5.0,
    distinct: bool = True,
    separation: float = SEPARATION,
) -> _Strategy[np.ndarray]:
    """Training sets: float64 arrays of shape (n, D), every coordinate in [-scale, scale].

    Parameters
    ----------
    min_points, max_points : int, default=1, 8
        Range of n, ``1 <= min_points <= max_points``.
    min_dim, max_dim : int, default=1, 4
        Range of D when ``dim`` is None, ``1 <= min_dim <= max_dim``.
    dim : int or strategy of int, optional
        D fixed (or drawn by the given strategy), >= 1.
    scale : float, default=5.0
        Half-width of the box, > 0.
    distinct : bool, default=True
        Points at least ``separation`` apart (Euclidean), by construction: each lies within
        ``separation / 4`` per axis of its own cell of a lattice of spacing
        ``2 * separation``, so nothing is rejected and hypothesis' health check never trips.
        False: coordinates drawn freely (duplicates possible).
    separation : float, default=1e-3
        Minimum distance of distinct points, > 0; the box must hold ``max_points`` cells.

    Examples
    --------
    >>> from hypothesis import find
    >>> from ridgetheory.testing import datasets
    >>> find(datasets(min_points=8, max_points=8, dim=1, scale=0.05), lambda X: True).shape
    (8, 1)
    """
    return _datasets(min_points, max_points, min_dim, max_dim, dim, scale, distinct,
                     separation, "datasets")


def _datasets(min_points: Any, max_points: Any, min_dim: Any, max_dim: Any, dim: Any,
              scale: Any, distinct: Any, separation: Any, fn: str,
              blame: str = "separation") -> _Strategy[np.ndarray]:
    """:func:`datasets` with its arguments checked in the name of ``fn``."""
    lo_n, hi_n = _range(min_points, max_points, ("min_points", "max_points"), fn, 1)
    lo_d, hi_d = _range(min_dim, max_dim, ("min_dim", "max_dim"), fn, 1)
    dims = _int_strategy(dim, "dim", fn, 1, (lo_d, hi_d))
    s = _positive(scale, "scale", fn)
    distinct = _flag(distinct, "distinct", fn)
    sep = _positive(separation, "separation", fn)
    K = _lattice(s, sep) if s >= sep / 4 else 0

    def room(D: int, n: int) -> None:
        if K**D < n:
            raise RidgeTheoryError(
                f"`{blame}` passed to {_where(fn)} must be small enough for {n} distinct points "
                f"{sep} apart in [-{s}, {s}]^{D} (at most {K**D} fit); got "
                f"{sep if blame == 'separation' else s}.")

    if distinct:
        room(dim if isinstance(dim, int) else lo_d, hi_n)

    @st.composite
    def draw_data(draw):
        D = draw(dims)
        n = draw(st.integers(lo_n, hi_n))
        if distinct and n > 1:
            room(D, n)
            return draw(_distinct(n, D, s, sep))
        return draw(hnp.arrays(np.float64, (n, D), elements=coordinates(s)))

    return draw_data()


def processes(include_bounded: bool = True) -> _Strategy[AbstractProcess]:
    """Forward processes: OU and, optionally, the bounded-horizon VP-linear, VP-cosine, VE.

    Their reprs evaluate back to equal processes (``VPLinear(beta_min=..., ...)``).
    """
    options: list[_Strategy[AbstractProcess]] = [st.just(OU())]
    if _flag(include_bounded, "include_bounded", "processes"):
        options += [
            st.builds(VPLinear, st.floats(0.05, 1.0), st.floats(5.0, 20.0), st.just(1.0)),
            st.builds(VPCosine, st.floats(0.001, 0.05), st.just(1.0)),
            st.builds(VE, st.floats(0.005, 0.05), st.floats(5.0, 50.0)),
        ]
    return st.one_of(*options)


def times(
    process: AbstractProcess | None = None, low: float = 0.02, high: float = 3.0
) -> _Strategy[float]:
    """Diffusion times in [low, min(high, 0.9 * process.t_max)], all > 0.

    Parameters
    ----------
    process : AbstractProcess, optional
        Caps the times below its horizon ``t_max`` (VP and VE processes).
    low : float, default=0.02
        Smallest time, > 0 (the densities reject t = 0).
    high : float, default=3.0
        Largest time; ``min(high, 0.9 * t_max)`` must be >= low.
    """
    return _times(process, low, high, "times")


def _times(process: Any, low: Any, high: Any, fn: str) -> _Strategy[float]:
    """:func:`times` with its arguments checked in the name of ``fn``."""
    lo = _positive(low, "low", fn)
    hi = check_scalar(high, "high", _where(fn), low=lo)
    top = _top(process, hi, fn)
    if top < lo:
        raise RidgeTheoryError(
            f"`low` passed to {_where(fn)} must be <= 0.9 * t_max = {top} of {process!r}; got "
            f"{lo}.")
    return st.floats(lo, top, allow_nan=False, allow_infinity=False)


def query_points(
    dim: int, min_rows: int = 1, max_rows: int = 6, scale: float = 6.0
) -> _Strategy[np.ndarray]:
    """Query points: float64 arrays of shape (M, dim), ``min_rows <= M <= max_rows``.

    Parameters
    ----------
    dim : int
        D, >= 1.
    min_rows, max_rows : int, default=1, 6
        ``1 <= min_rows <= max_rows``.
    scale : float, default=6.0
        Coordinates in [-scale, scale], scale > 0.
    """
    fn = "query_points"
    D = check_int(dim, "dim", _where(fn), low=1)
    lo, hi = _range(min_rows, max_rows, ("min_rows", "max_rows"), fn, 1)
    coords = coordinates(_positive(scale, "scale", fn))
    return st.integers(lo, hi).flatmap(lambda m: hnp.arrays(np.float64, (m, D), elements=coords))


# -- densities and models -------------------------------------------------------------------
def densities(
    *,
    process: AbstractProcess | _Strategy[AbstractProcess] | None = None,
    dim: int | _Strategy[int] | None = None,
    min_points: int = 1,
    max_points: int = 6,
    min_dim: int = 1,
    max_dim: int = 3,
    scale: float = 5.0,
    separation: float = SEPARATION,
) -> _Strategy[SmoothedEmpirical]:
    """SmoothedEmpirical densities over drawn data sets (distinct points, see :func:`datasets`).

    Parameters
    ----------
    process : AbstractProcess or strategy of processes, default=OU()
        For example ``processes()`` to draw it.
    dim : int or strategy of int, optional
        D fixed or drawn; default drawn in [min_dim, max_dim].
    min_points, max_points : int, default=1, 6
        Range of n; ``densities(dim=2, min_points=2)`` gives at least two points in D = 2.
    min_dim, max_dim, scale, separation
        As in :func:`datasets`.

    Notes
    -----
    A drawn density prints as its constructor call with the data (up to 100 numbers), so a
    falsifying example can be pasted back into ``@example(...)``.
    """
    return _densities(process, dim, min_points, max_points, min_dim, max_dim, scale,
                      separation, "densities")


def _densities(process: Any, dim: Any, min_points: Any, max_points: Any, min_dim: Any,
               max_dim: Any, scale: Any, separation: Any, fn: str) -> _Strategy[SmoothedEmpirical]:
    procs = _process_strategy(process, fn)
    data = _datasets(min_points, max_points, min_dim, max_dim, dim, scale, True, separation, fn)
    return st.builds(SmoothedEmpirical, data, procs)


def density_and_queries(
    max_points: int = 6,
    max_dim: int = 3,
    max_rows: int = 5,
    low: float = 0.02,
    high: float = 3.0,
    *,
    process: AbstractProcess | _Strategy[AbstractProcess] | None = None,
    dim: int | _Strategy[int] | None = None,
    min_points: int = 1,
):
    """A tuple ``(density, x, t)`` with matching dimension: x (M, D), t a float > 0.

    The density is drawn by :func:`densities`, x by :func:`query_points` and t by
    :func:`times` below the process's horizon.
    """
    fn = "density_and_queries"
    dens = _densities(process, dim, min_points, max_points, 1, max_dim, 5.0, SEPARATION, fn)
    check_int(max_rows, "max_rows", _where(fn), low=1)
    _times(None, low, high, fn)  # checks low and high now

    @st.composite
    def draw_case(draw):
        p = draw(dens)
        x = draw(query_points(p.dim, max_rows=max_rows))
        t = draw(_times(p.process, low, high, fn))
        return p, x, t

    return draw_case()


def gaussian_mixtures(
    *,
    process: AbstractProcess | _Strategy[AbstractProcess] | None = None,
    dim: int | _Strategy[int] | None = None,
    min_components: int = 1,
    max_components: int = 4,
    min_dim: int = 1,
    max_dim: int = 3,
    scale: float = 5.0,
    min_variance: float = 0.01,
    max_variance: float = 1.0,
    uniform: bool = False,
) -> _Strategy[GaussianMixture]:
    """Gaussian-mixture data distributions (:class:`ridgetheory.GaussianMixture`).

    Means are distinct (as :func:`datasets`), variances in [min_variance, max_variance],
    weights each >= 0.05 / K before normalisation (uniform when ``uniform``).

    Parameters
    ----------
    process, dim, min_dim, max_dim, scale
        As in :func:`densities`.
    min_components, max_components : int, default=1, 4
        Range of K, ``1 <= min_components <= max_components``.
    min_variance, max_variance : float, default=0.01, 1.0
        ``0 < min_variance <= max_variance``.
    uniform : bool, default=False
        Equal weights.
    """
    fn = "gaussian_mixtures"
    procs = _process_strategy(process, fn)
    lo_k, hi_k = _range(min_components, max_components, ("min_components", "max_components"),
                        fn, 1)
    means = _datasets(lo_k, hi_k, min_dim, max_dim, dim, scale, True, SEPARATION, fn, "scale")
    v_lo = _positive(min_variance, "min_variance", fn)
    v_hi = check_scalar(max_variance, "max_variance", _where(fn), low=v_lo)
    uniform = _flag(uniform, "uniform", fn)

    @st.composite
    def draw_mixture(draw):
        mu = draw(means)
        K = mu.shape[0]
        v = draw(hnp.arrays(np.float64, K, elements=st.floats(v_lo, v_hi)))
        w = None
        if not uniform:
            raw = draw(hnp.arrays(np.float64, K, elements=st.floats(0.05, 1.0)))
            w = raw / raw.sum()
        return GaussianMixture(mu, v, w, draw(procs))

    return draw_mixture()


def random_feature_models(
    *,
    process: AbstractProcess | _Strategy[AbstractProcess] | None = None,
    dim: int | _Strategy[int] | None = None,
    min_points: int = 1,
    max_points: int = 4,
    min_dim: int = 1,
    max_dim: int = 2,
    min_features: int = 4,
    max_features: int = 16,
    K: int = 2,
    activations: tuple[str, ...] = ("relu", "tanh", "sigmoid"),
    parametrizations: tuple[str, ...] = ("denoiser", "score"),
):
    """Trained random-feature score models (:class:`ridgetheory.RandomFeatureScore`).

    A :class:`ridgetheory.RandomFeatureModel` with p in [min_features, max_features] features,
    ``K`` Fourier frequencies, horizon ``T = 5`` and a drawn seed, fitted to a drawn data set
    (:func:`datasets`) with a coarse quadrature (11 time nodes on [0.01, 5], 8 Gauss-Hermite
    nodes per axis; milliseconds) and read out at a drawn training time ``tau`` (``inf``, the
    minimum-norm minimiser, or in [0, 1000]).

    Parameters
    ----------
    process, dim, min_points, max_points, min_dim, max_dim
        As in :func:`densities` (D is at most 3: the quadrature grows as 8**D).
    min_features, max_features : int, default=4, 16
        Range of p, ``1 <= min_features <= max_features``.
    K : int, default=2
        Fourier frequencies of the time embedding, >= 0.
    activations, parametrizations : tuples of str
        Drawn from; subsets of ("relu", "tanh", "sigmoid") and ("denoiser", "score").

    Notes
    -----
    A drawn model prints as ``RandomFeatureScore(RandomFeatureModel(...), np.array(A_eff),
    process, tau=...)``: the seed redraws the features and ``A_eff`` is the read-out.
    """
    from .random_features import RandomFeatureModel
    from .random_features.features import ACTIVATIONS
    from .random_features.model import RF_PARAMETRIZATIONS

    fn = "random_feature_models"
    procs = _process_strategy(process, fn)
    lo_p, hi_p = _range(min_features, max_features, ("min_features", "max_features"), fn, 1)
    Kf = check_int(K, "K", _where(fn), low=0)
    check_int(max_dim, "max_dim", _where(fn), high=3)
    if isinstance(dim, int):
        check_int(dim, "dim", _where(fn), low=1, high=3)
    data = _datasets(min_points, max_points, min_dim, max_dim, dim, 5.0, True, SEPARATION, fn,
                     "max_points")
    activations = _choices(activations, "activations", fn, tuple(ACTIVATIONS))
    parametrizations = _choices(parametrizations, "parametrizations", fn,
                                tuple(RF_PARAMETRIZATIONS))

    @st.composite
    def draw_model(draw):
        X = draw(data)
        if X.shape[1] > 3:
            raise RidgeTheoryError(
                f"`dim` passed to {_where(fn)} must draw D <= 3; got D = {X.shape[1]}.")
        model = RandomFeatureModel(
            draw(st.integers(lo_p, hi_p)), K=Kf, T=5.0,
            activation=draw(st.sampled_from(activations)),
            parametrization=draw(st.sampled_from(parametrizations)),
            dim=X.shape[1], seed=draw(st.integers(0, 2**32 - 1)))
        fit = model.fit(X, draw(procs), time_nodes=11, t0=0.01, gh_order=8)
        tau = draw(st.one_of(st.just(math.inf), st.floats(0.0, 1000.0)))
        return fit.at(tau)

    return draw_model()


def injected_errors(
    *,
    density: AbstractDensity | _Strategy[AbstractDensity] | None = None,
    d: int | None = None,
    max_size: float = 1.0,
    units: tuple[str, ...] = ("score", "denoiser"),
) -> _Strategy[InjectedError]:
    """Exact scores plus a designed normal and tangential error
    (:class:`ridgetheory.InjectedError`).

    Parameters
    ----------
    density : AbstractDensity or strategy of densities, default=densities(min_points=2)
    d : int, optional
        Ridge dimension whose frames split the error; default drawn in [0, D - 1].
    max_size : float, default=1.0
        The normal and tangential sizes are drawn in [-max_size, max_size], max_size > 0.
    units : tuple of str, default=("score", "denoiser")
        Drawn from.
    """
    from .ridge import Ridge

    fn = "injected_errors"
    dens = _density_strategy(density, fn)
    dd = None if d is None else check_int(d, "d", _where(fn), low=0)
    size = _positive(max_size, "max_size", fn)
    units = _choices(units, "units", fn, ("score", "denoiser"))

    @st.composite
    def draw_error(draw):
        p = draw(dens)
        _fits(dd, p, fn)
        k = dd if dd is not None else draw(st.integers(0, p.dim - 1))
        sizes = st.floats(-size, size, allow_nan=False, allow_subnormal=False)
        return InjectedError(p, Ridge(p, k), normal=draw(sizes), tangent=draw(sizes),
                             units=draw(st.sampled_from(units)))

    return draw_error()


def _fits(d: int | None, density: AbstractDensity, fn: str) -> None:
    if d is not None and d > density.dim - 1:
        raise RidgeTheoryError(
            f"`d` passed to {_where(fn)} must be < D = {density.dim} of the drawn density; "
            f"got {d}.")


def _density_strategy(value: Any, fn: str) -> _Strategy[AbstractDensity]:
    if value is None:
        return densities(min_points=2)
    if isinstance(value, AbstractDensity):
        return st.just(value)
    if isinstance(value, _Strategy):
        return value
    raise RidgeTheoryError(
        f"`density` passed to {_where(fn)} must be None, a density such as "
        f"rt.SmoothedEmpirical or a strategy such as densities(); got {type(value).__name__}.")


# -- points on the ridge --------------------------------------------------------------------
class RidgePoints(NamedTuple):
    """Points on the d-ridge of a density at one time, with their frames.

    Attributes
    ----------
    density : AbstractDensity
    ridge : Ridge
        ``Ridge(density, d)``.
    t : float
    points : array of shape (M, D), float64
        Converged projections only (M >= 1): ``h_t |P_N s| <= tol``, determined frames and
        normal curvature ``l_{d+1} < 0``.
    frames : RidgeFrames
        ``ridge.frames(points, t)``.
    projection : RidgeProjection
        The whole projection, starts that did not converge included.
    """

    density: AbstractDensity
    ridge: Any
    t: float
    points: np.ndarray
    frames: Any
    projection: Any

    def __repr__(self) -> str:
        # what rebuilds the case: the density, d, t and the points (frames and projection
        # follow from them: rt.Ridge(density, d).frames(points, t))
        kept, starts = len(self.points), int(np.size(self.projection.converged))
        return (f"RidgePoints(density={self.density!r}, d={self.ridge.d}, t={self.t!r}, "
                f"points={_repr.array(self.points)}, kept={kept}, starts={starts})")


def _centres(density: AbstractDensity) -> np.ndarray | None:
    """Training points or mixture means (None for other densities)."""
    if isinstance(density, SmoothedEmpirical):
        return density.data.astype(np.float64)
    means = getattr(density, "means", None)
    return None if means is None else np.asarray(means, dtype=np.float64)


def _spanned(centres: np.ndarray) -> int:
    """Dimension of the affine span of the centres, counting only directions whose extent is
    at least 1e-3 of the largest (thinner ones leave the ridge frames undetermined)."""
    if len(centres) < 2:
        return 0
    sv = np.linalg.svd(centres - centres.mean(axis=0), compute_uv=False)
    return int(np.count_nonzero(sv > 1e-3 * sv[0])) if sv[0] > 0 else 0


def ridge_points(
    *,
    density: AbstractDensity | _Strategy[AbstractDensity] | None = None,
    d: int | None = None,
    low: float = 0.05,
    high: float = 2.0,
    max_rows: int = 4,
    tol: float = 1e-9,
    max_iter: int = 2000,
) -> _Strategy[RidgePoints]:
    """Points pre-projected onto the ridge of a drawn density, with their frames.

    Starts are the scaled training points (or mixture means) ``a_t x_i`` plus a drawn
    offset of up to ``sqrt(h_t)`` per axis; they are projected with
    ``rt.Ridge(density, d).project(starts, t, tol=tol, max_iter=max_iter)`` and **only the
    converged ones on the ridge are returned** (converged, determined frame, ``l_{d+1} < 0``):
    ``RidgePoints.points``, at least one; the whole projection is in
    ``RidgePoints.projection``. A draw where none qualifies is rejected with
    ``hypothesis.assume``; in this module's tests that is about 1 % of draws.

    Parameters
    ----------
    density : AbstractDensity or strategy of densities, default=densities(max_points=4)
    d : int, optional
        Ridge dimension. Default drawn in [0, min(D - 1, k)] where k is the dimension of the
        affine span of the training points (or means): the posterior covariance has rank
        at most k, and a d-ridge with d > k has undetermined frames everywhere. A fixed
        ``d`` that a drawn density cannot support makes that draw a rejection: ask for
        densities that span it (``densities(dim=3, min_points=3)`` still draws collinear
        points; such draws are rejected for d = 2).
    low, high : float, default=0.05, 2.0
        Range of t (as :func:`times`).
    max_rows : int, default=4
        Number of starts, >= 1.
    tol, max_iter
        Passed to :meth:`Ridge.project`.

    Notes
    -----
    ``SmoothedEmpirical`` densities project with the numba kernel: call :func:`warm_kernels`
    (or use the ``ridgetheory_warm`` fixture) first so the compilation does not fall on the
    first example.
    """
    from .ridge import Ridge

    fn = "ridge_points"
    dens = densities(max_points=4) if density is None else _density_strategy(density, fn)
    dd = None if d is None else check_int(d, "d", _where(fn), low=0)
    _times(None, low, high, fn)  # checks low and high now
    rows = check_int(max_rows, "max_rows", _where(fn), low=1)
    tol = _positive(tol, "tol", fn)
    max_iter = check_int(max_iter, "max_iter", _where(fn), low=1)

    @st.composite
    def draw_points(draw):
        p = draw(dens)
        _fits(dd, p, fn)
        centres = _centres(p)
        span = p.dim - 1 if centres is None else min(p.dim - 1, _spanned(centres))
        k = dd if dd is not None else draw(st.integers(0, span))
        t = draw(_times(p.process, low, high, fn))
        if centres is None:
            centres = np.zeros((1, p.dim))
        m = draw(st.integers(1, rows))
        pick = draw(st.lists(st.integers(0, len(centres) - 1), min_size=m, max_size=m))
        a, h = float(p.process.alpha(t)), float(p.process.h(t))
        unit = st.floats(-1.0, 1.0, allow_nan=False, allow_subnormal=False)
        offsets = draw(hnp.arrays(np.float64, (m, p.dim), elements=unit))
        starts = a * np.asarray(centres, dtype=np.float64)[pick] + math.sqrt(h) * offsets
        ridge = Ridge(p, k)
        proj = ridge.project(starts, t, tol=tol, max_iter=max_iter)
        # on the ridge: converged (h |P_N s| <= tol, frame determined) and l_{d+1} < 0
        ok = np.asarray(proj.converged) & (np.asarray(proj.curvature) < 0)
        assume(ok.any())
        pts = proj.points[ok]
        return RidgePoints(p, ridge, t, pts, ridge.frames(pts, t), proj)

    return draw_points()


# -- grids and rotations --------------------------------------------------------------------
def time_grids(
    process: AbstractProcess | None = None,
    *,
    min_steps: int = 1,
    max_steps: int = 32,
    low: float = 1e-3,
    high: float = 10.0,
    kinds: tuple[str, ...] = ("exponential", "linear", "cosine"),
) -> _Strategy[np.ndarray]:
    """Decreasing time grids from :mod:`ridgetheory.grids` (shape (steps + 1,), float64).

    ``t_min`` is drawn in [low, top / 2] and ``T`` in [2 t_min, top] with
    ``top = min(high, 0.9 * process.t_max)``, so ``T >= 2 t_min > 0``.

    Parameters
    ----------
    process : AbstractProcess, optional
        Caps T below its horizon.
    min_steps, max_steps : int, default=1, 32
        ``1 <= min_steps <= max_steps``.
    low, high : float, default=1e-3, 10.0
        ``0 < 2 low <= top``.
    kinds : tuple of str, default=("exponential", "linear", "cosine")
        Grid functions drawn from.
    """
    fn = "time_grids"
    lo_s, hi_s = _range(min_steps, max_steps, ("min_steps", "max_steps"), fn, 1)
    lo = _positive(low, "low", fn)
    hi = check_scalar(high, "high", _where(fn), low=2 * lo)
    top = _top(process, hi, fn)
    if top < 2 * lo:
        raise RidgeTheoryError(
            f"`low` passed to {_where(fn)} must be <= half of 0.9 * t_max = {top} of "
            f"{process!r}; got {lo}.")
    kinds = _choices(kinds, "kinds", fn, ("exponential", "linear", "cosine"))

    @st.composite
    def draw_grid(draw):
        t_min = draw(st.floats(lo, top / 2))
        T = draw(st.floats(2 * t_min, top))
        steps = draw(st.integers(lo_s, hi_s))
        return getattr(_grids, draw(st.sampled_from(kinds)))(T, t_min, steps)

    return draw_grid()


def rotations(dim: int | _Strategy[int]) -> _Strategy[np.ndarray]:
    """Rotations: orthogonal float64 matrices of shape (D, D) with determinant +1.

    A product of Givens rotations, one per plane (i, j), i < j, by drawn angles in
    [-pi, pi]; every rotation is such a product, and the draws shrink toward the identity.
    A reflection is ``R @ np.diag([-1.0] + [1.0] * (D - 1))``.

    Parameters
    ----------
    dim : int or strategy of int
        D >= 1 (D = 1 gives ``[[1.0]]``).
    """
    if dim is None:
        raise RidgeTheoryError(
            f"`dim` passed to {_where('rotations')} must be an integer >= 1 or a strategy of "
            "them; got None.")
    dims = _int_strategy(dim, "dim", "rotations", 1, (1, 1))
    angle = st.floats(-math.pi, math.pi, allow_nan=False, allow_subnormal=False)

    @st.composite
    def draw_rotation(draw):
        D = draw(dims)
        R = np.eye(D)
        for i in range(D):
            for j in range(i + 1, D):
                th = draw(angle)
                c, s = math.cos(th), math.sin(th)
                G = np.eye(D)
                G[i, i], G[j, j], G[i, j], G[j, i] = c, c, -s, s
                R = R @ G
        return R

    return draw_rotation()


# -- warm-up --------------------------------------------------------------------------------
def warm_kernels() -> dict[str, float]:
    """Compile (or load from numba's cache) every numba kernel group once:
    :func:`ridgetheory.warmup` without its progress bar.

    With a cold cache the compilation (about 30 s on two cores, every group) happens here and
    not inside the first hypothesis example, where it would trip deadlines and skew the
    health check; once numba's cache is written a call takes a few seconds at most. Does
    nothing where numba is unavailable.

    Returns
    -------
    seconds : dict
        Wall time of each kernel group, by name (empty without numba).
    """
    import ridgetheory as rt

    if not rt.backend_status("numba").available:
        return {}
    return rt.warmup(progress=False)


try:
    import pytest
except ImportError:  # pragma: no cover - pytest comes with hypothesis in the test extra
    pytest = None

if pytest is not None:

    @pytest.fixture(scope="session")
    def ridgetheory_warm() -> dict[str, float]:
        """Session fixture: :func:`warm_kernels` once, before the first test that asks for it.

        Enable it with ``pytest_plugins = ["ridgetheory.testing"]`` in the top conftest.py,
        or ``from ridgetheory.testing import ridgetheory_warm`` in any conftest.py.
        """
        return warm_kernels()

    __all__ += ["ridgetheory_warm"]
