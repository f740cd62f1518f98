"""Time estimates (`metalearn.engine.estimate`): from a finished run of the same shape on the
same device, its time budget, or nothing; never from another device or image side."""

from unittest import mock

import pytest

from metalearn.engine.estimate import estimate, past_rates
from metalearn.engine.validate import make_config
from metalearn.store import Store

SHAPE = {"algorithm": "protonet", "dataset": "glyphs", "n_way": 5, "n_shot": 1, "n_query": 5}


def finished(
    store: Store,
    values: dict,
    device: str,
    *,
    trained: int,
    seconds: float,
    load: float,
    wall: float,
    tests: int = 100,
    status: str = "completed",
) -> str:
    """A run stored as the worker stores it, with its clock set: started at 1000.0, ended
    `wall` seconds later."""
    cfg = make_config({**SHAPE, "eval_episodes": tests, **values})
    run_id = store.create_run(cfg.to_json())
    with mock.patch("time.time", return_value=1000.0):
        store.start_run(run_id, device)
    result = {"train_seconds": seconds, "train_episodes": trained, "load_seconds": load}
    with mock.patch("time.time", return_value=1000.0 + wall):
        store.finish_run(run_id, status, result={**result, "eval_episodes": tests})
    return run_id


def test_a_run_of_the_same_shape_on_the_same_device_sets_the_pace(tmp_path):
    store = Store(tmp_path)
    # A budgeted run: asked for 10^8 episodes, trained 400 in 200 s (0.5 s each); its 100 test
    # episodes and start-up took the rest: 250 - 200 - 10 = 40 s.
    run_id = finished(store, {"episodes": 10**8, "max_seconds": 200}, "cpu",
                      trained=400, seconds=200.0, load=10.0, wall=250.0)  # fmt: skip
    rates = past_rates(store.list_runs())
    est = estimate(make_config({**SHAPE, "episodes": 100, "eval_episodes": 50}), "cpu", rates)
    assert est.exact and est.basis == run_id and not est.budgeted
    assert est.train == pytest.approx(50.0) and est.test == pytest.approx(20.0)
    assert est.load == pytest.approx(10.0) and est.total == pytest.approx(80.0)
    # With a budget shorter than its episodes take, training is the budget.
    est = estimate(make_config({**SHAPE, "episodes": 1000, "max_seconds": 60}), "cpu", rates)
    assert est.budgeted and est.train == 60.0
    # Another device, or another image side: nothing to go by but the budget.
    gpu = estimate(make_config({**SHAPE, "max_seconds": 60}), "cuda (NVIDIA H100)", rates)
    assert gpu.basis is None and gpu.train == 60.0 and gpu.total is None
    bigger = estimate(make_config({**SHAPE, "image_size": 56}), "cpu", rates)
    assert bigger.basis is None and bigger.train is None and bigger.total is None


def test_another_episode_shape_gives_a_rough_estimate_and_the_latest_run_wins(tmp_path):
    store = Store(tmp_path)
    finished(store, {"episodes": 100}, "cpu", trained=100, seconds=100.0, load=1.0, wall=120.0)
    latest = finished(store, {"episodes": 100}, "cpu", trained=100, seconds=50.0, load=1.0,
                      wall=70.0)  # fmt: skip
    finished(store, {"episodes": 100}, "cpu", trained=100, seconds=5.0, load=1.0, wall=7.0,
             status="failed")  # fmt: skip
    rates = past_rates(store.list_runs())
    same = estimate(make_config({**SHAPE, "episodes": 10}), "cpu", rates)
    assert same.exact and same.basis == latest and same.train == pytest.approx(5.0)
    other = estimate(make_config({**SHAPE, "n_shot": 5, "episodes": 10}), "cpu", rates)
    assert not other.exact and other.basis == latest and other.train == pytest.approx(5.0)
    # A hyperparameter that changes the work per episode is part of the shape.
    maml = {**SHAPE, "algorithm": "maml", "episodes": 10}
    finished(store, {**maml, "inner_steps": 1}, "cpu", trained=10, seconds=10.0, load=0, wall=11)
    rates = past_rates(store.list_runs())
    assert estimate(make_config({**maml, "inner_steps": 1}), "cpu", rates).exact
    assert not estimate(make_config({**maml, "inner_steps": 5}), "cpu", rates).exact


def test_a_run_through_ray_counts_for_its_device(tmp_path):
    store = Store(tmp_path)
    run_id = finished(store, {"episodes": 10}, "ray cpu", trained=10, seconds=1.0, load=0, wall=2)
    assert estimate(make_config(SHAPE), "cpu", past_rates(store.list_runs())).basis == run_id
