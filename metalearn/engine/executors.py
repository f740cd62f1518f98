"""Where queued runs execute: the job manager hands them to an executor.

- `local` (the default): one worker process per run on this machine (`metalearn.engine.worker`),
  queueing for the device's slots.
- `ray`: one driver process (`metalearn.engine.ray_driver`) submits the runs as Ray tasks to a
  cluster (`address`: "auto", "ray://host:port"; none: $METALEARN_RAY_ADDRESS, else a local
  Ray it starts), whose scheduler replaces the device slots.

Both start detached processes (they outlive a dashboard's reruns), record the process in each
run's `pid` (a dashboard marks the run lost when it dies), and stop through the store's stop
flag, so the job manager's stop, reap and resume work the same over either.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Protocol


class JobManager(Protocol):
    """What an executor asks of the job manager (`metalearn.engine.jobs.JobManager`)."""

    home: Path

    def start_worker(self, run_id: str, resume: bool = False, env: dict | None = None) -> None:
        """Starts the local worker process of a queued run."""

    def adopt(self, proc: subprocess.Popen, run_ids: list[str]) -> None:
        """Records the process that runs `run_ids`."""


def worker_env() -> dict[str, str]:
    """The environment of a worker: this one, with the folder that holds the `metalearn`
    package first on PYTHONPATH, so a worker finds it whatever directory the dashboard was
    started from (`streamlit run /elsewhere/app.py`) and whether or not it is installed."""
    package_parent = str(Path(__file__).resolve().parents[2])
    paths = [package_parent, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}


class Executor(Protocol):
    """Starts queued runs (already in the store) on some machines."""

    name: str

    def problems(self) -> list[str]:
        """Why it cannot start runs now (checked before any run is recorded)."""

    def start(self, jobs: JobManager, run_ids: list[str], resume: set[str], env: dict) -> None:
        """Starts `run_ids`; those in `resume` continue from their checkpoints. `env`: extra
        environment for the processes (the tracking mirrors)."""


class LocalExecutor:
    """One worker process per run, on this machine."""

    name = "local"

    def problems(self) -> list[str]:
        return []

    def start(self, jobs: JobManager, run_ids: list[str], resume: set[str], env: dict) -> None:
        for run_id in run_ids:
            jobs.start_worker(run_id, resume=run_id in resume, env=env)


class RayExecutor:
    """All the runs of one launch through one Ray driver process.

    Args:
        address: the Ray cluster; None: $METALEARN_RAY_ADDRESS, else a local Ray.
        cpus_per_run: CPUs each run's task asks for (and its torch threads).
        gpus_per_run: the share of a GPU each run asks for (None: 0.25 where the cluster has
            GPUs and the run may use one, else none).
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        cpus_per_run: float = 1.0,
        gpus_per_run: float | None = None,
    ):
        self.address = address
        self.cpus_per_run = cpus_per_run
        self.gpus_per_run = gpus_per_run

    def problems(self) -> list[str]:
        """Ray installed, and the cluster's address answering (Ray itself waits minutes on an
        address where nothing listens)."""
        try:
            import ray  # noqa: F401
        except ImportError:
            return ["the ray executor needs Ray: pip install -r requirements.txt"]
        address = self.address or os.environ.get("METALEARN_RAY_ADDRESS")
        if not address or address in ("auto", "local"):
            return []
        hostport = address.removeprefix("ray://").rsplit(":", 1)
        if len(hostport) != 2 or not hostport[1].isdigit():
            return [f"Ray address {address!r} is not host:port, ray://host:port or auto"]
        try:
            socket.create_connection((hostport[0], int(hostport[1])), timeout=3).close()
        except OSError as err:
            return [
                f"nothing answers at the Ray address {address} ({err}); start the cluster "
                "(`ray start --head`), fix --ray-address / METALEARN_RAY_ADDRESS, or leave it "
                "empty for a local Ray"
            ]
        return []

    def start(self, jobs: JobManager, run_ids: list[str], resume: set[str], env: dict) -> None:
        args = [sys.executable, "-m", "metalearn.engine.ray_driver", "--home", str(jobs.home)]
        args += ["--runs", *run_ids, "--cpus-per-run", str(self.cpus_per_run)]
        if resume:
            args += ["--resume", *sorted(resume)]
        if self.address:
            args += ["--address", self.address]
        if self.gpus_per_run is not None:
            args += ["--gpus-per-run", str(self.gpus_per_run)]
        log_dir = jobs.home / "drivers"
        log_dir.mkdir(exist_ok=True)
        with open(log_dir / f"ray-{run_ids[0]}.log", "ab") as out:
            proc = subprocess.Popen(
                args,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**worker_env(), **env},
            )
        jobs.adopt(proc, run_ids)


def executor_from(plan: dict[str, Any]) -> Executor:
    """The executor a sweep plan names ("executor", and its "ray" options).

    Raises:
        ValueError: an unknown executor name.
    """
    name = plan.get("executor") or "local"
    if name == "local":
        return LocalExecutor()
    if name == "ray":
        opts = plan.get("ray") or {}
        return RayExecutor(
            opts.get("address"), float(opts.get("cpus_per_run") or 1.0), opts.get("gpus_per_run")
        )
    raise ValueError(f"executor {name!r} is unknown; choose local or ray")
