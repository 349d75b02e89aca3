"""Parameter sweeps: strict sweep files, cache keys, a two-worker LocalCluster, a worker
killed mid-sweep, failing points recorded, resume from the cache."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from ridgetheory import RidgeTheoryError
from ridgetheory.sweeps import load_sweep, sweep, sweep_spec
from ridgetheory.sweeps.report import bootstrap_mean, quantities
from ridgetheory.validate.runner import load_config
from ridgetheory.validate.values import Undetermined, typed

pytest.importorskip("dask.distributed")

BASE = textwrap.dedent("""
    [experiment]
    kind = "synthetic"
    [params]
    layout = "two_mode"
    model = "exact"
    T = 2.0
    t_min = 1e-2
    steps = 30
    n_samples = 200
    n_measure = 60
    n_predict = 20
    n_save = 5
    [quick]
    steps = 20
    [claims.memorization]
    min = 0.5
    [claims.intermode_fraction]
""")


@pytest.fixture()
def base(tmp_path):
    (tmp_path / "base.toml").write_text(BASE)
    return tmp_path


def _sweep_file(dirpath, body, name="s"):
    path = dirpath / f"{name}.toml"
    path.write_text('[sweep]\nexperiment = "base.toml"\n' + textwrap.dedent(body))
    return path


def test_grid_blocks_points_and_seeds(base):
    spec = load_sweep(_sweep_file(base, """
        seeds = [0, 1]
        [[sweep.grid]]
        layout = ["two_mode", "ring(3, 3.0)"]
        n_predict = [20, 30]
        [[sweep.grid]]
        layout = ["two_mode"]
        n_predict = [20]
        [[sweep.points]]
        layout = "3"
    """))
    # 2 x 2 + 1 (a duplicate of the first block) + 1 point, each for two seeds
    assert len(spec.points) == (4 + 1) * 2
    assert spec.parameters == ["layout", "n_predict"]
    assert len({p.key for p in spec.points}) == len(spec.points)
    assert {p.config.params.n_predict for p in spec.points} == {20, 30}


def test_bad_sweep_files_name_the_key(base):
    with pytest.raises(RidgeTheoryError, match=r"point \{'rf.pp': 5\}.*`params \(with "
                                               r"overrides\)\.rf\.pp`.*did you mean `p`"):
        load_sweep(_sweep_file(base, "[[sweep.grid]]\nrf.pp = [5]\n"))
    with pytest.raises(RidgeTheoryError, match=r"`params \(with overrides\)\.steps`.*integer"):
        load_sweep(_sweep_file(base, "[[sweep.grid]]\nsteps = [10, 0.5]\n"))
    with pytest.raises(RidgeTheoryError, match=r"`sweep.grid\[0\].steps`.*list"):
        load_sweep(_sweep_file(base, "[[sweep.grid]]\nsteps = 10\n"))
    with pytest.raises(RidgeTheoryError, match="unknown key `sweep.seed`.*`seeds`"):
        load_sweep(_sweep_file(base, "seed = [1]\n"))
    with pytest.raises(RidgeTheoryError, match="does not vary"):
        load_sweep(_sweep_file(base, """
            [[sweep.grid]]
            steps = [10, 20]
            [[sweep.figures]]
            x = "steps"
            y = "wall_s"
            hue = "n_samples"
        """))
    bad = base / "bad.toml"
    bad.write_text("[sweep\n")
    with pytest.raises(RidgeTheoryError, match="not valid TOML.*line 1"):
        load_sweep(bad)


def test_point_key_is_the_effective_config():
    a = load_config("exact_memorizes")
    b = load_config("exact_memorizes", overrides={"n_save": 16})  # the declared default
    c = load_config("exact_memorizes", overrides={"n_save": 17})
    from ridgetheory.sweeps.spec import point_key

    assert point_key(a, 0) == point_key(b, 0)
    assert point_key(a, 0) != point_key(c, 0)
    assert point_key(a, 0) != point_key(a, 1)


def test_bootstrap_band_covers_the_mean_and_collapses_for_one_value():
    m, lo, hi = bootstrap_mean(np.array([1.0, 2.0, 3.0, 10.0]))
    assert lo <= m <= hi and m == 4.0 and lo >= 1.0 and hi <= 10.0
    assert bootstrap_mean(np.array([5.0])) == (5.0, 5.0, 5.0)


def test_quantities_flatten_claims_and_summary():
    rec = {"summary": {"a": 1.5, "tau_mem": "undetermined"}, "wall_s": 2.0,
           "claims": [{"name": "c", "passed": False,
                       "measured": typed({"x": 3, "v": [1, 2], "u": Undetermined("no")}),
                       "predicted": typed(0.5), "tolerance": typed(None)}]}
    q = quantities(rec)
    assert q == {"a": 1.5, "tau_mem": "undetermined", "c.passed": 0.0, "c.measured.x": 3.0,
                 "c.measured.u": "undetermined", "c.predicted": 0.5, "wall_s": 2.0}


@pytest.fixture(scope="module")
def cluster():
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=40) as c:
        yield c


def test_two_point_sweep_on_two_workers_then_resume(base, cluster):
    path = _sweep_file(base, """
        seeds = [0]
        [[sweep.grid]]
        layout = ["two_mode", "ring(3, 3.0)"]
        [[sweep.figures]]
        x = "layout"
        y = "intermode_measured"
    """)
    out = base / "out"
    res = sweep(path, out_dir=out, scheduler=cluster.scheduler_address, progress=False)
    assert (res.n_run, res.n_cached, res.n_failed) == (2, 0, 0)
    import pandas as pd

    pq, csv = pd.read_parquet(out / "sweep.parquet"), pd.read_csv(out / "sweep.csv")
    assert len(pq) == len(csv) == len(res.table) > 0
    assert set(pq["layout"]) == {"two_mode", "ring(3, 3.0)"}
    for q in ("memorization.measured.fraction", "intermode_measured", "wall_s"):
        assert (pq["quantity"] == q).sum() == 2
    np.testing.assert_allclose(
        pq[pq.quantity != "wall_s"]["value"].to_numpy(),
        csv[csv.quantity != "wall_s"]["value"].to_numpy())
    md = (out / "sweep.md").read_text()
    assert "![" in md and (out / "sweep_0_line_intermode_measured.png").stat().st_size > 1000
    assert not [f for f in os.listdir(out) if f.endswith(".tmp")]
    # Resume: every point from the cache, same numbers, no cluster needed.
    again = sweep(path, out_dir=out, scheduler="inline", progress=False)
    assert (again.n_run, again.n_cached) == (0, 2)
    pd.testing.assert_frame_equal(again.table, res.table)


def test_worker_killed_mid_sweep_loses_no_point(base, cluster):
    from dask.distributed import Client

    path = _sweep_file(base, """
        seeds = [0, 1, 2]
        [[sweep.grid]]
        n_predict = [20, 25]
    """, name="kill")
    with Client(cluster.scheduler_address) as client:
        pids = list(client.run(os.getpid).values())
    killed = []

    def kill_one(rec):
        if not killed:
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    res = sweep(path, out_dir=base / "k", scheduler=cluster.scheduler_address,
                progress=False, on_result=kill_one)
    assert killed
    assert res.n_failed == 0 and len(res.records) == 6
    assert set(res.table["point"]) == {p.key for p in res.spec.points}
    # the point's result does not depend on the worker that ran it: rerun one inline
    one = sweep_spec({"sweep": {"experiment": str(base / "base.toml"), "seeds": [2],
                                "points": [{"n_predict": 25}]}})
    inline = sweep(one, out_dir=base / "inline", scheduler="inline", progress=False)
    (rec,) = inline.records
    mine = next(r for r in res.records if r["key"] == rec["key"])
    assert [c["measured"] for c in mine["claims"]] == [c["measured"] for c in rec["claims"]]


def test_a_failing_point_is_recorded_and_the_others_finish(base):
    path = _sweep_file(base, """
        [[sweep.points]]
        ridge_dim = 1
        [[sweep.points]]
        ridge_dim = 2
    """, name="fails")
    res = sweep(path, out_dir=base / "f", scheduler="inline", progress=False)
    assert res.n_failed == 1
    err = res.table[res.table["quantity"] == "error"]
    assert len(err) == 1 and "ridge_dim" in err["error"].iloc[0]
    assert (res.table[res.table["ridge_dim"] == 1.0]["quantity"] == "intermode_measured").any()
    r = subprocess.run([sys.executable, "-m", "ridgetheory", "sweep", str(path), "--out",
                        str(base / "f"), "--scheduler", "inline", "--no-progress"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "1 failed" in r.stdout and "Traceback" not in r.stderr
    # the good point came from the cache, the failed one ran again (failures are not cached)
    assert "(1 run, 1 cached, 1 failed)" in r.stdout


def test_cli_sweep_errors_are_one_line(base):
    r = subprocess.run([sys.executable, "-m", "ridgetheory", "sweep", str(base / "none.toml")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "SWEEP" in r.stderr
