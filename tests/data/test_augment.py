"""Training augmentation: each image its own crop, flip and colour jitter; seeded; in range."""

import torch

from metalearn.data import DATASETS, EpisodeSampler
from metalearn.data.augment import Augment, jitter
from metalearn.data.base import Split


def photos(n: int = 6, side: int = 32) -> torch.Tensor:
    """[n, 3, side, side] in [0, 1]: a bright left half on a dark right half, tinted."""
    x = torch.zeros(n, 3, side, side)
    x[..., : side // 2] = torch.tensor([0.9, 0.6, 0.3]).view(3, 1, 1)
    return x


def test_every_image_gets_its_own_crop_flip_and_colours():
    out = Augment(torch.Generator().manual_seed(0))(photos(8))
    assert out.shape == (8, 3, 32, 32) and out.dtype == torch.float32
    assert 0 <= out.min() and out.max() <= 1
    flat = out.flatten(1)
    assert all(not torch.allclose(flat[i], flat[j]) for i in range(8) for j in range(i + 1, 8))


def test_the_same_generator_state_gives_the_same_images_on_any_leading_shape():
    a = Augment(torch.Generator().manual_seed(3))(photos(6))
    b = Augment(torch.Generator().manual_seed(3))(photos(6).view(2, 3, 3, 32, 32))
    assert torch.equal(a, b.view(6, 3, 32, 32))


def test_flips_mirror_and_crops_zoom_in():
    """Brightness stays where the content is: over many draws about half the images have their
    bright half on the right (flipped), and a crop (zoom) never brings in content from outside."""
    out = Augment(torch.Generator().manual_seed(1))(photos(400))
    gray = out.mean(1)  # [N, H, W]
    right_brighter = (gray[..., 16:].mean((1, 2)) > gray[..., :16].mean((1, 2))).float().mean()
    assert 0.4 < right_brighter < 0.6
    constant = Augment(torch.Generator().manual_seed(2))(torch.full((50, 3, 16, 16), 0.5))
    per_image = constant.flatten(1)
    assert torch.allclose(per_image.min(1).values, per_image.max(1).values, atol=1e-5)


def test_jitter_at_factor_one_is_the_identity_and_follows_torchvision():
    x = torch.rand(4, 3, 8, 8)
    one = torch.ones(4)
    assert torch.allclose(jitter(x, one, one, one), x, atol=1e-6)
    from torchvision.transforms.v2 import functional as TF

    f = torch.tensor([0.7, 1.2, 1.4, 0.6])
    for i in range(4):
        want = TF.adjust_saturation(
            TF.adjust_contrast(TF.adjust_brightness(x[i], float(f[i])), float(f[i])), float(f[i])
        )
        got = jitter(x[i : i + 1], f[i : i + 1], f[i : i + 1], f[i : i + 1])[0]
        assert torch.allclose(got, want, atol=1e-5)


def test_a_sampler_augments_training_episodes_only_when_asked_and_resumes_the_same():
    split = DATASETS["glyphs"].load(None, "train")
    plain = EpisodeSampler(split, 5, 1, 2, seed=0).sample()
    sampler = EpisodeSampler(split, 5, 1, 2, seed=0, augment=True)
    state = sampler.generator.get_state()
    augmented = sampler.sample()
    assert augmented.support.shape == plain.support.shape
    assert not torch.allclose(augmented.support, plain.support)
    sampler.generator.set_state(state)  # what a checkpoint restores
    assert torch.equal(sampler.sample().support, augmented.support)


def test_to_float_augments_before_normalising():
    split = Split(torch.full((2, 3, 4, 4), 255, dtype=torch.uint8), torch.zeros(2).long(), ["a"])
    split.mean, split.std = 0.5, 0.5
    halve = lambda x: x * 0.5  # noqa: E731
    assert torch.allclose(split.to_float(split.images, halve), torch.zeros(2, 3, 4, 4))


def test_augment_is_refused_where_there_are_no_images_to_augment():
    import pytest

    from metalearn.config import ConfigError, RunConfig
    from metalearn.engine.validate import validate

    validate(RunConfig(augment=True))  # glyph images: fine
    for dataset, words in (("clinc150", "holds text"), ("sinusoid", "holds regression tasks")):
        with pytest.raises(ConfigError, match=f"augment crops.*{words}; turn augment off"):
            validate(
                RunConfig(dataset=dataset, n_way=1 if dataset == "sinusoid" else 5, augment=True)
            )


def test_a_run_trains_on_augmented_episodes(tmp_path):
    from metalearn.config import RunConfig
    from metalearn.engine.run import execute
    from metalearn.store import Store

    store = Store(tmp_path)
    cfg = RunConfig(augment=True, episodes=3, eval_episodes=2, val_every=0)
    result = execute(cfg, store, store.create_run(cfg.to_json()))
    assert result["train_episodes"] == 3 and 0 <= result["test_accuracy"] <= 1
