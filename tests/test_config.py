import pytest

from metalearn.config import ConfigError, RunConfig


def test_json_round_trip():
    cfg = RunConfig(algorithm="finetune", n_way=20, train_way=60, lr=0.01, extra={"a": 1})
    assert RunConfig.from_json(cfg.to_json()) == cfg
    assert cfg.train_shape == (60, 1, 15) and RunConfig().train_shape == RunConfig().test_shape


def test_unknown_keys_are_rejected():
    with pytest.raises(ConfigError, match="unknown setting"):
        RunConfig.from_dict({"n_wey": 5})


def test_every_problem_is_reported_at_once():
    cfg = RunConfig(algorithm="nope", dataset="nada", n_shot=0, lr=-1, device="tpu")
    with pytest.raises(ConfigError) as err:
        cfg.validate()
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
        RunConfig(n_way=700).validate()
    with pytest.raises(ConfigError, match="n_shot \\+ n_query = 25 is more than the 20 images"):
        RunConfig(n_shot=5, n_query=20).validate()
    with pytest.raises(ConfigError, match="train_way=5000"):
        RunConfig(train_way=5000).validate()
    with pytest.raises(ConfigError, match="does not do regression"):
        RunConfig(dataset="sinusoid").validate()
    RunConfig(train_way=60, train_shot=5).validate()  # fine


def test_missing_data_root_is_reported(tmp_path):
    with pytest.raises(ConfigError, match="omniglot.*not found"):
        RunConfig(dataset="omniglot", data_root=str(tmp_path)).validate()


def test_images_too_small_for_the_conv_networks_are_refused():
    with pytest.raises(ConfigError, match="image_size must be at least 16"):
        RunConfig(image_size=8).validate()
    RunConfig(image_size=16).validate()
    assert RunConfig(algorithm="mann", image_size=8, n_shot=10).problems() == []
