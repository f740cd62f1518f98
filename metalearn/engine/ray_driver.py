"""Runs on a Ray cluster: `python -m metalearn.engine.ray_driver --home H --runs ID ...`.

Started by the Ray executor (`metalearn.engine.executors.RayExecutor`), on the machine whose run
store the dashboard reads. This driver connects to Ray (`--address`, else
$METALEARN_RAY_ADDRESS, else a local Ray it starts and stops), submits each run as one Ray task
asking for `--cpus-per-run` CPUs and `--gpus-per-run` of a GPU (so several small runs share
one GPU; Ray's scheduler decides where and when), and is the only writer of those runs' rows:

- a task writes nothing itself: its store (`RemoteStore`) posts every write (metrics, test
  episodes, the result) and every file (checkpoint, embeddings, log lines) to a `Mailbox`
  actor; the driver drains it into the real store and the run's folder, so the store stays the
  one truth and no shared file system is needed;
- stop: the store's stop flag reaches the task through the mailbox (it checkpoints and ends as a
  local run does); a task still waiting for resources is cancelled; one that does not end
  within `STOP_GRACE` seconds is cancelled by force;
- a task whose worker process or node dies is marked lost (Ray retries nothing: a run restarts
  only by Resume, from its last shipped checkpoint).

Every run's `pid` in the store is this driver's: a dashboard marks them lost if the driver dies.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import ray

from metalearn.engine.ray_task import Mailbox, run_task
from metalearn.engine.trackers import Mirrors
from metalearn.store import Store

LOG_NAME = "metalearn.engine.ray_driver"  # also when run as __main__
log = logging.getLogger(LOG_NAME)

STOP_GRACE = 30.0  # seconds a stopping task may take before it is cancelled by force
CALLS = ("log_metrics", "drop_metrics_after", "save_episodes", "finish_run", "note_failure")


_RUN_TASK = ray.remote(run_task)


class Driver:
    """Submits the runs, applies what their tasks post, watches for stops and deaths."""

    def __init__(self, store: Store, cpus_per_run: float, gpus_per_run: float | None):
        self.store = store
        self.mailbox = Mailbox.remote()
        self.cpus = cpus_per_run
        self.gpus = gpus_per_run
        self.refs: dict[ray.ObjectRef, str] = {}
        self.started: set[str] = set()
        self.stopping: dict[str, float] = {}
        self.mirrors: dict[str, Mirrors] = {}

    def submit(self, run_id: str, resume: bool) -> None:
        run = self.store.get_run(run_id)
        files = {}
        if resume and self.store.has_artifact(run_id, "checkpoint"):
            path = self.store.artifact(run_id, "checkpoint")
            files[path.name] = path.read_bytes()
        gpus = self.gpus
        if gpus is None:  # a share of a GPU where the cluster has one and the run may use it
            has_gpu = ray.cluster_resources().get("GPU", 0) > 0
            gpus = 0.25 if has_gpu and run["config"].get("device") in ("auto", "cuda") else 0
        task = _RUN_TASK.options(num_cpus=self.cpus, num_gpus=gpus, max_retries=0)
        threads = max(1, int(self.cpus))
        ref = task.remote(run["config"], run_id, resume, self.mailbox, threads, files)
        self.refs[ref] = run_id
        self.append_log(run_id, f"INFO {LOG_NAME}: submitted to Ray ({self.cpus} CPU, {gpus} GPU)")

    def append_log(self, run_id: str, text: str) -> None:
        self.store.run_dir(run_id)
        with open(self.store.artifact(run_id, "log"), "a") as out:
            out.write(text.rstrip("\n") + "\n")

    # -- what the tasks post -----------------------------------------------------------------
    def apply(self) -> None:
        for item in ray.get(self.mailbox.take.remote()):
            what, run_id = item[0], item[1]
            if what == "start_run":
                _, _, device, pid, host = item
                self.store.start_run(run_id, f"ray {device}", pid=os.getpid())
                self.started.add(run_id)
                self.append_log(run_id, f"INFO {LOG_NAME}: started in Ray worker {pid} on {host}")
                self.mirrors[run_id] = Mirrors.open(run_id, self.store)
            elif what == "call" and item[1] in CALLS:
                method, args = item[1], item[2]
                getattr(self.store, method)(*args)
                if method == "log_metrics" and args[0] in self.mirrors:
                    self.mirrors[args[0]].log(args[1], args[2])
                if method == "finish_run" and args[0] in self.mirrors:
                    self.mirrors.pop(args[0]).close(args[1])
            elif what == "file":
                _, _, name, data, kind = item
                self.write_file(run_id, name, data, kind)
            elif what == "log":
                self.append_log(run_id, item[2])

    def write_file(self, run_id: str, name: str, data: bytes, kind: str | None) -> None:
        folder = self.store.run_dir(run_id).resolve()
        target = (folder / name).resolve()
        if folder not in target.parents:
            log.warning("run %s posted a file outside its folder (%s); ignored", run_id, name)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        part.write_bytes(data)
        os.replace(part, target)
        if kind is not None:
            self.store.add_artifact(run_id, kind, target)

    # -- stops and ends ----------------------------------------------------------------------
    def watch_stops(self) -> None:
        now = time.time()
        for ref, run_id in list(self.refs.items()):
            if run_id not in self.stopping and self.store.stop_requested(run_id):
                self.stopping[run_id] = now
                ray.get(self.mailbox.stop.remote([run_id]))
                if run_id not in self.started:
                    ray.cancel(ref)  # still waiting for resources: it never starts
            elif run_id in self.stopping and now - self.stopping[run_id] > STOP_GRACE:
                ray.cancel(ref, force=True)

    def finish(self, ref: ray.ObjectRef) -> None:
        run_id = self.refs.pop(ref)
        self.apply()  # what it posted before it ended
        try:
            ray.get(ref)
            return
        except ray.exceptions.TaskCancelledError:
            status, error = (
                "stopped",
                "stopped before it started"
                if run_id not in self.started
                else "stopped (cancelled by force)",
            )
        except ray.exceptions.RayTaskError as err:  # the run raised: it marked itself failed
            status, error = "failed", str(err.cause if err.cause else err)[-2000:]
            if run_id in self.stopping:
                # Cancelled as its task began, before the run could take the interrupt as a
                # stop: Ray's interrupt can surface as another error there (seen: "'Handlers'
                # object is not callable", from a SIGINT handler not yet in place). It was
                # asked to stop, and it did; a failure the run recorded itself stays.
                status, error = "stopped", f"stopped as it started ({error[:300]})"
        except ray.exceptions.RayError as err:  # its worker process or node died
            status, error = "lost", f"Ray worker lost: {type(err).__name__}: {str(err)[:500]}"
        run = self.store.get_run(run_id)
        if run is not None and run["status"] in ("queued", "running"):
            if status == "lost":
                self.store.mark_lost(run_id, error)
            else:
                self.store.finish_run(run_id, status, error=error)
            self.append_log(run_id, f"ERROR {LOG_NAME}: {error}")
        if run_id in self.mirrors:
            self.mirrors.pop(run_id).close(status)

    def loop(self, poll: float = 0.25) -> None:
        beat = 0.0
        while self.refs:
            ready, _ = ray.wait(list(self.refs), num_returns=1, timeout=poll)
            self.apply()
            for ref in ready:
                self.finish(ref)
            self.watch_stops()
            if time.time() - beat > 5:
                for run_id in self.started & set(self.refs.values()):
                    self.store.heartbeat(run_id)
                beat = time.time()


def connect(address: str | None) -> None:
    """Joins the Ray cluster at `address` ("auto", "ray://host:port", a GCS address), else starts
    a local one for this driver."""
    import metalearn

    address = address or os.environ.get("METALEARN_RAY_ADDRESS") or None
    kwargs: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,
        "runtime_env": {"py_modules": [metalearn]},  # the cluster's nodes need no install
    }
    ray.init(address=address, **kwargs) if address else ray.init(**kwargs)


def drive(
    home: str | Path,
    run_ids: list[str],
    resume: set[str] | None = None,
    address: str | None = None,
    cpus_per_run: float = 1.0,
    gpus_per_run: float | None = None,
) -> None:
    """Runs `run_ids` (created in the store under `home`) through Ray until all have ended."""
    store = Store(home)
    try:
        connect(address)
    except Exception as err:  # no cluster there, a version mismatch, ...: say so on every run
        for run_id in run_ids:
            store.finish_run(
                run_id,
                "failed",
                error=f"could not join the Ray cluster ({type(err).__name__}: {str(err)[:300]}); "
                "check --ray-address / METALEARN_RAY_ADDRESS, or run with the local executor",
            )
        raise
    try:
        driver = Driver(store, cpus_per_run, gpus_per_run)
        for run_id in run_ids:
            driver.submit(run_id, run_id in (resume or set()))
        driver.loop()
    finally:
        ray.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metalearn.engine.ray_driver")
    parser.add_argument("--home", required=True, help="the runs directory")
    parser.add_argument("--runs", nargs="+", required=True, help="queued runs to run")
    parser.add_argument("--resume", nargs="*", default=[], help="of those, the ones to resume")
    parser.add_argument("--address", help="the Ray cluster (default: a local one)")
    parser.add_argument("--cpus-per-run", type=float, default=1.0)
    parser.add_argument("--gpus-per-run", type=float, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    drive(
        args.home, args.runs, set(args.resume), args.address, args.cpus_per_run, args.gpus_per_run
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
