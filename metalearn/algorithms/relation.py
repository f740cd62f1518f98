"""Relation Networks: a learned relation module instead of a fixed distance."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from metalearn.algorithms.base import Algorithm, episodic_loss, register
from metalearn.data import Episode
from metalearn.settings import LR, LR_DECAY_EVERY


def block(c_in: int, c_out: int, padding: int, pool: bool) -> nn.Sequential:
    layers = [nn.Conv2d(c_in, c_out, 3, padding=padding), nn.BatchNorm2d(c_out), nn.ReLU()]
    return nn.Sequential(*layers, *([nn.MaxPool2d(2)] if pool else []))


class Embedding(nn.Module):
    """The paper's embedding module: four 3x3 conv blocks of 64 filters, the first two unpadded
    and max-pooled, the last two padded (28x28 -> 64 x 5 x 5; 84x84 -> 64 x 19 x 19)."""

    def __init__(self, channels: int):
        super().__init__()
        self.net = nn.Sequential(
            block(channels, 64, 0, True),
            block(64, 64, 0, True),
            block(64, 64, 1, False),
            block(64, 64, 1, False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, C, H, W] -> feature maps [B, 64, h, w]."""
        return self.net(x)


class RelationModule(nn.Module):
    """g: two conv blocks over a concatenated pair of feature maps [B, 128, h, w], then FC 8
    (ReLU) and FC 1 (sigmoid): a relation score in [0, 1] per pair."""

    def __init__(self, side: int, hidden: int = 8):
        super().__init__()
        blocks, c_in = [], 128
        for _ in range(2):
            padding = 1 if side < 10 else 0  # small (Omniglot) maps keep their side in the conv
            side = side - 2 + 2 * padding
            blocks.append(block(c_in, 64, padding, pool=side >= 2))
            side, c_in = (side // 2 if side >= 2 else side), 64
        self.convs = nn.Sequential(*blocks)
        dim = 64 * side * side  # 28x28 images: 64 x 1 x 1, as in the paper
        self.fc = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        """pairs [B, 128, h, w] -> scores [B]."""
        return torch.sigmoid(self.fc(self.convs(pairs).flatten(1))).squeeze(1)


def class_maps(maps: torch.Tensor, labels: torch.Tensor, n_way: int) -> torch.Tensor:
    """The sum of each class's support feature maps (the paper's K-shot pooling).
    maps [S, C, h, w], labels [S] -> [n_way, C, h, w]."""
    out = torch.zeros(n_way, *maps.shape[1:], device=maps.device, dtype=maps.dtype)
    return out.index_add_(0, labels, maps)


@register
class RelationNetwork(Algorithm):
    """Relation Networks (Sung, Yang, Zhang, Xiang, Torr & Hospedales, "Learning to Compare:
    Relation Network for Few-Shot Learning", CVPR 2018, arXiv:1711.06025).

    An embedding module f maps images to feature maps; each class's support maps are summed; a
    relation module g scores every (query, class) pair from their concatenated maps,
    r_{q,c} = g([f(x_q), sum_{i in c} f(x_i)]) in [0, 1]. As in the paper, training regresses
    the scores onto the one-hot labels with mean squared error (Adam); the query goes to the
    class of highest relation. The embedding is the paper's own (not a `backbone` setting).
    """

    name = "relation"
    family = "metric"
    summary = "Relation Networks: a learned module scores each query against each class."
    formula = (
        r"r_{q,k} = g_\phi\left(\left[f_\varphi(x_q),\ \textstyle\sum_{x_i \in S_k} "
        r"f_\varphi(x_i)\right]\right) \in [0, 1], \quad \mathcal{L} = \sum_{q,k} "
        r"\left(r_{q,k} - \mathbb{1}[y_q = k]\right)^2"
    )
    pseudocode = """\
for each episode (support S, query Q):
    feature maps f(x); each class's support maps summed
    for every (query, class) pair: r = g(concat(f(q), class map))
    loss = mean squared error between r and the one-hot labels
    gradient step on f and g
"""
    order = 14
    settings = (LR, LR_DECAY_EVERY)

    def __init__(self, cfg, info, n_train_classes):
        super().__init__(cfg, info, n_train_classes)
        self.embedding = Embedding(info.channels)
        side = cfg.image_size or info.image_size
        with torch.no_grad():
            side = self.embedding(torch.zeros(2, info.channels, side, side)).shape[-1]
        self.relation = RelationModule(side)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.embedding(x).flatten(1)

    def relations(self, e: Episode) -> torch.Tensor:
        """Relation scores [n_way * n_query, n_way] in [0, 1]."""
        maps = self.embedding(torch.cat([e.support, e.query]))
        support, query = maps[: len(e.support)], maps[len(e.support) :]
        classes = class_maps(support, e.support_labels, e.n_way)  # [N, C, h, w]
        q, n = len(query), e.n_way
        queries = query[:, None].expand(q, n, *query.shape[1:])
        pairs = torch.cat([queries, classes[None].expand(q, *classes.shape)], dim=2)  # [Q,N,2C,h,w]
        return self.relation(pairs.flatten(0, 1)).view(q, n)

    def loss(self, episodes: list[Episode]):
        # The paper's objective: relation scores regressed onto the one-hot labels.
        def mse(r, labels):
            return F.mse_loss(r, F.one_hot(labels, r.shape[1]).to(r.dtype))

        return episodic_loss(episodes, self.relations, mse)

    def predict(self, episode: Episode) -> torch.Tensor:
        return self.relations(episode)
