"""The command-line tool: help, version, info, figures and argument errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import ridgetheory as rt
from ridgetheory.cli import main


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"ridgetheory {rt.__version__}"
    assert main([]) == 0
    assert "validate" in capsys.readouterr().out


def test_info_reports_backends(capsys):
    assert main(["info", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows["ridgetheory"] == rt.__version__
    assert "threads" in rows["numba"] or rows["numba"].startswith("unavailable")
    assert rows["cupy"].startswith("unavailable") == (not rt.backend_status("cupy").available)


def test_ridge_figure(tmp_path):
    out = tmp_path / "ridge.png"
    assert main(["figure", "ridge-two-mode", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_module_entry_point_and_bad_arguments():
    r = subprocess.run([sys.executable, "-m", "ridgetheory", "figure", "nope"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "invalid choice" in r.stderr
