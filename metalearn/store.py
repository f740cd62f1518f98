"""The run store: every SQL statement of the project lives in this module.

SQLite in WAL mode under the runs directory ($METALEARN_HOME, default ./runs), so a training worker
can write while dashboards read. Each write commits at once: a worker that dies loses nothing it
had logged.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    status TEXT NOT NULL,
    device TEXT,
    group_id TEXT,
    pid INTEGER,
    heartbeat REAL,
    created_at REAL NOT NULL,
    started_at REAL,
    ended_at REAL,
    error TEXT,
    result TEXT,
    stop_requested INTEGER NOT NULL DEFAULT 0,
    name TEXT,  -- a person's name for the run ("baseline for class 3"); the id stays the key
    note TEXT
);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    name TEXT NOT NULL,
    value REAL NOT NULL,
    time REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS metrics_run ON metrics(run_id, name, step);
-- one value per (run, step, name): a resumed run rewrites the steps it repeats, never doubles them

CREATE TABLE IF NOT EXISTS episodes (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    episode INTEGER NOT NULL,
    value REAL NOT NULL,  -- the episode's accuracy (classification) or MSE (regression)
    PRIMARY KEY (run_id, episode)
);
CREATE TABLE IF NOT EXISTS sweeps (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    plan TEXT NOT NULL,  -- its grid: shared settings, axes, executor (JSON)
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS artifacts (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    PRIMARY KEY (run_id, kind)
);
"""

STATUSES = ("queued", "running", "completed", "failed", "stopped", "lost")
RESUMABLE = ("stopped", "lost", "failed")
UNIQUE_METRICS = "CREATE UNIQUE INDEX IF NOT EXISTS metrics_unique ON metrics(run_id, step, name)"
RUN_FILE = ".metalearn.zip"  # how a run taken away as one file is named (`engine.portable`)
ARTIFACTS = {  # where each artifact of a run lives, in its folder
    "checkpoint": "checkpoint.pt",
    "embeddings": "embeddings.npz",
    "memory": "memory.npz",
    "regression_curves": "curves.json",
    "rollouts": "rollouts.json",
    "log": "worker.log",
}


def artifact_path(runs_home: Path, run_id: str, kind: str) -> Path:
    """Where the artifact `kind` ("checkpoint", "embeddings", ...) of a run lives.

    Raises:
        KeyError: an artifact kind not in `ARTIFACTS`.
    """
    return Path(runs_home) / run_id / ARTIFACTS[kind]


BACKUP = "metalearn.db.bak"
BACKUP_EVERY = 300.0  # seconds between rolling backups


class StoreError(RuntimeError):
    """The run store's database cannot be read: damaged, truncated, or not a database."""


def damaged(db_path: Path, err: Exception) -> StoreError:
    """The error a damaged store raises: what is wrong and what to do, with no server paths
    beyond the store's own file name."""
    backup = db_path.with_name(BACKUP)
    fix = (
        "restore the last backup with `python -m metalearn doctor --restore`"
        if backup.exists()
        else "move it aside to start an empty store (no backup exists yet)"
    )
    return StoreError(
        f"the run store {db_path.name} is damaged ({err}); run `python -m metalearn doctor` "
        f"to check it, and {fix}"
    )


class ResumeRefused(ValueError):
    """A run that may not be resumed now: active (a worker has it), completed, or claimed by a
    resume fired at the same moment."""


class NoSuchRun(LookupError):
    """No run has this id (the same error for every layer that looks a run up)."""

    def __init__(self, run_id: str):
        self.run_id = run_id
        super().__init__(f"no run with id {run_id!r}")


def home(path: str | Path | None = None) -> Path:
    """The runs directory: the given path, else $METALEARN_HOME, else ./runs."""
    p = Path(path or os.environ.get("METALEARN_HOME") or "runs").expanduser()
    try:
        p.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise StoreError(f"the runs directory {p} is a file, not a folder; give a folder") from None
    return p


def store_file(runs_home: str | Path | None = None) -> Path:
    """The database file of a runs directory."""
    return home(runs_home) / "metalearn.db"


class RunFolders:
    """Where each run's files live: one folder per run under `home` (the store's, or a Ray
    task's scratch folder whose files are shipped to the store's)."""

    home: Path

    def run_dir(self, run_id: str) -> Path:
        path = self.home / run_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def artifact(self, run_id: str, kind: str) -> Path:
        """Where the artifact `kind` of a run lives (whether or not it exists yet)."""
        return artifact_path(self.home, run_id, kind)

    def has_artifact(self, run_id: str, kind: str) -> bool:
        return self.artifact(run_id, kind).exists()


class Store(RunFolders):
    """A connection to the run store. Cheap to create; one per process or thread."""

    def __init__(self, path: str | Path | None = None):
        """Opens (or creates) the store under the runs directory.

        Raises:
            StoreError: the database file is damaged or is not a database.
        """
        self.home = home(path)
        self.path = store_file(self.home)
        self.skipped: list[str] = []  # ids of rows `list_runs` could not read
        empty = self.path.is_file() and self.path.stat().st_size == 0
        try:
            self.db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self._open()
        except sqlite3.DatabaseError as err:
            if isinstance(err, sqlite3.OperationalError) and "locked" in str(err):
                raise
            raise damaged(self.path, err) from None
        if empty:
            self.rebuild_from_folders()

    def _open(self) -> None:
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA busy_timeout=30000")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(SCHEMA)
        episode_columns = {r["name"] for r in self.db.execute("PRAGMA table_info(episodes)")}
        if "accuracy" in episode_columns:  # stores written before regression runs existed
            with self.db:
                self.db.execute("ALTER TABLE episodes RENAME COLUMN accuracy TO value")
        indexes = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master")}
        if "metrics_unique" not in indexes:  # stores written before metric rows were unique
            with self.db:
                self.db.execute(
                    "DELETE FROM metrics WHERE rowid NOT IN "
                    "(SELECT MAX(rowid) FROM metrics GROUP BY run_id, step, name)"
                )
                self.db.execute(UNIQUE_METRICS)
        columns = {r["name"] for r in self.db.execute("PRAGMA table_info(runs)")}
        if "stop_requested" not in columns:  # stores written before stop requests existed
            with self.db:
                self.db.execute(
                    "ALTER TABLE runs ADD COLUMN stop_requested INTEGER NOT NULL DEFAULT 0"
                )
        for column in ("name", "note"):  # stores written before runs had names
            if column not in columns:
                with self.db:
                    self.db.execute(f"ALTER TABLE runs ADD COLUMN {column} TEXT")

    def close(self) -> None:
        self.db.close()

    # -- health -----------------------------------------------------------------------------
    def check(self) -> list[str]:
        """SQLite's quick check and each run row's JSON: the problems found ([] when sound)."""
        try:
            found = [r[0] for r in self.db.execute("PRAGMA quick_check")]
        except sqlite3.DatabaseError as err:
            return [str(err)]
        problems = [] if found == ["ok"] else found
        self.list_runs()
        return problems + [f"run {i}: its stored row is damaged" for i in self.skipped]

    def backup(self, every: float = BACKUP_EVERY) -> Path | None:
        """A rolling copy of a sound store (SQLite's online backup API, safe while workers
        write), at most once per `every` seconds. Returns the backup's path if one was made."""
        target = self.home / BACKUP
        if target.exists() and time.time() - target.stat().st_mtime < every:
            return None
        if self.check():
            log.warning("run store damaged: no backup made over the last good one")
            return None
        part = target.with_suffix(".part")
        dest = sqlite3.connect(part)
        try:
            self.db.backup(dest)
        finally:
            dest.close()
        os.replace(part, target)
        return target

    def rebuild_from_folders(self) -> list[str]:
        """Indexes again the runs whose folders hold a `config.json` but which the store does
        not know (an emptied database): finished ones with their `result.json`, the others as
        lost (resumable from a checkpoint). Metric curves are not recovered. Returns their ids."""
        known = {r[0] for r in self.db.execute("SELECT id FROM runs")}
        found = []
        for config in sorted(self.home.glob("*/config.json")):
            run_id = config.parent.name
            if run_id in known:
                continue
            result = config.with_name("result.json")
            done = result.exists()
            with self.db:
                self.db.execute(
                    "INSERT INTO runs (id, config, status, created_at, result, error) "
                    "VALUES (?,?,?,?,?,?)",
                    (
                        run_id,
                        config.read_text(),
                        "completed" if done else "lost",
                        config.stat().st_mtime,
                        result.read_text() if done else None,
                        None if done else "re-indexed from its folder after the store was emptied",
                    ),
                )
            found.append(run_id)
        if found:
            log.warning("re-indexed %d runs from their folders", len(found))
        return found

    # -- runs -------------------------------------------------------------------------------
    def create_run(
        self,
        config_json: str,
        group_id: str | None = None,
        name: str | None = None,
        note: str | None = None,
    ) -> str:
        """Records a queued run; returns its id. `name` and `note`: see `name_run`."""
        name, note = _words(name, "name", MAX_NAME), _words(note, "note", MAX_NOTE)
        run_id = time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
        (self.run_dir(run_id) / "config.json").write_text(config_json)  # for a rebuild
        with self.db:
            self.db.execute(
                "INSERT INTO runs (id, config, status, group_id, created_at, name, note) "
                "VALUES (?,?,?,?,?,?,?)",
                (run_id, config_json, "queued", group_id, time.time(), name, note),
            )
        return run_id

    def name_run(self, run_id: str, name: str | None, note: str | None = None) -> None:
        """Gives a run a name and a note (None or blank: none), shown wherever it is listed.

        Raises:
            NoSuchRun: no run has this id.
            ValueError: a name over `MAX_NAME` or a note over `MAX_NOTE` characters, or a name
                with a line break.
        """
        name, note = _words(name, "name", MAX_NAME), _words(note, "note", MAX_NOTE)
        with self.db:
            changed = self.db.execute(
                "UPDATE runs SET name=?, note=? WHERE id=?", (name, note, run_id)
            ).rowcount
        if not changed:
            raise NoSuchRun(run_id)

    def add_finished_run(
        self,
        config_json: str,
        result: dict[str, Any],
        metrics: list[tuple[int, str, float, float]],
        episodes: list[float],
        files: dict[str, bytes],
        name: str | None = None,
        note: str | None = None,
    ) -> str:
        """A completed run brought from elsewhere (`engine.portable`): its folder's files
        (named as `ARTIFACTS` names them), then its row (with its `name` and `note`), curves
        (step, name, value, time), test scores and artifacts in one transaction. Returns its
        new id; on any failure nothing of it is left."""
        name, note = _words(name, "name", MAX_NAME), _words(note, "note", MAX_NOTE)
        names = {file: kind for kind, file in ARTIFACTS.items()}
        unknown = set(files) - set(names)
        if unknown:
            raise ValueError(f"not run files: {sorted(unknown)}")
        run_id = time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
        folder = self.run_dir(run_id)
        try:
            for file, data in files.items():
                (folder / file).write_bytes(data)
            (folder / "config.json").write_text(config_json)
            (folder / "result.json").write_text(json.dumps(result))
            now = time.time()
            with self.db:
                self.db.execute(
                    "INSERT INTO runs (id, config, status, created_at, started_at, ended_at, "
                    "result, device, name, note) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (run_id, config_json, "completed", now, now, now, json.dumps(result))
                    + (result.get("device"), name, note),
                )
                self.db.executemany(
                    "INSERT INTO metrics (run_id, step, name, value, time) VALUES (?,?,?,?,?)",
                    [(run_id, *m) for m in metrics],
                )
                self.db.executemany(
                    "INSERT INTO episodes (run_id, episode, value) VALUES (?,?,?)",
                    [(run_id, i, v) for i, v in enumerate(episodes)],
                )
                self.db.executemany(
                    "INSERT INTO artifacts (run_id, kind, path) VALUES (?,?,?)",
                    [(run_id, names[n], str(folder / n)) for n in files],
                )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return run_id

    def start_run(self, run_id: str, device: str, pid: int | None = None) -> None:
        now = time.time()
        with self.db:
            self.db.execute(
                "UPDATE runs SET status='running', device=?, pid=?,"
                " started_at=COALESCE(started_at, ?), heartbeat=?, ended_at=NULL, error=NULL"
                " WHERE id=?",
                (device, pid or os.getpid(), now, now, run_id),
            )

    def heartbeat(self, run_id: str) -> None:
        with self.db:
            self.db.execute("UPDATE runs SET heartbeat=? WHERE id=?", (time.time(), run_id))

    def finish_run(
        self,
        run_id: str,
        status: str,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        with self.db:
            self.db.execute(
                "UPDATE runs SET status=?, ended_at=?, result=COALESCE(?, result), error=? "
                "WHERE id=?",
                (status, time.time(), json.dumps(result) if result else None, error, run_id),
            )
        if result and status == "completed":
            (self.run_dir(run_id) / "result.json").write_text(json.dumps(result))

    def claim_resume(self, run_id: str, alive: Callable[[int | None], bool]) -> None:
        """Moves a resumable run back to the queue, in one transaction, for the calling process:
        of two resumes fired at once exactly one wins (the other sees a queued run whose
        claimant, this process, is alive). Stop request, end time and error are cleared.

        Args:
            run_id: the run.
            alive: whether a process id is a live process (a queued or running run whose
                worker died before anyone marked it lost may be resumed).

        Raises:
            NoSuchRun: no such run.
            ResumeRefused: it is completed, or queued or running in a live process.
        """
        self.db.execute("BEGIN IMMEDIATE")
        try:
            row = self.db.execute("SELECT status, pid FROM runs WHERE id=?", (run_id,)).fetchone()
            if row is None:
                raise NoSuchRun(run_id)
            status = row["status"]
            if status == "completed":
                raise ResumeRefused(
                    f"run {run_id} is completed; launch it again instead (resuming would "
                    "change a finished result)"
                )
            if status not in RESUMABLE and alive(row["pid"]):
                raise ResumeRefused(f"run {run_id} is {status}; it needs no resuming")
            self.db.execute(
                "UPDATE runs SET status='queued', stop_requested=0, ended_at=NULL, error=NULL, "
                "pid=?, heartbeat=? WHERE id=?",
                (os.getpid(), time.time(), run_id),
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        (self.home / run_id / "failure.txt").unlink(missing_ok=True)  # an old failure's note

    def request_stop(self, run_id: str) -> None:
        with self.db:
            self.db.execute("UPDATE runs SET stop_requested=1 WHERE id=?", (run_id,))

    def stop_requested(self, run_id: str) -> bool:
        row = self.db.execute("SELECT stop_requested FROM runs WHERE id=?", (run_id,)).fetchone()
        return bool(row and row[0])

    def active_runs(self) -> list[dict[str, Any]]:
        """Runs that are queued or running, oldest first."""
        rows = self.db.execute(
            "SELECT * FROM runs WHERE status IN ('queued', 'running') ORDER BY created_at"
        ).fetchall()
        return [_run(r) for r in rows]

    def set_pid(self, run_id: str, pid: int) -> None:
        with self.db:
            self.db.execute("UPDATE runs SET pid=? WHERE id=?", (pid, run_id))

    def set_worker(self, run_id: str, pid: int, device: str) -> None:
        """Records the worker process of a queued run and the device it will train on."""
        with self.db:
            self.db.execute(
                "UPDATE runs SET pid=?, device=?, heartbeat=? WHERE id=?",
                (pid, device, time.time(), run_id),
            )

    def try_start(self, run_id: str, device: str, limit: int) -> bool:
        """Starts a queued run if its device has a free slot and no older run waits for it.

        Atomic (an immediate transaction), so concurrent workers never overfill a device.
        """
        self.db.execute("BEGIN IMMEDIATE")
        try:
            row = self.db.execute("SELECT created_at FROM runs WHERE id=?", (run_id,)).fetchone()
            running = self.db.execute(
                "SELECT COUNT(*) FROM runs WHERE status='running' AND device=?", (device,)
            ).fetchone()[0]
            older = self.db.execute(
                # An older run whose worker has not said its device yet counts too (no overtaking).
                "SELECT COUNT(*) FROM runs WHERE status='queued' AND created_at<? "
                "AND (device=? OR device IS NULL OR device='')",
                (row[0], device),
            ).fetchone()[0]
            free = running + older < limit
            if free:
                now = time.time()
                self.db.execute(
                    "UPDATE runs SET status='running', started_at=?, heartbeat=? WHERE id=?",
                    (now, now, run_id),
                )
            self.db.execute("COMMIT")
            return free
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def note_failure(self, run_id: str, reason: str) -> None:
        """Leaves why a run failed in its folder (`failure.txt`) when the database cannot take
        it (disk full): whoever marks the run lost later reads it (`failure_note`)."""
        try:
            (self.home / run_id / "failure.txt").write_text(reason[:2000])
        except OSError as err:
            log.error(
                "run %s failed (%s); not even its note could be written: %s", run_id, reason, err
            )

    def failure_note(self, run_id: str) -> str | None:
        try:
            return (self.home / run_id / "failure.txt").read_text()[:2000] or None
        except OSError:
            return None

    def mark_lost(self, run_id: str, error: str) -> bool:
        """Marks an active run lost; False if it had finished meanwhile (then nothing changes)."""
        with self.db:
            cur = self.db.execute(
                "UPDATE runs SET status='lost', ended_at=?, error=? "
                "WHERE id=? AND status IN ('queued', 'running')",
                (time.time(), error, run_id),
            )
        return cur.rowcount == 1

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        """The run, None if there is none.

        Raises:
            StoreError: its stored row is damaged.
        """
        row = self.db.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
        try:
            return _run(row) if row else None
        except (ValueError, TypeError) as err:
            raise StoreError(f"run {run_id}: its stored row is damaged ({err})") from None

    def list_runs(self) -> list[dict[str, Any]]:
        """Every readable run, oldest first; the ids of damaged rows go to `self.skipped`."""
        rows = self.db.execute("SELECT * FROM runs ORDER BY created_at").fetchall()
        out, self.skipped = [], []
        for r in rows:
            try:
                out.append(_run(r))
            except (ValueError, TypeError):
                self.skipped.append(r["id"])
        if self.skipped:
            log.warning("run rows that cannot be read: %s", ", ".join(self.skipped))
        return out

    def delete_run(self, run_id: str) -> None:
        with self.db:
            self.db.execute("DELETE FROM runs WHERE id=?", (run_id,))

    # -- sweeps -----------------------------------------------------------------------------
    def create_sweep(self, name: str, plan: dict[str, Any]) -> str:
        """Records a sweep (its runs are created with `group_id` = its id). Returns its id."""
        sweep_id = "sweep-" + time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)
        with self.db:
            self.db.execute(
                "INSERT INTO sweeps (id, name, plan, created_at) VALUES (?,?,?,?)",
                (sweep_id, name, json.dumps(plan, sort_keys=True), time.time()),
            )
        return sweep_id

    def get_sweep(self, sweep_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM sweeps WHERE id=?", (sweep_id,)).fetchone()
        return {**dict(row), "plan": json.loads(row["plan"])} if row else None

    def list_sweeps(self) -> list[dict[str, Any]]:
        """Every sweep, newest first."""
        rows = self.db.execute("SELECT * FROM sweeps ORDER BY created_at DESC").fetchall()
        return [{**dict(r), "plan": json.loads(r["plan"])} for r in rows]

    def group_runs(self, group_id: str) -> list[dict[str, Any]]:
        """The runs of a sweep or comparison group, in the order they were created."""
        rows = self.db.execute(
            "SELECT * FROM runs WHERE group_id=? ORDER BY created_at, rowid", (group_id,)
        ).fetchall()
        return [_run(r) for r in rows]

    # -- metrics ----------------------------------------------------------------------------
    def log_metrics(self, run_id: str, step: int, values: dict[str, float]) -> None:
        now = time.time()
        with self.db:
            self.db.executemany(
                "INSERT INTO metrics (run_id, step, name, value, time) VALUES (?,?,?,?,?) "
                "ON CONFLICT (run_id, step, name) DO UPDATE SET value=excluded.value, "
                "time=excluded.time",
                [(run_id, step, k, float(v), now) for k, v in values.items()],
            )
            self.db.execute("UPDATE runs SET heartbeat=? WHERE id=?", (now, run_id))

    def drop_metrics_after(self, run_id: str, step: int) -> None:
        """Forgets a run's metric rows past `step`: a run resumed from its checkpoint at `step`
        logs those steps again, and its curves show no points from the lost stretch."""
        with self.db:
            self.db.execute("DELETE FROM metrics WHERE run_id=? AND step>?", (run_id, step))

    def metrics_of(self, run_ids: list[str]) -> list[dict[str, Any]]:
        """All metric rows of several runs, for overlays."""
        marks = ",".join("?" * len(run_ids))
        rows = self.db.execute(
            f"SELECT run_id, step, name, value, time FROM metrics WHERE run_id IN ({marks}) "
            "ORDER BY run_id, step",
            run_ids,
        ).fetchall()
        return [dict(r) for r in rows]

    def metrics(self, run_id: str, since_step: int = -1) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT step, name, value, time FROM metrics WHERE run_id=? AND step>? "
            "ORDER BY step, name",
            (run_id, since_step),
        ).fetchall()
        return [dict(r) for r in rows]

    # -- test episodes and artifacts --------------------------------------------------------
    def save_episodes(self, run_id: str, values: list[float]) -> None:
        """Per test episode: accuracy (classification) or MSE (regression), in episode order."""
        with self.db:
            self.db.execute("DELETE FROM episodes WHERE run_id=?", (run_id,))
            self.db.executemany(
                "INSERT INTO episodes (run_id, episode, value) VALUES (?,?,?)",
                [(run_id, i, a) for i, a in enumerate(values)],
            )

    def episodes(self, run_id: str) -> list[float]:
        rows = self.db.execute(
            "SELECT value FROM episodes WHERE run_id=? ORDER BY episode", (run_id,)
        ).fetchall()
        return [r[0] for r in rows]

    def add_artifact(self, run_id: str, kind: str, path: str | Path) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO artifacts (run_id, kind, path) VALUES (?,?,?)",
                (run_id, kind, str(path)),
            )

    def artifacts(self, run_id: str) -> dict[str, str]:
        rows = self.db.execute(
            "SELECT kind, path FROM artifacts WHERE run_id=?", (run_id,)
        ).fetchall()
        return {r["kind"]: r["path"] for r in rows}


def restore_backup(runs_home: str | Path | None = None) -> Path:
    """Replaces a runs directory's database by its last backup; the damaged file is kept
    beside it (`metalearn.db.damaged-<time>`). Needs no working store. Returns where the damaged
    file went.

    Raises:
        StoreError: there is no backup.
    """
    where = home(runs_home)
    source = where / BACKUP
    if not source.exists():
        raise StoreError(f"no backup ({BACKUP}) in the runs directory to restore from")
    kept = where / f"metalearn.db.damaged-{time.strftime('%Y%m%d-%H%M%S')}"
    for suffix in ("", "-wal", "-shm"):
        old = where / f"metalearn.db{suffix}"
        if old.exists() or old.is_symlink():
            os.replace(old, kept.with_name(kept.name + suffix))
    shutil.copyfile(source, where / "metalearn.db")
    return kept


MAX_NAME, MAX_NOTE = 80, 2000  # characters


def _words(text: str | None, what: str, most: int) -> str | None:
    """A run's name or note as stored: trimmed, None when blank."""
    text = "" if text is None else str(text).strip()
    if len(text) > most:
        raise ValueError(f"a run's {what} has at most {most} characters; this one has {len(text)}")
    if what == "name" and "\n" in text:
        raise ValueError("a run's name is one line; put the rest in its note")
    return text or None


def _run(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out["config"] = json.loads(out["config"])
    out["result"] = json.loads(out["result"]) if out["result"] else None
    return out
