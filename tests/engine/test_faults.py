"""Faults as they happen to workers: kill -9 at random moments, exceptions, and resuming.

The figures the reliability acceptance asks for are printed (run with -s to see them)."""

import os
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from metalearn.config import RunConfig
from metalearn.engine.jobs import JobManager
from metalearn.engine.run import describe_failure
from metalearn.store import Store

LONG = {"episodes": 100000, "log_every": 5, "val_every": 0, "eval_episodes": 100}


def running(jobs, run_id, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        run = jobs.store.get_run(run_id)
        if run["status"] == "running" and jobs.store.metrics_of([run_id]):
            return run
        assert run["status"] in ("queued", "running"), run
        time.sleep(0.1)
    raise AssertionError(f"{run_id} did not start")


def finished(jobs, run_id, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        jobs.reap()
        run = jobs.store.get_run(run_id)
        if run["status"] not in ("queued", "running"):
            return run
        time.sleep(0.3)
    raise AssertionError(f"{run_id} did not finish")


@pytest.mark.integration
def test_ten_random_kills_lose_no_rows_and_are_marked_within_5_s(tmp_path):
    rng = random.Random(0)
    jobs = JobManager(tmp_path)
    delays = []
    for i in range(10):
        run_id = jobs.launch(RunConfig(**LONG, seed=i))
        run = running(jobs, run_id)
        time.sleep(rng.uniform(0.0, 3.0))  # a random moment of training
        committed = len(jobs.store.metrics_of([run_id]))
        os.kill(run["pid"], signal.SIGKILL)
        killed = time.time()
        while jobs.store.get_run(run_id)["status"] == "running":
            jobs.reap()  # what the dashboard's sidebar and `runs` do every few seconds
            time.sleep(0.05)
            assert time.time() - killed < 5, f"kill {i}: not marked within 5 s"
        delays.append(time.time() - killed)
        after = jobs.store.get_run(run_id)
        assert after["status"] == "lost" and "worker lost" in after["error"]
        assert len(jobs.store.metrics_of([run_id])) >= committed, f"kill {i}: rows lost"
    print(
        f"\n10 kills: marked lost after {statistics.mean(delays):.2f} s on average, "
        f"{max(delays):.2f} s at most; 0 metric rows lost"
    )


@pytest.mark.integration
def test_a_killed_run_resumes_to_the_same_result(tmp_path):
    """Kill -9 after a checkpoint, resume from the dashboard's job manager: the run completes
    and tests like the same run left alone (identical seeded episodes)."""
    cfg = {"episodes": 100, "log_every": 10, "val_every": 0, "eval_episodes": 200}
    jobs = JobManager(tmp_path)
    alone = jobs.launch(RunConfig(**cfg, checkpoint_every=25))
    alone_run = finished(jobs, alone)
    assert alone_run["status"] == "completed", alone_run["error"]
    victim = jobs.launch(RunConfig(**cfg, checkpoint_every=25))
    ckpt = tmp_path / victim / "checkpoint.pt"
    running(jobs, victim)
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    os.kill(jobs.store.get_run(victim)["pid"], signal.SIGKILL)
    assert finished(jobs, victim)["status"] == "lost"
    jobs.resume(victim)
    resumed = finished(jobs, victim)
    assert resumed["status"] == "completed", resumed["error"]
    a, b = alone_run["result"], resumed["result"]
    assert b["train_episodes"] == a["train_episodes"] == 100
    rows = [(m["step"], m["name"]) for m in jobs.store.metrics(victim)]
    assert len(rows) == len(set(rows))  # the repeated stretch is rewritten, never doubled
    assert [s for s, n in rows if n == "loss"] == list(range(10, 101, 10))
    assert abs(a["test_accuracy"] - b["test_accuracy"]) <= a["test_ci95"], (a, b)
    print(
        f"\nresumed {b['test_accuracy']:.4f} vs uninterrupted {a['test_accuracy']:.4f} "
        f"± {a['test_ci95']:.4f}"
    )


def test_resume_refuses_runs_without_a_checkpoint(tmp_path):
    jobs = JobManager(tmp_path)
    run_id = jobs.store.create_run(RunConfig().to_json())
    jobs.store.mark_lost(run_id, "worker lost")
    with pytest.raises(ValueError, match="no checkpoint"):
        jobs.resume(run_id)


@pytest.mark.integration
def test_a_worker_that_raises_leaves_the_error_text(tmp_path):
    jobs = JobManager(tmp_path)
    (tmp_path / "data").mkdir()
    run_id = jobs.store.create_run(
        RunConfig(dataset="folder", data_root=str(tmp_path / "data")).to_json()
    )
    jobs.start_worker(run_id)
    run = finished(jobs, run_id)
    assert run["status"] == "failed" and run["error"], run
    assert "Traceback" not in run["error"]


def test_out_of_memory_says_what_to_shrink():
    cfg = RunConfig(meta_batch=32)
    text = describe_failure(RuntimeError("CUDA out of memory. Tried to allocate 2 GiB"), cfg)
    assert "meta_batch (now 32)" in text and "smaller" in text


REPO = Path(__file__).resolve().parents[2]


@pytest.mark.integration
def test_disk_full_while_checkpointing_is_said_and_cleaned_up(tmp_path):
    """`ulimit -f` (the issue's simulation): the checkpoint cannot be written. The run fails
    saying the disk is full, no checkpoint.tmp is left, and the CLI prints no traceback."""
    home = tmp_path / "home"
    home.mkdir()
    command = (
        f"ulimit -f 400; exec {sys.executable} -m metalearn --home {home} train --episodes 40 "
        "--checkpoint-every 20 --val-every 0 --eval-episodes 5 --no-progress --device cpu"
    )
    proc = subprocess.run(
        ["bash", "-c", command], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 1 and "disk full while writing" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    [run] = Store(home).list_runs()
    assert run["status"] == "failed" and run["error"].startswith("disk full while writing the ")
    assert not list(home.glob("*/checkpoint.tmp"))


def test_an_interrupt_that_a_stop_asked_for_ends_the_run_stopped_not_failed(tmp_path, monkeypatch):
    """Ray cancels a task it believes has not started by interrupting it; when the task had in
    fact just started, the run must end as the stop asked, not as a failure."""
    from metalearn.engine.kinds.episodes import Episodes
    from metalearn.engine.run import execute

    def interrupted(self, ctx):
        raise KeyboardInterrupt

    monkeypatch.setattr(Episodes, "run", interrupted)
    store = Store(tmp_path)
    cfg = RunConfig(algorithm="protonet", episodes=2, eval_episodes=2, val_every=0, device="cpu")
    for asked, expected in ((True, "stopped"), (False, "failed")):
        run_id = store.create_run(cfg.to_json())
        with pytest.raises(KeyboardInterrupt):
            execute(cfg, store, run_id, should_stop=lambda asked=asked: asked)
        assert store.get_run(run_id)["status"] == expected
