"""P>M>F's test-time stage (`metalearn.algorithms.support_finetune`) and ProtoNet's use of it."""

import pytest
import torch
from torch import nn

from metalearn.algorithms.protonet import neg_sq_distances, prototypes
from metalearn.algorithms.support_finetune import SHIFT, support_views, tune_on_support
from metalearn.config import ConfigError, RunConfig
from metalearn.data import DATASETS, EpisodeSampler
from metalearn.engine.build import build_algorithm
from metalearn.engine.validate import validate


def test_views_are_shifted_recoloured_copies_drawn_per_image():
    x = torch.zeros(64, 3, 32, 32)
    x[:, :, 14:18, 14:18] = 0.5  # a grey square in the middle
    views = support_views(x, torch.Generator().manual_seed(0))
    assert views.shape == x.shape and 0 <= views.min() and views.max() <= 1
    again = support_views(x, torch.Generator().manual_seed(0))
    assert torch.equal(views, again)  # the generator decides everything
    centres = []
    for v in views:
        mass = v.sum(0)
        rows, cols = torch.nonzero(mass > 0.05, as_tuple=True)
        centres.append((rows.float().mean() - 15.5, cols.float().mean() - 15.5))
    shifts = torch.tensor(centres)
    assert shifts.abs().max() <= SHIFT * 32 + 1  # at most 1/8 of the side (4 px), +1 for blur
    assert shifts.abs().max() >= 2  # and they do move
    assert len({round(float(s), 1) for s in shifts[:, 0]}) > 10  # each image its own shift
    brightness = views.amax((1, 2, 3))
    assert brightness.min() < 0.45 and brightness.max() > 0.55  # colour jitter per image


def _episode(n_way=3, n_shot=2):
    torch.manual_seed(0)
    split = DATASETS["glyphs"].load(None, "test")
    return EpisodeSampler(split, n_way, n_shot, 3, seed=1).sample()


def test_tuning_lowers_the_support_loss_and_trains_only_the_trainable():
    e = _episode()
    net = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 32), nn.ReLU(), nn.Linear(32, 16))
    net[1].requires_grad_(False)  # a frozen lower layer
    frozen_before = net[1].weight.clone()
    top_before = net[3].weight.clone()
    calls = []

    def scores(s, y, q):
        return neg_sq_distances(q, prototypes(s, y, e.n_way))

    losses = tune_on_support(
        net,
        e.support,
        e.support_labels,
        60,
        1e-2,
        scores,
        torch.Generator().manual_seed(0),
        progress=lambda step, total, loss: calls.append((step, total)),
    )
    assert len(losses) == 60 and calls[-1] == (60, 60) and len(calls) == 60
    # Noisy (each step its own views), but falling: from ln 3 to well below.
    assert sum(losses[-10:]) / 10 < 0.75 * sum(losses[:5]) / 5, losses
    assert torch.equal(net[1].weight, frozen_before)
    assert not torch.equal(net[3].weight, top_before)
    assert tune_on_support(net, e.support, e.support_labels, 0, 1e-2, scores, None) == []


def test_protonet_tunes_a_copy_per_test_task_and_keeps_its_network():
    e = _episode()
    plain = RunConfig(algorithm="protonet", dataset="glyphs", seed=0)
    torch.manual_seed(0)
    algo = build_algorithm(plain, 10)
    torch.manual_seed(0)
    tuned_cfg = RunConfig(
        algorithm="protonet",
        dataset="glyphs",
        seed=0,
        hyper={"support_finetune_steps": 5, "support_finetune_lr": 1e-2},
    )
    tuned = build_algorithm(tuned_cfg, 10)
    tuned.load_state_dict(algo.state_dict())
    before = {k: v.clone() for k, v in tuned.state_dict().items()}
    with torch.no_grad():  # as evaluation calls it
        a, b = algo.predict(e), tuned.predict(e)
    assert a.shape == b.shape == (len(e.query), e.n_way)
    assert not torch.allclose(a, b)  # the tuned copy scores differently
    assert all(torch.equal(v, tuned.state_dict()[k]) for k, v in before.items())


def test_a_frozen_pretrained_backbone_cannot_be_tuned_per_task():
    cfg = RunConfig(
        algorithm="protonet",
        dataset="glyphs",
        hyper={"backbone": "efficientnet_lite0", "support_finetune_steps": 10},
    )
    with pytest.raises(ConfigError, match="support_finetune_steps.*finetune_encoder top or all"):
        validate(cfg)
