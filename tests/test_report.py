"""The report as programs read it (issue 17): the typed, versioned ``report.json`` checked
against its shipped JSON Schema, statuses, ``compare``, JUnit XML, ``--json``, the last stderr
line, exit codes, the pre-flight of the output directory, leftovers and permissions."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import stat
import sys
import textwrap
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ridgetheory import RidgeTheoryError
from ridgetheory.cli import main
from ridgetheory.validate import runner
from ridgetheory.validate.compare import compare_files, compare_reports
from ridgetheory.validate.report import SCHEMA_VERSION, junit_xml, load_report, schema
from ridgetheory.validate.values import (
    Interval,
    Undetermined,
    at_least,
    between,
    leaves,
    summarize,
    typed,
    untyped,
)

TINY = textwrap.dedent("""
    [experiment]
    kind = "synthetic"
    description = "tiny exact-score run"

    [params]
    layout = "two_mode"
    model = "{model}"
    T = 2.0
    t_min = {t_min}
    steps = 40
    n_samples = 200
    n_measure = 80
    n_predict = 20
    n_save = 6

    [claims.memorization]
    {open}
""")


def _config(tmp_path, name: str, t_min: float = 1e-2, open_: str = "",
            model: str = "exact") -> str:
    """A tiny exact-score config; ``t_min = 1`` stops where p_t is still smooth, so nothing
    memorizes and the memorization claim fails."""
    path = tmp_path / f"{name}.toml"
    path.write_text(TINY.format(t_min=t_min, open=open_, model=model))
    return str(path)


def _validate_schema(report: dict) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(schema())
    jsonschema.validate(report, schema(), cls=jsonschema.Draft202012Validator)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two identical runs and one failing run of the tiny configs, through the CLI."""
    tmp = tmp_path_factory.mktemp("runs")
    passing = _config(tmp, "tiny")
    failing = _config(tmp, "smooth", t_min=1.0)
    opened = _config(tmp, "opened", t_min=1.0,
                     open_='expect = "open"\n    reason = "nothing memorizes at t = 1"')
    out = {}
    for key, cfgs in (("a", [passing, opened]), ("b", [passing, opened]), ("fail", [failing])):
        d = tmp / key
        rc = main(["validate", *cfgs, "--out", str(d), "--no-progress",
                   "--junit", str(d / "junit.xml")])
        out[key] = (rc, d)
    return out


def test_report_follows_the_shipped_schema(runs):
    for key in ("a", "fail"):
        rep = load_report(runs[key][1] / "report.json")
        _validate_schema(rep)
        assert rep["schema_version"] == SCHEMA_VERSION
        env = rep["environment"]
        assert env["created_utc"].endswith("+00:00")
        for dist in ("numpy", "numba", "scipy", "matplotlib", "hypothesis", "sympy"):
            assert env["versions"][dist], dist
        assert env["platform"] and env["host"] and env["package"]["version"]


def test_statuses_and_typed_values(runs):
    rep = load_report(runs["a"][1] / "report.json")
    by_id = {c["id"]: c for c in rep["claims"]}
    assert by_id["tiny/memorization"]["status"] == "pass"
    assert by_id["opened/memorization"]["status"] == "open"
    assert rep["summary"] == {"passed": 1, "failed": 0, "open": 1, "skipped": 0, "error": 0,
                              "total": 2}
    c = by_id["tiny/memorization"]
    # the human phrase is `text`; the values are typed records, not strings
    assert c["text"] and all(isinstance(c[k], dict) and "type" in c[k]
                             for k in ("predicted", "measured", "tolerance"))
    frac = c["measured"]["fields"]["fraction"]
    assert frac["type"] == "number" and 0.95 <= frac["value"] <= 1.0
    fail = load_report(runs["fail"][1] / "report.json")
    assert [x["status"] for x in fail["claims"]] == ["fail"] and fail["status"] == "fail"


def test_identical_runs_compare_equal_and_a_failure_is_a_regression(runs, tmp_path, capsys):
    a, b, f = (runs[k][1] / "report.json" for k in ("a", "b", "fail"))
    cmp = compare_files(a, b, rtol=0.0, atol=0.0)  # the same seed: bit-identical numbers
    assert not cmp.regressed and not cmp.moved and not cmp.status_changes
    assert main(["compare", str(a), str(b), "--quiet"]) == 0
    # tiny/memorization -> smooth/memorization is a different claim: listed, not compared
    assert main(["compare", str(a), str(f), "--json", str(tmp_path / "c.json"),
                 "--md", str(tmp_path / "c.md")]) == 0
    got = json.loads((tmp_path / "c.json").read_text())
    assert got["added"] == ["smooth/memorization"]
    assert set(got["removed"]) == {"tiny/memorization", "opened/memorization"}
    assert "## New claims" in (tmp_path / "c.md").read_text()
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("ridgetheory compare: no regression")


def _report(claims: list[tuple[str, str, object]], seed: int = 0) -> dict:
    """A minimal report: (id, status, measured) per claim."""
    out = []
    for cid, status, measured in claims:
        exp, name = cid.split("/")
        out.append({"id": cid, "experiment": exp, "name": name, "status": status,
                    "measured": typed(measured), "predicted": typed(None),
                    "tolerance": typed(None)})
    return {"schema_version": SCHEMA_VERSION, "quick": True, "seed": seed, "claims": out}


def test_compare_status_regressions_and_moved_values():
    old = _report([("e/a", "pass", 0.5), ("e/b", "pass", {"x": [1.0, 2.0]}),
                   ("e/c", "open", 1.0), ("e/d", "fail", 3.0), ("e/gone", "pass", 1.0)])
    new = _report([("e/a", "open", 0.5), ("e/b", "pass", {"x": [1.0, 2.5]}),
                   ("e/c", "pass", 1.0), ("e/d", "pass", 3.0), ("e/new", "pass", 1.0)])
    cmp = compare_reports(old, new)
    changes = {c["id"]: c["regression"] for c in cmp.status_changes}
    # pass -> open regresses; open -> pass and fail -> pass are improvements
    assert changes == {"e/a": True, "e/c": False, "e/d": False}
    assert [(m["id"], m["path"]) for m in cmp.moved] == [("e/b", "x.1")]
    assert cmp.moved[0]["rel_change"] == pytest.approx(0.5 / 2.5)
    assert cmp.added == ["e/new"] and cmp.removed == ["e/gone"]
    assert cmp.regressions == 2 and cmp.regressed
    # within tolerance is no move; a number that became undetermined is one
    near = _report([("e/b", "pass", {"x": [1.0, 2.0 * (1 + 1e-6)]})])
    assert not compare_reports(_report([("e/b", "pass", {"x": [1.0, 2.0]})]), near).regressed
    nan = _report([("e/b", "pass", {"x": [1.0, math.nan]})])
    moved = compare_reports(_report([("e/b", "pass", {"x": [1.0, 2.0]})]), nan).moved
    assert [(m["path"], m["new"]) for m in moved] == [("x.1", "undetermined")]
    assert "differ in `seed`" in compare_reports(old, _report([], seed=1)).notes[0]


def test_compare_cli_exit_codes(tmp_path, capsys):
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(_report([("e/a", "pass", 1.0)])))
    new.write_text(json.dumps(_report([("e/a", "fail", 1.0)])))
    assert main(["compare", str(old), str(new), "--quiet"]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(
        "ridgetheory compare: REGRESSION: 1 status regressions")
    v1 = tmp_path / "v1.json"
    v1.write_text(json.dumps({"claims": []}))  # the untyped report before schema_version
    assert main(["compare", str(v1), str(new)]) == 2
    assert "schema_version 1" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "missing.json"), str(new)]) == 2
    assert main(["compare", str(new), str(new)]) == 2
    assert main(["compare", str(old), str(new), "--rtol", "-1"]) == 2
    assert "`rtol`" in capsys.readouterr().err


def test_junit_has_a_case_per_claim_open_as_skipped(runs):
    root = ET.parse(runs["a"][1] / "junit.xml").getroot()
    cases = {c.get("name") + "@" + c.get("classname"): c for c in root.iter("testcase")}
    assert set(cases) == {"memorization@ridgetheory.tiny", "memorization@ridgetheory.opened"}
    assert cases["memorization@ridgetheory.tiny"].find("skipped") is None
    skipped = cases["memorization@ridgetheory.opened"].find("skipped")
    assert "open finding: nothing memorizes at t = 1" in skipped.get("message")
    assert root.get("tests") == "2" and root.get("skipped") == "1"
    fail = ET.parse(runs["fail"][1] / "junit.xml").getroot()
    (case,) = fail.iter("testcase")
    assert case.find("failure") is not None and fail.get("failures") == "1"


def test_junit_escapes_reasons():
    rep = _report([("e/a", "error", None)])
    rep["claims"][0].update(text='a <b> & "c"', reason="ValueError: <&>", passed=False)
    rep.update(summary={"total": 1, "failed": 0, "error": 1, "open": 0, "skipped": 0},
               wall_s=1.0, experiments=[{"name": "e", "wall_s": 1.0,
                                         "claims": rep["claims"]}])
    root = ET.fromstring(junit_xml(rep))  # well-formed despite the markup in the reason
    assert next(root.iter("error")).get("message") == "ValueError: <&>"


def test_cli_exit_codes_last_line_and_json(runs, tmp_path, capsys):
    assert runs["a"][0] == 0 and runs["fail"][0] == 1
    passing = _config(tmp_path, "tiny")
    opened = _config(tmp_path, "opened", t_min=1.0,
                     open_='expect = "open"\n    reason = "nothing memorizes at t = 1"')
    rc = main(["validate", passing, opened, "--out", str(tmp_path / "s"), "--no-progress",
               "--strict", "--json"])
    cap = capsys.readouterr()
    assert rc == 1  # --strict: the open finding fails the run
    summary = json.loads(cap.out)
    assert summary["status"] == "fail" and summary["not_passing"] == {
        "opened/memorization": "open"}
    last = cap.err.strip().splitlines()[-1]
    assert last.startswith("ridgetheory validate: FAILED: 1 passed, 0 failed, 1 open, "
                           "0 skipped, 0 errors in ")
    assert last.endswith(f"report {tmp_path / 's' / 'report.md'}")


def test_usage_errors_create_nothing(tmp_path, capsys, monkeypatch):
    ran = []
    monkeypatch.setattr(runner, "run_experiment", lambda *a, **k: ran.append(a))
    out, junit_dir = tmp_path / "never", tmp_path / "nor-this"
    assert main(["validate", "no_such_experiment", "--out", str(out), "--junit",
                 str(junit_dir / "j.xml")]) == 2
    assert "`CONFIG`" in capsys.readouterr().err and not out.exists()
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    tiny = _config(tmp_path, "tiny")
    assert main(["validate", tiny, "--out", str(a_file), "--junit",
                 str(junit_dir / "j.xml")]) == 2
    err = capsys.readouterr().err
    assert "`--out`" in err and "exists and is not a directory" in err
    assert a_file.read_text() == "x" and not junit_dir.exists()
    assert main(["validate", tiny, "--out", str(out), "--junit", str(tmp_path)]) == 2
    assert "`--junit`" in capsys.readouterr().err and not out.exists()
    assert main(["validate", tiny, "--out", str(out), "--junit",
                 str(a_file / "j.xml")]) == 2
    assert "not a directory" in capsys.readouterr().err and not out.exists()
    (tmp_path / "sub").mkdir()
    twin = _config(tmp_path / "sub", "tiny")
    assert main(["validate", tiny, twin, "--out", str(out)]) == 2
    assert "names experiment 'tiny' twice" in capsys.readouterr().err and not out.exists()
    assert not ran


def _unwritable_dir():
    # a read-only directory even for root (chmod does not stop root)
    for d in ("/sys/fs", "/proc/sys"):
        if os.path.isdir(d) and not os.access(d, os.W_OK | os.X_OK):
            return d
        if os.path.isdir(d):
            try:
                open(os.path.join(d, ".ridgetheory-probe"), "w").close()
            except OSError:
                return d
    return None


@pytest.mark.skipif(sys.platform != "linux", reason="needs Linux's read-only /sys")
def test_unwritable_output_fails_before_any_experiment(tmp_path, monkeypatch, capsys):
    target = _unwritable_dir()
    if target is None:
        pytest.skip("no read-only directory here")
    ran = []
    monkeypatch.setattr(runner, "run_experiment", lambda *a, **k: ran.append(a))
    assert main(["validate", _config(tmp_path, "tiny"), "--out", target]) == 3
    err = capsys.readouterr().err
    assert "is not writable" in err and "Traceback" not in err and not ran
    assert main(["validate", _config(tmp_path, "tiny"), "--out",
                 os.path.join(target, "sub", "dir")]) == 3
    assert "cannot be created" in capsys.readouterr().err and not ran


def test_stale_figures_are_removed_and_permissions_follow_the_umask(tmp_path, runs):
    out = tmp_path / "o"
    assert main(["validate", _config(tmp_path, "tiny"), "--out", str(out),
                 "--no-progress"]) == 0
    first = json.loads((out / "report.json").read_text())["experiments"][0]["figures"]
    assert first and all((out / f).exists() for f in first)
    (out / "notes.txt").write_text("mine")  # not a figure of a run: left alone
    assert main(["validate", _config(tmp_path, "other"), "--out", str(out),
                 "--no-progress"]) == 0
    second = json.loads((out / "report.json").read_text())["experiments"][0]["figures"]
    assert not any((out / f).exists() for f in first if f not in second)
    assert all((out / f).exists() for f in second)
    assert (out / "notes.txt").read_text() == "mine"
    umask = os.umask(0o022)
    os.umask(umask)
    want = 0o666 & ~umask
    for name in ("report.json", "report.md", second[0]):
        assert stat.S_IMODE((out / name).stat().st_mode) == want, name
    assert stat.S_IMODE((runs["a"][1] / "junit.xml").stat().st_mode) == want


def test_missing_extra_is_skipped_with_the_install_command(tmp_path, monkeypatch, capsys):
    find = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch" else find(name, *a))
    out = tmp_path / "o"
    rc = main(["validate", _config(tmp_path, "needs_torch", model="mlp"), "--out", str(out),
               "--no-progress"])
    assert rc == 0  # a missing extra is not a failed claim
    rep = load_report(out / "report.json")
    _validate_schema(rep)
    (c,) = rep["claims"]
    assert c["status"] == "skipped" and "pip install 'ridgetheory[nn]'" in c["reason"]
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(
        "ridgetheory validate: PASSED: 0 passed, 0 failed, 0 open, 1 skipped")


def test_a_crashing_experiment_is_an_error_not_a_lost_report(tmp_path, monkeypatch, capsys):
    def boom(ctx):
        raise ZeroDivisionError("deliberately")

    monkeypatch.setattr(runner.Kind, "run", lambda self: boom)
    out = tmp_path / "o"
    assert main(["validate", _config(tmp_path, "tiny"), "--out", str(out),
                 "--no-progress", "--junit", str(out / "j.xml")]) == 1
    rep = load_report(out / "report.json")
    _validate_schema(rep)
    (c,) = rep["claims"]
    assert c["status"] == "error" and "ZeroDivisionError: deliberately" in c["reason"]
    (err,) = ET.parse(out / "j.xml").getroot().iter("error")
    assert "ZeroDivisionError: deliberately" in err.get("message")


# --- typed values ---------------------------------------------------------------------------

def test_typed_forms():
    assert typed(0.5) == {"type": "number", "value": 0.5}
    assert typed(np.float32(2.0)) == {"type": "number", "value": 2.0}
    assert typed(True) == {"type": "boolean", "value": True}
    assert typed(math.inf)["type"] == "undetermined"
    assert typed(Undetermined("no samples near the ridge")) == {
        "type": "undetermined", "reason": "no samples near the ridge"}
    assert typed(at_least(0.95)) == {"type": "interval", "low": 0.95, "high": None,
                                     "low_open": False, "high_open": False}
    assert typed(np.array([1.0, np.nan, 3.0])) == {"type": "numbers",
                                                   "values": [1.0, None, 3.0],
                                                   "undetermined": 1}
    rec = typed({"fraction": 0.9, "n": 10, "label": "ReLU", "runs": [{"a": 1.0}]})
    assert rec["fields"]["runs"] == {"type": "list", "items": [
        {"type": "record", "fields": {"a": {"type": "number", "value": 1.0}}}]}
    assert typed(rec) == rec  # a report read back stays as it is
    with pytest.raises(TypeError, match="no typed form"):
        typed(object())
    with pytest.raises(TypeError, match="finite or None"):
        typed(Interval(low=math.nan))
    assert 0.95 in at_least(0.95) and 0.5 not in between(0.6, 2.0)
    assert 1.0 not in Interval(high=1.0, high_open=True)


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
number = finite | st.integers(-10**6, 10**6).map(float)
values = st.recursive(
    number | st.lists(number, max_size=5),
    lambda inner: st.dictionaries(
        # "type" and "value" as keys: a plain dict must not pass for a typed record
        st.sampled_from(["type", "value", "values", "fields", "items"]) | st.text(min_size=1,
                                                                                 max_size=4),
        inner, min_size=1, max_size=3),
    max_leaves=10,
)


@given(values)
def test_typed_values_are_valid_json_and_leaves_keep_every_number(v):
    t = typed(v)
    assert json.loads(json.dumps(t, allow_nan=False)) == t  # no NaN, no inf in the JSON
    flat = leaves(t)

    def count(x):
        if isinstance(x, dict):
            return sum(count(y) for y in x.values())
        return len(x) if isinstance(x, list) else 1

    assert len(flat) == count(v)
    assert all(isinstance(x, float) for x in flat.values())
    assert isinstance(summarize(t), str)
    assert untyped(t) == v  # the plain value comes back exactly
    # the report schema accepts every typed value as a measured value
    jsonschema = pytest.importorskip("jsonschema")
    rep = _report([("e/a", "pass", v)])
    jsonschema.validate(rep["claims"][0]["measured"],
                        {"$ref": "#/$defs/value", "$defs": schema()["$defs"]})


def test_summaries_are_what_a_person_reads():
    s = summarize(typed({"max_ratio": 0.42246726308688665,
                         "E_N": list(np.linspace(0.02, 0.5, 13))}))
    assert s.startswith("max_ratio = 0.4225 ") and "0.42246" not in s and len(s) < 80
    arr = summarize(typed(np.linspace(0.02, 0.5, 13)))
    assert "n = 13" in arr and "0.02" in arr and "0.5" in arr
    assert summarize(typed(at_least(0.95))) == "≥ 0.95"


def test_load_report_rejects_what_is_not_a_report(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("[1, 2]")
    with pytest.raises(RidgeTheoryError, match="not a ridgetheory report"):
        load_report(p)
    p.write_text("{")
    with pytest.raises(RidgeTheoryError, match="not JSON"):
        load_report(p)
    rep = _report([])
    rep["schema_version"] = SCHEMA_VERSION + 1
    p.write_text(json.dumps(rep))
    with pytest.raises(RidgeTheoryError, match=f"schema_version {SCHEMA_VERSION + 1}"):
        load_report(p)


# --- the CI job of docs/ci.md ---------------------------------------------------------------

def _ci_script() -> str:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "ci.md").read_text()
    return text.split("```bash\n", 1)[1].split("```", 1)[0]


@pytest.mark.skipif(sys.platform == "win32", reason="a bash script")
def test_the_ci_job_in_the_docs_runs_and_catches_a_regression(tmp_path):
    import subprocess

    script = tmp_path / "validate.sh"
    script.write_text(_ci_script())
    env = dict(os.environ, EXPERIMENTS="exact_memorizes", RIDGETHEORY_QUIET="1",
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    run = lambda *cmd: subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True,  # noqa: E731
                                      text=True, timeout=600)
    r = run("ridgetheory", "validate", "exact_memorizes", "--quick", "--seed", "0", "--out",
            "baseline", "--no-progress")
    assert r.returncode == 0, r.stderr
    (tmp_path / "ci").mkdir()
    base = json.loads((tmp_path / "baseline" / "report.json").read_text())
    (tmp_path / "ci" / "baseline-report.json").write_text(json.dumps(base))

    r = run("bash", str(script))
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("ridgetheory compare: no regression")
    out = tmp_path / "validation-report"
    cases = list(ET.parse(out / "junit.xml").getroot().iter("testcase"))
    assert len(cases) == len(base["claims"]) > 0
    assert json.loads((out / "compare.json").read_text())["regressed"] is False

    # a stored result that differs by 10 % is a regression the job fails on
    claim, path = next((c, k) for c in base["claims"] if c["measured"]["type"] == "record"
                       for k, v in c["measured"]["fields"].items()
                       if v["type"] == "number" and v["value"] != 0.0)
    claim["measured"]["fields"][path]["value"] *= 1.1
    (tmp_path / "ci" / "baseline-report.json").write_text(json.dumps(base))
    r = run("bash", str(script))
    assert r.returncode == 1
    assert f"| {claim['id']} | {path} |" in (out / "compare.md").read_text()


def test_quick_descriptions_state_the_quick_sizes():
    from ridgetheory.validate.runner import _description, load_config

    quick = _description(load_config("rf_two_mode", quick=True))
    full = _description(load_config("rf_two_mode"))
    p_quick = load_config("rf_two_mode", quick=True).params.rf.p
    assert p_quick != load_config("rf_two_mode").params.rf.p
    assert "Quick mode: " in quick and f"rf.p = {p_quick}" in quick
    assert "Quick mode" not in full


def test_typed_edge_cases():
    assert typed(np.array(2.5)) == {"type": "number", "value": 2.5}
    assert typed([]) == {"type": "numbers", "values": []}
    # a plain dict with a `type` key is a record, not taken for a typed value
    assert typed({"type": "number", "n": 3})["type"] == "record"
    assert typed({"type": "ReLU"}) == {"type": "record", "fields": {
        "type": {"type": "text", "value": "ReLU"}}}
    with pytest.raises(TypeError, match="no typed form"):
        typed(b"abc")


def test_a_value_that_cannot_be_reported_makes_its_claim_an_error():
    from ridgetheory.validate import Claim

    d = Claim("c", "e", 0.5, {1, 2}, None, True).to_dict()  # a set: no typed form
    assert d["status"] == "error" and d["passed"] is False
    assert "cannot be reported" in d["reason"] and d["measured"] == {"type": "none"}
    assert Claim("c", "e", 0.5, 0.7, None, True).to_dict()["status"] == "pass"


def test_junit_strips_control_characters_and_strict_open_is_a_failure():
    rep = _report([("e/a", "error", None), ("e/b", "open", 1.0)])
    rep["claims"][0].update(text="x", reason="\x1b[1mValueError\x1b[0m: bad", passed=False)
    rep["claims"][1].update(text="y", reason="known gap", passed=False)
    rep.update(wall_s=1.0, experiments=[{"name": "e", "wall_s": 1.0, "claims": rep["claims"]}])
    root = ET.fromstring(junit_xml(rep))
    assert next(root.iter("error")).get("message") == "?[1mValueError?[0m: bad"
    assert root.get("skipped") == "1" and root.get("failures") == "0"
    rep["strict"] = True
    root = ET.fromstring(junit_xml(rep))
    assert root.get("skipped") == "0" and root.get("failures") == "1"
    assert "known gap" in next(root.iter("failure")).get("message")


def test_compare_flags_numbers_present_in_one_report_only():
    old = _report([("e/a", "pass", {"x": [1.0, 2.0, 3.0], "y": 1.0})])
    new = _report([("e/a", "pass", {"x": [1.0, 2.0]})])
    moved = compare_reports(old, new).moved
    assert sorted((m["path"], m["old"], m["new"]) for m in moved) == [
        ("x.2", 3.0, "absent"), ("y", 1.0, "absent")]


def test_load_report_rejects_damaged_claims(tmp_path):
    p = tmp_path / "r.json"
    rep = _report([("e/a", "pass", 1.0)])
    del rep["claims"][0]["status"]
    p.write_text(json.dumps(rep))
    with pytest.raises(RidgeTheoryError, match="damaged: claim 0 needs"):
        load_report(p)
    rep = _report([("e/a", "pass", 1.0), ("e/a", "fail", 1.0)])
    p.write_text(json.dumps(rep))
    with pytest.raises(RidgeTheoryError, match="'e/a' appears twice"):
        load_report(p)
    assert main(["compare", str(p), str(p) + "x"]) == 2
