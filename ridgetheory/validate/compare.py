"""Compare two validation reports claim by claim (``ridgetheory compare OLD NEW``).

A *regression* is a claim that passed in OLD and does not pass in NEW (fail, open, error or
skipped), or a measured number of a claim in both reports that moved by more than
``rtol * max(|old|, |new|) + atol``, became undetermined, or is in one report only (a list
that got shorter, a field that went away). New and removed claims are listed, not counted.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from .._checks import RidgeTheoryError, check_scalar
from .report import claims_by_id, load_report
from .values import leaves

__all__ = ["Comparison", "compare_reports", "compare_files"]


@dataclass
class Comparison:
    """What changed from OLD to NEW.

    Attributes
    ----------
    status_changes : list of dict
        ``{"id", "old", "new", "regression"}`` for every claim whose status changed.
    moved : list of dict
        ``{"id", "path", "old", "new", "rel_change"}`` for measured numbers beyond tolerance
        (``path`` inside the typed value; ``"undetermined"`` when a number became undetermined
        or the reverse, ``"absent"`` when it is in one report only).
    added, removed : list of str
        Claim ids only in NEW / only in OLD.
    notes : list of str
        Differences in how the reports were made (quick against full, other seed).
    rtol, atol : float
    """

    status_changes: list[dict[str, Any]] = field(default_factory=list)
    moved: list[dict[str, Any]] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rtol: float = 0.0
    atol: float = 0.0

    @property
    def regressions(self) -> int:
        return sum(c["regression"] for c in self.status_changes) + len(self.moved)

    @property
    def regressed(self) -> bool:
        return self.regressions > 0

    def to_dict(self) -> dict[str, Any]:
        return {"regressed": self.regressed, "regressions": self.regressions, **asdict(self)}

    def markdown(self) -> str:
        """The comparison for people (and CI summaries)."""
        lines = ["# ridgetheory compare", "",
                 f"**{'REGRESSION' if self.regressed else 'no regression'}**: "
                 f"{sum(c['regression'] for c in self.status_changes)} status regressions, "
                 f"{len(self.moved)} measured values moved beyond rtol {self.rtol:g} "
                 f"(atol {self.atol:g}); {len(self.added)} new, {len(self.removed)} removed "
                 "claims."]
        lines += [f"\nNote: {n}" for n in self.notes]
        if self.status_changes:
            lines += ["", "## Status changes", "", "| claim | old | new | regression |",
                      "| --- | --- | --- | --- |"]
            lines += [f"| {c['id']} | {c['old']} | {c['new']} | "
                      f"{'yes' if c['regression'] else 'no'} |" for c in self.status_changes]
        if self.moved:
            lines += ["", "## Measured values that moved", "",
                      "| claim | value | old | new | relative change |",
                      "| --- | --- | --- | --- | --- |"]
            for m in self.moved:
                rel = "–" if m["rel_change"] is None else f"{m['rel_change']:.3g}"
                lines.append(f"| {m['id']} | {m['path'] or '(value)'} | {_fmt(m['old'])} | "
                             f"{_fmt(m['new'])} | {rel} |")
        for title, ids in (("New claims", self.added), ("Removed claims", self.removed)):
            if ids:
                lines += ["", f"## {title}", ""] + [f"- {i}" for i in ids]
        return "\n".join(lines) + "\n"


def _fmt(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def _moved(cid: str, old: dict[str, Any], new: dict[str, Any], rtol: float,
           atol: float) -> list[dict[str, Any]]:
    a, b = leaves(old), leaves(new)
    out = []
    for path in sorted(set(a) ^ set(b)):  # a list that got shorter, a field that went away
        out.append({"id": cid, "path": path, "old": a.get(path, "absent"),
                    "new": b.get(path, "absent"), "rel_change": None})
    for path in sorted(set(a) & set(b)):
        x, y = a[path], b[path]
        if isinstance(x, str) or isinstance(y, str):
            if x != y:
                out.append({"id": cid, "path": path, "old": x, "new": y, "rel_change": None})
            continue
        if abs(y - x) > rtol * max(abs(x), abs(y)) + atol:
            scale = max(abs(x), abs(y))
            out.append({"id": cid, "path": path, "old": x, "new": y,
                        "rel_change": abs(y - x) / scale if scale > 0 else math.inf})
    return out


def compare_reports(old: dict[str, Any], new: dict[str, Any], *, rtol: float = 1e-3,
                    atol: float = 1e-12) -> Comparison:
    """Compare two reports (dicts as read by :func:`~ridgetheory.validate.report.load_report`).

    Parameters
    ----------
    old, new : dict
        The reports.
    rtol, atol : float, default=1e-3, 1e-12
        Tolerance on measured numbers. Two runs of the same version with the same seed give
        bit-identical numbers; the default leaves room for rounding differences between
        machines (BLAS, thread counts) and flags any change a person would notice.
    """
    rtol = check_scalar(rtol, "rtol", "compare_reports", low=0.0)
    atol = check_scalar(atol, "atol", "compare_reports", low=0.0)
    out = Comparison(rtol=rtol, atol=atol)
    for key in ("quick", "seed"):
        if old.get(key) != new.get(key):
            out.notes.append(f"the reports differ in `{key}`: {old.get(key)!r} -> "
                             f"{new.get(key)!r}; measured values are not comparable.")
    a, b = claims_by_id(old), claims_by_id(new)
    out.added = [i for i in b if i not in a]
    out.removed = [i for i in a if i not in b]
    for cid in (i for i in a if i in b):
        so, sn = a[cid]["status"], b[cid]["status"]
        if so != sn:
            out.status_changes.append({"id": cid, "old": so, "new": sn,
                                       "regression": so == "pass" and sn != "pass"})
        if so not in ("skipped", "error") and sn not in ("skipped", "error"):
            out.moved += _moved(cid, a[cid]["measured"], b[cid]["measured"], rtol, atol)
    return out


def compare_files(old: str | os.PathLike, new: str | os.PathLike, *, rtol: float = 1e-3,
                  atol: float = 1e-12) -> Comparison:
    """:func:`compare_reports` of two ``report.json`` files."""
    if os.fspath(old) == os.fspath(new):
        raise RidgeTheoryError("`OLD` and `NEW` passed to ridgetheory compare are the same "
                               f"file {os.fspath(old)!r}.")
    return compare_reports(load_report(old, "OLD"), load_report(new, "NEW"), rtol=rtol,
                           atol=atol)
