import pytest
import torch

from metalearn.config import RunConfig
from metalearn.engine.run import execute
from metalearn.store import Store
from tests.formats import write_cifar10


def pipeline(root, **settings) -> RunConfig:
    """A run of the article's CIFAR-10 pipeline on the generated copy under `root`."""
    return RunConfig(
        algorithm="finetune",
        dataset="cifar10",
        data_root=str(root),
        finetune_mode="seed",
        device="cpu",
        **settings,
    )


@pytest.mark.learning
def test_seed_pipeline_end_to_end_on_generated_cifar10(tmp_path):
    """The article's section 4: SimpleCNN on CIFAR-10, fine-tuned on 1000 images, scored on the test
    set. The generated classes differ in colour and stripes, so it must beat chance (0.1)
    clearly."""
    write_cifar10(tmp_path, per_class_train=100, per_class_test=20)
    store = Store(tmp_path / "runs")
    cfg = pipeline(tmp_path, episodes=1500, batch_size=100, log_every=50)
    run_id = store.create_run(cfg.to_json())
    result = execute(cfg, store, run_id)
    assert result["test_images"] == 200
    assert result["test_accuracy"] > 0.4, result
    assert store.get_run(run_id)["status"] == "completed"
    assert [m["step"] for m in store.metrics(run_id) if m["name"] == "loss"][:2] == [50, 100]


def test_the_fine_tuning_images_random_balanced_or_the_seeds_first_1000():
    from metalearn.engine.transfer import fine_tuning_images

    labels = torch.arange(10).repeat_interleave(500)  # class-ordered, as an image-folder copy
    g = torch.Generator().manual_seed(0)
    first = fine_tuning_images(labels, "first", g)
    assert sorted(first.tolist()) == list(range(1000)) and labels[first].unique().tolist() == [0, 1]
    rand = fine_tuning_images(labels, "random", g)
    assert len(rand) == 1000 == len(set(rand.tolist())) and len(labels[rand].unique()) == 10
    balanced = fine_tuning_images(labels, "balanced", g)
    assert torch.bincount(labels[balanced]).tolist() == [100] * 10


def test_seed_pipeline_on_an_image_folder_copy_reports_both_accuracies(tmp_path):
    from tests.formats import write_cifar10_images

    write_cifar10_images(tmp_path, per_class_train=20, per_class_test=5)
    store = Store(tmp_path / "runs")
    cfg = pipeline(tmp_path, finetune_subset="first", episodes=10, batch_size=50, log_every=5)
    run_id = store.create_run(cfg.to_json())
    result = execute(cfg, store, run_id)
    assert result["test_images"] == 50 and result["finetune_subset"] == "first"
    speed = [m for m in store.metrics(run_id) if m["name"] == "episodes_per_second"]
    assert [m["step"] for m in speed] == [5, 10] and all(m["value"] > 0 for m in speed)
    assert result["test_accuracy_finetuned"] == result["test_accuracy"]
    assert 0 <= result["test_accuracy_pretrained"] <= 1
    assert result["finetune_classes"] == 10  # the first 1000 of 200 images: all of them


def test_seed_pipeline_on_the_pretrained_network_trains_a_head_on_cached_features(
    tmp_path, monkeypatch
):
    """The same recipe from ImageNet weights: the frozen network's features of the 250 images
    (train and test, at 64 px here) are computed once, reported as load progress, cached (a
    second run computes none), and a linear head on them beats chance clearly; the result says
    which network ran, its input side, and that CIFAR-10's classes are not ImageNet's ids."""
    from metalearn.engine import transfer
    from tests.formats import write_cifar10_images

    monkeypatch.setenv("METALEARN_CACHE", str(tmp_path / "cache"))
    write_cifar10_images(tmp_path, per_class_train=20, per_class_test=5)
    store = Store(tmp_path / "runs")
    cfg = pipeline(
        tmp_path,
        episodes=300,
        batch_size=50,
        log_every=100,
        hyper={"backbone": "efficientnet_lite0", "input_size": 64},
    )
    run_id = store.create_run(cfg.to_json())
    result = execute(cfg, store, run_id)
    assert result["network"] == "efficientnet_lite0 (frozen) + a linear head"
    assert result["input_size"] == 64 and result["pretrained_on"] == "ImageNet-1k"
    assert result["test_classes_seen_in_pretraining"] is False
    assert result["test_images"] == 50 and result["test_accuracy"] > 0.4, result
    loads = [m for m in store.metrics(run_id) if m["name"] == "load_done"]
    assert loads and loads[-1]["value"] == 250
    computed = []
    real = transfer.cached_features.__globals__["frozen_features"]
    monkeypatch.setitem(
        transfer.cached_features.__globals__,
        "frozen_features",
        lambda *a, **k: computed.append(1) or real(*a, **k),
    )
    again = store.create_run(cfg.to_json())
    assert execute(cfg, store, again)["test_accuracy"] == result["test_accuracy"]  # seeded
    assert computed == []  # both splits' features came from the cache


def test_the_pipeline_refuses_to_fine_tune_the_pretrained_network(tmp_path):
    from metalearn.config import ConfigError
    from metalearn.engine.validate import validate
    from tests.formats import write_cifar10_images

    write_cifar10_images(tmp_path, per_class_train=2, per_class_test=1)
    cfg = pipeline(tmp_path, hyper={"backbone": "efficientnet_lite0", "finetune_encoder": "top"})
    with pytest.raises(ConfigError, match="runs the pretrained network frozen"):
        validate(cfg)
