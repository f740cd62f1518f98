"""The task side of a run on Ray: what runs inside one Ray task (`run_task`), and the two
pieces it talks through: the `Mailbox` actor, where it posts every store write, file and log
line for the driver (`metalearn.engine.ray_driver`) to apply, and `RemoteStore`, the store as
the run sees it there. Nothing here writes to the run store itself."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import ray

from metalearn.store import RunFolders

SYNC_EVERY = 10.0  # seconds between shipments of a running task's changed files (checkpoints)


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
