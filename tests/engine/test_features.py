"""Frozen pretrained features in runs: the cache, the leak mark, the MAML family's head over
them, and what validation refuses."""

import json

import pytest
import torch

from metalearn.config import ConfigError, RunConfig
from metalearn.data.base import Split
from metalearn.engine.features import cached_input, feature_split
from metalearn.engine.validate import validate
from metalearn.models.pretrained import LITE0_DIM, imagenet_wnids, lite0_network, prepare
from tests.formats import write_miniimagenet_images


def test_features_are_computed_once_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("METALEARN_CACHE", str(tmp_path))
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (5, 3, 24, 24), dtype=torch.uint8, generator=g)
    split = Split(images, torch.tensor([0, 0, 1, 1, 2]), ["a", "b", "c"])
    seen = []
    first = feature_split(split, 32, progress=lambda done, total: seen.append((done, total)))
    assert first.images.shape == (5, LITE0_DIM) and seen[-1] == (5, 5)
    assert first.class_names == ["a", "b", "c"] and torch.equal(first.labels, split.labels)
    assert first.pixels is images  # what the features are of, for showing
    cut = first.keep_classes(2)
    assert len(cut.images) == len(cut.pixels) == len(cut.labels)
    with torch.no_grad():
        direct = lite0_network().eval()(prepare(images.float() / 255, 32))
    assert torch.allclose(first.images, direct, atol=1e-4)
    assert len(list(tmp_path.glob("features-*.pt"))) == 1
    seen.clear()
    again = feature_split(split, 32, progress=lambda done, total: seen.append((done, total)))
    assert torch.equal(again.images, first.images) and not seen  # read from the cache
    feature_split(split, 40)  # another input side: other features
    assert len(list(tmp_path.glob("features-*.pt"))) == 2


@pytest.mark.parametrize("real_wnids", [True, False])
def test_a_frozen_run_reports_what_its_backbone_saw(cli, tmp_path, monkeypatch, real_wnids):
    """No training (SimpleShot's rule on the frozen features); miniImageNet-style classes named
    by ImageNet's WordNet ids are marked as seen in pretraining, made-up ids are not."""
    from tests.formats import write_miniimagenet_images

    monkeypatch.setenv("METALEARN_CACHE", str(tmp_path / "cache"))
    names = list(imagenet_wnids()[:9]) if real_wnids else None
    write_miniimagenet_images(
        tmp_path / "data", {"train": 3, "val": 3, "test": 3}, 6, side=32, wnids=names
    )
    out = cli(
        "train", "--algorithm", "simpleshot", "--dataset", "miniimagenet",
        "--data-root", str(tmp_path / "data"), "--backbone", "efficientnet_lite0",
        "--input-size", "32", "--episodes", "0", "--n-way", "3", "--n-shot", "1",
        "--n-query", "2", "--eval-episodes", "4", "--val-every", "0", "--json",
        "--no-progress", home=tmp_path / "runs",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["pretrained_on"] == "ImageNet-1k"
    assert result["test_classes_seen_in_pretraining"] is real_wnids
    assert result["test_classes_seen"] == (3 if real_wnids else 0)
    assert result["train_episodes"] == 0 and 0 <= result["test_accuracy"] <= 1


SMALL = ["--n-way", "3", "--n-shot", "1", "--n-query", "2", "--eval-episodes", "4"]


@pytest.mark.parametrize("algorithm", ["maml", "anil", "metasgd", "protomaml", "reptile"])
def test_the_maml_family_adapts_a_head_over_the_frozen_features(
    cli, tmp_path, monkeypatch, algorithm
):
    monkeypatch.setenv("METALEARN_CACHE", str(tmp_path / "cache"))
    write_miniimagenet_images(tmp_path / "data", {"train": 3, "val": 3, "test": 3}, 6, side=32)
    out = cli(
        "train", "--algorithm", algorithm, "--dataset", "miniimagenet",
        "--data-root", str(tmp_path / "data"), "--backbone", "efficientnet_lite0",
        "--input-size", "32", "--episodes", "4", "--meta-batch", "2", *SMALL,
        "--val-every", "0", "--json", "--no-progress", home=tmp_path / "runs",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["train_episodes"] == 4 and result["pretrained_on"] == "ImageNet-1k"
    state = torch.load(tmp_path / "runs" / result["run_id"] / "checkpoint.pt", weights_only=False)
    weights = state.get("model", state)
    shapes = {tuple(v.shape) for v in weights.values() if hasattr(v, "shape")}
    assert (256, LITE0_DIM) in shapes  # the head's hidden layer reads the 1280 features
    assert not any(len(s) == 4 for s in shapes)  # no convolution underneath


def test_what_a_run_reads_in_place_of_each_splits_images():
    def reads(split, **settings):
        return cached_input(RunConfig(algorithm="protonet", **settings), split)

    lite0 = {"backbone": "efficientnet_lite0"}
    assert reads("train") is None and reads("test", backbone="resnet12") is None
    assert reads("train", **lite0) == reads("test", **lite0) == "features"
    top = {**lite0, "finetune_encoder": "top"}
    assert reads("train", **top) == reads("test", **top) == "trunk"
    assert reads("train", **top, augment=True) is None  # new views of the images every step
    assert reads("test", **top, augment=True) == "trunk"
    tuned = {**top, "support_finetune_steps": 5}  # P>M>F: augmented views of each support set
    assert reads("train", **tuned) == "trunk" and reads("test", **tuned) is None
    assert reads("train", **lite0, finetune_encoder="all") is None


def test_top_fine_tuning_trains_over_the_trunks_cached_maps(cli, tmp_path, monkeypatch):
    """SimpleShot's classifier fine-tunes the last two stages over maps computed once per split
    (a new head: its loss is far from 0 at first, where ProtoNet's on these easy patterns is 0);
    a second run reads them from the cache and, seeded, learns the same."""
    monkeypatch.setenv("METALEARN_CACHE", str(tmp_path / "cache"))
    write_miniimagenet_images(tmp_path / "data", {"train": 3, "val": 3, "test": 3}, 6, side=32)
    args = (
        "train", "--algorithm", "simpleshot", "--dataset", "miniimagenet",
        "--data-root", str(tmp_path / "data"), "--backbone", "efficientnet_lite0",
        "--finetune-encoder", "top", "--input-size", "48", "--episodes", "3", *SMALL,
        "--val-every", "0", "--json", "--no-progress",
    )  # fmt: skip
    results = []
    for _ in range(2):
        out = cli(*args, home=tmp_path / "runs")
        assert out.returncode == 0, out.stderr
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    assert len(list((tmp_path / "cache").glob("trunk-*.pt"))) == 2  # train and test, once each
    assert not list((tmp_path / "cache").glob("features-*.pt"))
    first, second = results
    assert first["train_episodes"] == 3 and first["test_accuracy"] == second["test_accuracy"]
    before = torch.load(tmp_path / "runs" / first["run_id"] / "checkpoint.pt", weights_only=False)
    weights = before.get("model", before)
    pretrained = dict(lite0_network().named_parameters())
    tuned = {k.split("net.", 1)[1]: v for k, v in weights.items() if "net." in k}
    assert not torch.equal(
        tuned["blocks.6.0.conv_pwl.weight"], pretrained["blocks.6.0.conv_pwl.weight"]
    )
    assert torch.equal(tuned["blocks.4.0.conv_pw.weight"], pretrained["blocks.4.0.conv_pw.weight"])


def test_validation_says_which_backbones_a_method_takes():
    with pytest.raises(
        ConfigError, match="maml adapts a conv4 network.*choose one of conv4, efficientnet_lite0"
    ):
        validate(RunConfig(algorithm="maml", backbone="resnet12"))
    with pytest.raises(ConfigError, match="'backbone' is not a setting of relation"):
        validate(RunConfig(algorithm="relation", backbone="efficientnet_lite0"))
    with pytest.raises(ConfigError, match="turn augment off, or fine-tune the backbone"):
        validate(RunConfig(algorithm="protonet", backbone="efficientnet_lite0", augment=True))
    with pytest.raises(ConfigError, match="set backbone to efficientnet_lite0"):
        validate(RunConfig(algorithm="protonet", finetune_encoder="top"))
    validate(
        RunConfig(
            algorithm="protonet",
            backbone="efficientnet_lite0",
            finetune_encoder="top",
            augment=True,
        )
    )


def test_the_train_form_offers_a_method_only_the_backbones_it_takes():
    from metalearn import catalog

    def choices(name, modality):
        offered = catalog.algorithms()[name].offered(modality)
        return next(s.choices for s in offered if s.name == "backbone")

    assert choices("maml", "image") == ("conv4", "efficientnet_lite0")
    assert choices("reptile", "text") == ("minilm",)
    assert choices("protonet", "image") == ("conv4", "simple_cnn", "resnet12", "efficientnet_lite0")
