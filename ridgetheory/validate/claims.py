"""What an experiment returns: claims, each pass or fail, with every number recorded."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Claim", "ExperimentContext", "ExperimentResult"]


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


@dataclass
class Claim:
    """One checked prediction.

    Attributes
    ----------
    name : str
        Short identifier, unique within the experiment (for example ``"memorization"``).
    experiment : str
        Name of the experiment (config) that checked it.
    predicted : float, list or str
        What the theory predicts (a number, a bound, or a curve summary).
    measured : float, list or str
        What simulation measured.
    tolerance : float, list or str
        The tolerance or bound used to decide ``passed``.
    passed : bool
        Whether the measurement is consistent with the prediction.
    expect : {"pass", "open"}
        ``"open"`` marks an honest failure recorded as an open finding: reported, measured in
        every run, but it does not fail the run.
    reason : str
        One line: why the claim is open (required when ``expect == "open"``), or what it means.
    """

    name: str
    experiment: str
    predicted: Any
    measured: Any
    tolerance: Any
    passed: bool
    expect: str = "pass"
    reason: str = ""

    def __post_init__(self) -> None:
        if self.expect not in ("pass", "open"):
            raise ValueError(
                f"`expect` of claim {self.name!r} must be 'pass' or 'open'; got {self.expect!r}."
            )
        self.passed = bool(self.passed)

    @property
    def blocking(self) -> bool:
        """True when this claim fails and is not an open finding (the run then fails)."""
        return self.expect == "pass" and not self.passed

    def to_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))


@dataclass
class ExperimentContext:
    """What an experiment runner receives.

    Attributes
    ----------
    name : str
        Experiment name (the config file's stem).
    config : dict
        The parsed TOML config (its ``[experiment]``, ``[params]``, ``[quick]`` and
        ``[claims]`` tables; quick overrides are already merged into ``params`` when quick).
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
    config: dict[str, Any]
    quick: bool
    out_dir: Path
    seed: int = 0
    progress: bool = False

    @property
    def params(self) -> dict[str, Any]:
        return self.config.get("params", {})

    def claim_settings(self, claim: str) -> dict[str, Any]:
        """The ``[claims.<claim>]`` table: ``expect``, ``reason`` and the claim's own settings
        (``min``, ``factor``, ``tol``, ...: each runner documents the keys it reads)."""
        return dict(self.config.get("claims", {}).get(claim, {}))

    def claim(
        self,
        name: str,
        predicted: Any,
        measured: Any,
        tolerance: Any,
        passed: bool,
        reason: str = "",
    ) -> Claim:
        """Build a Claim, applying the config's ``expect``/``reason`` for this claim name."""
        s = self.claim_settings(name)
        return Claim(
            name=name,
            experiment=self.name,
            predicted=predicted,
            measured=measured,
            tolerance=tolerance,
            passed=passed,
            expect=s.get("expect", "pass"),
            reason=s.get("reason", reason),
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
