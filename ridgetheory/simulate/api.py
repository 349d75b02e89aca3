"""``simulate``: reverse-time sampling on the numpy, numba or cupy backend (theory.md section 3)."""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from .._checks import RidgeTheoryError, check_array, check_int, check_seed
from ..backend import BackendUnavailable, backend_status, resolve_backend
from ..grids import check_grid
from ..processes import AbstractProcess
from .noise import INIT_STEP, normals_from_keys, seed_key, traj_keys
from .schemes import get_scheme
from .spec import classify, kernel_spec
from .trajectories import Trajectories

__all__ = ["simulate", "compare_backends"]

_WHERE = "simulate"


def _check_process(process: Any, from_score: Any) -> AbstractProcess:
    if process is None:
        if from_score is None:
            raise RidgeTheoryError(
                f"`process` passed to {_WHERE} is required when the score has no .process "
                "attribute; got None."
            )
        return from_score
    if not isinstance(process, AbstractProcess):
        raise RidgeTheoryError(
            f"`process` passed to {_WHERE} must be a forward process such as rt.OU(); "
            f"got {type(process).__name__}."
        )
    if from_score is not None and process != from_score:
        raise RidgeTheoryError(
            f"`process` passed to {_WHERE} must match the score's process {from_score!r}; "
            f"got {process!r}."
        )
    return process


def _save_indices(save_at: Any, grid: np.ndarray) -> np.ndarray:
    if save_at is None:
        return np.zeros(0, dtype=np.int64)
    s = check_array(save_at, "save_at", _WHERE, ndim=(0, 1)).reshape(-1)
    idx = []
    for v in s:
        hit = np.flatnonzero(np.abs(grid - v) <= 1e-12 * grid)
        if hit.size == 0:
            raise RidgeTheoryError(
                f"`save_at` passed to {_WHERE} must hold times of the grid (to 1e-12 relative); "
                f"got {float(v)!r}, nearest grid time {float(grid[np.argmin(np.abs(grid - v))])!r}."
            )
        idx.append(int(hit[0]))
    return np.unique(np.asarray(idx, dtype=np.int64))


def _progress_bar(total: int, enabled: bool, desc: str):
    from tqdm.auto import tqdm

    stream = sys.stderr
    on = bool(enabled) and hasattr(stream, "isatty") and stream.isatty()
    return tqdm(total=total, disable=not on, desc=desc, unit="traj-step", unit_scale=True,
                leave=False)


def simulate(
    score: Any,
    process: AbstractProcess | None = None,
    n: int | None = None,
    y0: Any = None,
    *,
    grid: Any,
    method: str = "em",
    backend: str = "auto",
    seed: int | None = None,
    save_at: Any = None,
    chunk: int | None = None,
    progress: bool = True,
    noise: Any = None,
) -> Trajectories:
    """Run the reverse SDE or the probability-flow ODE from ``grid[0] = T`` down to ``t_min``.

    Main parameters
    ---------------
    score : SmoothedEmpirical, GaussianMixture, random-feature score, AbstractScoreModel or callable
        The score ``s(y, t)``. The first three have fused numba and cupy kernels; any other
        score model or a plain callable ``f(x (M, D), t (M,)) -> (M, D)`` runs on numpy.
    process : AbstractProcess, default=score.process
        Forward process whose drift ``f`` and ``g^2`` define the reverse dynamics; must equal
        the score's process when the score has one.
    n : int, default=None
        Number of trajectories when ``y0`` is not given (they start from N(0, I)).
    y0 : array of shape (n, D), default=None
        Start states (for example exact samples of p_T from :func:`sample_pt`).
    grid : array of shape (L + 1,), float64
        Strictly decreasing times ``T = t_0 > ... > t_L = t_min > 0`` (see ``rt.grids``).
    method : {"em", "exponential", "heun-ode", "euler-ode"}, default="em"
        Scheme (``ridgetheory.simulate.schemes.SCHEMES``): Euler-Maruyama and the
        exponential integrator for the reverse SDE, Heun and Euler for the probability-flow ODE.
    backend : {"auto", "numpy", "numba", "cupy"}, default="auto"
        ``"auto"`` takes cupy when a GPU is usable, else numba, else numpy (generic scores:
        numpy) and records the choice in ``meta["backend"]``. A named backend that cannot run
        raises; nothing falls back quietly.
    seed : int, default=None
        Seed of the counter-based noise (needed for stochastic methods or when ``y0`` is not
        given). Trajectory ``i`` gets the same path whatever the batch, chunk or backend.

    Other parameters
    ----------------
    save_at : array of shape (k,), default=None
        Grid times at which to record the states (``grid[0]`` records the start).
    chunk : int, default=None (all at once)
        Trajectories advanced together; memory is O(chunk * D + n_train * D) for the fused
        kernels whatever the chunk.
    progress : bool, default=True
        tqdm progress bar on stderr, only when stderr is a terminal.
    noise : array of shape (L, n, D), default=None
        Standard normals to use instead of the counter-based ones (numpy backend only): lets
        tests drive schemes with given Brownian increments (``dB = sqrt(dt) xi``).

    Returns
    -------
    Trajectories
        ``.grid``, ``.times``, ``.states`` (n_saved, n, D), ``.final`` (n, D), ``.meta``.

    Raises
    ------
    RidgeTheoryError
        Bad grid (not strictly decreasing, ``t_min <= 0``), ``save_at`` off the grid, ``y0``
        of the wrong shape, unknown method or backend.
    BackendUnavailable
        A named backend that cannot run here or cannot run this score.

    Notes
    -----
    Euler-Maruyama: ``y <- y + (-f y + g^2 s) dt + g sqrt(dt) xi`` (OU:
    ``y + (y + 2 s) dt + sqrt(2 dt) xi``); see docs/integrators.md for the other schemes.

    Examples
    --------
    >>> import numpy as np, ridgetheory as rt
    >>> dens = rt.SmoothedEmpirical(np.array([[-2.0, 0.0], [2.0, 0.0]]))
    >>> out = rt.simulate(dens, n=100, grid=rt.grids.exponential(5.0, 1e-3, 200),
    ...                   backend="numpy", seed=0, progress=False)
    >>> out.final.shape, out.meta["backend"]
    ((100, 2), 'numpy')
    >>> near = np.abs(np.abs(out.final[:, 0]) - 2.0 * np.exp(-1e-3)) < 0.5  # memorized
    >>> bool(near.mean() > 0.9)
    True
    """
    t_start = time.perf_counter()
    kind, reference, proc_score, dim = classify(score, _WHERE)
    process = _check_process(process, proc_score)
    grid = check_grid(grid, _WHERE)
    if grid[0] > process.t_max:
        raise RidgeTheoryError(
            f"`grid` passed to {_WHERE} must start at T <= {process.t_max} for {process!r}; "
            f"got {grid[0]}."
        )
    scheme = get_scheme(method, _WHERE)
    L = grid.shape[0] - 1

    # -- start states ------------------------------------------------------------------
    if y0 is not None:
        y0 = check_array(y0, "y0", _WHERE, ndim=2)
        if dim is not None and y0.shape[1] != dim:
            raise RidgeTheoryError(
                f"`y0` passed to {_WHERE} must have shape (n, {dim}) to match the score; "
                f"got shape {y0.shape}."
            )
        if n is not None and check_int(n, "n", _WHERE, low=1) != y0.shape[0]:
            raise RidgeTheoryError(
                f"`n` passed to {_WHERE} must equal y0.shape[0] = {y0.shape[0]} when both are "
                f"given; got {n}."
            )
        if y0.shape[0] < 1 or y0.shape[1] < 1:
            raise RidgeTheoryError(f"`y0` passed to {_WHERE} must be non-empty; got {y0.shape}.")
        M, D = y0.shape
    else:
        if n is None:
            raise RidgeTheoryError(f"`n` passed to {_WHERE} is required when y0 is None.")
        M = check_int(n, "n", _WHERE, low=1)
        if dim is None:
            raise RidgeTheoryError(
                f"`y0` passed to {_WHERE} is required for a score callable without .dim "
                "(the dimension is unknown); got None."
            )
        D = dim

    needs_seed = (y0 is None) or (scheme.stochastic and noise is None)
    if seed is None:
        if needs_seed:
            raise RidgeTheoryError(
                f"`seed` passed to {_WHERE} must be an integer (the run draws noise); got None."
            )
    else:
        seed = check_seed(seed, _WHERE)

    # -- backend -----------------------------------------------------------------------
    supported = ("numpy",) if kind == "generic" or noise is not None else ("numpy", "numba",
                                                                              "cupy")
    if backend in ("numba", "cupy") and supported == ("numpy",):
        why = ("`noise` is given" if noise is not None else
               f"the score ({type(score).__name__}, dtype "
               f"{getattr(score, 'dtype', 'unknown')}) has no fused float64 kernel")
        raise BackendUnavailable(
            f"`backend` passed to {_WHERE} asked for {backend!r}, but {why}; this run needs "
            "backend='numpy' (or 'auto')."
        )
    chosen = resolve_backend(backend, _WHERE, supported=supported)

    if noise is not None:
        if not scheme.stochastic:
            raise RidgeTheoryError(
                f"`noise` passed to {_WHERE} is only for stochastic methods; method={method!r}."
            )
        noise = check_array(noise, "noise", _WHERE, ndim=3)
        if noise.shape != (L, M, D):
            raise RidgeTheoryError(
                f"`noise` passed to {_WHERE} must have shape ({L}, {M}, {D}); got {noise.shape}."
            )

    save_idx = _save_indices(save_at, grid)
    chunk = M if chunk is None else check_int(chunk, "chunk", _WHERE, low=1)

    coef = scheme.coefficients(process, grid)
    table = coef.table
    a = np.ascontiguousarray(process.alpha(grid))
    h = np.ascontiguousarray(process.h(grid))
    spec = kernel_spec(score, kind, grid) if chosen != "numpy" else None
    skey = seed_key(seed) if seed is not None else 0

    states = np.empty((save_idx.shape[0], M, D))
    final = np.empty((M, D))
    # segment ends: save points, and ~100 progress updates per chunk when a bar is shown
    cuts = set(save_idx.tolist()) | {L}
    bar = _progress_bar(L * M, progress, f"simulate[{chosen}/{method}]")
    if not bar.disable:
        cuts |= set(range(0, L, max(1, L // 100)))
    cuts = sorted(c for c in cuts if c > 0)
    save_pos = {int(l): i for i, l in enumerate(save_idx)}

    try:
        for c0 in range(0, M, chunk):
            c1 = min(M, c0 + chunk)
            traj = np.arange(c0, c1, dtype=np.int64)
            if y0 is None:
                Y = normals_from_keys(traj_keys(seed, traj), INIT_STEP, D)
            else:
                Y = y0[c0:c1].copy()
            if 0 in save_pos:
                states[save_pos[0], c0:c1] = Y
            if chosen == "numpy":
                keys = traj_keys(seed, traj) if seed is not None else None
                chunk_noise = None if noise is None else noise[:, c0:c1]
                _run_numpy(Y, grid, table, scheme, reference, keys, chunk_noise, cuts,
                           save_pos, states, c0, c1, bar)
            elif chosen == "numba":
                from .kernels_numba import run_numba

                l0 = 0
                for l1 in cuts:
                    run_numba(Y, c0, l0, l1, table, a, h, spec, skey, scheme.stochastic,
                              scheme.stages)
                    if l1 in save_pos:
                        states[save_pos[l1], c0:c1] = Y
                    bar.update((l1 - l0) * (c1 - c0))
                    l0 = l1
            else:
                from .kernels_cupy import run_cupy

                dev = run_cupy(Y, table, a, h, spec)
                l0 = 0
                for l1 in cuts:
                    dev.advance(c0, l0, l1, skey, scheme.stochastic, scheme.stages)
                    if l1 in save_pos:
                        states[save_pos[l1], c0:c1] = dev.host()
                    bar.update((l1 - l0) * (c1 - c0))
                    l0 = l1
                Y = dev.host()
            final[c0:c1] = Y
    finally:
        bar.close()

    bad = int(np.count_nonzero(~np.isfinite(final).all(axis=1)))
    meta = {
        "backend": chosen,
        "backend_requested": backend,
        "backend_detail": backend_status(chosen).detail,
        "method": scheme.name,
        "seed": seed,
        "wall_time": time.perf_counter() - t_start,
        "score_kind": kind,
        "chunk": chunk,
        "steps": L,
        "n": M,
        "score_evaluations": L * M * scheme.stages,
        "noise": "given" if noise is not None else "counter-based",
    }
    if bad:
        meta["n_nonfinite"] = bad
    return Trajectories(
        grid=grid, times=grid[save_idx].copy(), save_index=save_idx, states=states, final=final,
        meta=meta, status="nonfinite" if bad else "ok",
    )


def _run_numpy(Y, grid, table, scheme, reference, keys, noise, cuts, save_pos, states, c0, c1,
               bar):
    """The numpy reference: one vectorized step at a time with the score object's own _score."""
    m, D = Y.shape
    A0, A1, B0, B1, B2, B3, B4 = table.T
    l0 = 0
    for l1 in cuts:
        for l in range(l0, l1):
            t = np.full(m, grid[l])
            s1 = _call(reference, Y, t)
            if scheme.stages == 2:
                u = A0[l] * Y + A1[l] * s1
                s2 = _call(reference, u, np.full(m, grid[l + 1]))
                Y[...] = B0[l] * Y + B1[l] * s1 + B2[l] * u + B3[l] * s2
            elif scheme.stochastic:
                xi = normals_from_keys(keys, l, D) if noise is None else noise[l]
                Y[...] = B0[l] * Y + B1[l] * s1 + B4[l] * xi
            else:
                Y[...] = B0[l] * Y + B1[l] * s1
        if l1 in save_pos:
            states[save_pos[l1], c0:c1] = Y
        bar.update((l1 - l0) * m)
        l0 = l1


def _call(reference, x, t):
    out = np.asarray(reference(x, t), dtype=np.float64)
    if out.shape != x.shape:
        raise RidgeTheoryError(
            f"`score` passed to {_WHERE} returned shape {out.shape} for x of shape {x.shape}; "
            "a score must return an array shaped like x."
        )
    return out


def compare_backends(
    score: Any,
    backend: str,
    *,
    n: int,
    grid: Any,
    method: str = "em",
    seed: int = 0,
    process: AbstractProcess | None = None,
) -> dict[str, float]:
    """Run ``backend`` and the numpy reference on the same input and report their distance.

    Parameters
    ----------
    score, process, n, grid, method, seed
        As in :func:`simulate`.
    backend : {"numba", "cupy"}

    Returns
    -------
    report : dict
        ``max_abs`` (max |difference| of final states), ``scale`` (``1 + max |y|``),
        ``rel`` (``max_abs / scale``), ``wall_numpy`` and ``wall_backend`` (seconds).

    Examples
    --------
    >>> import numpy as np, ridgetheory as rt
    >>> from ridgetheory.simulate import compare_backends
    >>> g = rt.GaussianMixture(np.array([[-1.0], [1.0]]), np.array([0.1, 0.1]))
    >>> r = compare_backends(g, "numba", n=50, grid=rt.grids.exponential(3.0, 1e-2, 20))
    >>> r["rel"] < 1e-12
    True
    """
    if backend not in ("numba", "cupy"):
        raise RidgeTheoryError(
            f"`backend` passed to compare_backends must be 'numba' or 'cupy'; got {backend!r}."
        )
    kw = dict(n=n, grid=grid, method=method, seed=seed, progress=False)
    ref = simulate(score, process, backend="numpy", **kw)
    out = simulate(score, process, backend=backend, **kw)
    diff = float(np.max(np.abs(ref.final - out.final)))
    scale = 1.0 + float(np.max(np.abs(ref.final)))
    return {"max_abs": diff, "scale": scale, "rel": diff / scale,
            "wall_numpy": ref.meta["wall_time"], "wall_backend": out.meta["wall_time"]}
