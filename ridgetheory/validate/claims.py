"""What an experiment returns: claims, each pass or fail, with every number recorded; and the
registry of claim checks.

A claim check is a function registered with :func:`register_claim` for an experiment kind:
it reads the runner's results and the claim's settings (a frozen dataclass declared with
:func:`ridgetheory.validate.schema.param`) and returns a :class:`Verdict`. It does not modify
the results, so the claims of a config can be checked in any order.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .schema import param

__all__ = [
    "STATUSES",
    "Claim",
    "ClaimConfig",
    "ClaimSpec",
    "ExperimentConfig",
    "ExperimentContext",
    "ExperimentResult",
    "NoSettings",
    "Verdict",
    "register_claim",
    "claims_of",
]


@dataclass(frozen=True)
class NoSettings:
    """The settings of a claim that has none."""


@dataclass(frozen=True)
class ClaimCommon:
    """Keys every ``[claims.<name>]`` table may hold, besides the claim's own settings."""

    description: str = param("", "what the claim says, one line")
    expect: str = param("pass", "'open' records an honest failure that does not fail the run",
                        choices=("pass", "open"))
    reason: str = param("", "why the claim is open (required when expect = 'open')")


@dataclass(frozen=True)
class Verdict:
    """What a claim check returns: the numbers and whether they agree.

    ``predicted``, ``measured`` and ``tolerance`` are values with a typed form
    (:func:`ridgetheory.validate.values.typed`: numbers, arrays, dicts,
    :class:`~ridgetheory.validate.values.Interval`,
    :class:`~ridgetheory.validate.values.Undetermined` or None); ``text`` is the phrase a
    person reads. ``record`` holds extra arrays kept in ``report.json`` under the experiment's
    ``data["claims"][<name>]`` (curves behind the verdict), not in the claims table."""

    predicted: Any
    measured: Any
    tolerance: Any
    passed: bool
    record: dict[str, Any] = field(default_factory=dict)
    text: str = ""


@dataclass(frozen=True)
class ClaimSpec:
    """A registered claim: its experiment kind, name, settings declaration and check."""

    kind: str
    name: str
    settings: type
    check: Callable[..., Verdict] | None
    doc: str


_CLAIMS: dict[tuple[str, str], ClaimSpec] = {}


def register_claim(kind: str, name: str, settings: type = NoSettings):
    """Register ``check(results, settings) -> Verdict`` as claim ``name`` of experiment ``kind``.

    The check's docstring is the claim's documentation (docs/parameters.md)."""

    def deco(check: Callable[..., Verdict]) -> Callable[..., Verdict]:
        _CLAIMS[(kind, name)] = ClaimSpec(kind, name, settings, check,
                                          (check.__doc__ or "").strip())
        return check

    return deco


def claims_of(kind: str) -> dict[str, ClaimSpec]:
    """The registered claims of an experiment kind, by name (importing its claims module)."""
    from .runner import KINDS

    if kind in KINDS:
        KINDS[kind].load_claims()
    return {n: c for (k, n), c in _CLAIMS.items() if k == kind}


@dataclass(frozen=True)
class ClaimConfig:
    """A ``[claims.<name>]`` table, parsed: the common keys and the claim's own settings."""

    name: str
    description: str
    expect: str
    reason: str
    settings: Any


@dataclass(frozen=True)
class ExperimentConfig:
    """A parsed, validated experiment config.

    Attributes
    ----------
    name : str
        The config file's stem.
    path : pathlib.Path or None
        The file (None for a config built in memory); relative data paths resolve from its
        directory.
    kind : str
    description : str
    seed : int
        Added to the run's base seed.
    params : dataclass
        The kind's parameters (``[quick]`` merged in quick mode), every default filled.
    claims : dict of str to ClaimConfig
        In the config's order.
    quick : bool
    raw : dict
        The TOML as parsed (for the record).
    """

    name: str
    path: Path | None
    kind: str
    description: str
    seed: int
    params: Any
    claims: dict[str, ClaimConfig]
    quick: bool
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path is not None else Path.cwd()


def _plain(value: Any) -> Any:
    """Numbers and nested containers as JSON-ready Python objects (NaN/inf become strings)."""
    try:
        import numpy as np

        if isinstance(value, np.ndarray):
            return [_plain(v) for v in value.tolist()]
        if isinstance(value, np.generic):
            value = value.item()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


#: the status of a claim in a report
STATUSES = ("pass", "fail", "open", "skipped", "error")


@dataclass
class Claim:
    """One checked prediction.

    Attributes
    ----------
    name : str
        Short identifier, unique within the experiment (for example ``"memorization"``).
    experiment : str
        Name of the experiment (config) that checked it.
    predicted, measured, tolerance : typed values
        What the theory predicts, what simulation measured, and the tolerance or bound, as
        values with a typed form (:mod:`ridgetheory.validate.values`); ``None`` when a claim
        has no such value.
    passed : bool
        Whether the measurement is consistent with the prediction.
    expect : {"pass", "open"}
        ``"open"`` marks an honest failure recorded as an open finding: reported, measured in
        every run, but it does not fail the run.
    reason : str
        One line: why the claim is open (required when ``expect == "open"``), why it was
        skipped or what error stopped it.
    text : str
        The claim's test in words ("memorized share >= 0.95").
    status : {"pass", "fail", "open", "skipped", "error"}, optional
        Derived from ``passed`` and ``expect`` unless given (``"skipped"``: the experiment
        needs a missing extra; ``"error"``: the experiment stopped with an exception).
    """

    name: str
    experiment: str
    predicted: Any
    measured: Any
    tolerance: Any
    passed: bool
    expect: str = "pass"
    reason: str = ""
    text: str = ""
    status: str = ""

    def __post_init__(self) -> None:
        if self.expect not in ("pass", "open"):
            raise ValueError(
                f"`expect` of claim {self.name!r} must be 'pass' or 'open'; got {self.expect!r}."
            )
        self.passed = bool(self.passed)
        if not self.status:
            self.status = "open" if self.expect == "open" else (
                "pass" if self.passed else "fail")
        if self.status not in STATUSES:
            raise ValueError(f"`status` of claim {self.name!r} must be one of {STATUSES}; "
                             f"got {self.status!r}.")

    @property
    def blocking(self) -> bool:
        """True when this claim fails the run: it failed or errored and is not open."""
        return self.status in ("fail", "error")

    def to_dict(self) -> dict[str, Any]:
        """The claim as ``report.json`` holds it. A value with no typed form (a bug in the
        claim's check) makes this claim an ``error`` that names it; the report is still
        written."""
        from .values import typed

        status, passed, reason = self.status, self.passed, self.reason
        try:
            values = {k: typed(getattr(self, k)) for k in ("predicted", "measured", "tolerance")}
        except TypeError as exc:
            values = dict.fromkeys(("predicted", "measured", "tolerance"), {"type": "none"})
            status, passed = "error", False
            reason = f"the claim's check returned a value that cannot be reported: {exc}"
        return {
            "id": f"{self.experiment}/{self.name}",
            "name": self.name,
            "experiment": self.experiment,
            "status": status,
            "passed": passed,
            "expect": self.expect,
            **values,
            "text": self.text,
            "reason": reason,
        }


@dataclass
class ExperimentContext:
    """What an experiment runner receives.

    Attributes
    ----------
    name : str
        Experiment name (the config file's stem).
    config : ExperimentConfig
        The parsed config (quick overrides already merged into ``params`` when quick).
    quick : bool
        Quick mode: small sizes so the whole suite runs in minutes.
    out_dir : pathlib.Path
        Where figures go (write PNGs directly under it, named ``<experiment>_<what>.png``).
    seed : int
        Base seed; every random draw derives from it.
    progress : bool
        Whether to show progress bars.
    """

    name: str
    config: ExperimentConfig
    quick: bool
    out_dir: Path
    seed: int = 0
    progress: bool = False

    @property
    def params(self) -> Any:
        """The parsed parameters (the kind's frozen dataclass)."""
        return self.config.params

    def claim_settings(self, claim: str) -> Any:
        """The parsed settings of ``[claims.<claim>]`` (the claim's frozen dataclass)."""
        return self.config.claims[claim].settings

    def check_claims(self, results: Any) -> tuple[list[Claim], dict[str, Any]]:
        """Run every claim the config names through its registered check, in config order.

        Returns the claims and the checks' records (``{name: record}``, non-empty only)."""
        specs = claims_of(self.config.kind)
        claims, records = [], {}
        for name, cc in self.config.claims.items():
            v = specs[name].check(results, cc.settings)
            claims.append(self.claim(name, v.predicted, v.measured, v.tolerance, v.passed,
                                     text=v.text or cc.description))
            if v.record:
                records[name] = v.record
        return claims, records

    def claim(
        self,
        name: str,
        predicted: Any,
        measured: Any,
        tolerance: Any,
        passed: bool,
        reason: str = "",
        text: str = "",
    ) -> Claim:
        """Build a Claim, applying the config's ``expect``/``reason`` for this claim name."""
        cc = self.config.claims.get(name)
        return Claim(
            name=name,
            experiment=self.name,
            predicted=predicted,
            measured=measured,
            tolerance=tolerance,
            passed=passed,
            expect=cc.expect if cc else "pass",
            reason=(cc.reason if cc and cc.reason else reason),
            text=text,
        )


@dataclass
class ExperimentResult:
    """What an experiment runner returns: claims, figure file names and recorded numbers."""

    claims: list[Claim] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "claims": [c.to_dict() for c in self.claims],
            "figures": list(self.figures),
            "data": _plain(self.data),
            "timings": _plain(self.timings),
        }
