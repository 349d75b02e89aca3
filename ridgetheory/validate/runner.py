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
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
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
    "EXTRAS",
    "KINDS",
    "Kind",
    "config_dir",
    "list_configs",
    "load_config",
    "missing_extras",
    "parse_config",
    "preflight_output",
    "read_toml",
    "run_experiment",
    "run_suite",
]


#: optional modules an experiment may need -> the extra that installs them
EXTRAS = {"torch": "nn", "cupy": "gpu"}


def _no_needs(params: Any) -> tuple[str, ...]:
    return ()


def _synthetic_needs(params: Any) -> tuple[str, ...]:
    return ("torch",) if params.model == "mlp" else ()


def _torch(params: Any) -> tuple[str, ...]:
    return ("torch",)


@dataclass(frozen=True)
class Kind:
    """An experiment kind: ``"module:Class"`` of its parameters, ``"module:function"`` of its
    runner, the module that registers its claims (imported lazily: torch only when needed),
    and ``needs(params)``, the optional modules (keys of :data:`EXTRAS`) a run needs."""

    params: str
    runner: str
    claims: str
    needs: Callable[[Any], tuple[str, ...]] = _no_needs

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
                      "ridgetheory.experiments.synthetic_claims", _synthetic_needs),
    "rf_memorization": Kind("ridgetheory.experiments.params:MemorizationParams",
                            "ridgetheory.experiments.memorization:run",
                            "ridgetheory.experiments.memorization"),
    "mnist_latent": Kind("ridgetheory.experiments.params:MnistLatentParams",
                         "ridgetheory.experiments.mnist_latent:run",
                         "ridgetheory.experiments.mnist_claims", _torch),
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
    except FileNotFoundError:
        raise RidgeTheoryError(f"{what} {p} does not exist.") from None
    except IsADirectoryError:
        raise RidgeTheoryError(f"{what} {p} is a directory, not a TOML file.") from None
    except OSError as exc:  # permissions, I/O: the environment, not the argument
        raise OSError(f"{what} {p} cannot be read: {exc.strerror}.") from None


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
    for key in _SECTIONS:
        if key in raw and not isinstance(raw[key], Mapping):
            raise RidgeTheoryError(f"`[{key}]` in {where} must be a table; got "
                                   f"{key} = {raw[key]!r}.")
    exp = raw.get("experiment", {})
    kind = exp.get("kind")
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
    # [quick] is checked in full runs too: a typo there must not wait for the first quick run
    quick_params = merge(params, raw.get("quick", {}))
    parse(cls, quick_params, where, "quick")
    if quick:
        params = quick_params
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
        common_keys = set(ClaimCommon.__dataclass_fields__)
        valid = list(specs[cname].settings.__dataclass_fields__) + sorted(common_keys)
        for key in table:
            if key not in valid:  # the closest of the claim's settings and the shared keys
                import difflib

                close = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.5)
                raise RidgeTheoryError(
                    f"unknown key `claims.{cname}.{key}` in {where}"
                    + (f"; did you mean `{close[0]}`?" if close else ".")
                    + f" Valid keys: {', '.join(valid)}.")
        own = {k: v for k, v in table.items() if k not in common_keys}
        settings = parse(specs[cname].settings, own, where, f"claims.{cname}")
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
    _check_layout(parsed, path, where)
    return ExperimentConfig(name=name, path=path, kind=kind, description=exp.description,
                            seed=exp.seed, params=parsed, claims=claims, quick=quick,
                            raw=dict(raw))


def _check_layout(params: Any, path: Path | None, where: str) -> None:
    """A config's training set is read when the config is, so that a missing or malformed
    file is a configuration error before anything runs, not an experiment that errors."""
    layout = getattr(params, "layout", None)
    if layout is None:
        return
    from ..experiments.layouts import resolve

    data = resolve(layout, path.parent if path else None, f"in {where}")
    # the synthetic kind (it has a ridge) needs D >= 2; whether `ridge_dim` fits D is left to
    # the run, so that in a sweep such a point fails alone
    if hasattr(params, "ridge_dim") and data.shape[1] < 2:
        raise RidgeTheoryError(
            f"`params.layout` in {where} must have points in D >= 2; got shape {data.shape}.")


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


def missing_extras(cfg: ExperimentConfig) -> list[str]:
    """The install commands of the optional modules ``cfg`` needs and this Python lacks."""
    import importlib.util

    return [f"{mod} (pip install 'ridgetheory[{EXTRAS[mod]}]')"
            for mod in KINDS[cfg.kind].needs(cfg.params)
            if importlib.util.find_spec(mod) is None]


def _description(cfg: ExperimentConfig) -> str:
    """The config's description; in quick mode followed by the quick sizes it runs at."""
    if not cfg.quick or not cfg.raw.get("quick"):
        return cfg.description

    def flat(table: Mapping[str, Any], prefix: str = "") -> list[str]:
        out = []
        for k, v in table.items():
            if isinstance(v, Mapping):
                out += flat(v, f"{prefix}{k}.")
            else:
                out.append(f"{prefix}{k} = {v}")
        return out

    return f"{cfg.description} Quick mode: {', '.join(flat(cfg.raw['quick']))}."


def _stand_in_claims(cfg: ExperimentConfig, status: str, reason: str) -> list[Claim]:
    """One claim per configured claim when the experiment did not get to check them."""
    return [Claim(n, cfg.name, None, None, None, False, expect=cc.expect, reason=reason,
                  text=cc.description, status=status) for n, cc in cfg.claims.items()]


def run_experiment(
    cfg: ExperimentConfig, *, out_dir: Path, seed: int = 0, progress: bool = False
) -> dict[str, Any]:
    """Run one experiment.

    An experiment that needs a missing extra is not run: its claims are ``skipped`` with the
    install command. One that raises has its claims marked ``error`` with the exception (never
    lost); either way the returned record says so in ``skipped`` / ``error``.
    """
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
    error = skipped = None
    missing = missing_extras(cfg)
    if missing:
        skipped = f"needs {', '.join(missing)}"
        result = ExperimentResult(claims=_stand_in_claims(cfg, "skipped", skipped))
    else:
        try:
            result = KINDS[cfg.kind].run()(ctx)
        except ModuleNotFoundError as exc:  # an optional module the declaration missed
            if (exc.name or "").split(".")[0] not in EXTRAS:
                raise
            mod = exc.name.split(".")[0]
            skipped = f"needs {mod} (pip install 'ridgetheory[{EXTRAS[mod]}]')"
            result = ExperimentResult(claims=_stand_in_claims(cfg, "skipped", skipped))
        except Exception as exc:  # recorded, reported, and it fails the run
            error = f"{type(exc).__name__}: {exc}"
            result = ExperimentResult(claims=_stand_in_claims(cfg, "error", error))
    wall = time.perf_counter() - t0
    out = result.to_dict()
    out.update(
        {
            "name": name,
            "kind": cfg.kind,
            "description": _description(cfg),
            "params": plain(cfg.params),
            "seed": ctx.seed,
            "wall_s": wall,
            "error": error,
            "skipped": skipped,
        }
    )
    return out


def check_unique_names(configs: Sequence[ExperimentConfig]) -> None:
    """Experiment names are claim ids' first half: two configs with one name would merge."""
    seen: dict[str, ExperimentConfig] = {}
    for cfg in configs:
        if cfg.name in seen:
            first, again = seen[cfg.name].path, cfg.path
            raise RidgeTheoryError(
                f"`CONFIG` passed to ridgetheory validate names experiment {cfg.name!r} twice"
                + (f" ({first} and {again})" if first != again else "")
                + "; give each config its own file name.")
        seen[cfg.name] = cfg


def check_output_file(path: str | os.PathLike, name: str) -> None:
    """Check, creating nothing, that a file can be written at ``path`` (its directories are
    made when it is written): not a directory, and the nearest existing parent is a writable
    directory."""
    p = Path(path)
    if p.is_dir():
        raise RidgeTheoryError(f"`{name}` {str(p)!r} is a directory; give a file path.")
    parent = p.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise RidgeTheoryError(f"`{name}` {str(p)!r} is under {str(parent)!r}, which is not a "
                               "directory.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OSError(f"`{name}` {str(p)!r} cannot be written: {str(parent)!r} is not "
                      "writable.")


def check_not_a_file(path: Path, name: str) -> None:
    """A usage error when ``path`` exists and is not a directory (creates nothing)."""
    if path.exists() and not path.is_dir():
        raise RidgeTheoryError(f"`{name}` {str(path)!r} exists and is not a directory.")


def _ensure_dir(path: Path, name: str) -> None:
    """Create ``path`` as a directory, or say clearly why it cannot be one."""
    check_not_a_file(path, name)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(f"`{name}` {str(path)!r} cannot be created: {exc.strerror}.") from None


def preflight_output(path: Path, name: str = "out_dir") -> None:
    """Check, before any experiment runs, that ``path`` is (or can be made) a writable
    directory: a file there is a usage error (:class:`RidgeTheoryError`), a read-only or
    uncreatable one an environment error (:class:`OSError`)."""
    import tempfile

    _ensure_dir(path, name)
    try:
        with tempfile.NamedTemporaryFile(dir=path, prefix=".ridgetheory-probe-"):
            pass
    except OSError as exc:
        raise OSError(f"`{name}` {str(path)!r} is not writable: {exc.strerror}.") from None


def _previous_figures(out: Path) -> list[str]:
    """Figures the previous run in ``out`` wrote (from its report.json), if any."""
    try:
        old = json.loads((out / "report.json").read_text())
        return [f for e in old.get("experiments", []) for f in e.get("figures", [])
                if isinstance(f, str) and "/" not in f and f.endswith(".png")]
    except (OSError, ValueError, AttributeError, TypeError):
        return []


def run_suite(
    configs: Sequence[str] | None = None,
    *,
    quick: bool = False,
    out_dir: str | os.PathLike = "ridgetheory-report",
    seed: int = 0,
    progress: bool = True,
    verbose: bool | None = None,
    strict: bool = False,
) -> dict[str, Any]:
    """Run experiments and write ``report.json``, ``report.md`` and figures to ``out_dir``.

    Every config is parsed and the output directory checked before anything runs; figures of
    the previous run in ``out_dir`` that this run does not rewrite are removed, so the
    directory holds one run.

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
        One status line per experiment on stderr (default: as ``progress``).
    strict : bool, default=False
        Open findings fail the run too.

    Returns
    -------
    report : dict
        As written to ``report.json``; its structure is documented in docs/validation.md and
        in the JSON Schema :func:`ridgetheory.validate.report.schema`.
    """
    import sys

    from .report import build_report, render_markdown

    verbose = progress if verbose is None else verbose
    out = Path(out_dir)
    names = list(configs) if configs else list_configs()
    loaded = [load_config(c, quick) for c in names]  # fail fast on a bad config
    check_unique_names(loaded)
    preflight_output(out)
    stale = _previous_figures(out)
    t0 = time.perf_counter()
    experiments = []
    for i, cfg in enumerate(loaded):
        if verbose:
            print(f"[ridgetheory] {i + 1}/{len(loaded)} {cfg.name} "
                  f"({'quick' if quick else 'full'})", file=sys.stderr, flush=True)
        experiments.append(run_experiment(cfg, out_dir=out, seed=seed, progress=progress))
    report = build_report(experiments, quick=quick, seed=seed, strict=strict,
                          wall_s=time.perf_counter() - t0,
                          command={"configs": names, "quick": quick, "out_dir": str(out),
                                   "seed": seed, "strict": strict})
    atomic_write_text(out / "report.json", json.dumps(report, indent=2, default=str))
    atomic_write_text(out / "report.md", render_markdown(report))
    fresh = {f for e in experiments for f in e["figures"]}
    for f in stale:
        if f not in fresh:
            (out / f).unlink(missing_ok=True)
    return report
