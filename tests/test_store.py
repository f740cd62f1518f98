import sqlite3

import pytest

from metalearn.config import RunConfig
from metalearn.store import Store


def test_round_trip(tmp_path):
    store = Store(tmp_path)
    cfg = RunConfig(n_way=20)
    run_id = store.create_run(cfg.to_json(), group_id="g1")
    assert store.get_run(run_id)["status"] == "queued"
    store.start_run(run_id, "cpu")
    store.log_metrics(run_id, 10, {"loss": 1.5, "accuracy": 0.25})
    store.log_metrics(run_id, 20, {"loss": 1.0})
    store.save_episodes(run_id, [0.5, 0.75])
    store.add_artifact(run_id, "checkpoint", tmp_path / "x.pt")
    store.finish_run(run_id, "completed", {"test_accuracy": 0.625})

    other = Store(tmp_path)  # a second connection, as a dashboard process would open
    run = other.get_run(run_id)
    assert RunConfig.from_dict(run["config"]) == cfg
    assert run["status"] == "completed" and run["result"] == {"test_accuracy": 0.625}
    assert run["device"] == "cpu" and run["group_id"] == "g1" and run["ended_at"]
    assert [(m["step"], m["name"], m["value"]) for m in other.metrics(run_id)] == [
        (10, "accuracy", 0.25),
        (10, "loss", 1.5),
        (20, "loss", 1.0),
    ]
    assert [m["step"] for m in other.metrics(run_id, since_step=10)] == [20]
    assert other.episodes(run_id) == [0.5, 0.75]
    assert other.artifacts(run_id) == {"checkpoint": str(tmp_path / "x.pt")}
    assert [r["id"] for r in other.list_runs()] == [run_id]

    mode = sqlite3.connect(tmp_path / "metalearn.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    other.delete_run(run_id)
    assert store.get_run(run_id) is None and store.metrics(run_id) == []


def test_metric_rows_are_unique_per_run_step_and_name(tmp_path):
    """A resumed run that logs a step again rewrites it; an older store's doubled rows are
    folded into one (the newest) when it is opened."""
    store = Store(tmp_path)
    run_id = store.create_run(RunConfig().to_json())
    store.log_metrics(run_id, 10, {"loss": 2.0})
    store.log_metrics(run_id, 10, {"loss": 1.5})
    store.log_metrics(run_id, 20, {"loss": 1.0})
    assert [(m["step"], m["value"]) for m in store.metrics(run_id)] == [(10, 1.5), (20, 1.0)]
    store.drop_metrics_after(run_id, 10)  # resumed from the checkpoint at step 10
    assert [m["step"] for m in store.metrics(run_id)] == [10]
    store.close()

    db = sqlite3.connect(tmp_path / "metalearn.db")  # a store from before the unique index
    db.execute("DROP INDEX metrics_unique")
    db.executemany(
        "INSERT INTO metrics (run_id, step, name, value, time) VALUES (?,?,?,?,?)",
        [(run_id, 30, "loss", 0.9, 0.0), (run_id, 30, "loss", 0.8, 1.0)],
    )
    db.commit()
    db.close()
    rows = Store(tmp_path).metrics(run_id)
    assert [(m["step"], m["value"]) for m in rows] == [(10, 1.5), (30, 0.8)]


CLAIMANT = """
import os, sys, time
from metalearn.engine.jobs import pid_alive
from metalearn.store import ResumeRefused, Store
home, run_id, go, done = sys.argv[1:]
store = Store(home)
while not os.path.exists(go):
    time.sleep(0.001)
try:
    store.claim_resume(run_id, pid_alive)
    print("claimed", flush=True)
except ResumeRefused:
    print("refused", flush=True)
while not os.path.exists(done):  # the claimant lives on (a dashboard, or the CLI training it)
    time.sleep(0.01)
"""


@pytest.mark.integration
def test_of_resumes_fired_at_once_exactly_one_claims_the_run(tmp_path):
    """Four processes (two dashboards, a double click, the CLI) resume one run at the same
    moment: exactly one claims it."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    store = Store(tmp_path)
    run_id = store.create_run(RunConfig().to_json())
    store.finish_run(run_id, "stopped")
    go, done = tmp_path / "go", tmp_path / "done"
    repo = str(Path(__file__).resolve().parents[1])
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMANT, str(tmp_path), run_id, str(go), str(done)],
            cwd=repo,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    time.sleep(2)  # all four started and waiting
    go.touch()
    try:
        answers = sorted(p.stdout.readline().strip() for p in procs)
    finally:
        done.touch()
        for p in procs:
            p.wait(30)
    assert answers == ["claimed", "refused", "refused", "refused"]
    run = store.get_run(run_id)
    assert run["status"] == "queued" and run["pid"] in [p.pid for p in procs]


def test_resume_never_changes_a_completed_run(tmp_path):
    from metalearn.engine.jobs import pid_alive
    from metalearn.store import ResumeRefused

    store = Store(tmp_path)
    run_id = store.create_run(RunConfig().to_json())
    store.finish_run(run_id, "completed", {"test_accuracy": 0.5})
    before = store.get_run(run_id)
    with pytest.raises(ResumeRefused, match="completed; launch it again"):
        store.claim_resume(run_id, pid_alive)
    assert store.get_run(run_id) == before
    with pytest.raises(ResumeRefused, match="running; it needs no resuming"):
        store.start_run(run_id, "cpu")  # active in this (live) process
        store.claim_resume(run_id, pid_alive)
    store.mark_lost(run_id, "worker lost")
    with store.db:
        store.db.execute("UPDATE runs SET status='running', pid=? WHERE id=?", (2**22 + 7, run_id))
    store.claim_resume(run_id, pid_alive)  # its worker died before anyone marked it lost
    assert store.get_run(run_id)["status"] == "queued"


def test_a_run_has_a_name_and_a_note_that_stores_before_them_gain(tmp_path):
    """Named runs: given at launch or later, trimmed, blank means none, bounded; a store
    written before runs had names opens with the columns added and its runs unnamed."""
    from metalearn.store import MAX_NAME, NoSuchRun

    store = Store(tmp_path)
    run_id = store.create_run("{}", name="  baseline for lesson 2 ", note="the one to beat")
    row = store.get_run(run_id)
    assert (row["name"], row["note"]) == ("baseline for lesson 2", "the one to beat")
    store.name_run(run_id, "", None)
    assert (store.get_run(run_id)["name"], store.get_run(run_id)["note"]) == (None, None)
    with pytest.raises(ValueError, match="at most 80 characters"):
        store.name_run(run_id, "x" * (MAX_NAME + 1))
    with pytest.raises(ValueError, match="one line"):
        store.create_run("{}", name="two\nlines")
    assert len(store.list_runs()) == 1  # the refused one was not written
    with pytest.raises(NoSuchRun):
        store.name_run("no-such-run", "x")
    store.close()

    old = tmp_path / "old"
    old.mkdir()
    db = sqlite3.connect(old / "metalearn.db")
    db.execute(
        "CREATE TABLE runs (id TEXT PRIMARY KEY, config TEXT NOT NULL, status TEXT NOT NULL, "
        "device TEXT, group_id TEXT, pid INTEGER, heartbeat REAL, created_at REAL NOT NULL, "
        "started_at REAL, ended_at REAL, error TEXT, result TEXT)"
    )
    db.execute("INSERT INTO runs (id, config, status, created_at) VALUES ('r1', '{}', 'lost', 1)")
    db.commit()
    db.close()
    reopened = Store(old)
    assert reopened.get_run("r1")["name"] is None
    reopened.name_run("r1", "kept from before")
    assert reopened.list_runs()[0]["name"] == "kept from before"
