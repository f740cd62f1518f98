"""Sweeps through a real local Ray (`ray.init(num_cpus=2)`, shared by this module): the same
results as local worker processes, lost workers, stops."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

ray = pytest.importorskip("ray")  # in requirements.txt: missing means a broken install

from metalearn.engine.jobs import JobManager  # noqa: E402
from metalearn.engine.sweep import SweepPlan  # noqa: E402
from tests.conftest import REPO  # noqa: E402

TINY = ["--episodes", "10", "--eval-episodes", "12", "--val-every", "0", "--log-every", "5"]
GRID = ["--algorithms", "protonet", "matching", "--seeds", "0", "--n-shot", "1", "2"]


@pytest.fixture(scope="module")
def ray_address():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def sweep(home, *args):
    proc = subprocess.run(
        [sys.executable, "-m", "metalearn", "--home", str(home), "sweep", *args, "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_sweep_through_ray_equals_the_same_sweep_run_locally(ray_address, tmp_path):
    from metalearn.store import Store

    # Two CPUs per run: the threads a local CPU worker uses here, so the float sums match.
    through_ray = sweep(
        tmp_path / "ray", *GRID, *TINY, "--executor", "ray", "--ray-address", ray_address,
        "--cpus-per-run", "2",
    )  # fmt: skip
    local = sweep(tmp_path / "local", *GRID, *TINY, "--executor", "local")
    assert through_ray["sweep_id"].startswith("sweep-")
    key = lambda r: (r["algorithm"], r["seed"], r["n_shot"])  # noqa: E731
    assert sorted(map(key, through_ray["runs"])) == sorted(map(key, local["runs"]))
    assert len(through_ray["runs"]) == 4
    by_key = {key(r): r for r in local["runs"]}
    stores = Store(tmp_path / "ray"), Store(tmp_path / "local")
    for r in through_ray["runs"]:
        twin = by_key[key(r)]
        assert r["status"] == twin["status"] == "completed"
        assert r["test_accuracy"] == pytest.approx(twin["test_accuracy"], abs=1e-6)
        remote_eps, local_eps = (
            s.episodes(i) for s, i in zip(stores, (r["run_id"], twin["run_id"]), strict=True)
        )
        assert len(remote_eps) == 12 and remote_eps == pytest.approx(local_eps, abs=1e-6)
        names = {(m["step"], m["name"]) for m in stores[0].metrics(r["run_id"])}
        assert names == {(m["step"], m["name"]) for m in stores[1].metrics(twin["run_id"])}
        # The files came back over Ray into the head's run folder.
        folder = tmp_path / "ray" / r["run_id"]
        assert (folder / "checkpoint.pt").stat().st_size > 0
        assert stores[0].artifacts(r["run_id"])["embeddings"] == str(folder / "embeddings.npz")
        assert "episode 10/10" in (folder / "worker.log").read_text()


def worker_pid(home, run_id):
    text = (
        (home / run_id / "worker.log").read_text()
        if (home / run_id / "worker.log").exists()
        else ""
    )
    found = re.search(r"started in Ray worker (\d+)", text)
    return int(found.group(1)) if found else None


def test_a_killed_ray_worker_is_lost_and_the_others_keep_their_metrics(ray_address, tmp_path):
    jobs = JobManager(tmp_path)
    plan = SweepPlan(
        axes={"seed": [0, 1]},
        settings={"episodes": 100000, "val_every": 0, "log_every": 5, "eval_episodes": 10},
        executor="ray",
        ray={"address": ray_address, "cpus_per_run": 1},
    )
    sweep_id, (victim, other) = jobs.launch_sweep(plan)
    deadline = time.time() + 120
    while time.time() < deadline and not (
        worker_pid(tmp_path, victim) and len(jobs.store.metrics(other)) >= 8
    ):
        time.sleep(0.3)
    pid = worker_pid(tmp_path, victim)
    assert pid, (tmp_path / victim / "worker.log").read_text()
    before = jobs.store.metrics(other)
    os.kill(pid, signal.SIGKILL)
    killed = time.time()
    while time.time() - killed < 10 and jobs.store.get_run(victim)["status"] != "lost":
        time.sleep(0.2)
    run = jobs.store.get_run(victim)
    assert run["status"] == "lost", run
    assert "Ray worker lost" in run["error"]
    after = jobs.store.metrics(other)
    assert jobs.store.get_run(other)["status"] == "running"
    assert all(row in after for row in before)  # nothing the other had committed is gone
    # Stopping the sweep stops its remaining run (a checkpoint, then "stopped").
    assert jobs.stop_group(sweep_id) == [other]
    deadline = time.time() + 60
    while time.time() < deadline and jobs.store.get_run(other)["status"] == "running":
        time.sleep(0.3)
    assert jobs.store.get_run(other)["status"] == "stopped"
    assert (tmp_path / other / "checkpoint.pt").exists()
    # Resume runs both again through Ray: the lost one from its last shipped checkpoint or
    # from scratch, the stopped one from its checkpoint.
    assert sorted(jobs.resume_sweep(sweep_id)) == sorted([victim, other])
    jobs.stop_group(sweep_id)
    deadline = time.time() + 90
    while time.time() < deadline and any(
        r["status"] in ("queued", "running") for r in jobs.store.group_runs(sweep_id)
    ):
        time.sleep(0.3)
    ended = jobs.store.group_runs(sweep_id)
    assert {r["status"] for r in ended} == {"stopped"}, [(r["status"], r["error"]) for r in ended]
