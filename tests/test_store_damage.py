"""A damaged run store: each kind of damage gives a clear message (CLI exit 2, one dashboard
banner), readable runs stay readable, and `doctor --restore` brings back the rolling backup."""

import json
import os
import sqlite3
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from metalearn.config import RunConfig
from metalearn.store import Store, StoreError
from tests.conftest import run_cli_in_process

REPO = Path(__file__).resolve().parents[1]


def cli(home: Path, *args: str):
    """The CLI's main() in this process (the subprocess path is tested in tests/test_cli.py)."""
    return run_cli_in_process(*args, home=home)


def two_runs(home: Path) -> list[str]:
    store = Store(home)
    ids = []
    for n_way in (5, 10):
        ids.append(store.create_run(RunConfig(n_way=n_way).to_json()))
        store.log_metrics(ids[-1], 10, {"loss": 1.0})
        store.finish_run(ids[-1], "completed", {"test_accuracy": 0.5, "test_ci95": 0.1})
    store.close()
    return ids


def garbage_header(db: Path) -> None:
    db.write_bytes(b"not a database at all " * 300)


def a_directory(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.mkdir()


@pytest.mark.parametrize("damage", [garbage_header, a_directory])
def test_a_store_that_does_not_open_says_so_everywhere(tmp_path, monkeypatch, damage):
    two_runs(tmp_path)
    damage(tmp_path / "metalearn.db")
    with pytest.raises(StoreError, match="is damaged"):
        Store(tmp_path)
    for args in (["runs"], ["eval", "--run", "x"], ["train", "--episodes", "2"]):
        proc = cli(tmp_path, *args)
        assert proc.returncode == 2 and "damaged" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
    assert cli(tmp_path, "doctor").returncode == 2
    monkeypatch.setenv("METALEARN_HOME", str(tmp_path))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert [e.value for e in at.error][0].startswith("**The run store cannot be read.**")


def test_a_damaged_row_is_skipped_and_named(tmp_path, monkeypatch):
    good, bad = two_runs(tmp_path)
    with sqlite3.connect(tmp_path / "metalearn.db") as db:
        db.execute("UPDATE runs SET config='{broken' WHERE id=?", (bad,))
    store = Store(tmp_path)
    assert [r["id"] for r in store.list_runs()] == [good] and store.skipped == [bad]
    with pytest.raises(StoreError, match="stored row is damaged"):
        store.get_run(bad)
    listed = cli(tmp_path, "runs", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout)["id"] == good
    shown = cli(tmp_path, "eval", "--run", bad)
    assert shown.returncode == 2 and "stored row is damaged" in shown.stderr
    doctor = cli(tmp_path, "doctor")
    assert doctor.returncode == 2 and bad in doctor.stderr
    monkeypatch.setenv("METALEARN_HOME", str(tmp_path))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    at.switch_page("pages/views/runs.py").run()
    assert not at.exception
    assert any(bad in w.value and "doctor" in w.value for w in at.warning)


def test_a_truncated_store_is_found_and_the_backup_restores_it(tmp_path):
    ids = two_runs(tmp_path)
    store = Store(tmp_path)
    for step in range(2000):  # enough pages that a cut loses some of them
        store.log_metrics(ids[0], step + 100, {"loss": 1.0, "accuracy": 0.5})
    assert store.backup() is not None and store.backup() is None  # at most every 5 minutes
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    db = tmp_path / "metalearn.db"
    os.truncate(db, db.stat().st_size // 2)
    for args in (["runs"], ["doctor"]):
        proc = cli(tmp_path, *args)
        assert "Traceback" not in proc.stderr, proc.stderr
    assert cli(tmp_path, "doctor").returncode == 2
    restored = cli(tmp_path, "doctor", "--restore")
    assert restored.returncode == 0, restored.stderr
    assert "sound" in restored.stdout and list(tmp_path.glob("metalearn.db.damaged-*"))
    assert [r["id"] for r in Store(tmp_path).list_runs()] == ids


def test_an_emptied_store_is_rebuilt_from_the_run_folders(tmp_path):
    ids = two_runs(tmp_path)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp_path / 'metalearn.db'}{suffix}").unlink(missing_ok=True)
    (tmp_path / "metalearn.db").write_bytes(b"")
    runs = Store(tmp_path).list_runs()
    assert [r["id"] for r in runs] == ids
    assert all(r["status"] == "completed" and r["result"]["test_accuracy"] == 0.5 for r in runs)
