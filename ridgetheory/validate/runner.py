"""Run validation experiments and write the report (JSON for scripts, Markdown for people).

Configs are TOML files (``validation/*.toml`` in the source tree, shipped inside the package
as ``ridgetheory.configs``). Each names an experiment ``kind``; :data:`KINDS` maps kinds to
their parameter declaration, runner and claims. A new experiment kind is a parameter
dataclass (``experiments/params.py``), a runner ``run(ctx) -> ExperimentResult``, claim
checks registered with :func:`~ridgetheory.validate.claims.register_claim`, an entry here
and a TOML file.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._checks import RidgeTheoryError
from .._files import atomic_write_text
from .claims import (
    Claim,
    ClaimCommon,
    ClaimConfig,
    ExperimentConfig,
    ExperimentContext,
    ExperimentResult,
    claims_of,
)
from .schema import merge, parse, plain

__all__ = [
    "KINDS",
    "Kind",
    "config_dir",
    "list_configs",
    "load_config",
    "parse_config",
    "read_toml",
    "run_experiment",
    "run_suite",
]


@dataclass(frozen=True)
class Kind:
    """An experiment kind: ``"module:Class"`` of its parameters, ``"module:function"`` of its
    runner, and the module that registers its claims (imported lazily: torch only when
    needed)."""

    params: str
    runner: str
    claims: str

    def _get(self, ref: str) -> Any:
        module, name = ref.split(":")
        return getattr(importlib.import_module(module), name)

    def params_class(self) -> type:
        return self._get(self.params)

    def run(self) -> Any:
        return self._get(self.runner)

    def load_claims(self) -> None:
        importlib.import_module(self.claims)


#: experiment kind -> its declaration
KINDS: dict[str, Kind] = {
    "synthetic": Kind("ridgetheory.experiments.params:SyntheticParams",
                      "ridgetheory.experiments.synthetic:run",
                      "ridgetheory.experiments.synthetic_claims"),
    "rf_memorization": Kind("ridgetheory.experiments.params:MemorizationParams",
                            "ridgetheory.experiments.memorization:run",
                            "ridgetheory.experiments.memorization"),
    "mnist_latent": Kind("ridgetheory.experiments.params:MnistLatentParams",
                         "ridgetheory.experiments.mnist_latent:run",
                         "ridgetheory.experiments.mnist_claims"),
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


def read_toml(path: str | os.PathLike, what: str = "config") -> dict[str, Any]:
    """Parse a TOML file; a syntax error names the file, line and column."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise RidgeTheoryError(f"{what} {p} is not valid TOML: {exc}.") from None
    except OSError as exc:
        raise RidgeTheoryError(f"{what} {p} cannot be read: {exc.strerror}.") from None


def _resolve_path(name_or_path: str | os.PathLike) -> Path:
    p = Path(name_or_path)
    if p.suffix != ".toml":
        p = config_dir() / f"{name_or_path}.toml"
    if not p.is_file():
        raise RidgeTheoryError(
            f"`CONFIG` passed to ridgetheory validate must be one of {', '.join(list_configs())} "
            f"or a path to a TOML file; got {str(name_or_path)!r}."
        )
    return p


def _dotted(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``{"rf.p": 500}`` as nested tables ``{"rf": {"p": 500}}``."""
    out: dict[str, Any] = {}
    for key, value in overrides.items():
        *head, last = str(key).split(".")
        node = out
        for h in head:
            node = node.setdefault(h, {})
        node[last] = value
    return out


_SECTIONS = ("experiment", "params", "quick", "claims")


@dataclass(frozen=True)
class _Experiment:
    kind: str = ""
    description: str = ""
    seed: int = 0


def parse_config(
    raw: Mapping[str, Any],
    name: str,
    *,
    path: Path | None = None,
    quick: bool = False,
    overrides: Mapping[str, Any] | None = None,
    presets: Mapping[str, Any] | None = None,
) -> ExperimentConfig:
    """Validate a config already read from TOML (see :func:`load_config`)."""
    where = f"{path.name if path else name}"
    for key in raw:
        if key not in _SECTIONS:
            raise RidgeTheoryError(
                f"unknown table `[{key}]` in {where}; a config has "
                f"{', '.join(f'[{k}]' for k in _SECTIONS)}.")
    exp = raw.get("experiment", {})
    kind = exp.get("kind") if isinstance(exp, Mapping) else None
    if kind not in KINDS:
        raise RidgeTheoryError(
            f"`experiment.kind` in {where} must be one of {', '.join(map(repr, KINDS))}; "
            f"got {kind!r}.")
    exp = parse(_Experiment, exp, where, "experiment")
    where = f"{where} (experiment kind {kind!r})"
    cls = KINDS[kind].params_class()
    params = dict(raw.get("params", {}))
    parse(cls, params, where, "params")  # errors name [params] before [quick] is merged
    if presets:
        params = merge(params, _dotted(presets))
        parse(cls, params, where, "params (with the sweep's params)")
    if quick:
        params = merge(params, raw.get("quick", {}))
        parse(cls, params, where, "params + quick")
    if overrides:
        params = merge(params, _dotted(overrides))
    parsed = parse(cls, params, where, "params" if not overrides else "params (with overrides)")
    specs = claims_of(kind)
    claims: dict[str, ClaimConfig] = {}
    for cname, table in dict(raw.get("claims", {})).items():
        if cname not in specs:
            import difflib

            close = difflib.get_close_matches(cname, list(specs), n=1, cutoff=0.5)
            raise RidgeTheoryError(
                f"unknown claim `[claims.{cname}]` in {where}"
                + (f"; did you mean `{close[0]}`?" if close else ";")
                + f" Claims of {kind!r}: {', '.join(specs)}.")
        if not isinstance(table, Mapping):
            raise RidgeTheoryError(f"`claims.{cname}` in {where} must be a table.")
        common_keys = {f for f in ClaimCommon.__dataclass_fields__}
        own = {k: v for k, v in table.items() if k not in common_keys}
        try:
            settings = parse(specs[cname].settings, own, where, f"claims.{cname}")
        except RidgeTheoryError as exc:
            valid = list(specs[cname].settings.__dataclass_fields__) + sorted(common_keys)
            raise RidgeTheoryError(str(exc).split(" Valid keys:")[0]
                                   + f" Valid keys: {', '.join(valid)}.") from None
        common = parse(ClaimCommon, {k: v for k, v in table.items() if k in common_keys},
                       where, f"claims.{cname}")
        if common.expect == "open" and not common.reason:
            raise RidgeTheoryError(
                f"`claims.{cname}.reason` in {where} must say why the claim is open.")
        claims[cname] = ClaimConfig(cname, common.description, common.expect, common.reason,
                                    settings)
    if not claims:
        raise RidgeTheoryError(
            f"{where} names no claims: add at least one [claims.<name>] table "
            f"(claims of {kind!r}: {', '.join(specs)}).")
    return ExperimentConfig(name=name, path=path, kind=kind, description=exp.description,
                            seed=exp.seed, params=parsed, claims=claims, quick=quick,
                            raw=dict(raw))


def load_config(
    name_or_path: str | os.PathLike,
    quick: bool = False,
    overrides: Mapping[str, Any] | None = None,
    presets: Mapping[str, Any] | None = None,
) -> ExperimentConfig:
    """Read and validate a config by experiment name or path.

    Parameters
    ----------
    name_or_path : str or path
        A shipped experiment's name (``"rf_three"``) or a path to a TOML file.
    quick : bool, default=False
        Merge ``[quick]`` over ``[params]``.
    overrides : mapping, optional
        Parameter values by dotted path (``{"rf.p": 500, "layout": "3"}``), applied last
        (what a sweep point sets).
    presets : mapping, optional
        Parameter values by dotted path applied before ``[quick]`` (a sweep's
        ``[sweep.params]``: quick mode still shrinks the sizes they set).

    Raises
    ------
    RidgeTheoryError
        Malformed TOML (file, line, column), an unknown table, key or claim (with the
        closest valid one), a wrong type or an out-of-range value (the key and what was
        expected).
    """
    p = _resolve_path(name_or_path)
    return parse_config(read_toml(p), p.stem, path=p.resolve(), quick=quick,
                        overrides=overrides, presets=presets)


def run_experiment(
    cfg: ExperimentConfig, *, out_dir: Path, seed: int = 0, progress: bool = False
) -> dict[str, Any]:
    """Run one experiment; a crash becomes a failed claim named ``runs`` (never lost)."""
    name = cfg.name
    _ensure_dir(Path(out_dir), "out_dir")
    ctx = ExperimentContext(
        name=name,
        config=cfg,
        quick=cfg.quick,
        out_dir=Path(out_dir),
        seed=seed + cfg.seed,
        progress=progress,
    )
    t0 = time.perf_counter()
    try:
        result = KINDS[cfg.kind].run()(ctx)
        error = None
    except Exception as exc:  # recorded, reported, and it fails the run
        result = ExperimentResult(claims=[Claim("runs", name, "completes", repr(exc), "-", False)])
        error = f"{type(exc).__name__}: {exc}"
    wall = time.perf_counter() - t0
    out = result.to_dict()
    out.update(
        {
            "name": name,
            "kind": cfg.kind,
            "description": cfg.description,
            "params": plain(cfg.params),
            "seed": ctx.seed,
            "wall_s": wall,
            "error": error,
        }
    )
    return out


def _ensure_dir(path: Path, name: str) -> None:
    """Create ``path`` as a directory, or say clearly why it cannot be one."""
    if path.exists() and not path.is_dir():
        raise RidgeTheoryError(f"`{name}` {str(path)!r} exists and is not a directory.")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RidgeTheoryError(f"`{name}` {str(path)!r} cannot be created: {exc.strerror}.") \
            from None


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for mod in ("ridgetheory", "numpy", "scipy", "numba", "sympy", "torch", "cupy"):
        try:
            out[mod] = importlib.import_module(mod).__version__
        except Exception:
            out[mod] = "not installed"
    return out


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
    names = list(configs) if configs else list_configs()
    loaded = [load_config(c, quick) for c in names]  # fail fast on a bad config
    _ensure_dir(out, "out_dir")
    t0 = time.perf_counter()
    experiments = []
    for cfg in loaded:
        if verbose:
            print(f"[ridgetheory] running {cfg.name} ({'quick' if quick else 'full'})",
                  flush=True)
        experiments.append(run_experiment(cfg, out_dir=out, seed=seed, progress=progress))
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
    atomic_write_text(out / "report.json", json.dumps(report, indent=2, default=str))
    atomic_write_text(out / "report.md", render_markdown(report))
    if verbose:
        s = report["summary"]
        print(
            f"[ridgetheory] {'PASSED' if report['passed'] else 'FAILED'}: {s['passed']} passed, "
            f"{s['failed']} failed, {s['open']} open; report in {out}/report.md",
            flush=True,
        )
    return report
