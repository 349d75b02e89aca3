"""The docs site builds with ``mkdocs build --strict`` and its generated pages are current.

Strict mode fails on any warning: a broken link or anchor, an unresolved API cross-reference,
a page left out of the nav, a docstring mkdocstrings cannot parse. The build needs the
``docs`` extra (also in ``test``); without it that test skips.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BUILD_NEEDS = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python", "pymdownx")


def _missing() -> list[str]:
    out = []
    for name in BUILD_NEEDS:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            out.append(name)
    return out


def test_mkdocs_build_strict(tmp_path):
    if missing := _missing():
        pytest.skip(f"docs build needs {', '.join(missing)}: pip install -e '.[docs]'")
    site = tmp_path / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
         str(ROOT / "mkdocs.yml"), "--site-dir", str(site)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    theory = (site / "theory" / "index.html").read_text()
    assert theory.count('class="arithmatex"') > 100  # the maths is marked for MathJax
    assert 'id="4-reach-align-slide"' in theory
    api = (site / "api" / "ridgetheory" / "index.html").read_text()
    for name in ("ridgetheory.Ridge", "ridgetheory.SmoothedEmpirical",
                 "ridgetheory.simulate.api.simulate"):
        assert f'id="{name}"' in api, name
    assert (site / "img" / "rf_two_mode_snapshots.png").is_file()


def test_api_pages_are_current():
    sys.path.insert(0, str(DOCS))
    try:
        import make_api
    finally:
        sys.path.remove(str(DOCS))
    nav = (ROOT / "mkdocs.yml").read_text()
    for path, text in make_api.render().items():
        assert path.is_file() and path.read_text() == text, \
            f"{path.relative_to(ROOT)} is stale: run python docs/make_api.py"
        assert str(path.relative_to(DOCS)) in nav, f"{path.relative_to(DOCS)} is not in the nav"


def test_gallery_shows_every_figure():
    text = (DOCS / "gallery.md").read_text()
    shown = set(re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", text))
    figures = {str(p.relative_to(DOCS)) for p in [*DOCS.glob("img/*.png"),
                                                  *DOCS.glob("sweeps/*/*.png")]}
    assert figures, "no figures found under docs/img and docs/sweeps"
    assert figures - shown == set(), f"figures missing from gallery.md: {sorted(figures - shown)}"
    assert shown - figures == set(), f"gallery.md shows missing files: {sorted(shown - figures)}"


def test_readme_says_what_a_run_costs():
    """Issue 16: the main job, the quick run and the test suite, each with a measured time."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## What a run costs", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    for command in ("ridgetheory validate`", "ridgetheory validate --quick", "python -m pytest"):
        (row,) = [r for r in rows if command in r]
        assert re.search(r"\d+ (s|min)\b", row.split("|")[-2]), row
