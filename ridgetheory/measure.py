"""Measurements on samples: memorization, nearest training points, mode counts (theory.md §8)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import RidgeTheoryError, check_array, check_int, check_scalar, check_seed

__all__ = ["nearest_training", "memorization_fraction", "mode_counts", "allocation_test"]


def nearest_training(
    samples: Any, train: Any, k: int = 2, chunk: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest training points of each sample (exact, chunked over samples).

    Parameters
    ----------
    samples : array of shape (M, D)
    train : array of shape (n, D), n >= k
    k : int, default=2
    chunk : int, default=4096
        Samples per chunk (memory ``chunk * n`` floats).

    Returns
    -------
    index : array of shape (M, k), int64, nearest first
    distance : array of shape (M, k), float64
    """
    where = "nearest_training"
    X = check_array(samples, "samples", where, ndim=2)
    Y = check_array(train, "train", where, ndim=2, min_rows=1)
    k = check_int(k, "k", where, low=1, high=Y.shape[0])
    chunk = check_int(chunk, "chunk", where, low=1)
    if X.shape[1] != Y.shape[1]:
        raise RidgeTheoryError(
            f"`train` passed to {where} must have {X.shape[1]} columns; got shape {Y.shape}."
        )
    idx = np.empty((len(X), k), dtype=np.int64)
    dist = np.empty((len(X), k))
    yy = np.einsum("nd,nd->n", Y, Y)
    for s in range(0, len(X), chunk):
        xs = X[s : s + chunk]
        d2 = np.einsum("md,md->m", xs, xs)[:, None] - 2 * xs @ Y.T + yy[None, :]
        part = (
            np.argpartition(d2, k - 1, axis=1)[:, :k]
            if k < Y.shape[0]
            else np.tile(np.arange(Y.shape[0]), (len(xs), 1))
        )
        rows = np.arange(len(xs))[:, None]
        order = np.argsort(d2[rows, part], axis=1)
        sel = part[rows, order]
        idx[s : s + chunk] = sel
        # exact distances for the selected pairs (the expanded form above can cancel)
        dist[s : s + chunk] = np.linalg.norm(xs[:, None, :] - Y[sel], axis=2)
    return idx, dist


def memorization_fraction(
    samples: Any,
    train: Any,
    *,
    ratio: float = 1.0 / 3.0,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, float]:
    """Share of samples whose nearest / second-nearest training distance is below ``ratio``.

    The criterion of Bonnaire et al. (2025); a bootstrap over samples gives the interval.

    Parameters
    ----------
    samples : array of shape (M, D)
    train : array of shape (n, D), n >= 2
        Compare like with like: at ``t_min`` pass ``a_{t_min}`` times the training points.
    ratio : float, default=1/3
    n_boot : int, default=1000
    level : float, default=0.95
    seed : int, default=0

    Returns
    -------
    dict with ``fraction``, ``low``, ``high`` (percentile bootstrap interval) and ``n``.

    Examples
    --------
    >>> import numpy as np
    >>> from ridgetheory.measure import memorization_fraction
    >>> train = np.array([[0.0, 0.0], [5.0, 0.0]])
    >>> memorization_fraction(np.array([[0.1, 0.0], [2.5, 0.0]]), train)["fraction"]
    0.5
    """
    where = "memorization_fraction"
    ratio = check_scalar(ratio, "ratio", where, low=0.0, low_open=True)
    n_boot = check_int(n_boot, "n_boot", where, low=1)
    level = check_scalar(level, "level", where, low=0.0, high=1.0, low_open=True, high_open=True)
    seed = check_seed(seed, where)
    Y = check_array(train, "train", where, ndim=2)
    if Y.shape[0] < 2:
        raise RidgeTheoryError(
            f"`train` passed to {where} must hold at least 2 points; got shape {Y.shape}."
        )
    _, dist = nearest_training(samples, Y, k=2)
    # a sample on a duplicated training point (both distances 0) is memorized too
    mem = (dist[:, 0] < ratio * dist[:, 1]) | (dist[:, 0] == 0)
    frac = float(mem.mean())
    # resampling Bernoulli outcomes with replacement: the bootstrap count is Binomial(M, frac)
    rng = np.random.default_rng(seed)
    boots = rng.binomial(len(mem), frac, size=n_boot) / len(mem)
    lo, hi = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])
    return {"fraction": frac, "low": float(lo), "high": float(hi), "n": int(len(mem))}


def mode_counts(samples: Any, centres: Any, radius: float = 0.5) -> np.ndarray:
    """Number of samples within ``radius`` of each centre, shape (n,), int64."""
    X = check_array(samples, "samples", "mode_counts", ndim=2)
    C = check_array(centres, "centres", "mode_counts", ndim=2, min_rows=1)
    radius = check_scalar(radius, "radius", "mode_counts", low=0.0, low_open=True)
    d2 = ((X[:, None, :] - C[None, :, :]) ** 2).sum(-1)
    return (d2 <= radius**2).sum(axis=0).astype(np.int64)


def allocation_test(a: Any, b: Any) -> dict[str, Any]:
    """Chi-square test that two allocations among training points come from one distribution.

    Pearson's test of homogeneity on the 2 x n table of counts (``scipy.stats.chi2_contingency``,
    with its continuity correction when n = 2); training points that neither sample reaches
    are left out of the table (they carry no information and would give zero expected counts).

    Parameters
    ----------
    a, b : array of shape (n,), non-negative integers
        Counts per training point (for example from :func:`ridgetheory.predict.allocation`).

    Returns
    -------
    dict with ``statistic``, ``dof``, ``p_value`` and ``columns`` (the training points
    kept). With fewer than two training points reached, ``p_value`` is 1 and ``dof`` 0.

    Examples
    --------
    >>> from ridgetheory.measure import allocation_test
    >>> allocation_test([50, 50, 0], [48, 52, 0])["p_value"] > 0.5
    True
    >>> allocation_test([90, 10], [50, 50])["p_value"] < 1e-6
    True
    """
    from scipy.stats import chi2_contingency

    where = "allocation_test"
    A = check_array(a, "a", where, ndim=1)
    B = check_array(b, "b", where, ndim=1)
    if A.shape != B.shape:
        raise RidgeTheoryError(
            f"`b` passed to {where} must have the shape of `a` {A.shape}; got {B.shape}.")
    for name, v in (("a", A), ("b", B)):
        if np.any(v < 0) or np.any(v != np.round(v)):
            raise RidgeTheoryError(
                f"`{name}` passed to {where} must hold non-negative integer counts.")
    if A.sum() == 0 or B.sum() == 0:
        raise RidgeTheoryError(f"`a` and `b` passed to {where} must each count some samples.")
    keep = np.flatnonzero((A + B) > 0)
    if keep.size < 2:
        return {"statistic": 0.0, "dof": 0, "p_value": 1.0, "columns": keep.tolist()}
    res = chi2_contingency(np.stack([A[keep], B[keep]]))
    return {"statistic": float(res[0]), "dof": int(res[2]), "p_value": float(res[1]),
            "columns": keep.tolist()}
