"""The docs' examples run: ``>>>`` blocks as doctests, ```python blocks executed in order.

A page's python blocks share one namespace, as a reader running them top to bottom would.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = sorted(DOCS.glob("*.md"))
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_doc_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = page.read_text()
    if "torch" in text and "import torch" in text:
        pytest.importorskip("torch")
    ns: dict = {}
    for block in BLOCK.findall(text):
        if ">>>" in block:
            continue  # run by the doctest below
        exec(compile(block, f"{page.name}", "exec"), ns)  # noqa: S102 - our own docs
    result = doctest.testfile(
        str(page),
        module_relative=False,
        verbose=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.failed == 0, f"{result.failed} doctest example(s) failed in {page.name}"
