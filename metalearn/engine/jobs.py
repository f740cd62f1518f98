"""Training jobs as worker processes, so the dashboard process never trains.

A launch records the run in the store (status "queued") and starts
`python -m metalearn.engine.worker` in its own session: it outlives page reruns, closed tabs and
dashboard restarts. The worker waits for a free slot on its device (at most `max_runs(device)`
runs at once, first come first served), trains, and writes everything to the store. Any
dashboard finds live runs through the store, and marks runs whose worker died as lost.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from metalearn.config import ConfigError, RunConfig
from metalearn.engine.executors import executor_from, worker_env
from metalearn.engine.sweep import SweepPlan, describe_grid
from metalearn.engine.trackers import tracking_env
from metalearn.engine.validate import validate
from metalearn.store import NoSuchRun, Store

log = logging.getLogger(__name__)

DEFAULT_LIMITS = {"cpu": 1, "cuda": 2, "mps": 1}
ACTIVE = ("queued", "running")


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

    def launch(
        self,
        cfg: RunConfig,
        group_id: str | None = None,
        name: str | None = None,
        note: str | None = None,
    ) -> str:
        """Validates, records and starts a run (with a person's `name` and `note` for it).
        Raises ConfigError (or ValueError for the name) before anything is written."""
        cfg = validate(cfg)
        run_id = self.store.create_run(cfg.to_json(), group_id, name, note)
        self.start_worker(run_id)
        return run_id

    def resume(self, run_id: str) -> None:
        """Continues a stopped, lost or failed run from its last checkpoint, in a new worker.

        Raises:
            NoSuchRun: no such run.
            ValueError: it has no checkpoint to resume from.
            ResumeRefused: it is completed, or still active (a ValueError too).
        """
        if self.store.get_run(run_id) is None:
            raise NoSuchRun(run_id)
        if not self.store.has_artifact(run_id, "checkpoint"):
            raise ValueError(f"run {run_id} has no checkpoint yet; launch it again instead")
        self.store.claim_resume(run_id, pid_alive)  # atomic: of two resumes, one wins
        self.start_worker(run_id, resume=True)

    def start_worker(self, run_id: str, resume: bool = False, env: dict | None = None) -> None:
        """Starts the local worker process of a queued run (the local executor's one step)."""
        self.store.run_dir(run_id)
        with open(self.store.artifact(run_id, "log"), "ab") as out:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "metalearn.engine.worker",
                    "--home",
                    str(self.home),
                    "--run",
                    run_id,
                    *(["--resume"] if resume else []),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # survives the dashboard and its reruns
                env={**worker_env(), **(env or {})},
            )
        self.adopt(proc, [run_id])

    def adopt(self, proc: subprocess.Popen, run_ids: list[str]) -> None:
        """Records the process that runs `run_ids` (a worker, or a Ray driver for several)."""
        for run_id in run_ids:
            self._children[run_id] = proc
            self.store.set_pid(run_id, proc.pid)

    def launch_group(self, configs: list[RunConfig]) -> tuple[str, list[str]]:
        """Several runs as one comparison group (they share the seeded test episodes)."""
        for cfg in configs:
            validate(cfg)
        group_id = "group-" + os.urandom(3).hex()
        return group_id, [self.launch(cfg, group_id) for cfg in configs]

    # -- sweeps ----------------------------------------------------------------------------
    def launch_sweep(self, plan: SweepPlan) -> tuple[str, list[str]]:
        """Validates every run of the grid (all problems at once), records the sweep and its
        runs, and hands them to the plan's executor. Returns the sweep's id and its runs'.

        Raises:
            ConfigError: the grid's problems, or its runs'.
        """
        configs = plan.configs()
        executor = executor_from(plan.to_dict())
        if out := executor.problems():
            raise ConfigError(out)
        name = plan.name or describe_grid(plan)
        sweep_id = self.store.create_sweep(name, plan.to_dict())
        run_ids = [self.store.create_run(cfg.to_json(), sweep_id) for cfg in configs]
        executor.start(self, run_ids, set(), tracking_env(plan.tracking))
        return sweep_id, run_ids

    def stop_group(self, group_id: str) -> list[str]:
        """Asks every queued or running run of a sweep or group to stop. Returns their ids."""
        active = [r["id"] for r in self.store.group_runs(group_id) if r["status"] in ACTIVE]
        for run_id in active:
            self.stop(run_id)
        return active

    def resume_sweep(self, sweep_id: str) -> list[str]:
        """Runs again, through the sweep's executor, each of its runs that did not complete:
        from its checkpoint where it has one, else from the start. Returns their ids.

        Raises:
            NoSuchRun: no such sweep.
            ValueError: some of its runs are still active (stop the sweep first), or none is
                left to run.
        """
        sweep = self.store.get_sweep(sweep_id)
        if sweep is None:
            raise NoSuchRun(sweep_id)
        runs = self.store.group_runs(sweep_id)
        busy = [r["id"] for r in runs if r["status"] in ACTIVE and pid_alive(r["pid"])]
        if busy:
            raise ValueError(f"sweep {sweep_id} still has {len(busy)} active runs; stop it first")
        todo = [r["id"] for r in runs if r["status"] != "completed"]
        if not todo:
            raise ValueError(f"every run of sweep {sweep_id} is completed; nothing to resume")
        plan = SweepPlan.from_dict(sweep["plan"])
        executor = executor_from(sweep["plan"])
        if out := executor.problems():
            raise ValueError("; ".join(out))
        again = {i for i in todo if self.store.has_artifact(i, "checkpoint")}
        for run_id in todo:
            self.store.claim_resume(run_id, pid_alive)
            if run_id not in again:
                self.store.drop_metrics_after(run_id, -1)  # from scratch: no stale points
        executor.start(self, todo, again, tracking_env(plan.tracking))
        return todo

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
        """Marks runs whose worker has died as lost, and keeps the store's rolling backup (at
        most every `BACKUP_EVERY` seconds). Returns the lost runs' ids."""
        for proc in list(self._children.values()):
            proc.poll()  # collects exited children, so they do not linger as zombies
        lost = []
        for run in self.store.active_runs():
            since = run["heartbeat"] or run["created_at"]  # a requeued run: since its requeue
            if run["pid"] is None and time.time() - since < 30:
                continue  # being launched: its worker's pid is not recorded yet
            note = self.store.failure_note(run["id"])  # a failure the store could not take
            if not pid_alive(run["pid"]) and self.store.mark_lost(
                run["id"], note or "worker lost: its process ended without finishing the run"
            ):
                lost.append(run["id"])
        try:
            self.store.backup()  # the rolling backup `doctor --restore` restores
        except (OSError, sqlite3.Error) as err:
            log.warning("no backup of the run store made: %s", err)
        return lost

    def log_tail(self, run_id: str, lines: int = 12, window: int = 64 * 1024) -> str:
        """The last `lines` lines of the run's worker log, read from its last `window` bytes
        only (a live panel asks every second or two; a long run's log is large)."""
        path = self.store.artifact(run_id, "log")
        try:
            with open(path, "rb") as f:
                size = f.seek(0, os.SEEK_END)
                f.seek(max(0, size - window))
                tail = f.read(window)
        except OSError:
            return ""
        text = tail.decode(errors="replace").splitlines()
        if size > window and text:
            text = text[1:]  # the first line read is cut
        return "\n".join(text[-lines:])
