"""The bench command, sinusoid runs and divergence, through the CLI's main() in-process."""

import json
from pathlib import Path

import torch

from tests.conftest import run_cli_in_process

REPO = Path(__file__).resolve().parents[2]


def run(*args, home):
    proc = run_cli_in_process(*args, home=home)
    assert proc.returncode == 0, proc.stderr
    return proc


def test_bench_maml_reports_product_and_loop(tmp_path):
    proc = run(
        "bench", "--algorithm", "maml", "--device", "cpu", "--steps", "2", "--json", home=tmp_path
    )
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["variant"] for r in rows] == ["product", "loop"]
    for r in rows:
        assert {"algorithm", "variant", "device", "meta_batch", "tasks_per_second"} <= set(r)
        assert r["tasks_per_second"] > 0 and r["meta_batch"] == 4
    assert rows[0]["ratio_vs_loop"] > 0 and "product / loop" in proc.stderr


def test_sinusoid_run_reports_mse_by_steps_and_curves(tmp_path):
    proc = run(
        "train",
        "--algorithm",
        "maml",
        "--dataset",
        "sinusoid",
        "--n-way",
        "1",
        "--n-shot",
        "10",
        "--n-query",
        "10",
        "--meta-batch",
        "5",
        "--episodes",
        "100",
        "--inner-lr",
        "0.01",
        "--eval-episodes",
        "20",
        "--val-every",
        "50",
        "--val-episodes",
        "5",
        "--json",
        "--no-progress",
        home=tmp_path,
    )
    result = json.loads(proc.stdout.splitlines()[-1])
    assert {"test_mse", "test_mse_ci95"} <= set(result)
    assert {"0", "1", "10"} <= set(result["test_mse_by_steps"])
    assert result["maml_path"] in ("loop", "vmap", "threads")  # what "auto" chose, by timing
    curves = json.loads((tmp_path / result["run_id"] / "curves.json").read_text())
    assert len(curves) == 3 and set(curves[0]["predicted"]) == {str(k) for k in range(11)}
    assert len(curves[0]["support_x"]) == 10


def test_bench_covers_every_algorithm_against_a_reference():
    """Each registered algorithm has a reference step that does the same maths, and both train
    the module: after one update each, parameters changed and both rows are there."""
    import pytest

    from metalearn.algorithms import ALGORITHMS
    from metalearn.config import RunConfig
    from metalearn.engine.bench import bench
    from metalearn.engine.references import REFERENCES

    assert set(REFERENCES) == set(ALGORITHMS)
    for name, cls in ALGORITHMS.items():
        small = {"batch_size": 8} if "batch_size" in {s.name for s in cls.settings} else {}
        if "classification" not in cls.tasks:  # e.g. the RL oracle: on its own task
            small = {"dataset": "nav2d", "n_shot": 2}
        cfg = RunConfig(algorithm=name, n_query=3, meta_batch=2, device="cpu", **small)
        rows = bench(cfg, steps=1, warmup=1, rounds=1)
        assert [r["variant"] for r in rows] == ["product", "loop"], name
        assert rows[0]["ratio_vs_loop"] == pytest.approx(
            rows[0]["tasks_per_second"] / rows[1]["tasks_per_second"]
        )


class _Capture(torch.optim.Optimizer):
    """An optimiser that only keeps the gradients it is given."""

    def __init__(self, params):
        super().__init__(params, {})

    def step(self, closure=None):
        return None


def test_references_compute_the_same_gradients_as_the_product():
    from metalearn.algorithms import ALGORITHMS
    from metalearn.data import DATASETS
    from metalearn.engine.kinds import kind_of
    from metalearn.engine.references import REFERENCES
    from metalearn.engine.validate import make_config

    split = DATASETS["glyphs"].load(None, "train")
    info = DATASETS["glyphs"].describe(None)
    for name, cls in ALGORITHMS.items():
        if "classification" not in cls.tasks:
            continue  # tests/algorithms/test_reinforcement.py compares the RL steps
        settings = {"n_query": 3, "meta_batch": 2}
        if "batch_size" in {s.name for s in cls.settings}:
            settings["batch_size"] = 8
        cfg = make_config({"algorithm": name, **settings})
        torch.manual_seed(0)
        algo = cls(cfg, info, split.n_classes)
        data = kind_of(cfg).training_data(cfg, split, torch.device("cpu"))()  # as training draws
        grads = []
        for variant in ("product", "reference"):
            opt = _Capture(algo.parameters())
            torch.manual_seed(1)  # the same sequence orders for the memory network
            if variant == "product":
                algo.train_step(data, opt)
            else:
                REFERENCES[name](algo, data, opt)
            grads.append([p.grad.clone() for p in algo.parameters() if p.grad is not None])
        product, reference = grads
        assert len(product) == len(reference) > 0, name
        assert all(a.shape == b.shape for a, b in zip(product, reference, strict=True))
        # Float32 sums in another order (e.g. cdist vs an expanded square): all the gradients
        # together agree to 1e-3 relative (per tensor, the ~0 gradients of the biases that batch
        # norm cancels would be all rounding).
        a = torch.cat([g.flatten() for g in product])
        b = torch.cat([g.flatten() for g in reference])
        assert (a - b).norm() / a.norm() < 1e-3, (name, float((a - b).norm() / a.norm()))


def test_sinusoid_starts_from_the_maml_papers_settings_not_classifications():
    from metalearn.engine.validate import make_config

    cfg = make_config({"algorithm": "maml", "dataset": "sinusoid"})
    assert (cfg.n_way, cfg.n_shot, cfg.n_query, cfg.meta_batch) == (1, 10, 10, 25)
    assert cfg.hyper["inner_lr"] == 0.01
    mine = make_config({"algorithm": "maml", "dataset": "sinusoid", "inner_lr": 0.4, "n_shot": 5})
    assert mine.hyper["inner_lr"] == 0.4 and mine.n_shot == 5  # what a user gives wins
    assert make_config({"algorithm": "maml"}).hyper["inner_lr"] == 0.4  # classification's own


def test_a_diverged_run_says_so(tmp_path):
    from metalearn.store import Store

    tiny = ["--algorithm", "maml", "--dataset", "sinusoid", "--eval-episodes", "10"]
    tiny += ["--val-every", "0", "--no-progress", "--json"]
    # Adaptation that runs away at test time: reported, not a quiet NaN.
    proc = run("train", *tiny, "--episodes", "50", "--inner-lr", "0.4", home=tmp_path)
    result = json.loads(proc.stdout.splitlines()[-1])
    assert "adaptation diverged" in result["diverged"] and "inner_lr, now 0.4" in result["diverged"]
    # Training that runs away: the run fails with the episode and what to lower.
    proc = run_cli_in_process(
        "train", *tiny, "--episodes", "2000", "--inner-lr", "2", "--lr", "10", "--log-every", "25",
        home=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "training diverged at episode" in proc.stderr and "Lower the" in proc.stderr
    failed = [r for r in Store(tmp_path).list_runs() if r["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["error"].startswith("training diverged at episode")
