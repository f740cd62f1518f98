import sqlite3

from metalearn.config import RunConfig
from metalearn.store import Store


def test_round_trip(tmp_path):
    store = Store(tmp_path)
    cfg = RunConfig(n_way=20)
    run_id = store.create_run(cfg.to_json(), group_id="g1")
    assert store.get_run(run_id)["status"] == "queued"
    store.start_run(run_id, "cpu")
    store.log_metrics(run_id, 10, {"loss": 1.5, "accuracy": 0.25})
    store.log_metrics(run_id, 20, {"loss": 1.0})
    store.save_episodes(run_id, [0.5, 0.75])
    store.add_artifact(run_id, "checkpoint", tmp_path / "x.pt")
    store.finish_run(run_id, "completed", {"test_accuracy": 0.625})

    other = Store(tmp_path)  # a second connection, as a dashboard process would open
    run = other.get_run(run_id)
    assert RunConfig.from_dict(run["config"]) == cfg
    assert run["status"] == "completed" and run["result"] == {"test_accuracy": 0.625}
    assert run["device"] == "cpu" and run["group_id"] == "g1" and run["ended_at"]
    assert [(m["step"], m["name"], m["value"]) for m in other.metrics(run_id)] == [
        (10, "accuracy", 0.25),
        (10, "loss", 1.5),
        (20, "loss", 1.0),
    ]
    assert [m["step"] for m in other.metrics(run_id, since_step=10)] == [20]
    assert other.episodes(run_id) == [0.5, 0.75]
    assert other.artifacts(run_id) == {"checkpoint": str(tmp_path / "x.pt")}
    assert [r["id"] for r in other.list_runs()] == [run_id]

    mode = sqlite3.connect(tmp_path / "metalearn.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    other.delete_run(run_id)
    assert store.get_run(run_id) is None and store.metrics(run_id) == []
