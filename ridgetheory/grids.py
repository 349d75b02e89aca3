"""Decreasing time grids ``T = t_0 > t_1 > ... > t_L = t_min > 0`` for reverse-time sampling.

Each function returns a float64 array of length ``steps + 1`` whose first entry is exactly
``T`` and last exactly ``t_min`` (theory.md section 3).

Examples
--------
>>> import ridgetheory as rt
>>> g = rt.grids.exponential(10.0, 1e-3, 4)
>>> g.shape, float(g[0]), float(g[-1])
((5,), 10.0, 0.001)
"""

from __future__ import annotations

import numpy as np

from ._checks import RidgeTheoryError, check_array, check_int, check_scalar

__all__ = ["exponential", "linear", "cosine", "check_grid"]


def _args(T: float, t_min: float, steps: int, where: str) -> tuple[float, float, int]:
    T = check_scalar(T, "T", where, low=0.0, low_open=True)
    t_min = check_scalar(t_min, "t_min", where, low=0.0, low_open=True)
    if not t_min < T:
        raise RidgeTheoryError(f"`t_min` passed to {where} must be < T = {T}; got {t_min}.")
    steps = check_int(steps, "steps", where, low=1)
    return T, t_min, steps


def _pin(g: np.ndarray, T: float, t_min: float) -> np.ndarray:
    g[0], g[-1] = T, t_min
    return g


def exponential(T: float, t_min: float, steps: int) -> np.ndarray:
    """Geometric grid ``t_l = T q^{-l}`` with ``q = (T / t_min)^{1/steps}`` (the default grid).

    Parameters
    ----------
    T : float
        Start time (largest), > 0.
    t_min : float
        End time (smallest), ``0 < t_min < T``.
    steps : int
        Number of steps L >= 1.

    Returns
    -------
    grid : array of shape (steps + 1,), float64, strictly decreasing
    """
    T, t_min, steps = _args(T, t_min, steps, "grids.exponential")
    g = np.exp(np.linspace(np.log(T), np.log(t_min), steps + 1))
    return _pin(g, T, t_min)


def linear(T: float, t_min: float, steps: int) -> np.ndarray:
    """Uniform grid from ``T`` down to ``t_min``; same parameters as :func:`exponential`."""
    T, t_min, steps = _args(T, t_min, steps, "grids.linear")
    return _pin(np.linspace(T, t_min, steps + 1), T, t_min)


def cosine(T: float, t_min: float, steps: int) -> np.ndarray:
    """Cosine-spaced grid, dense near both ends: ``t = t_min + (T - t_min)(1 + cos(pi u))/2``.

    Same parameters as :func:`exponential`; ``u`` runs uniformly over [0, 1].
    """
    T, t_min, steps = _args(T, t_min, steps, "grids.cosine")
    u = np.linspace(0.0, 1.0, steps + 1)
    g = t_min + (T - t_min) * 0.5 * (1.0 + np.cos(np.pi * u))
    return _pin(g, T, t_min)


def check_grid(grid: object, where: str = "grids.check_grid", name: str = "grid") -> np.ndarray:
    """Return ``grid`` as float64 after checking it is a valid sampler time grid.

    A valid grid is 1-D with at least 2 times, strictly decreasing (``T = t_0 > ... > t_L``)
    and ends at ``t_min > 0``: what ``rt.simulate`` and the predictions take.

    Parameters
    ----------
    grid : array of shape (L + 1,)
        The times to check.
    where : str, default="grids.check_grid"
        The function named in error messages: pass your own function's name when you
        validate its argument (``"`grid` passed to my_sampler must ..."``).
    name : str, default="grid"
        The argument named in error messages.

    Returns
    -------
    array of shape (L + 1,), float64

    Raises
    ------
    RidgeTheoryError
        Not 1-D, fewer than 2 times, not strictly decreasing, ``t_min <= 0`` or non-finite.

    Examples
    --------
    >>> import ridgetheory as rt
    >>> rt.grids.check_grid([1.0, 0.5, 0.1]).tolist()
    [1.0, 0.5, 0.1]
    >>> try:
    ...     rt.grids.check_grid([1.0, 1.0, 0.5], "my_sampler")
    ... except rt.RidgeTheoryError as err:
    ...     print(err)
    `grid` passed to my_sampler must be strictly decreasing; got 1.0 then 1.0 at index 0.
    """
    g = check_array(grid, name, where, ndim=1)
    if g.shape[0] < 2:
        raise RidgeTheoryError(
            f"`{name}` passed to {where} must have at least 2 times; got shape {g.shape}."
        )
    if not np.all(np.diff(g) < 0):
        k = int(np.argmax(np.diff(g) >= 0))
        raise RidgeTheoryError(
            f"`{name}` passed to {where} must be strictly decreasing; "
            f"got {g[k]} then {g[k + 1]} at index {k}."
        )
    if g[-1] <= 0:
        raise RidgeTheoryError(f"`{name}` passed to {where} must end at t_min > 0; got {g[-1]}.")
    return g
