"""Sweep plans: the grid's runs, every problem at once, settings to the algorithms that read
them; the CLI's refusals; a local sweep's stop and resume."""

import json

import pytest

from metalearn.config import ConfigError
from metalearn.engine.sweep import MAX_RUNS, SweepPlan, describe_grid, estimate_seconds
from metalearn.store import Store
from tests.conftest import run_cli_in_process


def test_the_grid_is_the_product_of_its_axes_in_a_fixed_order():
    plan = SweepPlan(
        axes={"n_shot": [1, 5, 5], "seed": [0, 1], "algorithm": ["protonet", "maml"]},
        settings={"episodes": 10, "inner_lr": 0.2},
    )
    configs = plan.configs()
    assert plan.size() == 8 and len(configs) == 8  # the repeated 5 counts once
    assert [(c.algorithm, c.seed, c.n_shot) for c in configs][:3] == [
        ("protonet", 0, 1),
        ("protonet", 0, 5),
        ("protonet", 1, 1),
    ]
    assert all(c.episodes == 10 for c in configs)
    # An algorithm's own setting goes to the algorithms that read it, and only to them.
    assert {c.hyper.get("inner_lr") for c in configs if c.algorithm == "maml"} == {0.2}
    assert all("inner_lr" not in c.hyper for c in configs if c.algorithm == "protonet")
    assert describe_grid(plan) == "protonet, maml × 2 seeds × K 1, 5"


def test_every_problem_of_every_run_is_reported_at_once():
    plan = SweepPlan(
        axes={"algorithm": ["protonet", "nope"], "n_shot": [1, 0], "color": ["red"]},
        settings={"inner_lr": 0.1},
    )
    with pytest.raises(ConfigError) as err:
        plan.configs()
    assert err.value.problems == ["'color' cannot be a sweep axis; axes: " + ", ".join(
        ["algorithm", "seed", "n_shot", "n_way", "dataset", "backbone"])]  # fmt: skip
    plan.axes.pop("color")
    with pytest.raises(ConfigError) as err:
        plan.configs()
    text = "\n".join(err.value.problems)
    assert "inner_lr is read by" in text and "none of this sweep's algorithms" in text
    assert "protonet, 0-shot: n_shot must be at least 1" in text  # which run, and why
    assert "nope, 1-shot: algorithm 'nope' is unknown" in text


def test_grids_too_large_or_empty_are_refused():
    huge = SweepPlan(axes={"seed": list(range(MAX_RUNS + 1))})
    assert "at most" in huge.problems()[0]
    assert "has no values" in SweepPlan(axes={"seed": []}).problems()[0]
    with pytest.raises(ConfigError, match="must be a JSON object"):
        SweepPlan.from_dict([1, 2])
    with pytest.raises(ConfigError, match="unknown key 'axis'"):
        SweepPlan.from_dict({"axis": {"seed": [0]}})


def cli(home, *args):
    """`python -m metalearn sweep ARGS`: main() in-process (its runs are worker processes)."""
    return run_cli_in_process("sweep", *args, home=home)


def test_cli_refusals_are_clear(tmp_path):
    proc = cli(tmp_path, "--episodes", "10")
    assert proc.returncode == 2 and "needs at least one axis" in proc.stderr
    proc = cli(tmp_path, "--algorithms", "protonet", "relation", "--dataset", "sinusoid")
    assert proc.returncode == 2
    assert "protonet, on sinusoid: algorithm 'protonet' does not do regression" in proc.stderr
    proc = cli(tmp_path, "--stop", "sweep-nope")
    assert proc.returncode == 2 and "no run with id 'sweep-nope'" in proc.stderr
    assert Store(tmp_path).list_runs() == []  # nothing was created


@pytest.mark.integration  # the sweep's runs are worker processes
def test_a_grid_file_with_flags_added_runs_locally_and_resumes(tmp_path):
    grid = tmp_path / "grid.json"
    grid.write_text(
        json.dumps(
            {
                "name": "tiny",
                "axes": {"algorithm": ["protonet"], "seed": [0, 1]},
                "settings": {"episodes": 10, "eval_episodes": 10, "val_every": 0},
            }
        )
    )
    proc = cli(tmp_path / "runs", "--grid", str(grid), "--n-shot", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [(r["seed"], r["n_shot"], r["status"]) for r in out["runs"]] == [
        (0, 2, "completed"),
        (1, 2, "completed"),
    ]
    assert all(0 < r["test_accuracy"] <= 1 for r in out["runs"])
    store = Store(tmp_path / "runs")
    assert store.get_sweep(out["sweep_id"])["name"] == "tiny"
    # A sweep whose runs all completed has nothing to resume.
    proc = cli(tmp_path / "runs", "--resume", out["sweep_id"])
    assert proc.returncode == 2 and "nothing to resume" in proc.stderr
    # The estimate goes by these runs: training and testing seconds per episode.
    configs = SweepPlan(axes={"seed": [5]}, settings={"episodes": 20}).configs()
    assert estimate_seconds(store, configs) > 0
    assert estimate_seconds(store, SweepPlan(axes={"algorithm": ["maml"]}).configs()) is None


@pytest.mark.integration  # Ray's client
def test_a_ray_address_where_nothing_listens_is_refused_before_any_run(tmp_path):
    import socket

    with socket.socket() as s:  # a port with nothing behind it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = cli(tmp_path, "--seeds", "0", "--executor", "ray", "--ray-address", f"127.0.0.1:{port}")
    assert proc.returncode == 2
    assert f"nothing answers at the Ray address 127.0.0.1:{port}" in proc.stderr
    proc = cli(tmp_path, "--seeds", "0", "--executor", "ray", "--ray-address", "somewhere")
    assert proc.returncode == 2 and "is not host:port" in proc.stderr
    assert Store(tmp_path).list_runs() == [] and Store(tmp_path).list_sweeps() == []
