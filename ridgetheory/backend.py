"""The one place that knows about array backends: numpy, numba and cupy.

No other module imports cupy at top level. Asking for a backend that cannot run raises
:class:`BackendUnavailable` with the reason; only ``"auto"`` chooses, and callers record its
choice. Nothing falls back quietly.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ._checks import RidgeTheoryError, check_choice

__all__ = [
    "BACKENDS",
    "BackendUnavailable",
    "BackendStatus",
    "backend_status",
    "resolve_backend",
    "get_cupy",
    "numba_threads_for",
]

BACKENDS = ("numpy", "numba", "cupy")


class BackendUnavailable(RidgeTheoryError):
    """A backend was asked for by name and cannot run here."""


@dataclass(frozen=True)
class BackendStatus:
    """Whether a backend can run, and why not.

    Attributes
    ----------
    name : str
    available : bool
    version : str or None
    detail : str
        Thread count (numba), device name (cupy) or the reason it is unavailable.
    """

    name: str
    available: bool
    version: str | None
    detail: str


@functools.cache
def _numba_status() -> BackendStatus:
    try:
        import numba
    except Exception as exc:  # ImportError or a broken llvmlite
        return BackendStatus("numba", False, None, f"numba cannot be imported: {exc}")
    return BackendStatus(
        "numba",
        True,
        numba.__version__,
        f"{numba.config.NUMBA_NUM_THREADS} threads "
        f"({numba.config.THREADING_LAYER} threading layer)",
    )


@functools.cache
def _cupy_status() -> BackendStatus:
    try:
        import cupy
    except Exception as exc:
        return BackendStatus(
            "cupy",
            False,
            None,
            f"cupy cannot be imported ({exc}); install the extra: pip install 'ridgetheory[gpu]'",
        )
    try:
        n = cupy.cuda.runtime.getDeviceCount()
        if n < 1:
            return BackendStatus("cupy", False, cupy.__version__, "no CUDA device is visible")
        props = cupy.cuda.runtime.getDeviceProperties(0)
        name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
        cupy.zeros(1).sum().item()  # a real launch: drivers can be present yet unusable
    except Exception as exc:
        return BackendStatus("cupy", False, cupy.__version__, f"no usable CUDA GPU: {exc}")
    return BackendStatus("cupy", True, cupy.__version__, f"{n} device(s), device 0: {name}")


def backend_status(name: str) -> BackendStatus:
    """Availability of ``name`` in {"numpy", "numba", "cupy"} (cached)."""
    check_choice(name, "name", "backend_status", BACKENDS)
    if name == "numpy":
        import numpy

        return BackendStatus("numpy", True, numpy.__version__, "reference backend")
    return _numba_status() if name == "numba" else _cupy_status()


def resolve_backend(backend: str, where: str, *, supported: tuple[str, ...] = BACKENDS) -> str:
    """Turn a requested backend into one that will run.

    ``"auto"`` picks cupy when a GPU is usable and supported, else numba when supported and
    importable, else numpy. A named backend that cannot run, or that ``where`` does not
    support, raises :class:`BackendUnavailable` naming the reason.
    """
    check_choice(backend, "backend", where, ("auto",) + BACKENDS)
    if backend == "auto":
        for name in ("cupy", "numba", "numpy"):
            if name in supported and backend_status(name).available:
                return name
        raise BackendUnavailable(f"no backend among {supported} can run for {where}.")
    if backend not in supported:
        raise BackendUnavailable(
            f"`backend` passed to {where} must be one of {', '.join(map(repr, supported))} "
            f"for this input; got {backend!r}."
        )
    status = backend_status(backend)
    if not status.available:
        raise BackendUnavailable(
            f"`backend` passed to {where} asked for {backend!r}, which cannot run here: "
            f"{status.detail}."
        )
    return backend


@contextlib.contextmanager
def numba_threads_for(items: int, min_per_thread: int = 2048) -> Iterator[None]:
    """Run a parallel numba kernel on fewer threads when there is little work.

    A parallel launch costs a thread-pool barrier, which under load is a scheduler tick
    (~10 ms); below ``min_per_thread`` items per thread one thread finishes sooner.
    """
    import numba

    before = numba.get_num_threads()
    want = max(1, min(before, items // max(min_per_thread, 1)))
    numba.set_num_threads(want)
    try:
        yield
    finally:
        numba.set_num_threads(before)


_POOL: Any = None
_POOL_SIZE = 0
_POOL_PID = -1


def run_blocks(kernel: Any, nblk: int, *args: Any) -> None:
    """Run a ``nogil`` numba kernel over ``nblk`` blocks on numba's thread count.

    ``kernel(first, stride, *args)`` does blocks ``first, first + stride, ...``; thread ``k``
    of ``T = min(numba.get_num_threads(), nblk)`` calls it with ``first = k``, ``stride = T``
    (the calling thread is thread 0). Interleaved blocks balance uneven work, and a kernel
    without ``parallel=True`` compiles several times faster (no parfor lowering, no second
    optimisation of the loop body).
    """
    import numba

    nt = max(1, min(numba.get_num_threads(), nblk))
    if nt == 1:
        kernel(0, 1, *args)
        return
    global _POOL, _POOL_SIZE, _POOL_PID
    # a forked child inherits the pool object but not its threads: it makes its own
    if _POOL is None or _POOL_SIZE < nt - 1 or _POOL_PID != os.getpid():
        from concurrent.futures import ThreadPoolExecutor

        _POOL_SIZE = max(nt - 1, numba.config.NUMBA_NUM_THREADS - 1)
        _POOL = ThreadPoolExecutor(_POOL_SIZE, thread_name_prefix="ridgetheory")
        _POOL_PID = os.getpid()
    futures = [_POOL.submit(kernel, k, nt, *args) for k in range(1, nt)]
    kernel(0, nt, *args)
    for f in futures:
        f.result()


def get_cupy() -> Any:
    """Import cupy after checking that a GPU is usable (raises BackendUnavailable)."""
    resolve_backend("cupy", "get_cupy")
    import cupy

    return cupy
