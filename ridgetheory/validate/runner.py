"""Run validation experiments and write the report (JSON for scripts, Markdown for people).

Configs are TOML files (``validation/*.toml`` in the source tree, shipped inside the package
as ``ridgetheory.configs``). Each names an experiment ``kind``; :data:`KINDS` maps kinds to
runner functions ``run(ctx) -> ExperimentResult``. A new experiment is a runner module plus
an entry here and a TOML file.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import tempfile
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._checks import RidgeTheoryError
from .claims import Claim, ExperimentContext, ExperimentResult

__all__ = ["KINDS", "config_dir", "list_configs", "load_config", "run_experiment", "run_suite"]

#: experiment kind -> "module:function" of its runner
KINDS = {
    "synthetic": "ridgetheory.experiments.synthetic:run",
    "mnist_latent": "ridgetheory.experiments.mnist_latent:run",
}


def config_dir() -> Path:
    """Directory of the shipped configs, ``ridgetheory/configs``.

    In a source checkout it is a link to ``validation/``; a wheel carries copies.
    """
    from importlib.resources import files

    return Path(str(files("ridgetheory"))) / "configs"


def list_configs() -> list[str]:
    """Names of the shipped experiments, in run order (file name order)."""
    return sorted(p.stem for p in config_dir().glob("*.toml"))


def load_config(name_or_path: str | os.PathLike, quick: bool = False) -> tuple[str, dict[str, Any]]:
    """Parse a config by experiment name or path; merge ``[quick]`` into ``[params]`` if quick."""
    p = Path(name_or_path)
    if p.suffix != ".toml":
        p = config_dir() / f"{name_or_path}.toml"
    if not p.is_file():
        raise RidgeTheoryError(
            f"`CONFIG` passed to ridgetheory validate must be one of {', '.join(list_configs())} "
            f"or a path to a TOML file; got {str(name_or_path)!r}."
        )
    with open(p, "rb") as fh:
        cfg = tomllib.load(fh)
    kind = cfg.get("experiment", {}).get("kind")
    if kind not in KINDS:
        raise RidgeTheoryError(
            f"`kind` in {p.name} must be one of {', '.join(map(repr, KINDS))}; got {kind!r}."
        )
    params = dict(cfg.get("params", {}))
    if quick:
        params = _merge(params, cfg.get("quick", {}))
    cfg["params"] = params
    return p.stem, cfg


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``over``, tables merged key by key (so [quick.rf] keeps [params.rf])."""
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _runner(kind: str):
    module, func = KINDS[kind].split(":")
    return getattr(importlib.import_module(module), func)


def run_experiment(
    name: str, cfg: dict[str, Any], *, quick: bool, out_dir: Path, seed: int, progress: bool
) -> dict[str, Any]:
    """Run one experiment; a crash becomes a failed claim named ``runs`` (never lost)."""
    ctx = ExperimentContext(
        name=name,
        config=cfg,
        quick=quick,
        out_dir=out_dir,
        seed=seed + int(cfg.get("experiment", {}).get("seed", 0)),
        progress=progress,
    )
    t0 = time.perf_counter()
    try:
        result = _runner(cfg["experiment"]["kind"])(ctx)
        error = None
    except Exception as exc:  # recorded, reported, and it fails the run
        result = ExperimentResult(claims=[Claim("runs", name, "completes", repr(exc), "-", False)])
        error = f"{type(exc).__name__}: {exc}"
    wall = time.perf_counter() - t0
    out = result.to_dict()
    out.update(
        {
            "name": name,
            "kind": cfg["experiment"]["kind"],
            "description": cfg["experiment"].get("description", ""),
            "params": cfg["params"],
            "seed": ctx.seed,
            "wall_s": wall,
            "error": error,
        }
    )
    return out


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for mod in ("ridgetheory", "numpy", "scipy", "numba", "sympy", "torch", "cupy"):
        try:
            out[mod] = importlib.import_module(mod).__version__
        except Exception:
            out[mod] = "not installed"
    return out


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v[:8]) + (", ..." if len(v) > 8 else "") + "]"
    return str(v)


def render_markdown(report: dict[str, Any]) -> str:
    """The human-readable report."""
    lines = [
        "# ridgetheory validation report",
        "",
        f"Mode: {'quick' if report['quick'] else 'full'}; seed {report['seed']}; "
        f"wall time {report['wall_s']:.1f} s; "
        f"**{'PASSED' if report['passed'] else 'FAILED'}** "
        f"({report['summary']['passed']} passed, {report['summary']['failed']} failed, "
        f"{report['summary']['open']} open findings).",
        "",
        "| experiment | claim | predicted | measured | tolerance | result |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for c in report["claims"]:
        res = (
            ("pass" if c["passed"] else "FAIL")
            if c["expect"] == "pass"
            else ("open (passes now)" if c["passed"] else "open")
        )
        lines.append(
            f"| {c['experiment']} | {c['name']} | {_fmt(c['predicted'])} | "
            f"{_fmt(c['measured'])} | {_fmt(c['tolerance'])} | {res} |"
        )
    opens = [c for c in report["claims"] if c["expect"] == "open"]
    if opens:
        lines += ["", "## Open findings", ""]
        lines += [f"- **{c['experiment']} / {c['name']}**: {c['reason']}" for c in opens]
    for e in report["experiments"]:
        lines += [
            "",
            f"## {e['name']}",
            "",
            e["description"],
            "",
            f"Wall time {e['wall_s']:.1f} s.",
        ]
        if e["error"]:
            lines += ["", f"Error: `{e['error']}`"]
        for fig in e["figures"]:
            lines += ["", f"![{fig}]({fig})"]
    lines += ["", "## Versions", ""]
    lines += [f"- {k}: {v}" for k, v in report["versions"].items()]
    return "\n".join(lines) + "\n"


def run_suite(
    configs: Sequence[str] | None = None,
    *,
    quick: bool = False,
    out_dir: str | os.PathLike = "ridgetheory-report",
    seed: int = 0,
    progress: bool = True,
    verbose: bool | None = None,
) -> dict[str, Any]:
    """Run experiments and write ``report.json``, ``report.md`` and figures to ``out_dir``.

    Parameters
    ----------
    configs : list of str, optional
        Experiment names or TOML paths; default: every shipped config.
    quick : bool, default=False
        Quick mode (the whole suite in minutes on two cores).
    out_dir : path, default="ridgetheory-report"
    seed : int, default=0
    progress : bool, default=True
        Progress bars inside the experiments.
    verbose : bool, optional
        One status line per experiment and a summary (default: as ``progress``).

    Returns
    -------
    report : dict
        As written to ``report.json``: top-level ``claims`` (each with ``name``,
        ``experiment``, ``predicted``, ``measured``, ``tolerance``, ``passed``, ``expect``),
        ``experiments`` (parameters, seeds, timings, figures, recorded data), ``versions``,
        ``passed`` (every claim not marked open passed).
    """
    verbose = progress if verbose is None else verbose
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = list(configs) if configs else list_configs()
    loaded = [load_config(c, quick) for c in names]  # fail fast on a bad name
    t0 = time.perf_counter()
    experiments = []
    for name, cfg in loaded:
        if verbose:
            print(f"[ridgetheory] running {name} ({'quick' if quick else 'full'})", flush=True)
        experiments.append(
            run_experiment(name, cfg, quick=quick, out_dir=out, seed=seed, progress=progress)
        )
    claims = [c for e in experiments for c in e["claims"]]
    blocking = [c for c in claims if c["expect"] == "pass" and not c["passed"]]
    report = {
        "passed": not blocking,
        "quick": quick,
        "seed": seed,
        "wall_s": time.perf_counter() - t0,
        "summary": {
            "passed": sum(c["passed"] for c in claims if c["expect"] == "pass"),
            "failed": len(blocking),
            "open": sum(c["expect"] == "open" for c in claims),
        },
        "claims": claims,
        "experiments": experiments,
        "versions": _versions(),
        "command": {"configs": names, "quick": quick, "out_dir": str(out)},
    }
    _atomic_write(out / "report.json", json.dumps(report, indent=2, default=str))
    _atomic_write(out / "report.md", render_markdown(report))
    if verbose:
        s = report["summary"]
        print(
            f"[ridgetheory] {'PASSED' if report['passed'] else 'FAILED'}: {s['passed']} passed, "
            f"{s['failed']} failed, {s['open']} open; report in {out}/report.md",
            flush=True,
        )
    return report
