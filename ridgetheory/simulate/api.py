"""``simulate``: reverse-time sampling on the numpy, numba or cupy backend (theory.md section 3).

The entry point only checks its arguments (:func:`.plan.plan_run`), walks the chunks of
trajectories and the segments of the grid (save points, progress) and hands each segment to
the backend's runner (:mod:`.runner`).
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from .._checks import RidgeTheoryError
from ..backend import backend_status
from ..processes import AbstractProcess
from .noise import INIT_STEP, normals_from_keys, traj_keys
from .plan import RunPlan, plan_run
from .runner import make_runner
from .trajectories import Trajectories

__all__ = ["simulate", "compare_backends"]


def _progress_bar(total: int, enabled: bool, desc: str):
    from tqdm.auto import tqdm

    stream = sys.stderr
    on = bool(enabled) and hasattr(stream, "isatty") and stream.isatty()
    return tqdm(total=total, disable=not on, desc=desc, unit="traj-step", unit_scale=True,
                leave=False)


def _segment_ends(plan: RunPlan, progress_shown: bool) -> list[int]:
    """Grid indices where a segment ends: save points, the end, and ~100 progress updates."""
    L = plan.steps
    cuts = set(plan.save_index.tolist()) | {L}
    if progress_shown:
        cuts |= set(range(0, L, max(1, L // 100)))
    return sorted(c for c in cuts if c > 0)


#: numbers drawn per slice of the initial N(0, I) states
_INIT_SLICE = 2**16


def _start_states(plan: RunPlan, c0: int, c1: int) -> np.ndarray:
    """Start states of trajectories ``c0 .. c1 - 1``: ``y0`` or counter-based N(0, I)."""
    if plan.y0 is None:
        # in slices: the counter-based draw forms ~16 temporaries of its size, which would
        # otherwise dominate the run's memory (O(M D) with a constant of 17)
        out = np.empty((c1 - c0, plan.dim), dtype=plan.dtype)
        step = max(1, _INIT_SLICE // plan.dim)
        for a in range(c0, c1, step):
            b = min(c1, a + step)
            out[a - c0:b - c0] = normals_from_keys(
                traj_keys(plan.seed, np.arange(a, b, dtype=np.int64)), INIT_STEP, plan.dim)
        return out
    return plan.y0[c0:c1].astype(plan.dtype)


def _trajectories(plan: RunPlan, states: np.ndarray, final: np.ndarray,
                  wall_time: float) -> Trajectories:
    bad = int(np.count_nonzero(~np.isfinite(final).all(axis=1)))
    meta = {
        "backend": plan.backend,
        "backend_requested": plan.backend_requested,
        "backend_detail": backend_status(plan.backend).detail,
        "method": plan.scheme.name,
        "seed": plan.seed,
        "wall_time": wall_time,
        "score_kind": plan.score_kind,
        "score_path": plan.score_path,
        "score_path_why": plan.score_path_why,
        "dtype": str(plan.dtype),
        "chunk": plan.chunk,
        "steps": plan.steps,
        "n": plan.n,
        "score_evaluations": plan.steps * plan.n * plan.scheme.stages,
        "noise": "given" if plan.noise is not None else "counter-based",
    }
    if bad:
        meta["n_nonfinite"] = bad
    return Trajectories(
        grid=plan.grid, times=plan.grid[plan.save_index].copy(), save_index=plan.save_index,
        states=states, final=final, meta=meta, status="nonfinite" if bad else "ok",
    )


def simulate(
    score: Any,
    process: AbstractProcess | None = None,
    n: int | None = None,
    y0: Any = None,
    *,
    grid: Any,
    method: str = "exponential",
    backend: str = "auto",
    seed: int | None = None,
    save_at: Any = None,
    chunk: int | None = None,
    progress: bool = True,
    noise: Any = None,
    dtype: Any = None,
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
    method : {"exponential", "em", "heun-ode", "euler-ode"}, default="exponential"
        Scheme (``ridgetheory.simulate.schemes.SCHEMES``): the exponential integrator and
        Euler-Maruyama for the reverse SDE, Heun and Euler for the probability-flow ODE. The
        default is the one docs/integrators.md recommends for sampling: the linear part of the
        drift is integrated exactly, which keeps it stable where ``dt`` is not small against 1.
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
    dtype : {numpy.float64, numpy.float32}, default=None (the score's dtype)
        Precision of the states and the score. float32 is opt-in through the score
        (``rt.SmoothedEmpirical(data, dtype=np.float32)``); it must equal the score's dtype.
        On numba a float32 empirical score runs the blocked GEMM path, with the logit shift
        and the sums of weights in float64; its error against float64 is in
        docs/performance.md. Callables and the other float32 scores run on numpy.

    Returns
    -------
    Trajectories
        ``.grid``, ``.times``, ``.states`` (n_saved, n, D), ``.final`` (n, D), ``.meta``
        (backend, method, seed, timings, ``dtype``, and ``score_path`` with its reason
        ``score_path_why``: on numba the empirical score runs the fused per-query kernel or
        the blocked GEMM path, by the rule of
        :func:`ridgetheory.simulate.kernels_blocked.choose_path`).

    Raises
    ------
    RidgeTheoryError
        Bad grid (not strictly decreasing, ``t_min <= 0``), ``save_at`` off the grid, ``y0``
        of the wrong shape, unknown method or backend.
    BackendUnavailable
        A named backend that cannot run here or cannot run this score.

    Notes
    -----
    Exponential integrator (OU): ``y <- e^{dt} y + 2 (e^{dt} - 1) s + sqrt(e^{2 dt} - 1) xi``;
    Euler-Maruyama: ``y <- y + (-f y + g^2 s) dt + g sqrt(dt) xi`` (OU:
    ``y + (y + 2 s) dt + sqrt(2 dt) xi``); see docs/integrators.md for all schemes.

    Examples
    --------
    >>> import numpy as np, ridgetheory as rt
    >>> dens = rt.SmoothedEmpirical(np.array([[-2.0, 0.0], [2.0, 0.0]]))
    >>> out = rt.simulate(dens, n=100, grid=rt.grids.exponential(5.0, 1e-3, 200),
    ...                   backend="numpy", seed=0, progress=False)
    >>> out.final.shape, out.meta["backend"], out.meta["method"]
    ((100, 2), 'numpy', 'exponential')
    >>> near = np.abs(np.abs(out.final[:, 0]) - 2.0 * np.exp(-1e-3)) < 0.5  # memorized
    >>> bool(near.mean() > 0.9)
    True
    """
    t_start = time.perf_counter()
    plan = plan_run(score, process, n, y0, grid=grid, method=method, backend=backend, seed=seed,
                    save_at=save_at, chunk=chunk, noise=noise, dtype=dtype)
    runner = make_runner(plan)
    M, D = plan.n, plan.dim
    states = np.empty((plan.save_index.shape[0], M, D), dtype=plan.dtype)
    final = np.empty((M, D), dtype=plan.dtype)
    save_pos = {int(l): i for i, l in enumerate(plan.save_index)}
    bar = _progress_bar(plan.steps * M, progress, f"simulate[{plan.backend}/{method}]")
    cuts = _segment_ends(plan, not bar.disable)
    try:
        for c0 in range(0, M, plan.chunk):
            c1 = min(M, c0 + plan.chunk)
            Y = _start_states(plan, c0, c1)
            if 0 in save_pos:
                states[save_pos[0], c0:c1] = Y
            runner.start(c0, Y)
            l0 = 0
            for l1 in cuts:
                runner.advance(l0, l1)
                if l1 in save_pos:
                    states[save_pos[l1], c0:c1] = runner.result()
                bar.update((l1 - l0) * (c1 - c0))
                l0 = l1
            final[c0:c1] = runner.result()
    finally:
        bar.close()
    return _trajectories(plan, states, final, time.perf_counter() - t_start)


def compare_backends(
    score: Any,
    backend: str,
    *,
    n: int,
    grid: Any,
    method: str = "exponential",
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
