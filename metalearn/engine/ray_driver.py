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
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import ray

from metalearn.engine.trackers import Mirrors
from metalearn.store import RunFolders, Store

LOG_NAME = "metalearn.engine.ray_driver"  # also when run as __main__
log = logging.getLogger(LOG_NAME)

STOP_GRACE = 30.0  # seconds a stopping task may take before it is cancelled by force
SYNC_EVERY = 10.0  # seconds between shipments of a running task's changed files (checkpoints)
CALLS = ("log_metrics", "drop_metrics_after", "save_episodes", "finish_run", "note_failure")


@ray.remote(num_cpus=0)
class Mailbox:
    """What the tasks of one driver post (store writes, files, log lines), until it takes them;
    and which runs were asked to stop."""

    def __init__(self) -> None:
        self._items: list[tuple] = []
        self._stops: set[str] = set()

    def post(self, items: list[tuple]) -> None:
        self._items.extend(items)

    def take(self) -> list[tuple]:
        items, self._items = self._items, []
        return items

    def stop(self, run_ids: list[str]) -> None:
        self._stops.update(run_ids)

    def stopping(self, run_id: str) -> bool:
        return run_id in self._stops


class RemoteStore(RunFolders):
    """The store as a run inside a Ray task sees it: the methods `metalearn.engine.run.execute`
    and the run kinds call. Files go to a scratch folder on the task's node and are shipped;
    every write is posted to the mailbox and waited for (once it returns, the driver holds it)."""

    def __init__(self, mailbox: Any, scratch: Path):
        self.home = scratch
        self.mailbox = mailbox
        self._shipped: dict[Path, tuple[int, int]] = {}
        self._synced = time.monotonic()
        self._lines: list[tuple] = []
        self._kinds: dict[Path, str] = {}  # file -> its artifact kind

    def _post(self, *items: tuple) -> None:
        batch, self._lines = [*self._lines, *items], []
        ray.get(self.mailbox.post.remote(batch))

    def start_run(self, run_id: str, device: str, pid: int | None = None) -> None:
        node = ray.get_runtime_context().get_node_id()[:12]
        where = f"{socket.gethostname()}, Ray node {node}"
        self._post(("start_run", run_id, device, os.getpid(), where))

    def log_metrics(self, run_id: str, step: int, values: dict[str, float]) -> None:
        values = {k: float(v) for k, v in values.items()}
        self._post(("call", "log_metrics", (run_id, step, values)))
        if time.monotonic() - self._synced > SYNC_EVERY:
            self.sync(run_id)

    def drop_metrics_after(self, run_id: str, step: int) -> None:
        self._post(("call", "drop_metrics_after", (run_id, step)))

    def save_episodes(self, run_id: str, values: list[float]) -> None:
        self._post(("call", "save_episodes", (run_id, [float(v) for v in values])))

    def add_artifact(self, run_id: str, kind: str, path: str | Path) -> None:
        """Names a file of the run as an artifact: shipped now if it exists, else (a file the
        run writes later, like its embedding snapshots) whenever it is written."""
        path = Path(path)
        self._kinds[path] = kind
        if path.exists():
            self._shipped.pop(path, None)
            self.sync(run_id)

    def finish_run(self, run_id: str, status: str, result=None, error=None) -> None:
        self.sync(run_id)
        self._post(("call", "finish_run", (run_id, status, result, error)))

    def note_failure(self, run_id: str, reason: str) -> None:
        self._post(("call", "note_failure", (run_id, reason)))

    def heartbeat(self, run_id: str) -> None:
        pass  # the driver beats for its runs

    def stop_requested(self, run_id: str) -> bool:
        return bool(ray.get(self.mailbox.stopping.remote(run_id)))

    def log_line(self, run_id: str, text: str) -> None:
        """Held until the next write posts (log lines need no round trip of their own)."""
        self._lines.append(("log", run_id, text))

    def sync(self, run_id: str) -> None:
        """Ships the files of the run's scratch folder that changed since last shipped (a
        checkpoint written meanwhile, an artifact just made)."""
        items = []
        folder = self.run_dir(run_id)
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.suffix in (".tmp", ".part"):
                continue
            stat = path.stat()
            mark = (stat.st_mtime_ns, stat.st_size)
            if self._shipped.get(path) == mark:
                continue
            kind = self._kinds.get(path)
            items.append(("file", run_id, str(path.relative_to(folder)), path.read_bytes(), kind))
            self._shipped[path] = mark
        self._synced = time.monotonic()
        if items:
            self._post(*items)


class _MailboxLog(logging.Handler):
    """The task's log records, as the lines a local worker would write to the run's log."""

    def __init__(self, store: RemoteStore, run_id: str):
        super().__init__(logging.INFO)
        self.store, self.run_id = store, run_id
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.store.log_line(self.run_id, self.format(record))


def run_task(
    config: dict, run_id: str, resume: bool, mailbox: Any, threads: int, files: dict[str, bytes]
) -> bool:
    """The body of one run's Ray task: `execute` over a `RemoteStore`. `files`: the run folder's
    files it needs (a checkpoint to resume from)."""
    import torch

    from metalearn.engine.run import execute
    from metalearn.engine.validate import stored
    from metalearn.engine.worker import progress_logger

    torch.set_num_threads(max(1, threads))
    scratch = Path(tempfile.mkdtemp(prefix="metalearn-ray-"))
    store = RemoteStore(mailbox, scratch)
    for name, data in files.items():
        (store.run_dir(run_id) / name).write_bytes(data)
    cfg = stored(config)
    package_log = logging.getLogger("metalearn")
    handler = _MailboxLog(store, run_id)
    package_log.addHandler(handler)
    package_log.setLevel(logging.INFO)
    try:
        execute(
            cfg,
            store,
            run_id,
            resume=resume,
            progress=progress_logger(cfg),
            should_stop=lambda: store.stop_requested(run_id),
        )
        return True
    finally:
        package_log.removeHandler(handler)
        if store._lines:
            store._post()
        shutil.rmtree(scratch, ignore_errors=True)


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
