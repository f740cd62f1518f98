"""The article's transfer pipeline (its section 4), end to end, as a mode of `finetune`.

SimpleCNN is trained on CIFAR-10's training images (SGD, lr 0.001, momentum 0.9, batches of 100,
random flips and 4-pixel-padded crops, inputs normalised to [-1, 1]); then fine-tuned for one pass
over a 1000-image subset (`finetune_subset`: seeded random by default; "first" is the article's
`Subset(range(1000))`, which in a class-ordered copy is one class); then scored on the test
images. Here `episodes` counts training batches
(the article's 10 epochs are 5000 batches of 100).

With `backbone` efficientnet_lite0 the same recipe starts from a network pretrained on ImageNet:
its frozen features of every image (resized to `input_size`; computed once and cached) feed a
new linear head, which is what the SGD steps train, then fine-tune on the same 1000 images. The
flips and crops are left out there: the features are computed once, before any batch.
"""

from __future__ import annotations

import math
import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from metalearn.config import RunConfig
from metalearn.data.cifar import load_standard
from metalearn.engine.features import cached_features, pretraining_facts
from metalearn.models import SimpleCNN
from metalearn.models.pretrained import LITE0_DIM
from metalearn.settings import LITE0

SUBSET = 1000


def augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Random horizontal flip, then a random 32x32 crop of the 4-pixel-padded image.

    x: [B, 3, 32, 32] -> [B, 3, 32, 32].
    """
    flip = torch.rand(len(x), generator=g) < 0.5
    x = torch.where(flip[:, None, None, None].to(x.device), x.flip(-1), x)
    padded = F.pad(x, (4, 4, 4, 4))
    dx, dy = (torch.randint(0, 9, (len(x),), generator=g) for _ in range(2))
    rows = (dy[:, None] + torch.arange(32)).to(x.device)  # [B, 32]
    cols = (dx[:, None] + torch.arange(32)).to(x.device)
    b = torch.arange(len(x), device=x.device)[:, None, None]
    return padded.permute(0, 2, 3, 1)[b, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def run_seed_pipeline(cfg: RunConfig, device: torch.device, on_metrics) -> dict[str, Any]:
    train_x, train_y, test_x, test_y, _ = load_standard(cfg.data_root)
    torch.manual_seed(cfg.seed)
    g = torch.Generator().manual_seed(cfg.seed)
    pretrained = cfg.hyper.get("backbone") == LITE0
    feature_seconds = 0.0
    if pretrained:  # the frozen network's features, computed once per input side, then a head
        started = time.perf_counter()
        train_in, test_in = _pretrained_features(cfg, device, on_metrics, train_x, train_y,
                                                 test_x, test_y)  # fmt: skip
        feature_seconds = time.perf_counter() - started
        model: nn.Module = nn.Linear(LITE0_DIM, 10).to(device)
        inputs = lambda x: x.to(device)  # noqa: E731  (features cannot be flipped or cropped)
    else:
        norm = lambda x: (x.float() / 255 - 0.5) / 0.5  # noqa: E731
        train_in, test_in = train_x, norm(test_x)
        model = nn.Sequential(SimpleCNN(3, 32), nn.Linear(84, 10)).to(device)
        inputs = lambda x: augment(norm(x).to(device), g)  # noqa: E731
    opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)

    def step(idx: torch.Tensor) -> torch.Tensor:
        loss = F.cross_entropy(model(inputs(train_in[idx])), train_y[idx].to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()

    started = time.perf_counter()
    bs, n = cfg.hyper["batch_size"], len(train_x)
    order, done, losses = torch.randperm(n, generator=g), 0, []
    while done < cfg.episodes:  # pre-training: epochs of shuffled batches
        pos = (done * bs) % n
        if pos + bs > n:
            order, pos = torch.randperm(n, generator=g), 0
        losses.append(step(order[pos : pos + bs]))
        done += 1
        if done % cfg.log_every == 0 or done == cfg.episodes:
            spent = time.perf_counter() - started  # the live panel's progress and time left
            on_metrics(
                done,
                {
                    "loss": float(torch.stack(losses).mean()),
                    "episodes_per_second": done / spent,
                    "train_seconds": spent,
                },
            )
            losses.clear()
    pretrain_seconds = time.perf_counter() - started
    pre_acc = _accuracy(model, test_in, test_y, device)
    subset = fine_tuning_images(train_y, cfg.hyper.get("finetune_subset", "random"), g)
    ft_losses = [step(subset[i : i + bs]) for i in range(0, len(subset), bs)]
    on_metrics(done + 1, {"finetune_loss": float(torch.stack(ft_losses).mean())})
    acc = _accuracy(model, test_in, test_y, device)
    seconds = time.perf_counter() - started
    network = {"network": "SimpleCNN from scratch"}
    if pretrained:
        network = {
            "network": f"{LITE0} (frozen) + a linear head",
            "input_size": cfg.hyper["input_size"],
            "feature_seconds": feature_seconds,
            **pretraining_facts(cfg),
        }
    return {
        **network,
        "test_accuracy": acc,
        "test_ci95": 1.96 * math.sqrt(acc * (1 - acc) / len(test_y)),
        "test_accuracy_pretrained": pre_acc,
        "test_accuracy_finetuned": acc,
        "finetune_subset": cfg.hyper.get("finetune_subset", "random"),
        "finetune_classes": int(train_y[subset].unique().numel()),
        "test_images": len(test_y),
        "train_episodes": done,
        "train_seconds": seconds,
        "pretrain_seconds": pretrain_seconds,
        "episodes_per_second": done / pretrain_seconds if pretrain_seconds else 0.0,
    }


def _pretrained_features(cfg, device, on_metrics, train_x, train_y, test_x, test_y):
    """The frozen pretrained network's features of the training and test images (cached per
    input side), with their computation's progress as load metrics (`load_done` of
    `load_total` images)."""
    size, total = cfg.hyper["input_size"], len(train_x) + len(test_x)

    def progress(offset: int):
        return lambda done, _: on_metrics(0, {"load_done": offset + done, "load_total": total})

    train = cached_features(train_x, train_y, size, device, progress(0))
    test = cached_features(test_x, test_y, size, device, progress(len(train_x)))
    return train, test


def fine_tuning_images(labels: torch.Tensor, how: str, g: torch.Generator) -> torch.Tensor:
    """Indices of the SUBSET training images to fine-tune on, in a shuffled order.

    Args:
        labels: [N] class of each training image.
        how: "random" (seeded, from all N), "balanced" (an equal share of every class) or
            "first" (the first SUBSET images, as the article's `Subset(range(1000))`).
    """
    n = len(labels)
    if how == "first":
        return torch.randperm(min(SUBSET, n), generator=g)
    if how == "balanced":
        classes = labels.unique()
        share = SUBSET // len(classes)
        picked = []
        for c in classes:
            members = (labels == c).nonzero().squeeze(1)
            picked.append(members[torch.randperm(len(members), generator=g)[:share]])
        chosen = torch.cat(picked)
        return chosen[torch.randperm(len(chosen), generator=g)]
    return torch.randperm(n, generator=g)[:SUBSET]


def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, device: torch.device) -> float:
    model.eval()
    with torch.no_grad():
        pred = torch.cat(
            [model(x[i : i + 500].to(device)).argmax(-1).cpu() for i in range(0, len(x), 500)]
        )
    model.train()
    return float((pred == y).float().mean())
