"""Training jobs as worker processes, so the dashboard process never trains.

A launch records the run in the store (status "queued") and starts `python -m metalearn worker`
in its own session: it outlives page reruns, closed tabs and dashboard restarts. The worker waits
for a free slot on its device (at most `max_runs(device)` runs at once, first come first served),
trains, and writes everything to the store. Any dashboard finds live runs through the store, and
marks runs whose worker died as lost.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from metalearn.config import RunConfig
from metalearn.store import Store

log = logging.getLogger(__name__)

DEFAULT_LIMITS = {"cpu": 1, "cuda": 2, "mps": 1}


def max_runs(device: str) -> int:
    """Concurrent runs per device kind: $METALEARN_MAX_RUNS_<KIND>, else a default (CPU: 1,
    since two runs on few cores each take twice as long)."""
    kind = device.split()[0].split(":")[0]
    value = os.environ.get(f"METALEARN_MAX_RUNS_{kind.upper()}")
    return max(1, int(value)) if value and value.isdigit() else DEFAULT_LIMITS.get(kind, 1)


def pid_alive(pid: int | None) -> bool:
    """True if the process exists and is not a zombie."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (macOS): trust kill()
    return state not in ("Z", "X")


def share_cpu(device: str) -> None:
    """When several runs may train on the CPU at once, each worker takes its share of the cores
    (threads oversubscribing a few cores collapse everyone's throughput, measured: two 2-thread
    runs on 2 cores each fell from ~190 to ~30 episodes/s) and a lower scheduling priority, so
    the dashboard stays responsive ($METALEARN_WORKER_NICE, default 10; 0 keeps it)."""
    limit = max_runs(device)
    if not device.startswith("cpu") or limit <= 1:
        return
    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 1) // limit))
    nice = os.environ.get("METALEARN_WORKER_NICE", "10")
    if nice.isdigit() and int(nice) > 0 and hasattr(os, "nice"):
        os.nice(int(nice))


class JobManager:
    """Starts and stops workers; one per dashboard process (held in `st.cache_resource`)."""

    def __init__(self, home: str | Path | None = None):
        self.store = Store(home)
        self.home = self.store.home
        self._children: dict[str, subprocess.Popen] = {}

    def launch(self, cfg: RunConfig, group_id: str | None = None) -> str:
        """Validates, records and starts a run. Raises ConfigError before anything is written."""
        cfg.validate()
        run_id = self.store.create_run(cfg.to_json(), group_id)
        self._start_worker(run_id)
        return run_id

    def resume(self, run_id: str) -> None:
        """Continues a stopped, lost or failed run from its last checkpoint, in a new worker.

        Raises:
            ValueError: no such run, it is still active, or it has no checkpoint to resume from.
        """
        run = self.store.get_run(run_id)
        if run is None:
            raise ValueError(f"no run {run_id}")
        if run["status"] in ("queued", "running") and pid_alive(run["pid"]):
            raise ValueError(f"run {run_id} is {run['status']}; it needs no resuming")
        if not (self.home / run_id / "checkpoint.pt").exists():
            raise ValueError(f"run {run_id} has no checkpoint yet; launch it again instead")
        self.store.requeue(run_id)
        self._start_worker(run_id, resume=True)

    def _start_worker(self, run_id: str, resume: bool = False) -> None:
        log_path = self.store.run_dir(run_id) / "worker.log"
        with open(log_path, "ab") as out:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "metalearn",
                    "--home",
                    str(self.home),
                    "worker",
                    "--run",
                    run_id,
                    *(["--resume"] if resume else []),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # survives the dashboard and its reruns
            )
        self._children[run_id] = proc
        self.store.set_pid(run_id, proc.pid)

    def launch_group(self, configs: list[RunConfig]) -> tuple[str, list[str]]:
        """Several runs as one comparison group (they share the seeded test episodes)."""
        for cfg in configs:
            cfg.validate()
        group_id = "group-" + os.urandom(3).hex()
        return group_id, [self.launch(cfg, group_id) for cfg in configs]

    def stop(self, run_id: str) -> None:
        """Asks the worker to stop after its current step; it checkpoints and marks it stopped.
        A run still waiting in the queue is stopped at once."""
        self.store.request_stop(run_id)

    def delete(self, run_id: str) -> None:
        """Removes a finished run: its rows and its folder (checkpoint, snapshots, log).

        Raises:
            ValueError: the run is still queued or running (stop it first).
        """
        run = self.store.get_run(run_id)
        if run is None:
            return
        if run["status"] in ("queued", "running") and pid_alive(run["pid"]):
            raise ValueError(f"run {run_id} is {run['status']}; stop it before deleting it")
        self.store.delete_run(run_id)
        shutil.rmtree(self.home / run_id, ignore_errors=True)

    def reap(self) -> list[str]:
        """Marks runs whose worker has died as lost. Returns their ids."""
        for proc in list(self._children.values()):
            proc.poll()  # collects exited children, so they do not linger as zombies
        lost = []
        for run in self.store.active_runs():
            since = run["heartbeat"] or run["created_at"]  # a requeued run: since its requeue
            if run["pid"] is None and time.time() - since < 30:
                continue  # being launched: its worker's pid is not recorded yet
            if not pid_alive(run["pid"]) and self.store.mark_lost(
                run["id"], "worker lost: its process ended without finishing the run"
            ):
                lost.append(run["id"])
        return lost

    def log_tail(self, run_id: str, lines: int = 12) -> str:
        path = self.home / run_id / "worker.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def run_worker(store: Store, run_id: str, resume: bool = False) -> None:
    """The worker process's job: wait for a free slot on the run's device (first come, first
    served), then train and test the run (from its checkpoint if `resume`), logging progress
    lines; a stop while queued ends it."""
    from metalearn.config import ConfigError
    from metalearn.engine.device import describe_device, resolve_device
    from metalearn.engine.run import execute

    run = store.get_run(run_id)
    if run is None:
        raise ConfigError([f"--run {run_id}: no such run"])
    cfg = RunConfig.from_dict(run["config"])
    try:
        device = describe_device(resolve_device(cfg.device))
    except ConfigError as err:
        store.finish_run(run_id, "failed", error=str(err))
        raise
    share_cpu(device)
    store.set_worker(run_id, os.getpid(), device)
    log.info("run %s queued for %s", run_id, device)
    while not store.try_start(run_id, device, max_runs(device)):
        if store.stop_requested(run_id):
            store.finish_run(run_id, "stopped", error="stopped while queued")
            return
        store.heartbeat(run_id)
        time.sleep(0.5)
    log.info("run %s started: %s on %s", run_id, cfg.algorithm, cfg.dataset)

    def progress(step: int, values: dict[str, float]) -> None:
        text = " ".join(f"{k}={v:.4g}" for k, v in values.items())
        log.info("episode %d/%d %s", step, cfg.episodes, text)

    result = execute(
        cfg,
        store,
        run_id,
        resume=resume,
        progress=progress,
        should_stop=lambda: store.stop_requested(run_id),
    )
    log.info("run %s finished: %s", run_id, json.dumps(result, sort_keys=True))
