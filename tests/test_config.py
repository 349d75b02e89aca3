"""Strict configs: parameters declared once, errors that name the key, layouts from the
user's own data, the parameter docs generated from the declarations."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ridgetheory import RidgeTheoryError
from ridgetheory.experiments import layouts
from ridgetheory.experiments.params import SyntheticParams
from ridgetheory.validate.runner import load_config, parse_config, run_suite
from ridgetheory.validate.schema import describe, parse, plain

ROOT = Path(__file__).resolve().parents[1]


def _cfg(params: str = "", claims: str = "[claims.memorization]\n", extra: str = "") -> dict:
    import tomllib

    return tomllib.loads(textwrap.dedent(f"""
        [experiment]
        kind = "synthetic"
        [params]
        {params}
        {extra}
        {claims}
    """))


@pytest.mark.parametrize(("params", "claims", "pattern"), [
    ("n_sampels = 10", "[claims.memorization]",
     r"unknown key `params.n_sampels` in t \(experiment kind 'synthetic'\); did you mean "
     r"`n_samples`\?"),
    ("layuot = '3'", "[claims.memorization]", r"`params.layuot`.*did you mean `layout`"),
    ("[params.rf]\npp = 3", "[claims.memorization]", r"`params.rf.pp`.*did you mean `p`"),
    ("", "[claims.memorisation]", r"unknown claim `\[claims.memorisation\]`.*did you mean "
     r"`memorization`"),
    ("", "[claims.memorization]\nmn = 0.9", r"`claims.memorization.mn`.*did you mean `min`.*"
     r"Valid keys: min, run, description, expect, reason"),
    ("steps = 2.5", "[claims.memorization]", r"`params.steps` .* must be an integer >= 1; got "
     r"2.5"),
    ("T = -1", "[claims.memorization]", r"`params.T` .* must be a number > 0; got -1"),
    ("method = 'rk4'", "[claims.memorization]", r"`params.method` .* must be one of 'em', "),
    ("[params.rf]\ntau = 'forever'", "[claims.memorization]",
     r"`params.rf.tau` .* a number >= 0 or one of 'inf'"),
    ("[params.rf]\nbias = 1", "[claims.memorization]", r"`params.rf.bias` .* true or false"),
    ("", "[claims.memorization]\nmin = 1.5", r"`claims.memorization.min` .* <= 1"),
    ("", "[claims.memorization]\nexpect = 'open'", r"`claims.memorization.reason`.*why"),
    ("", "", r"names no claims"),
])
def test_bad_configs_name_the_key_and_what_was_expected(params, claims, pattern):
    with pytest.raises(RidgeTheoryError, match=pattern):
        parse_config(_cfg(params, claims), "t")


def test_unknown_table_and_kind():
    raw = _cfg()
    raw["parms"] = {}
    with pytest.raises(RidgeTheoryError, match=r"unknown table `\[parms\]`"):
        parse_config(raw, "t")
    with pytest.raises(RidgeTheoryError, match=r"`experiment.kind` in t must be one of"):
        parse_config({"experiment": {"kind": "synthetc"}}, "t")


def test_malformed_toml_names_file_line_and_column(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[experiment]\nkind = \"synthetic\"\n[params\nsteps = 3\n")
    with pytest.raises(RidgeTheoryError, match=r"bad.toml is not valid TOML: .*line 3, "
                                               r"column \d+"):
        load_config(bad)


@pytest.mark.parametrize("quick", [True, False])
def test_quick_table_is_checked_with_the_same_declaration(quick):
    # a typo in [quick] is an error in a full run too, not only on the first quick run
    raw = _cfg(extra="[quick]\nstepz = 3")
    with pytest.raises(RidgeTheoryError, match=r"unknown key `quick.stepz`.*did you mean `steps`"):
        parse_config(raw, "t", quick=quick)
    with pytest.raises(RidgeTheoryError, match=r"`quick.steps` .* must be an integer >= 1"):
        parse_config(_cfg(extra="[quick]\nsteps = 0"), "t", quick=quick)


def test_quick_sizes_apply_only_in_quick_mode():
    raw = _cfg("steps = 40", extra="[quick]\nsteps = 7")
    assert parse_config(raw, "t").params.steps == 40
    assert parse_config(raw, "t", quick=True).params.steps == 7


def test_defaults_come_from_the_declaration():
    cfg = parse_config(_cfg("steps = 7"), "t")
    assert cfg.params == dataclasses.replace(SyntheticParams(), steps=7)
    assert cfg.params.rf.p == 2000 and cfg.params.injected.units == "score"


def _values(cls):
    """Valid values for every declared field of ``cls`` (nested tables recursively)."""
    from ridgetheory.validate.schema import _hints

    hints = _hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        if f.metadata.get("table"):
            out[f.name] = st.builds(lambda **kw: kw, **_values(hints[f.name]))
            continue
        tp, m = hints[f.name], f.metadata
        if tp is int:
            out[f.name] = st.integers(int(m["low"] or 0), int(m["low"] or 0) + 50)
        elif tp is float:
            lo = m["low"] if m["low"] is not None else -10.0
            hi = m["high"] if m["high"] is not None else lo + 100.0
            out[f.name] = st.floats(lo, hi, exclude_min=m["low_open"],
                                    exclude_max=m["high_open"], allow_nan=False)
        elif tp is bool:
            out[f.name] = st.booleans()
        elif tp is str and m.get("choices"):
            out[f.name] = st.sampled_from(m["choices"])
        else:
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            out[f.name] = st.just(default)
    return out


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_parse_round_trips_every_valid_table(data):
    table = data.draw(st.builds(lambda **kw: kw, **_values(SyntheticParams)))
    parsed = parse(SyntheticParams, table, "t", "params")
    assert parse(SyntheticParams, plain(parsed), "t", "params") == parsed
    for k, v in table.items():
        if not isinstance(v, dict):
            assert getattr(parsed, k) == v


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([r for r in describe(SyntheticParams) if r.type.startswith(
    "an integer >=")]), st.integers(1, 1000))
def test_every_integer_below_its_bound_is_refused_by_name(row, below):
    low = int(row.type.split(">=")[1])
    *head, last = row.path.split(".")
    table: dict = {}
    node = table
    for h in head:
        node = node.setdefault(h, {})
    node[last] = low - below
    with pytest.raises(RidgeTheoryError, match=rf"`params.{row.path}` .* >= {low}"):
        parse(SyntheticParams, table, "t", "params")


def test_parameters_page_is_current():
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import make_params
    finally:
        sys.path.pop(0)
    assert (ROOT / "docs" / "parameters.md").read_text() == make_params.render(), \
        "docs/parameters.md is stale: run python docs/make_params.py"


# -- layouts ---------------------------------------------------------------------------------
def test_named_layouts_with_parameters_match_the_reference_layouts():
    np.testing.assert_array_equal(layouts.resolve("grid(3)"), layouts.LAYOUTS["9"])
    np.testing.assert_array_equal(layouts.resolve("ring(6, 3.0)"), layouts.LAYOUTS["hexagon"])
    np.testing.assert_array_equal(layouts.resolve("gaussian(4, 8, 42, 2.0)"),
                                  layouts.LAYOUTS["gaussian8"])
    np.testing.assert_array_equal(layouts.resolve("gaussian(n=4, dim=8, seed=42, scale=2.0)"),
                                  layouts.LAYOUTS["gaussian8"])
    pts = layouts.resolve("ring(5, 2.0)")
    np.testing.assert_allclose(np.linalg.norm(pts, axis=1), 2.0)
    np.testing.assert_allclose(np.linalg.norm(np.diff(pts, axis=0), axis=1),
                               2 * 2.0 * np.sin(np.pi / 5))


def test_own_points_inline_npy_and_csv(tmp_path):
    pts = np.array([[0.0, 1.0, 2.0], [3.0, -1.0, 0.5]])
    np.save(tmp_path / "p.npy", pts)
    (tmp_path / "p.csv").write_text("# x,y,z\n0,1,2\n3,-1,0.5\n")
    for value in (pts.tolist(), "p.npy", "p.csv", str(tmp_path / "p.npy")):
        np.testing.assert_array_equal(layouts.resolve(value, tmp_path), pts)


@pytest.mark.parametrize(("value", "pattern"), [
    ("hexagn", "must be one of"),
    ("ring(6)", r"ring\(n, radius\) cannot take"),
    ("ring(6.5, 3)", "argument 1 of ring.*integer >= 1"),
    ("spiral(3)", r"calls 'spiral'; layouts with parameters are ring\(...\)"),
    ("ring(__import__('os'))", "literal arguments"),
    ([[0, 1], [2]], "equal length"),
    ([], "non-empty"),
    ([[0.0, float("nan")]], "non-finite"),
    ("missing.npy", "does not exist.*config's directory"),
    (3, "must be a string or a list"),
])
def test_bad_layouts(value, pattern, tmp_path):
    with pytest.raises(RidgeTheoryError, match=pattern):
        layouts.resolve(value, tmp_path)


def test_a_config_on_the_users_own_points_in_three_dimensions(tmp_path):
    """The tutorial's path: points in a CSV beside the config, D = 3, quick run, report."""
    rng = np.random.default_rng(5)
    pts = rng.normal(0, 2.0, (3, 3))
    np.savetxt(tmp_path / "mine.csv", pts, delimiter=",")
    (tmp_path / "mine.toml").write_text(textwrap.dedent("""
        [experiment]
        kind = "synthetic"
        [params]
        layout = "mine.csv"
        T = 3.0
        t_min = 1e-2
        steps = 60
        n_samples = 300
        n_measure = 80
        n_predict = 40
        n_save = 5
        [claims.memorization]
        min = 0.9
        [claims.allocation_matches]
    """))
    rep = run_suite([str(tmp_path / "mine.toml")], out_dir=tmp_path / "out", progress=False)
    (exp,) = rep["experiments"]
    assert exp["error"] is None and rep["passed"], rep["claims"]
    assert exp["params"]["layout"] == "mine.csv" and exp["params"]["n_profile"] == 1000
    assert exp["data"]["summary"]["dim"] == 3.0
    for fig in exp["figures"]:
        assert (tmp_path / "out" / fig).stat().st_size > 1000
    json.loads((tmp_path / "out" / "report.json").read_text())


def test_cli_errors_are_one_line_with_exit_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[experiment\n")
    typo = tmp_path / "typo.toml"
    typo.write_text('[experiment]\nkind = "synthetic"\n[params]\nn_sampels = 3\n'
                    "[claims.memorization]\n")
    afile = tmp_path / "afile"
    afile.write_text("")
    for args in (["validate", str(bad)], ["validate", str(typo)],
                 ["validate", "exact_memorizes", "--out", str(afile)]):
        r = subprocess.run([sys.executable, "-m", "ridgetheory", *args], capture_output=True,
                           text=True)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.count("\n") == 1 and r.stderr.startswith("ridgetheory: error: ")
        assert "Traceback" not in r.stderr


@pytest.mark.parametrize("section, value", [("quick", "5"), ("params", "5"), ("claims", "'abc'"),
                                            ("experiment", "1")])
def test_a_section_that_is_not_a_table_is_a_config_error(section, value):
    import tomllib

    raw = _cfg()
    raw[section] = tomllib.loads(f"v = {value}")["v"]
    with pytest.raises(RidgeTheoryError, match=rf"`\[{section}\]` in t must be a table"):
        parse_config(raw, "t")


@pytest.mark.parametrize("typo, want", [("expct", "expect"), ("reasn", "reason"),
                                        ("descripton", "description"), ("mn", "min")])
def test_claim_key_typos_name_the_closest_key_shared_keys_included(typo, want):
    raw = _cfg(claims=f"[claims.memorization]\n{typo} = 1\n")
    with pytest.raises(RidgeTheoryError,
                       match=rf"`claims.memorization.{typo}`.*did you mean `{want}`"):
        parse_config(raw, "t")


def test_a_missing_training_set_file_is_a_config_error(tmp_path):
    cfg = tmp_path / "mine.toml"
    cfg.write_text('[experiment]\nkind = "synthetic"\n[params]\nlayout = "nope.csv"\n'
                   "[claims.memorization]\n")
    with pytest.raises(RidgeTheoryError, match="nope.csv"):
        load_config(cfg)
    (tmp_path / "line.csv").write_text("0\n1\n2\n")
    cfg.write_text('[experiment]\nkind = "synthetic"\n[params]\nlayout = "line.csv"\n'
                   "[claims.memorization]\n")
    with pytest.raises(RidgeTheoryError, match="D >= 2"):
        load_config(cfg)


def test_a_config_path_that_is_a_directory_is_a_usage_error(tmp_path):
    d = tmp_path / "dir.toml"
    d.mkdir()
    with pytest.raises(RidgeTheoryError, match="CONFIG"):
        load_config(d)
