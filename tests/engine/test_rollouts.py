"""The `rollouts` kind: a real meta-RL run from the CLI (its main(), in-process), its keys,
defaults, pairing and the adaptation viewer's artifact."""

import json

import torch

from metalearn.engine.kinds import KINDS, kind_of
from metalearn.engine.validate import make_config
from tests.conftest import run_cli_in_process

TINY = ["--n-shot", "3", "--n-query", "3", "--meta-batch", "2", "--eval-episodes", "5"]


def train(home, *args):
    proc = run_cli_in_process(
        "train", "--dataset", "nav2d", *TINY, "--val-every", "0", "--json", "--no-progress", *args,
        home=home,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_a_maml_run_reports_return_by_adaptation_steps(tmp_path):
    result = train(tmp_path, "--algorithm", "maml", "--episodes", "4")
    assert result["kind"] == "rollouts"
    assert set(result["test_return_by_steps"]) == {"0", "1", "2", "3"}
    assert set(result["test_return_ci95_by_steps"]) == {"0", "1", "2", "3"}
    assert result["test_return"] == result["test_return_by_steps"]["3"]  # inner_steps_test
    assert all(-300 < v < 0 for v in result["test_return_by_steps"].values())
    assert result["eval_episodes"] == 5 and result["train_episodes"] == 4
    assert result["train_env_steps"] == 4 * (3 + 3) * 100  # K + Q trajectories of 100 steps
    assert result["pairing_key"] == "return@3|nav2d|test|K=3"
    assert {"return_threshold", "steps_to_threshold", "samples_to_threshold"} <= set(result)
    paths = json.loads((tmp_path / result["run_id"] / "rollouts.json").read_text())
    assert len(paths["goals"]) == 4 and set(paths["steps"]) == {"0", "1", "2", "3"}
    assert torch.tensor(paths["steps"]["0"]).shape == (4, 3, 101, 2)  # goals, paths, steps, xy


def test_the_pretrained_baseline_random_init_and_oracle_run(tmp_path):
    pre = train(tmp_path, "--algorithm", "finetune", "--episodes", "4")
    random = train(tmp_path, "--algorithm", "finetune", "--episodes", "0")
    oracle = train(tmp_path, "--algorithm", "oracle", "--episodes", "4")
    for r in (pre, random, oracle):
        assert r["kind"] == "rollouts" and set(r["test_return_by_steps"]) == {"0", "1", "2", "3"}
    assert random["train_episodes"] == 0
    assert pre["pairing_key"] == random["pairing_key"] == oracle["pairing_key"]


def test_the_kind_starts_from_the_papers_settings_and_a_user_overrides_them():
    cfg = make_config({"algorithm": "maml", "dataset": "nav2d"})
    assert (cfg.n_shot, cfg.meta_batch, cfg.eval_episodes) == (20, 20, 40)
    assert cfg.hyper["inner_lr"] == 0.1
    mine = make_config({"algorithm": "maml", "dataset": "nav2d", "n_shot": 7, "inner_lr": 0.3})
    assert (mine.n_shot, mine.hyper["inner_lr"]) == (7, 0.3)
    # Other kinds keep their defaults.
    assert make_config({"algorithm": "maml"}).hyper["inner_lr"] == 0.4
    assert make_config({"algorithm": "maml"}).n_shot == 1
    kind = KINDS["rollouts"]
    assert (
        "Trajectories" in kind.setting(__import__("metalearn.config").config.SPEC["n_shot"]).label
    )


def test_test_goals_are_fixed_prefixes_and_training_goals_avoid_them():
    cfg = make_config({"algorithm": "maml", "dataset": "nav2d"})
    kind = kind_of(cfg)
    assert torch.equal(kind.goals(cfg, "test", 5), kind.goals(cfg, "test", 40)[:5])
    assert not torch.equal(kind.goals(cfg, "test", 5), kind.goals(cfg, "val", 5))
    sampler = kind.training_data(cfg, None, torch.device("cpu"))
    held = torch.cat([kind.goals(cfg, "test", 40), kind.goals(cfg, "val", 20)])
    for _ in range(20):
        assert torch.cdist(sampler().goals, held).min() >= 0.01
