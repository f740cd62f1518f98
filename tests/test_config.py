import pytest

from metalearn.config import ConfigError, RunConfig
from metalearn.engine.validate import validate


def test_json_round_trip():
    cfg = RunConfig(algorithm="finetune", n_way=20, train_way=60, lr=0.01, extra={"a": 1})
    assert RunConfig.from_json(cfg.to_json()) == cfg
    assert cfg.hyper == {"lr": 0.01, "a": 1}  # hyperparameters apart from the spec
    assert cfg.train_shape == (60, 1, 15) and RunConfig().train_shape == RunConfig().test_shape


def test_unknown_keys_are_rejected():
    with pytest.raises(ConfigError, match="'n_wey' is not a setting of protonet"):
        validate(RunConfig.from_dict({"n_wey": 5}))
    refused = "'head' is not a setting of maml; its settings: backbone, input_size, lr"
    with pytest.raises(ConfigError, match=refused):
        validate(RunConfig(algorithm="maml", head="cosine"))


# How runs were stored before hyperparameters belonged to algorithms: every setting flat.
OLD_RUN = {
    "algorithm": "maml", "dataset": "glyphs", "data_root": None, "n_way": 5, "n_shot": 1,
    "n_query": 15, "train_way": None, "train_shot": None, "train_query": None, "episodes": 600,
    "meta_batch": 4, "lr": 0.001, "lr_decay_every": 0, "backbone": "conv4", "image_size": None,
    "head": "cosine", "batch_size": 64, "finetune_epochs": 100, "finetune_lr": 0.01,
    "finetune_mode": "episodic", "inner_lr": 0.3, "inner_steps": 1, "inner_steps_test": 3,
    "first_order": True, "maml_path": "auto", "precision": "auto", "eval_episodes": 600,
    "val_every": 250, "val_episodes": 100, "log_every": 25, "checkpoint_every": 0,
    "max_seconds": None, "seed": 0, "device": "auto", "extra": {},
}  # fmt: skip


def test_runs_stored_in_the_old_flat_form_still_load():
    from metalearn.engine.validate import stored

    cfg = stored(OLD_RUN)
    assert cfg.meta_batch == 4 and cfg.hyper["inner_lr"] == 0.3 and cfg.hyper["first_order"]
    assert "head" not in cfg.hyper  # another algorithm's setting, dropped
    assert validate(cfg) == cfg
    again = RunConfig.from_json(cfg.to_json())
    assert again == cfg and "hyper" in cfg.to_dict()


def test_defaults_are_applied_once_for_every_caller():
    from metalearn.engine.validate import make_config

    mann = make_config({"algorithm": "mann"})
    assert (mann.n_shot, mann.meta_batch) == (10, 16)  # its paper's, where none was given
    assert make_config({"algorithm": "mann", "n_shot": 3}).n_shot == 3
    assert make_config({}).hyper["lr_decay_every"] == 2000  # ProtoNet's schedule
    assert make_config({"algorithm": "maml"}).hyper["lr_decay_every"] == 0


def test_every_problem_is_reported_at_once():
    cfg = RunConfig(algorithm="nope", dataset="nada", n_shot=0, lr=-1, device="tpu")
    with pytest.raises(ConfigError) as err:
        cfg = validate(cfg)
    text = str(err.value)
    for part in (
        "algorithm 'nope'",
        "dataset 'nada'",
        "n_shot must be at least 1",
        "lr must be",
        "device 'tpu'",
        "protonet",
    ):
        assert part in text


def test_checks_against_the_dataset():
    with pytest.raises(ConfigError, match=r"n_way=700 is more than the 600 classes .*2\.\.600"):
        validate(RunConfig(n_way=700))
    with pytest.raises(ConfigError, match="n_shot \\+ n_query = 25 is more than the 20 images"):
        validate(RunConfig(n_shot=5, n_query=20))
    with pytest.raises(ConfigError, match="train_way=5000"):
        validate(RunConfig(train_way=5000))
    with pytest.raises(ConfigError, match="does not do regression"):
        validate(RunConfig(dataset="sinusoid"))
    validate(RunConfig(train_way=60, train_shot=5))  # fine


def test_missing_data_root_is_reported(tmp_path):
    with pytest.raises(ConfigError, match="omniglot.*not found"):
        validate(RunConfig(dataset="omniglot", data_root=str(tmp_path)))


def test_images_too_small_for_the_conv_networks_are_refused():
    with pytest.raises(ConfigError, match="image_size must be at least 16"):
        validate(RunConfig(image_size=8))
    validate(RunConfig(image_size=16))
    assert RunConfig(algorithm="mann", image_size=8, n_shot=10).problems() == []
