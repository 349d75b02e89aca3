"""The compile notice: one stderr line per kernel group, only when numba really compiles."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ridgetheory import _compile, backend_status

needs_numba = pytest.mark.skipif(not backend_status("numba").available,
                                 reason="numba is not importable here")

# the cheapest public entry point with a numba kernel: the random-feature Gaussian moments,
# called twice (the notice is once per process)
SCRIPT = """
import numpy as np
from ridgetheory.gaussian_moments import relu_cross_moment
for r in (0.5, -0.5):
    relu_cross_moment(np.zeros(3), 1.0, np.ones(3), 1.0, r, backend="numba")
"""


def _run(cache, quiet=False):
    env = {k: v for k, v in os.environ.items() if k != "RIDGETHEORY_QUIET"}
    env["NUMBA_CACHE_DIR"] = str(cache)
    if quiet:
        env["RIDGETHEORY_QUIET"] = "1"
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                         text=True, check=True)
    return [line for line in out.stderr.splitlines() if "kernels, once per install" in line]


@needs_numba
def test_notice_once_when_the_cache_is_cold_and_never_when_it_is_warm(tmp_path):
    cold = _run(tmp_path)
    assert cold == [_compile.NOTICE.format(group="random_features")]
    assert _run(tmp_path) == []  # same cache: loaded, not compiled


@needs_numba
def test_quiet_environment_variable_silences_the_notice(tmp_path):
    assert _run(tmp_path, quiet=True) == []


@pytest.fixture
def fresh(monkeypatch):
    """A process state in which no group has been announced yet."""
    monkeypatch.setattr(_compile, "_announced", set())
    monkeypatch.setattr(_compile._local, "stack", [], raising=False)
    monkeypatch.delenv("RIDGETHEORY_QUIET", raising=False)


def test_only_the_outermost_ridgetheory_compile_speaks_once_per_group(fresh, capsys):
    _compile._on_start("ridgetheory.ridge._kernels", "_project_blocks", ())
    _compile._on_start("ridgetheory._numba_maths", "exp_nonpos", ())  # compiled inside it
    _compile._on_end()
    _compile._on_end()
    _compile._on_start("ridgetheory.ridge._kernels", "_project_blocks", ())  # another type
    _compile._on_end()
    _compile._on_start("user_module", "f", ())  # not ours: silent, and so are its callees'
    _compile._on_end()
    assert capsys.readouterr().err.splitlines() == [_compile.NOTICE.format(group="ridge")]
    assert _compile.announced() == {"ridge"}


def test_quiet_block_and_environment(fresh, capsys, monkeypatch):
    with _compile.quiet():
        _compile._on_start("ridgetheory.predict._kernels", "_cholesky_blocks", ())
        _compile._on_end()
    monkeypatch.setenv("RIDGETHEORY_QUIET", "1")
    _compile._on_start("ridgetheory.ridge._kernels", "_project_blocks", ())
    _compile._on_end()
    assert capsys.readouterr().err == ""
    assert _compile.announced() == {"predict", "ridge"}


def test_groups_of_the_kernels():
    none = "none"
    tup = "UniTuple(float64, 2)"
    sampler = ("ridgetheory.simulate.kernels_numba", "_advance")
    args = [None] * 9
    assert _compile.group_of(*sampler, (*args, tup, none, none)) == "simulate"
    assert _compile.group_of(*sampler, (*args, none, tup, none)) == "mixture"
    assert _compile.group_of(*sampler, (*args, none, none, tup)) == "random_features"
    assert _compile.group_of("ridgetheory.ridge._kernels", "_evaluate") == "ridge"
    assert _compile.group_of("ridgetheory.predict._kernels", "_transport_blocks") == "predict"
    assert _compile.group_of("ridgetheory._numba_maths", "_weighted_rows") == "random_features"
    assert _compile.group_of("ridgetheory._numba_maths", "exp_nonpos_array") == "maths"
    assert _compile.group_of("numpy", "f") is None
