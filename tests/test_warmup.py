"""``rt.warmup``: every kernel group, seconds per group, fast once compiled."""

from __future__ import annotations

import time

import pytest

import ridgetheory as rt
from ridgetheory import RidgeTheoryError, backend_status
from ridgetheory._compile import GROUPS

pytestmark = pytest.mark.skipif(not backend_status("numba").available,
                                reason="numba is not importable here")


@pytest.fixture(scope="module")
def first():
    return rt.warmup(progress=False)


def test_warmup_returns_every_group_in_order(first):
    assert list(first) == list(GROUPS)
    assert all(isinstance(s, float) and s >= 0.0 for s in first.values())


def test_second_warmup_is_fast(first):
    t0 = time.perf_counter()
    again = rt.warmup(progress=False)
    assert list(again) == list(GROUPS)
    assert time.perf_counter() - t0 < 5.0  # the kernels are loaded: tiny inputs only


def test_groups_subset_and_bar(first, capsys):
    assert list(rt.warmup(progress=True, groups=["mixture", "ridge"])) == ["mixture", "ridge"]
    assert "compiling kernels" in capsys.readouterr().err
    assert list(rt.warmup(progress=False, groups="predict")) == ["predict"]


def test_unknown_group_is_rejected_by_name():
    with pytest.raises(RidgeTheoryError, match="`groups` passed to warmup"):
        rt.warmup(progress=False, groups=["ridge", "gpu"])


def test_cli_warmup_prints_one_line_per_run(first, capsys):
    from ridgetheory.cli import main

    assert main(["warmup", "--no-progress"]) == 0
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"ridgetheory warmup: {len(GROUPS)} kernel groups ready in ")
    assert all(f"{g} " in line for g in GROUPS)
