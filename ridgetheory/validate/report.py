"""The validation report: its versioned structure, its environment record, and the forms it is
written in (``report.json``, ``report.md``, JUnit XML, the one-line summary).

``report.json`` follows the JSON Schema shipped as ``ridgetheory/validate/report.schema.json``
(:func:`schema`); docs/validation.md describes every field. ``schema_version`` changes when a
field changes meaning or type.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import json
import os
import platform
import re
import socket
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from .._files import atomic_write_text
from .claims import STATUSES
from .values import summarize

__all__ = [
    "SCHEMA_VERSION",
    "build_report",
    "environment",
    "junit_xml",
    "load_report",
    "render_markdown",
    "schema",
    "summary_line",
    "write_junit",
]

#: version of the report's structure; 1 was the untyped report without this field
SCHEMA_VERSION = 2

#: distributions whose versions can change a number in the report
RESULT_DEPENDENCIES = ("ridgetheory", "numpy", "scipy", "numba", "llvmlite", "sympy",
                       "matplotlib", "torch", "cupy", "cupy-cuda12x", "cupy-cuda13x",
                       "hypothesis", "dask", "pandas")


def schema() -> dict[str, Any]:
    """The JSON Schema of ``report.json`` (draft 2020-12)."""
    return json.loads((Path(__file__).parent / "report.schema.json").read_text())


def _commit() -> dict[str, Any] | None:
    """The git commit of a source checkout the package runs from, or None."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True, text=True,
                               timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"sha": head, "dirty": bool(dirty)}


def _blas() -> str | None:
    try:
        import numpy as np

        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        return f"{blas.get('name')} {blas.get('version', '')}".strip() or None
    except Exception:  # an older numpy without mode="dicts"
        return None


def environment() -> dict[str, Any]:
    """Where a report was made: UTC time, package version and commit, host, platform, and the
    versions of every dependency that affects results (``None``: not installed)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for dist in RESULT_DEPENDENCIES:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "package": {"name": "ridgetheory", "version": versions["ridgetheory"],
                    "commit": _commit()},
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "numba_threads": _numba_threads(),
        "blas": _blas(),
        "versions": versions,
    }


def _numba_threads() -> int | None:
    try:
        return int(importlib.import_module("numba").config.NUMBA_NUM_THREADS)
    except Exception:
        return None


def build_report(experiments: list[dict[str, Any]], *, quick: bool, seed: int, wall_s: float,
                 command: Mapping[str, Any], strict: bool = False) -> dict[str, Any]:
    """The report's dict from the experiments' records (see :func:`schema`)."""
    claims = [c for e in experiments for c in e["claims"]]
    counts = {s: sum(c["status"] == s for c in claims) for s in STATUSES}
    failed = counts["fail"] + counts["error"] + (counts["open"] if strict else 0)
    return {
        "schema_version": SCHEMA_VERSION,
        "status": "fail" if failed else "pass",
        "passed": not failed,
        "quick": quick,
        "seed": seed,
        "strict": strict,
        "wall_s": wall_s,
        "summary": {"passed": counts["pass"], "failed": counts["fail"], "open": counts["open"],
                    "skipped": counts["skipped"], "error": counts["error"],
                    "total": len(claims)},
        "claims": claims,
        "experiments": experiments,
        "environment": environment(),
        "command": dict(command),
    }


def summary_line(report: Mapping[str, Any], path: str | os.PathLike | None = None) -> str:
    """One line: the verdict, the counts, the wall time and where the report is."""
    s = report["summary"]
    where = f"; report {path}" if path is not None else ""
    return (f"ridgetheory validate: {'PASSED' if report['passed'] else 'FAILED'}: "
            f"{s['passed']} passed, {s['failed']} failed, {s['open']} open, "
            f"{s['skipped']} skipped, {s['error']} errors in {report['wall_s']:.1f} s{where}")


_MARK = {"pass": "pass", "fail": "**FAIL**", "open": "open", "skipped": "skipped",
         "error": "**ERROR**"}


def render_markdown(report: Mapping[str, Any]) -> str:
    """The report for people: numbers to 4 significant digits, arrays summarised (the full
    values are in ``report.json``)."""
    s = report["summary"]
    env = report["environment"]
    lines = [
        "# ridgetheory validation report",
        "",
        f"Mode: {'quick' if report['quick'] else 'full'}; seed {report['seed']}; "
        f"wall time {report['wall_s']:.1f} s; "
        f"**{'PASSED' if report['passed'] else 'FAILED'}** "
        f"({s['passed']} passed, {s['failed']} failed, {s['open']} open findings, "
        f"{s['skipped']} skipped, {s['error']} errors).",
        "",
        "| experiment | claim | test | predicted | measured | result |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for c in report["claims"]:
        res = _MARK[c["status"]] + (" (passes now)" if c["status"] == "open" and c["passed"]
                                    else "")
        cells = [c["experiment"], c["name"], c["text"], summarize(c["predicted"]),
                 summarize(c["measured"]), res]
        lines.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
    for title, status in (("Open findings", "open"), ("Skipped", "skipped"),
                          ("Errors", "error")):
        rows = [c for c in report["claims"] if c["status"] == status]
        if rows:
            lines += ["", f"## {title}", ""]
            lines += [f"- **{c['experiment']} / {c['name']}**: {c['reason']}" for c in rows]
    for e in report["experiments"]:
        lines += ["", f"## {e['name']}", "", e["description"], "",
                  f"Wall time {e['wall_s']:.1f} s."]
        if e.get("error"):
            lines += ["", f"Error: `{e['error']}`"]
        if e.get("skipped"):
            lines += ["", f"Skipped: {e['skipped']}."]
        for fig in e["figures"]:
            lines += ["", f"![{fig}]({fig})"]
    commit = env["package"]["commit"]
    lines += ["", "## Environment", "",
              f"- created (UTC): {env['created_utc']}",
              f"- ridgetheory {env['package']['version']}"
              + (f", commit {commit['sha'][:12]}{' (dirty)' if commit['dirty'] else ''}"
                 if commit else ""),
              f"- host {env['host']}, {env['platform']}, {env['cpu_count']} CPUs, "
              f"numba threads {env['numba_threads']}, BLAS {env['blas']}"]
    lines += [f"- {k}: {v}" for k, v in env["versions"].items() if v is not None]
    return "\n".join(lines) + "\n"


# characters XML 1.0 does not allow, even escaped (an exception's terminal colours, say)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _attr(text: str) -> str:
    return quoteattr(_NOT_XML.sub("?", text))


def _text(text: str) -> str:
    return escape(_NOT_XML.sub("?", text))


def _junit_kind(claim: Mapping[str, Any], strict: bool) -> str:
    """``failure``, ``error``, ``skipped`` or ``""`` (passed) for a claim."""
    status = claim["status"]
    if status == "fail" or (status == "open" and strict):
        return "failure"
    return {"error": "error", "open": "skipped", "skipped": "skipped"}.get(status, "")


def junit_xml(report: Mapping[str, Any]) -> str:
    """JUnit XML: a test suite per experiment, a test case per claim. A failed claim is a
    ``<failure>``, an experiment that raised an ``<error>``; open findings and skipped
    experiments are ``<skipped>`` with their reason, except that a ``--strict`` run reports
    open findings as failures, as its exit status does."""
    strict = bool(report.get("strict"))
    kinds = {id(c): _junit_kind(c, strict) for e in report["experiments"] for c in e["claims"]}

    def count(claims: list[Mapping[str, Any]]) -> str:
        n = {k: sum(kinds[id(c)] == k for c in claims) for k in ("failure", "error", "skipped")}
        return (f'tests="{len(claims)}" failures="{n["failure"]}" errors="{n["error"]}" '
                f'skipped="{n["skipped"]}"')

    every = [c for e in report["experiments"] for c in e["claims"]]
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<testsuites name="ridgetheory validate" {count(every)} '
           f'time="{report["wall_s"]:.3f}">']
    for e in report["experiments"]:
        cs = e["claims"]
        out.append(f'  <testsuite name={_attr(e["name"])} {count(cs)} '
                   f'time="{e["wall_s"]:.3f}">')
        for c in cs:
            out.append(f'    <testcase classname={_attr("ridgetheory." + e["name"])} '
                       f'name={_attr(c["name"])} time="{e["wall_s"] / max(len(cs), 1):.3f}">')
            detail = (f"{c['text']}; predicted {summarize(c['predicted'], 200)}; measured "
                      f"{summarize(c['measured'], 200)}")
            kind = kinds[id(c)]
            if kind == "failure":
                msg = (c["text"] or "claim failed") if c["status"] == "fail" else (
                    f"open finding (a failure under --strict): {c['reason']}")
                out.append(f"      <failure message={_attr(msg)}>{_text(detail)}</failure>")
            elif kind == "error":
                out.append(f"      <error message={_attr(c['reason'])}/>")
            elif kind == "skipped":
                reason = (f"open finding: {c['reason']}" if c["status"] == "open"
                          else c["reason"])
                out.append(f"      <skipped message={_attr(reason)}/>")
            out.append(f"      <system-out>{_text(detail)}</system-out>")
            out.append("    </testcase>")
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"


def write_junit(report: Mapping[str, Any], path: str | os.PathLike) -> None:
    """Write :func:`junit_xml` to ``path`` atomically."""
    atomic_write_text(path, junit_xml(report))


def load_report(path: str | os.PathLike, what: str = "report") -> dict[str, Any]:
    """Read a ``report.json`` of this schema version; a clear error for anything else."""
    from .._checks import RidgeTheoryError

    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RidgeTheoryError(f"{what} {str(p)!r} cannot be read: {exc.strerror}.") from None
    except ValueError as exc:
        raise RidgeTheoryError(f"{what} {str(p)!r} is not JSON: {exc}.") from None
    if not isinstance(data, dict) or "claims" not in data:
        raise RidgeTheoryError(f"{what} {str(p)!r} is not a ridgetheory report (no `claims`).")
    version = data.get("schema_version", 1)
    if version != SCHEMA_VERSION:
        raise RidgeTheoryError(
            f"{what} {str(p)!r} has schema_version {version}; this ridgetheory reads "
            f"{SCHEMA_VERSION} (rerun `ridgetheory validate` with this version to compare).")
    _check_claims(data["claims"], f"{what} {str(p)!r}")
    return data


def _check_claims(claims: Any, where: str) -> None:
    """What ``compare`` relies on: a list of claims with a unique ``id``, a known ``status``
    and typed ``measured`` values (the full check is the JSON Schema)."""
    from .._checks import RidgeTheoryError

    if not isinstance(claims, list):
        raise RidgeTheoryError(f"{where} is damaged: `claims` must be a list.")
    seen: set[str] = set()
    for i, c in enumerate(claims):
        ok = (isinstance(c, dict) and isinstance(c.get("id"), str) and c.get("status") in STATUSES
              and isinstance(c.get("measured"), dict) and "type" in c["measured"])
        if not ok:
            raise RidgeTheoryError(
                f"{where} is damaged: claim {i} needs a string `id`, a `status` in "
                f"{', '.join(STATUSES)} and a typed `measured` value.")
        if c["id"] in seen:
            raise RidgeTheoryError(f"{where} is damaged: claim id {c['id']!r} appears twice.")
        seen.add(c["id"])


def claims_by_id(report: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The report's claims by ``id`` (``experiment/claim``)."""
    return {c["id"]: c for c in report["claims"]}
