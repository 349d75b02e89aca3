"""Training sets of the experiments: the reference layouts (theory.md section 7), layouts with
parameters (``ring(n, radius)``, ``grid(k)``, ``gaussian(n, D, seed)``), the user's own points
inline or from a ``.npy``/``.csv`` file (:func:`resolve`)."""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import RidgeTheoryError

__all__ = ["LAYOUTS", "LAYOUT_FUNCTIONS", "layout", "resolve", "curved13", "ring", "grid",
           "gaussian"]


def curved13() -> np.ndarray:
    """13 points on an arc of a spiral, unevenly spaced (our choice; the paper's is unpublished).

    ``r_k = 3 + 0.15 k``, ``theta_k = 0.26 k`` for k = 0..12 (about 200 degrees of arc), with
    the spacing shrinking towards the middle by a gentle warp so neighbouring modes merge at
    different times: curved, multimodal, and not symmetric.
    """
    k = np.arange(13, dtype=np.float64)
    theta = 0.26 * k + 0.05 * np.sin(k)
    r = 3.0 + 0.15 * k
    return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)


def ring(n: int, radius: float) -> np.ndarray:
    """``n`` points evenly on a circle of ``radius`` in the plane, the first on the x axis."""
    theta = 2 * np.pi * np.arange(n) / n
    return radius * np.stack([np.cos(theta), np.sin(theta)], axis=1)


def gaussian(n: int, dim: int, seed: int, scale: float = 1.0) -> np.ndarray:
    """``n`` points drawn from ``N(0, scale^2 I_dim)`` with ``numpy.random.default_rng(seed)``."""
    return np.random.default_rng(seed).normal(0.0, scale, (n, dim))


def grid(k: int, spacing: float = 1.0) -> np.ndarray:
    """The ``k x k`` square grid ``spacing * (i, j)``, i, j = 0..k-1 (``grid(3)`` is layout
    "9")."""
    return spacing * np.array([[i, j] for i in range(k) for j in range(k)], dtype=np.float64)


#: layouts with parameters, by the name a config calls them with
LAYOUT_FUNCTIONS = {"ring": ring, "grid": grid, "gaussian": gaussian, "curved13": curved13}


LAYOUTS: dict[str, np.ndarray] = {
    "1": np.array([[5.0, 0.0]]),
    "2": np.array([[0.0, 0.0], [5.0, 0.0]]),
    "3": np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]]),
    "4": np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0], [5.0, 5.0]]),
    "4.5": np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0], [2.5, 2.5]]),
    "5": np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0], [5.0, 5.0], [2.5, 2.5]]),
    "9": np.array([[i, j] for i in range(3) for j in range(3)], dtype=np.float64),
    "two_mode": np.array([[-3.0, 0.0], [3.0, 0.0]]),
    "curved13": curved13(),
    # a curved ridge with corners: six points on a circle of radius 3
    "hexagon": ring(6, 3.0),
    # four points drawn from N(0, 2^2 I_8): the slide and directional checks in D = 8
    "gaussian8": gaussian(4, 8, 42, 2.0),
}


def _call(text: str, where: str) -> np.ndarray:
    """``"ring(6, 3.0)"``: a layout function called with literal arguments."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            raise ValueError
        args = [ast.literal_eval(a) for a in node.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    except (SyntaxError, ValueError):
        raise RidgeTheoryError(
            f"`layout` {where} must be a layout name, a call such as 'ring(6, 3.0)' with "
            f"literal arguments, a .npy/.csv path or an inline array; got {text!r}.") from None
    name = node.func.id
    if name not in LAYOUT_FUNCTIONS:
        raise RidgeTheoryError(
            f"`layout` {where} calls {name!r}; layouts with parameters are "
            f"{', '.join(f'{k}(...)' for k in LAYOUT_FUNCTIONS)}.")
    for a in [*args, *kwargs.values()]:
        if isinstance(a, bool) or not isinstance(a, (int, float)):
            raise RidgeTheoryError(
                f"`layout` {where}: the arguments of {name}(...) must be numbers; got {a!r}.")
    import inspect

    try:
        inspect.signature(LAYOUT_FUNCTIONS[name]).bind(*args, **kwargs)
    except TypeError as exc:
        names = ", ".join(inspect.signature(LAYOUT_FUNCTIONS[name]).parameters)
        raise RidgeTheoryError(f"`layout` {where}: {name}({names}) cannot take {text!r} "
                               f"({exc}).") from None
    # counts and seeds must be integers (index -> smallest value)
    ints = {"ring": {0: 1}, "grid": {0: 1}, "gaussian": {0: 1, 1: 1, 2: 0}}.get(name, {})
    for i, low in ints.items():
        if i < len(args) and (not isinstance(args[i], int) or args[i] < low):
            raise RidgeTheoryError(
                f"`layout` {where}: argument {i + 1} of {name}(...) must be an integer >= "
                f"{low}; got {args[i]!r}.")
    return np.asarray(LAYOUT_FUNCTIONS[name](*args, **kwargs), dtype=np.float64)


def _load_file(path: Path, where: str) -> np.ndarray:
    if not path.is_file():
        raise RidgeTheoryError(f"`layout` {where} names the file {str(path)!r}, which does not "
                               "exist (relative paths start at the config's directory).")
    try:
        if path.suffix == ".npy":
            arr = np.load(path, allow_pickle=False)
        else:
            arr = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2, comments="#")
    except ValueError as exc:
        raise RidgeTheoryError(f"`layout` {where}: {path.name} is not a numeric array of "
                               f"points ({exc}).") from None
    return arr


def resolve(value: Any, base_dir: str | os.PathLike | None = None, where: str = "") -> np.ndarray:
    """The training points a config's ``layout`` value names, float64 of shape (n, D).

    Parameters
    ----------
    value : str or list of lists
        A name in :data:`LAYOUTS`; a call of a function in :data:`LAYOUT_FUNCTIONS` such as
        ``"ring(6, 3.0)"``, ``"grid(3)"``, ``"gaussian(16, 8, 0)"``; a path ending in
        ``.npy`` (a 2-D array) or ``.csv`` (one point per row, comma-separated, ``#``
        comments); or the points inline, ``[[x, y, ...], ...]``.
    base_dir : path, optional
        Where relative paths start (the config's directory; default the working directory).
    where : str
        Names the config in messages (``"in my.toml"``).

    Raises
    ------
    RidgeTheoryError
        An unknown name, a bad call, a missing or malformed file, ragged rows, non-finite
        values, or fewer than one point.
    """
    where = where or "in the experiment config"
    if isinstance(value, str):
        text = value.strip()
        if text in LAYOUTS:
            arr = LAYOUTS[text].copy()
        elif text.endswith((".npy", ".csv")):
            path = Path(text)
            if not path.is_absolute():
                path = Path(base_dir if base_dir is not None else Path.cwd()) / path
            arr = _load_file(path, where)
        elif "(" in text:
            arr = _call(text, where)
        else:
            raise RidgeTheoryError(
                f"`layout` {where} must be one of {', '.join(map(repr, LAYOUTS))}, a call "
                f"such as 'ring(6, 3.0)', a .npy/.csv path or an inline array; got {value!r}.")
    elif isinstance(value, (list, tuple, np.ndarray)):
        rows = list(value)
        if not rows or any(not isinstance(r, (list, tuple, np.ndarray)) for r in rows) or \
                len({len(r) for r in rows}) != 1:
            raise RidgeTheoryError(
                f"`layout` {where} given inline must be a non-empty list of points of equal "
                "length, [[x, y, ...], ...].")
        try:
            arr = np.array(rows, dtype=np.float64)
        except (TypeError, ValueError):
            raise RidgeTheoryError(f"`layout` {where}: inline points must be numbers.") \
                from None
    else:
        raise RidgeTheoryError(f"`layout` {where} must be a string or a list of points; got "
                               f"{type(value).__name__}.")
    arr = np.asarray(arr)
    if arr.dtype.kind not in "iuf" or arr.ndim != 2 or arr.shape[0] < 1:
        raise RidgeTheoryError(f"`layout` {where} must give a numeric array of shape (n, D) "
                               f"with n >= 1; got shape {arr.shape}, dtype {arr.dtype}.")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise RidgeTheoryError(f"`layout` {where} has non-finite coordinates.")
    return arr


def layout(name: str) -> np.ndarray:
    """The training points of a named layout, float64 (n, D) (a copy)."""
    if name not in LAYOUTS:
        raise RidgeTheoryError(
            f"`layout` in the experiment config must be one of {', '.join(map(repr, LAYOUTS))}; "
            f"got {name!r}."
        )
    return LAYOUTS[name].copy()
