"""The validation runner: configs, report files, exit status, open findings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from ridgetheory import RidgeTheoryError
from ridgetheory.validate import Claim
from ridgetheory.validate.runner import list_configs, load_config, run_suite

TINY = textwrap.dedent("""
    [experiment]
    kind = "synthetic"
    description = "tiny exact-score run"

    [params]
    layout = "two_mode"
    model = "exact"
    T = 2.0
    t_min = {t_min}
    steps = 60
    n_samples = 300
    n_measure = 100
    n_predict = 30
    n_save = 6

    [quick]
    steps = 40

    [claims.memorization]
    min = {min}
    {open}
""")


def _write(tmp_path, name="tiny", min=0.95, open_="", t_min=1e-2):
    """A tiny exact-score config; ``t_min = 1`` stops sampling where p_t is still smooth, so
    nothing memorizes and the memorization claim fails."""
    path = tmp_path / f"{name}.toml"
    path.write_text(TINY.format(min=min, open=open_, t_min=t_min))
    return str(path)


def test_shipped_configs_parse_and_name_their_claims():
    names = list_configs()
    for required in (
        "exact_memorizes",
        "normal_injection",
        "tangent_injection",
        "rf_two_mode",
        "rf_three",
        "rf_four_half",
        "rf_five",
        "rf_curved13",
        "mnist_latent",
    ):
        assert required in names
    for n in names:
        for quick in (False, True):
            cfg = load_config(n, quick=quick)
            assert cfg.claims, f"{n} names no claims"
            for claim, c in cfg.claims.items():
                if c.expect == "open":
                    assert c.reason, f"{n}/{claim} is open without a reason"


def test_quick_overrides_merge_tables(tmp_path):
    cfg = load_config(_write(tmp_path), quick=True)
    assert cfg.params.steps == 40 and cfg.params.n_samples == 300
    cfg = load_config("rf_two_mode", quick=True)
    assert cfg.params.rf.quadrature == "gauss-hermite"  # kept from [params.rf]
    assert cfg.params.rf.p < 2000  # overridden by [quick.rf]
    assert load_config("rf_two_mode").params.rf.p == 2000


def test_unknown_config_is_a_clear_error():
    with pytest.raises(RidgeTheoryError, match="`CONFIG` passed to ridgetheory validate"):
        load_config("no_such_experiment")


def test_report_files_and_status(tmp_path):
    out = tmp_path / "out"
    rep = run_suite([_write(tmp_path)], out_dir=out, progress=False)
    data = json.loads((out / "report.json").read_text())
    assert data["passed"] is True and rep["passed"] is True
    (c,) = data["claims"]
    assert set(c) >= {
        "name",
        "experiment",
        "predicted",
        "measured",
        "tolerance",
        "passed",
        "expect",
    }
    assert c["experiment"] == "tiny" and c["passed"] and c["expect"] == "pass"
    assert (out / "report.md").read_text().startswith("# ridgetheory validation report")
    for fig in data["experiments"][0]["figures"]:
        assert (out / fig).stat().st_size > 1000
    assert not [p for p in os.listdir(out) if p.endswith(".tmp")]


def test_a_failing_claim_fails_the_run_unless_open(tmp_path):
    impossible = _write(tmp_path, "fails", t_min=1.0)
    assert run_suite([impossible], out_dir=tmp_path / "a", progress=False)["passed"] is False
    opened = _write(
        tmp_path, "open", t_min=1.0, open_='expect = "open"\n    reason = "cannot exceed one"'
    )
    rep = run_suite([opened], out_dir=tmp_path / "b", progress=False)
    assert rep["passed"] is True and rep["summary"]["open"] == 1
    assert "cannot exceed one" in (tmp_path / "b" / "report.md").read_text()


def test_claim_rejects_unknown_expectation():
    with pytest.raises(ValueError, match="`expect`"):
        Claim("x", "e", 1, 1, 0, True, expect="maybe")


def test_cli_exit_status(tmp_path):
    cfg = _write(tmp_path, "fails", t_min=1.0)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "ridgetheory",
            "validate",
            cfg,
            "--out",
            str(tmp_path / "o"),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 1
    r = subprocess.run(
        [sys.executable, "-m", "ridgetheory", "validate", "nope", "--out", str(tmp_path / "o2")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "`CONFIG`" in r.stderr


def test_quick_suite_passes(tmp_path):
    """`ridgetheory validate --quick`: the whole suite, every claim not marked open passes."""
    out = tmp_path / "quick"
    r = subprocess.run(
        [sys.executable, "-m", "ridgetheory", "validate", "--quick", "--out", str(out),
         "--no-progress"],
        capture_output=True, text=True,
    )
    report = json.loads((out / "report.json").read_text())
    failing = [f"{c['experiment']}/{c['name']}: {c['measured']}" for c in report["claims"]
               if c["expect"] == "pass" and not c["passed"]]
    assert r.returncode == 0, f"blocking failures: {failing}\n{r.stderr[-2000:]}"
    assert {e["name"] for e in report["experiments"]} == set(list_configs())
    assert all(e["error"] is None for e in report["experiments"])
