"""Run a sweep's points as Dask tasks, each cached under its key, and gather a tidy table.

A point is a pure function of its key (:func:`ridgetheory.sweep.spec.point_key`): the task
looks in the cache first and writes its result there atomically, so a point re-run after a
killed worker or an interrupted sweep does no work twice and can never be half-written.
``dask.distributed`` is imported here only (extra ``ridgetheory[sweep]``).
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._checks import RidgeTheoryError
from .._files import atomic_write_text
from .spec import Point, SweepSpec, load_sweep

__all__ = ["sweep", "run_point", "SweepResult"]


def _cache_file(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"{key}.json"


def run_point(point: Point, cache_dir: str, threads: int | None = 1) -> dict[str, Any]:
    """Run one point (or read it from the cache) and return its result record.

    The record holds the point's values, seed, key, wall time, the experiment's claims,
    summary scalars and data, and ``error`` (None, or the message of what the point raised;
    a point that raises is recorded in the table, and not cached, so that a later sweep
    runs it again)."""
    cache = Path(cache_dir)
    f = _cache_file(cache, point.key)
    if f.is_file():
        with open(f, encoding="utf-8") as fh:
            out = json.load(fh)
        out["cached"] = True
        return out
    if threads is not None:
        try:  # one numba thread per point: the workers are the parallelism
            import numba

            numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
        except ImportError:  # pragma: no cover
            pass
    from ..validate.runner import run_experiment

    t0 = time.perf_counter()
    figdir = cache / point.key
    try:
        figdir.mkdir(parents=True, exist_ok=True)
        exp = run_experiment(point.config, out_dir=figdir, seed=point.seed, progress=False)
        error = exp.get("error") or (f"skipped: {exp['skipped']}" if exp.get("skipped")
                                     else None)
    except Exception as exc:  # recorded with the point; the sweep goes on
        exp = {"claims": [], "data": {}, "figures": []}
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
    out = {
        "key": point.key,
        "values": point.values,
        "seed": point.seed,
        "wall_s": time.perf_counter() - t0,
        "error": error,
        "claims": exp.get("claims", []),
        "summary": exp.get("data", {}).get("summary", {}),
        "data": exp.get("data", {}),
        "params": exp.get("params"),
        "figures": [str(figdir / x) for x in exp.get("figures", [])],
    }
    text = json.dumps(out, default=str)
    if error is None:  # a failed point is reported, not cached: the next sweep tries again
        atomic_write_text(f, text)
    out = json.loads(text)
    out["cached"] = False
    return out


@dataclass
class SweepResult:
    """What :func:`sweep` returns.

    Attributes
    ----------
    spec : SweepSpec
    records : list of dict
        One per point, in the spec's order (see :func:`run_point`).
    table : pandas.DataFrame
        Tidy: a row per point and quantity; the swept parameters, ``seed``, ``point``,
        ``quantity``, ``value`` (float; null where the quantity is not a number), ``note``
        (the text of a non-numeric value such as "undetermined") and ``error``.
    out_dir : pathlib.Path
        Where ``sweep.parquet``, ``sweep.csv``, ``sweep.md``, ``sweep.json`` and the figures
        are.
    n_run, n_cached, n_failed : int
        Points run now, read from the cache, and recorded with an error.
    wall_s : float
    """

    spec: SweepSpec
    records: list[dict[str, Any]]
    table: Any
    out_dir: Path
    n_run: int
    n_cached: int
    n_failed: int
    wall_s: float
    timings: dict[str, float] = field(default_factory=dict)


#: Dask settings of the LocalCluster a sweep starts (an existing cluster keeps its own)
QUIET_WORKERS = {"distributed.worker.profile.enabled": False}


def _client(scheduler: str | None, workers: int):
    """A distributed client: the cluster at ``scheduler``, or a LocalCluster of ``workers``
    one-thread processes. Returns (client, cluster or None)."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise RidgeTheoryError(
            "sweeps run on Dask: install the extra, pip install 'ridgetheory[sweep]'.") from None
    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except OSError as exc:
            raise RidgeTheoryError(
                f"`scheduler` {scheduler!r}: no Dask scheduler answers there ({exc}).") from None
    import dask

    # one BLAS thread per worker process: the workers are the parallelism
    one = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    # the worker's statistical profiler samples the running thread every 10 ms: 10-15 % of
    # a point's time in our measurement (benchmarks/bench_sweep.py), so it is off here
    with dask.config.set(QUIET_WORKERS):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40, env=one)
    return Client(cluster), cluster


def sweep(
    spec: SweepSpec | str | os.PathLike,
    *,
    out_dir: str | os.PathLike | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    quick: bool | None = None,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = True,
    retries: int = 2,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> SweepResult:
    """Run a parameter sweep on Dask and write its table, figures and report.

    Parameters
    ----------
    spec : SweepSpec or path
        A parsed sweep (:func:`ridgetheory.sweep.sweep_spec`) or a sweep TOML file.
    out_dir : path, optional
        Output directory (default ``sweep-<name>``).
    scheduler : str, optional
        Address of an existing Dask scheduler (``"tcp://host:8786"``); default
        ``$DASK_SCHEDULER_ADDRESS`` if set, else a LocalCluster on this machine.
        ``"inline"`` runs the points one after another in this process, without Dask.
    workers : int, optional
        Workers of the LocalCluster (default: the CPU count). Each is one process with one
        thread; numba uses one thread per point.
    quick : bool, optional
        Run every point at its experiment's quick sizes (overrides the file's ``quick``).
    cache_dir : path, optional
        Point cache (default ``<out_dir>/cache``). A point found there is not run again.
    progress : bool, default=True
        A progress bar over points.
    retries : int, default=2
        Extra attempts of a task whose worker died (Dask also reschedules lost tasks).
    on_result : callable, optional
        Called with each point's record as it completes (in completion order).

    Returns
    -------
    SweepResult
    """
    from .report import write_outputs

    t_start = time.perf_counter()
    if not isinstance(spec, SweepSpec):
        spec = load_sweep(spec, quick=quick)
    elif quick is not None and quick != spec.quick:
        raise RidgeTheoryError("`quick` passed to sweep differs from the parsed spec's; parse "
                               "the spec with sweep_spec(..., quick=...) instead.")
    out = Path(out_dir) if out_dir is not None else Path(f"sweep-{spec.name}")
    if out.exists() and not out.is_dir():
        raise RidgeTheoryError(f"`out_dir` {str(out)!r} exists and is not a directory.")
    cache = Path(cache_dir) if cache_dir is not None else out / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    scheduler = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise RidgeTheoryError(f"`workers` passed to sweep must be an integer >= 1; got "
                               f"{workers!r}.")
    n_workers = workers or os.cpu_count() or 1
    todo = [p for p in spec.points if not _cache_file(cache, p.key).is_file()]
    missing = {p.key for p in todo}
    records: dict[str, dict[str, Any]] = {}
    bar = _bar(len(spec.points), progress)
    for p in spec.points:
        if p.key not in missing:
            rec = run_point(p, str(cache))
            records[p.key] = rec
            bar.update(1)
    t_dispatch = time.perf_counter()
    if todo and scheduler == "inline":
        for p in todo:
            rec = run_point(p, str(cache), threads=None)
            records[p.key] = rec
            _done(rec, bar, on_result)
    elif todo:
        client, cluster = _client(scheduler, n_workers)
        try:
            from dask.distributed import as_completed

            futures = [client.submit(run_point, p, str(cache.resolve()), 1, key=f"point-{p.key}",
                                     retries=retries, pure=False) for p in todo]
            for fut in as_completed(futures):
                try:
                    rec = fut.result()
                except Exception as exc:  # the task itself failed beyond its retries
                    p = todo[futures.index(fut)]
                    rec = {"key": p.key, "values": p.values, "seed": p.seed, "wall_s": None,
                           "error": f"{type(exc).__name__}: {exc}", "claims": [],
                           "summary": {}, "data": {}, "cached": False}
                records[rec["key"]] = rec
                _done(rec, bar, on_result)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    bar.close()
    ordered = [records[p.key] for p in spec.points]
    t_run = time.perf_counter() - t_dispatch
    table = write_outputs(spec, ordered, out)
    result = SweepResult(
        spec=spec, records=ordered, table=table, out_dir=out,
        n_run=sum(not r.get("cached") for r in ordered),
        n_cached=sum(bool(r.get("cached")) for r in ordered),
        n_failed=sum(r.get("error") is not None for r in ordered),
        wall_s=time.perf_counter() - t_start,
        timings={"points_s": t_run},
    )
    return result


def _done(rec: dict[str, Any], bar: Any, on_result: Callable | None) -> None:
    bar.update(1)
    if on_result is not None:
        on_result(rec)


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(total: int, progress: bool):
    if not progress:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="sweep points", unit="point", file=sys.stderr)
