"""A sweep on a two-node Ray cluster (`ray.cluster_utils.Cluster`): the runs spread over the
nodes, and everything they log lands in the one store of the machine that launched them."""

import re
import time

import pytest

pytest.importorskip("ray")

from ray.cluster_utils import Cluster  # noqa: E402

from metalearn.engine.jobs import JobManager  # noqa: E402
from metalearn.engine.sweep import SweepPlan  # noqa: E402
from tests.engine.test_trackers import store_rows, tensorboard_rows  # noqa: E402


@pytest.fixture(scope="module")
def two_nodes():
    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False}
    )
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    try:
        yield cluster.address
    finally:
        cluster.shutdown()


def test_a_sweep_spreads_over_two_nodes_into_one_store(two_nodes, tmp_path):
    jobs = JobManager(tmp_path)
    plan = SweepPlan(
        axes={"algorithm": ["protonet", "matching"]},
        settings={"episodes": 30, "val_every": 15, "val_episodes": 5, "eval_episodes": 10},
        executor="ray",
        ray={"address": two_nodes, "cpus_per_run": 1},
        tracking={"tensorboard_dir": str(tmp_path / "tb")},  # mirrored by the driver
    )
    sweep_id, run_ids = jobs.launch_sweep(plan)
    deadline = time.time() + 240
    while time.time() < deadline and any(
        r["status"] in ("queued", "running") for r in jobs.store.group_runs(sweep_id)
    ):
        time.sleep(0.5)
    runs = jobs.store.group_runs(sweep_id)
    assert [r["status"] for r in runs] == ["completed", "completed"], [r["error"] for r in runs]
    nodes = set()
    for r in runs:
        text = (tmp_path / r["id"] / "worker.log").read_text()
        nodes.add(re.search(r"Ray node (\w+)", text).group(1))
        assert r["device"] == "ray cpu"
        assert len(jobs.store.episodes(r["id"])) == 10
        assert {m["name"] for m in jobs.store.metrics(r["id"])} >= {"loss", "val_accuracy"}
        assert (tmp_path / r["id"] / "result.json").exists()
        assert tensorboard_rows(tmp_path / "tb" / r["id"]) == pytest.approx(
            store_rows(tmp_path, r["id"]), rel=1e-6
        )
    assert len(nodes) == 2  # one CPU each: the two runs ran at once, one per node
