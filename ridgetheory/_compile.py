"""One line on stderr when numba really compiles ridgetheory's kernels (issue 16).

The kernels are ``cache=True``: numba compiles them on their first call after an install (or
after their source changes) and loads them from its cache afterwards. A compile takes seconds
to tens of seconds, so the first one of each kernel group in a process says so, once::

    ridgetheory: compiling ridge kernels, once per install (`ridgetheory warmup` compiles all)

The notice is driven by numba's own ``"numba:compile"`` event, which numba fires only when a
dispatcher misses its cache and compiles (a cache hit fires nothing): no guess from timing,
no look into the cache files. :func:`install` registers the listener; every kernel module
calls it on import. ``RIDGETHEORY_QUIET=1`` (or :func:`quiet`) silences the notice.

Groups: ``ridge`` (projection), ``simulate`` (the empirical sampler and the noise),
``mixture`` (the Gaussian-mixture sampler), ``random_features`` (the exact ReLU moments of the
fit and the random-feature sampler), ``predict`` (the align statistics), ``maths`` (the
shared blocks when called on their own).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator

__all__ = ["NOTICE", "GROUPS", "group_of", "install", "quiet", "announced"]

#: the line printed (``{group}`` is one of :data:`GROUPS`)
NOTICE = ("ridgetheory: compiling {group} kernels, once per install "
          "(`ridgetheory warmup` compiles all)")

#: kernel groups, in the order :func:`ridgetheory.warmup` compiles them
GROUPS = ("ridge", "simulate", "mixture", "random_features", "predict")

_MODULE_GROUPS = {
    "ridgetheory.ridge._kernels": "ridge",
    "ridgetheory.simulate.kernels_numba": "simulate",
    "ridgetheory.predict._kernels": "predict",
    "ridgetheory._numba_maths": "maths",
}
# kernels whose group is not their module's
_KERNEL_GROUPS = {
    "_cross_blocks": "random_features",
    "_moment_rows": "random_features",
    "_weighted_rows": "random_features",
}
#: the sampler kernel compiles once per score kind: the kind is its one input tuple (of
#: ``emp``, ``mix``, ``rf``, arguments 9 to 11) that is not None
_SAMPLER = ("ridgetheory.simulate.kernels_numba", "_advance", 9,
            ("simulate", "mixture", "random_features"))

_lock = threading.Lock()
_announced: set[str] = set()
_installed = False
_quiet_depth = 0
_local = threading.local()


def group_of(module: str, name: str, args: tuple = ()) -> str | None:
    """The kernel group of function ``name`` of ``module`` compiled for the numba types
    ``args``; None outside ridgetheory."""
    if not module.startswith("ridgetheory"):
        return None
    mod, fn, first, kinds = _SAMPLER
    if (module, name) == (mod, fn) and len(args) >= first + len(kinds):
        for kind, ty in zip(kinds, args[first:first + len(kinds)], strict=True):
            if str(ty) != "none":
                return kind
    return _KERNEL_GROUPS.get(name) or _MODULE_GROUPS.get(module, "maths")


def announced() -> frozenset[str]:
    """The groups whose notice this process has printed (or that compiled while quiet)."""
    return frozenset(_announced)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """No notice inside the block (:func:`ridgetheory.warmup` shows a bar instead)."""
    global _quiet_depth
    with _lock:
        _quiet_depth += 1
    try:
        yield
    finally:
        with _lock:
            _quiet_depth -= 1


def _notice(group: str) -> None:
    with _lock:
        if group in _announced:
            return
        _announced.add(group)
        silent = _quiet_depth > 0 or os.environ.get("RIDGETHEORY_QUIET", "") not in ("", "0")
    if not silent and sys.stderr is not None:
        with contextlib.suppress(OSError, ValueError):  # a closed stderr must not stop a compile
            sys.stderr.write(NOTICE.format(group=group) + "\n")
            sys.stderr.flush()


def _on_start(module: str, name: str, args: tuple) -> None:
    # only the outermost ridgetheory compile of this thread speaks: the kernels it calls
    # compile inside it, as part of its group
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    group = group_of(module, name, args)
    if group is not None and not any(stack):
        _notice(group)
    stack.append(group is not None)


def _on_end() -> None:
    stack = getattr(_local, "stack", None)
    if stack:
        stack.pop()


def install() -> None:
    """Register the compile listener with numba (once per process; cheap to call again)."""
    global _installed
    if _installed:
        return
    with _lock:
        if _installed:
            return
        from numba.core import event

        class _Listener(event.Listener):
            def on_start(self, ev: event.Event) -> None:
                py_func = getattr(ev.data.get("dispatcher"), "py_func", None)
                _on_start(getattr(py_func, "__module__", "") or "",
                          getattr(py_func, "__name__", ""), tuple(ev.data.get("args", ())))

            def on_end(self, ev: event.Event) -> None:
                _on_end()

        event.register("numba:compile", _Listener())
        _installed = True
