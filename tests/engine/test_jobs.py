"""Worker processes as the dashboard starts them: queueing, stop, and lost workers."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from metalearn.config import RunConfig
from metalearn.engine.jobs import JobManager, max_runs, pid_alive

SMALL = {"episodes": 40, "eval_episodes": 20, "val_every": 20, "val_episodes": 10, "log_every": 10}


def wait(jobs, run_id, statuses, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        jobs.reap()
        run = jobs.store.get_run(run_id)
        if run["status"] in statuses:
            return run
        time.sleep(0.3)
    raise AssertionError(f"{run_id} still {run['status']}")


@pytest.mark.integration
def test_queue_runs_one_at_a_time_on_cpu_and_both_finish(tmp_path):
    assert max_runs("cpu") == 1
    jobs = JobManager(tmp_path)
    first = jobs.launch(RunConfig(**SMALL))
    second = jobs.launch(RunConfig(**SMALL, seed=1))
    wait(jobs, first, {"running"})
    assert jobs.store.get_run(second)["status"] == "queued"  # waits for the free CPU slot
    done = wait(jobs, second, {"completed", "failed"})
    assert done["status"] == "completed", done["error"]
    a, b = jobs.store.get_run(first), done
    assert a["ended_at"] <= b["started_at"]  # never both running
    snaps = np.load(tmp_path / first / "embeddings.npz")
    assert snaps["support"].shape[1:] == (5, 64) and snaps["steps"][0] == 0
    assert "episode 40/40" in jobs.log_tail(first, 40)


@pytest.mark.integration
def test_stop_ends_a_run_with_a_checkpoint(tmp_path):
    jobs = JobManager(tmp_path)
    run_id = jobs.launch(RunConfig(**{**SMALL, "episodes": 100000, "log_every": 5}))
    wait(jobs, run_id, {"running"})
    time.sleep(2)
    asked = time.time()
    jobs.stop(run_id)
    run = wait(jobs, run_id, {"stopped", "completed", "failed"})
    assert run["status"] == "stopped", run["error"]
    assert run["ended_at"] - asked < 2.0  # the current step, a checkpoint, no test
    assert (tmp_path / run_id / "checkpoint.pt").exists()
    assert "test_accuracy" not in (run["result"] or {})


@pytest.mark.integration
def test_a_killed_worker_is_marked_lost(tmp_path):
    jobs = JobManager(tmp_path)
    run_id = jobs.launch(RunConfig(**{**SMALL, "episodes": 100000}))
    pid = jobs.store.get_run(run_id)["pid"]
    time.sleep(1)
    os.kill(pid, signal.SIGKILL)
    run = wait(jobs, run_id, {"lost", "failed", "completed"}, timeout=30)
    assert run["status"] == "lost" and "worker lost" in run["error"]


@pytest.mark.integration
def test_pid_alive_sees_zombies_as_dead():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.time() + 10
    while pid_alive(proc.pid) and time.time() < deadline:
        time.sleep(0.1)  # exits, stays a zombie (not yet waited for)
    assert not pid_alive(proc.pid)
    proc.wait()
    assert pid_alive(os.getpid()) and not pid_alive(None)


def test_delete_removes_rows_and_files(tmp_path):
    from metalearn.engine.run import execute

    jobs = JobManager(tmp_path)
    cfg = RunConfig(episodes=4, log_every=2, eval_episodes=3, val_every=0, n_query=2)
    run_id = jobs.store.create_run(cfg.to_json())
    execute(cfg, jobs.store, run_id)
    assert (tmp_path / run_id / "checkpoint.pt").exists() and jobs.store.metrics(run_id)
    jobs.delete(run_id)
    assert jobs.store.get_run(run_id) is None and not jobs.store.metrics(run_id)
    assert not (tmp_path / run_id).exists()


def test_log_tail_reads_only_the_end_of_a_large_log(tmp_path):
    """A 100 MB worker log: the live panel's tail comes back fast and small, last lines whole."""
    jobs = JobManager(tmp_path)
    run_id = jobs.store.create_run(RunConfig().to_json())
    jobs.store.run_dir(run_id)
    line = b"x" * 99 + b"\n"
    with open(jobs.store.artifact(run_id, "log"), "wb") as f:
        for _ in range(100):
            f.write(line * 10_000)
        f.write(b"episode 39/40 loss=1.2\nepisode 40/40 loss=1.1\n")
    started = time.perf_counter()
    tail = jobs.log_tail(run_id, 3)
    assert time.perf_counter() - started < 0.1
    assert tail.splitlines() == ["x" * 99, "episode 39/40 loss=1.2", "episode 40/40 loss=1.1"]
    assert jobs.log_tail(run_id, 10_000).count("\n") < 1000  # one window, not the whole file
    assert JobManager(tmp_path / "other").log_tail(run_id) == ""


@pytest.mark.integration
def test_a_dashboard_started_elsewhere_starts_workers_that_find_the_package(tmp_path):
    """`streamlit run /path/to/app.py` from another directory: the dashboard imports metalearn
    from the script's folder, and its workers must find it too (not end as lost)."""
    repo = Path(__file__).resolve().parents[2]
    script = f"""
import sys, time
sys.path.insert(0, {str(repo)!r})
from metalearn.config import RunConfig
from metalearn.engine.jobs import JobManager
jobs = JobManager({str(tmp_path / "home")!r})
run_id = jobs.launch(RunConfig(episodes=2, eval_episodes=2, val_every=0, device="cpu"))
deadline = time.time() + 240
while jobs.store.get_run(run_id)["status"] in ("queued", "running") and time.time() < deadline:
    time.sleep(0.5)
    jobs.reap()
print(jobs.store.get_run(run_id)["status"])
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert proc.stdout.strip().splitlines()[-1] == "completed", proc.stderr
