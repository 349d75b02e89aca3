"""``warmup``: compile every numba kernel group now, with a progress bar (issue 16).

numba compiles each kernel on its first call after an install and caches it; the first call
of an entry point then waits for the compile (a line on stderr says so, see
:mod:`ridgetheory._compile`). ``ridgetheory warmup`` (this function) takes that wait up front,
for example in a container build, by calling the public entry points on tiny inputs. Once the
cache is warm, a call loads the kernels and takes well under a second per group.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import numpy as np

from . import _compile
from ._checks import check_choice

__all__ = ["warmup", "GROUPS"]

GROUPS = _compile.GROUPS

_PTS = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])


def _grid(steps: int = 3) -> np.ndarray:
    from .grids import exponential

    return exponential(2.0, 0.1, steps)


def _ridge() -> None:
    from .densities import SmoothedEmpirical
    from .ridge import Ridge

    # the closed forms of D = 2 and the general kernels are compiled separately
    for data in (_PTS, np.eye(3)):
        x = np.random.default_rng(0).standard_normal((4, data.shape[1]))
        Ridge(SmoothedEmpirical(data), 1).project(x, 0.5, backend="numba")


def _sample(score) -> None:
    from .simulate import simulate

    simulate(score, n=4, grid=_grid(), seed=0, backend="numba", method="em", progress=False)


def _simulate() -> None:
    from .densities import SmoothedEmpirical

    _sample(SmoothedEmpirical(_PTS))


def _mixture() -> None:
    from .densities import GaussianMixture

    _sample(GaussianMixture(_PTS, np.full(3, 0.1)))


def _random_features() -> None:
    from . import gaussian_moments as gm
    from .random_features import RandomFeatureModel

    fit = RandomFeatureModel(4, K=2, T=2.0, seed=0).fit(_PTS, quadrature="exact", time_nodes=3,
                                                        t0=0.1)
    _sample(fit.at(np.inf))
    mu = np.zeros((2, 2))
    gm.relu_cross_moment(mu[0], 1.0, mu[1], 1.0, 0.5, backend="numba")
    gm.relu_moment_matrix(mu, np.eye(2), backend="numba")
    gm.relu_moment_matrix(mu, np.eye(2), weights=np.ones(2), backend="numba")


def _predict() -> None:
    from .densities import SmoothedEmpirical
    from .injected import InjectedError
    from .predict import predict
    from .ridge import Ridge
    from .simulate import sample_pt

    # D = 3 about a curve: two normal directions, so the frame transport runs too
    p = SmoothedEmpirical(np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [2.0, 0.0, 0.0]]))
    r = Ridge(p, 1)
    start = sample_pt(p, 2.0, 8, seed=1)
    predict(InjectedError(p, r, normal=0.1), p, r, _grid(4), start, seed=0)


_STEPS: dict[str, Callable[[], None]] = {
    "ridge": _ridge,
    "simulate": _simulate,
    "mixture": _mixture,
    "random_features": _random_features,
    "predict": _predict,
}


def warmup(progress: bool = True, groups: Iterable[str] | None = None) -> dict[str, float]:
    """Compile (or load from numba's cache) every kernel group now.

    Parameters
    ----------
    progress : bool, default=True
        Show a tqdm bar on stderr, one tick per group (the per-group compile notice is off
        meanwhile).
    groups : iterable of str, optional
        Some of ``"ridge"``, ``"simulate"``, ``"mixture"``, ``"random_features"``,
        ``"predict"``; default all, in that order.

    Returns
    -------
    dict of str to float
        Seconds per group, in the order run. A group whose kernels are already cached takes
        well under a second.

    Raises
    ------
    RidgeTheoryError
        An unknown group name.

    Notes
    -----
    Each group calls its public entry points on tiny inputs with ``backend="numba"``:
    ``Ridge.project`` (D = 2 and D = 3), ``simulate`` on a smoothed empirical density, a
    Gaussian mixture and a random-feature score, ``RandomFeatureModel.fit(quadrature="exact")``
    and the numba Gaussian moments, ``predict.predict`` in D = 3. numba keeps the compiled
    code in its cache (``NUMBA_CACHE_DIR``, by default ``__pycache__`` beside the sources).

    Examples
    --------
    >>> import ridgetheory as rt
    >>> sorted(rt.warmup(progress=False, groups=["mixture"]))
    ['mixture']
    """
    names = list(GROUPS if groups is None else
                 ([groups] if isinstance(groups, str) else groups))
    for name in names:
        check_choice(name, "groups", "warmup", GROUPS)
    from tqdm.auto import tqdm

    seconds: dict[str, float] = {}
    with _compile.quiet(), tqdm(total=len(names), disable=not progress, desc="compiling kernels",
                                unit="group", leave=True) as bar:
        for name in names:
            bar.set_postfix_str(name)
            t0 = time.perf_counter()
            _STEPS[name]()
            seconds[name] = time.perf_counter() - t0
            bar.update()
    return seconds
