"""Typed records, and runs stored before this version (flat configuration, older checkpoints)."""

import json
import sqlite3

import torch

from metalearn.engine.records import record, records
from metalearn.engine.run import evaluate_run, execute
from metalearn.engine.validate import make_config
from metalearn.store import Store


def flat(cfg_dict: dict) -> dict:
    """The form runs were stored in before: every setting at the top level, and "extra"."""
    out = {k: v for k, v in cfg_dict.items() if k != "hyper"}
    return {**out, **cfg_dict["hyper"], "extra": {}}


def test_a_run_stored_the_old_way_loads_re_tests_and_reads_the_same(home):
    store = Store(home)
    cfg = make_config({"algorithm": "finetune", "episodes": 3, "eval_episodes": 8,
                       "val_every": 0, "finetune_epochs": 2, "n_query": 3})  # fmt: skip
    run_id = store.create_run(cfg.to_json())
    result = execute(cfg, store, run_id)
    # Rewrite what is stored the way older versions stored it.
    old = json.dumps(flat(cfg.to_dict()))
    with sqlite3.connect(home / "metalearn.db") as db:
        db.execute("UPDATE runs SET config=? WHERE id=?", (old, run_id))
        row = db.execute("SELECT result FROM runs WHERE id=?", (run_id,)).fetchone()
        legacy = {k: v for k, v in json.loads(row[0]).items() if k not in ("kind", "pairing_key")}
        db.execute("UPDATE runs SET result=? WHERE id=?", (json.dumps(legacy), run_id))
    path = store.artifact(run_id, "checkpoint")
    state = torch.load(path, weights_only=True)
    state["config"] = old
    del state["n_train_classes"]  # older checkpoints did not record it
    torch.save(state, path)

    rec = record(store, run_id)
    assert rec.spec.hyper["finetune_epochs"] == 2 and "inner_lr" not in rec.spec.hyper
    assert rec.kind.name == "transfer" and rec.result.value == result["test_accuracy"]
    assert rec.pairing_key == result["pairing_key"]  # worked out again from the spec
    again = evaluate_run(store, run_id)
    assert again["test_accuracy"] == result["test_accuracy"]
    assert [r.id for r in records(store)] == [run_id]
    assert "Test accuracy" in rec.summary()
