"""Argument validation of :func:`ridgetheory.simulate`: one frozen :class:`RunPlan`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._checks import RidgeTheoryError, check_array, check_dtype, check_int, check_seed
from ..backend import BackendUnavailable, resolve_backend
from ..grids import check_grid
from ..processes import AbstractProcess, check_process
from .runner import RUNNERS
from .schemes import AbstractScheme, get_scheme
from .spec import classify

__all__ = ["RunPlan", "plan_run"]

WHERE = "simulate"


@dataclass(frozen=True)
class RunPlan:
    """Everything a run needs, checked: what :func:`plan_run` returns and the runners read."""

    score: Any
    score_kind: str  # fused_kernel of the score, or "generic"
    reference: Callable  # the numpy statement of the score, f(x (m, D), t (m,)) -> (m, D)
    process: AbstractProcess
    grid: np.ndarray  # (L + 1,), strictly decreasing
    scheme: AbstractScheme
    method: str
    backend: str  # the backend that runs
    backend_requested: str
    seed: int | None
    y0: np.ndarray | None  # (n, D) start states, or None for counter-based N(0, I)
    n: int
    dim: int
    chunk: int
    save_index: np.ndarray  # grid indices to record, increasing
    noise: np.ndarray | None  # (L, n, D) given standard normals (numpy backend only)
    dtype: np.dtype  # of the states and the score's arithmetic
    score_path: str  # "fused" | "gemm" (numba, empirical) | "kernel" | "reference"
    score_path_why: str

    @property
    def steps(self) -> int:
        """Number of steps L."""
        return int(self.grid.shape[0] - 1)


def _save_indices(save_at: Any, grid: np.ndarray) -> np.ndarray:
    if save_at is None:
        return np.zeros(0, dtype=np.int64)
    s = check_array(save_at, "save_at", WHERE, ndim=(0, 1)).reshape(-1)
    idx = []
    for v in s:
        hit = np.flatnonzero(np.abs(grid - v) <= 1e-12 * grid)
        if hit.size == 0:
            raise RidgeTheoryError(
                f"`save_at` passed to {WHERE} must hold times of the grid (to 1e-12 relative); "
                f"got {float(v)!r}, nearest grid time {float(grid[np.argmin(np.abs(grid - v))])!r}."
            )
        idx.append(int(hit[0]))
    return np.unique(np.asarray(idx, dtype=np.int64))


def _check_run_process(process: Any, from_score: AbstractProcess | None) -> AbstractProcess:
    if process is None and from_score is None:
        raise RidgeTheoryError(
            f"`process` passed to {WHERE} is required when the score has no .process "
            "attribute; got None."
        )
    process = check_process(process, WHERE, default=from_score)
    if from_score is not None and process != from_score:
        raise RidgeTheoryError(
            f"`process` passed to {WHERE} must match the score's process {from_score!r}; "
            f"got {process!r}."
        )
    return process


def _start_shape(y0: Any, n: Any, dim: int | None) -> tuple[np.ndarray | None, int, int]:
    if y0 is not None:
        y0 = check_array(y0, "y0", WHERE, ndim=2)
        if dim is not None and y0.shape[1] != dim:
            raise RidgeTheoryError(
                f"`y0` passed to {WHERE} must have shape (n, {dim}) to match the score; "
                f"got shape {y0.shape}."
            )
        if n is not None and check_int(n, "n", WHERE, low=1) != y0.shape[0]:
            raise RidgeTheoryError(
                f"`n` passed to {WHERE} must equal y0.shape[0] = {y0.shape[0]} when both are "
                f"given; got {n}."
            )
        if y0.shape[0] < 1 or y0.shape[1] < 1:
            raise RidgeTheoryError(f"`y0` passed to {WHERE} must be non-empty; got {y0.shape}.")
        return y0, int(y0.shape[0]), int(y0.shape[1])
    if n is None:
        raise RidgeTheoryError(f"`n` passed to {WHERE} is required when y0 is None.")
    M = check_int(n, "n", WHERE, low=1)
    if dim is None:
        raise RidgeTheoryError(
            f"`y0` passed to {WHERE} is required for a score callable without .dim "
            "(the dimension is unknown); got None."
        )
    return None, M, int(dim)


def _choose_backend(backend: str, kind: str, score: Any, noise: Any, dtype: np.dtype) -> str:
    fused = kind != "generic" and noise is None
    if not fused:
        supported: tuple[str, ...] = ("numpy",)
    elif dtype == np.float32:  # the blocked GEMM path of the empirical score
        supported = ("numpy", "numba")
    else:
        supported = tuple(RUNNERS)
    if backend in RUNNERS and backend not in supported:
        why = ("`noise` is given" if noise is not None else
               f"the score ({type(score).__name__}, dtype {dtype}) has no "
               f"{backend} kernel")
        raise BackendUnavailable(
            f"`backend` passed to {WHERE} asked for {backend!r}, but {why}; this run needs "
            f"backend in {supported} (or 'auto')."
        )
    return resolve_backend(backend, WHERE, supported=supported)


def _check_run_dtype(dtype: Any, score: Any) -> np.dtype:
    own = getattr(score, "dtype", None)
    own = np.dtype(np.float64) if own is None else np.dtype(own)
    if dtype is None:
        return own
    dt = check_dtype(dtype, WHERE)
    if dt != own:
        raise RidgeTheoryError(
            f"`dtype` passed to {WHERE} must be the score's dtype {own} (make the score in "
            f"{dt}, e.g. rt.SmoothedEmpirical(data, dtype=np.{dt})); got {dt}."
        )
    return dt


def _score_path(backend: str, kind: str, score: Any, dtype: np.dtype) -> tuple[str, str]:
    if backend == "numpy":
        return "reference", "the numpy backend runs the score's own statement"
    if backend == "numba" and kind == "empirical":
        from .kernels_blocked import choose_path

        return choose_path(score.data.shape[0], score.data.shape[1], dtype)
    return "kernel", f"the {backend} kernel of the {kind} score"


def plan_run(score: Any, process: Any, n: Any, y0: Any, *, grid: Any, method: str,
             backend: str, seed: Any, save_at: Any, chunk: Any, noise: Any,
             dtype: Any = None) -> RunPlan:
    """Check the arguments of :func:`ridgetheory.simulate` (see there) and plan the run."""
    kind, reference, proc_score, dim = classify(score, WHERE)
    dtype = _check_run_dtype(dtype, score)
    process = _check_run_process(process, proc_score)
    grid = check_grid(grid, WHERE)
    if grid[0] > process.t_max:
        raise RidgeTheoryError(
            f"`grid` passed to {WHERE} must start at T <= {process.t_max} for {process!r}; "
            f"got {grid[0]}."
        )
    scheme = get_scheme(method, WHERE)
    L = grid.shape[0] - 1
    y0, M, D = _start_shape(y0, n, dim)

    needs_seed = (y0 is None) or (scheme.stochastic and noise is None)
    if seed is None:
        if needs_seed:
            raise RidgeTheoryError(
                f"`seed` passed to {WHERE} must be an integer (the run draws noise); got None."
            )
    else:
        seed = check_seed(seed, WHERE)

    chosen = _choose_backend(backend, kind, score, noise, dtype)
    if noise is not None:
        if not scheme.stochastic:
            raise RidgeTheoryError(
                f"`noise` passed to {WHERE} is only for stochastic methods; method={method!r}."
            )
        noise = check_array(noise, "noise", WHERE, ndim=3)
        if noise.shape != (L, M, D):
            raise RidgeTheoryError(
                f"`noise` passed to {WHERE} must have shape ({L}, {M}, {D}); got {noise.shape}."
            )
    save_idx = _save_indices(save_at, grid)
    chunk = M if chunk is None else check_int(chunk, "chunk", WHERE, low=1)
    path, why = _score_path(chosen, kind, score, dtype)
    return RunPlan(score=score, score_kind=kind, reference=reference, process=process,
                   grid=grid, scheme=scheme, method=method, backend=chosen,
                   backend_requested=backend, seed=seed, y0=y0, n=M, dim=D, chunk=chunk,
                   save_index=save_idx, noise=noise, dtype=dtype,
                   score_path=path, score_path_why=why)
