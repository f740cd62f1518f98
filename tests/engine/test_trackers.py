"""The TensorBoard and MLflow mirrors read back (TensorBoard's own event reader, MLflow's client
on a local file store) equal the store's metric rows."""

import json
import os
import subprocess
import sys

import pytest

from metalearn.store import Store
from tests.conftest import REPO


def tensorboard_rows(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    acc.Reload()
    return {(e.step, tag): e.value for tag in acc.Tags()["scalars"] for e in acc.Scalars(tag)}


def mlflow_rows(uri, run_id):
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("metalearn")
    (run,) = client.search_runs([exp.experiment_id], f"tags.`metalearn.run_id` = '{run_id}'")
    rows = {
        (m.step, name): m.value
        for name in run.data.metrics
        for m in client.get_metric_history(run.info.run_id, name)
    }
    return rows, run


def store_rows(home, run_id):
    return {(m["step"], m["name"]): m["value"] for m in Store(home).metrics(run_id)}


def assert_mirrors_equal_store(home, run_id, tb_dir, mlflow_uri, status="FINISHED"):
    want = store_rows(home, run_id)
    assert len(want) > 10
    got_tb = tensorboard_rows(tb_dir / run_id)
    assert got_tb.keys() == want.keys()
    assert all(got_tb[k] == pytest.approx(want[k], rel=1e-6) for k in want)  # float32 events
    got_ml, run = mlflow_rows(mlflow_uri, run_id)
    assert got_ml == pytest.approx(want, rel=1e-12)
    assert run.info.status == status
    assert run.data.params["algorithm"] == "protonet"


@pytest.mark.integration
def test_train_mirrors_its_metrics_to_tensorboard_and_mlflow(tmp_path):
    tb, ml = tmp_path / "tb", tmp_path / "mlruns"
    home = tmp_path / "runs"
    proc = subprocess.run(
        [sys.executable, "-m", "metalearn", "--home", str(home), "train", "--episodes", "30",
         "--eval-episodes", "10", "--val-every", "10", "--val-episodes", "5", "--log-every", "5",
         "--tensorboard-dir", str(tb), "--mlflow-uri", str(ml), "--json", "--no-progress"],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    run_id = json.loads(proc.stdout.strip().splitlines()[-1])["run_id"]
    assert_mirrors_equal_store(home, run_id, tb, ml.as_uri())


@pytest.mark.integration
def test_a_sweep_mirrors_through_its_worker_processes(tmp_path):
    from metalearn.engine.jobs import JobManager
    from metalearn.engine.sweep import SweepPlan, wait_for

    tb, ml = tmp_path / "tb", tmp_path / "mlruns"
    jobs = JobManager(tmp_path / "runs")
    plan = SweepPlan(
        axes={"seed": [3]},
        settings={"episodes": 20, "val_every": 10, "val_episodes": 5, "eval_episodes": 10,
                  "log_every": 2},
        tracking={"tensorboard_dir": str(tb), "mlflow_uri": ml.as_uri()},
    )  # fmt: skip
    _, (run_id,) = jobs.launch_sweep(plan)
    wait_for(jobs.store, [run_id], jobs.reap)
    assert jobs.store.get_run(run_id)["status"] == "completed"
    assert_mirrors_equal_store(tmp_path / "runs", run_id, tb, ml.as_uri())
