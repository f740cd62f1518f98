"""Fine-tuning a feature network on one task's own support set before classifying its queries:
the last stage of P>M>F (Hu, Li, Stuhmer, Kim & Hospedales, "Pushing the Limits of Simple
Pipelines for Few-Shot Learning: External Data and Fine-Tuning Make a Difference", CVPR 2022).

Each step draws an augmented view of every support image (colour and translation, as the
paper's DiffAugment) and scores it, as a query, against the prototypes of the un-augmented
support images; the loss is the cross-entropy of those scores, and Adam updates the network's
trainable parameters (their code: 50 steps, Adam, the learning rate chosen on validation tasks).
The caller decides which network is tuned (a copy, so the trained one stays as it was) and how
features are scored (ProtoNet's negative squared distance to class means, or P>M>F's cosine
scaled by 10).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from metalearn.data.augment import jitter

SHIFT = 0.125  # translations of up to 1/8 of the side, as DiffAugment's
JITTER = 0.4  # brightness, contrast and saturation factors in [0.6, 1.4]

# (support features [S, D], their labels [S], query features [Q, D]) -> logits [Q, n_way]
Scores = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def support_views(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One augmented view of each image: x [N, C, H, W] in [0, 1] -> the same shape.

    Colour jitter, then a shift of up to `SHIFT` of the side in each direction with the border
    filled black (DiffAugment's translation pads with zeros), each image drawn on its own."""
    n = len(x)
    factors = 1 - JITTER + 2 * JITTER * torch.rand(n, 3, generator=generator)
    out = jitter(x, *factors.to(x).unbind(1))
    shift = (2 * torch.rand(n, 2, generator=generator) - 1) * 2 * SHIFT  # grid units: side = 2
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta.to(x), list(x.shape), align_corners=False)
    return F.grid_sample(out, grid, "bilinear", "zeros", align_corners=False)


def tune_on_support(
    net: nn.Module,
    support: torch.Tensor,
    labels: torch.Tensor,
    steps: int,
    lr: float,
    scores: Scores,
    generator: torch.Generator,
    mean: float = 0.0,
    std: float = 1.0,
    progress: Callable[[int, int, float], None] | None = None,
) -> list[float]:
    """Fine-tunes `net`'s trainable parameters in place on one support set.

    Args:
        net: images [S, C, H, W] (normalised by `mean`, `std`) -> features [S, D].
        support: the support images [S, C, H, W]; labels [S] (their classes).
        steps: how many Adam steps; lr: their learning rate.
        scores: (support features, labels, query features) -> the queries' logits (the
            method's rule: e.g. ProtoNet's distances to the support's class means).
        generator: the CPU generator the views are drawn from (seeded by the caller).
        mean, std: the images' normalisation (undone to augment pixels in [0, 1]).
        progress: called after each step with (step, steps, loss).

    Returns:
        The loss of every step.
    """
    params = [p for p in net.parameters() if p.requires_grad]
    if steps <= 0 or not params:
        return []
    opt = torch.optim.Adam(params, lr=lr)
    pixels = (support * std + mean).clamp(0, 1)
    losses: list[float] = []
    was_training = net.training
    net.eval()  # batch norm keeps its statistics: a support set is far too small to re-estimate
    with torch.enable_grad():
        for step in range(steps):
            views = (support_views(pixels, generator) - mean) / std
            z = net(torch.cat([support, views]))  # [2S, D]
            n = len(support)
            loss = F.cross_entropy(scores(z[:n], labels, z[n:]), labels)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            if progress is not None:
                progress(step + 1, steps, losses[-1])
    net.train(was_training)
    return losses
