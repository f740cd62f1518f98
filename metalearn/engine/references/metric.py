"""References of the metric-based learners."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def protonet_step(algo, episodes, optimizer) -> None:
    """ProtoNet as in the paper's code: support and query in one batch (so batch norm sees them
    together), prototypes by a per-class mean, squared distances from `cdist`, task by task."""
    optimizer.zero_grad(set_to_none=True)
    total = 0.0
    for e in episodes:
        z = algo.backbone(torch.cat([e.support, e.query]))
        zs, zq = z[: len(e.support)], z[len(e.support) :]
        protos = torch.stack([zs[e.support_labels == c].mean(0) for c in range(e.n_way)])
        total = total + F.cross_entropy(-(torch.cdist(zq, protos) ** 2), e.query_labels)
    (total / len(episodes)).backward()
    optimizer.step()


def matching_step(algo, episodes, optimizer) -> None:
    """Matching Networks query by query: cosine similarity to each support image, softmax,
    the attention-weighted sum of one-hot labels, then -log of the true class's probability."""
    optimizer.zero_grad(set_to_none=True)
    total = 0.0
    for e in episodes:
        z = algo.backbone(torch.cat([e.support, e.query]))
        g, f = z[: len(e.support)], z[len(e.support) :]
        if algo.context is not None:
            g = algo.context.support(g)
            f = algo.context.query(f, g)
        onehot = F.one_hot(e.support_labels, e.n_way).float()
        losses = []
        for q, label in zip(f, e.query_labels, strict=True):
            a = F.cosine_similarity(q[None], g, dim=1).softmax(0)  # [S]
            p = (a[:, None] * onehot).sum(0)  # [n_way]
            losses.append(-p[label].clamp_min(1e-8).log())
        total = total + torch.stack(losses).mean()
    (total / len(episodes)).backward()
    optimizer.step()


def relation_step(algo, episodes, optimizer) -> None:
    """Relation Networks pair by pair: each query's feature map concatenated with each class's
    summed support maps (one batch of all pairs, as batch norm in the relation module sees
    them), MSE against 1 (same class) or 0."""
    optimizer.zero_grad(set_to_none=True)
    total = 0.0
    for e in episodes:
        maps = algo.embedding(torch.cat([e.support, e.query]))
        support, query = maps[: len(e.support)], maps[len(e.support) :]
        classes = [support[e.support_labels == c].sum(0) for c in range(e.n_way)]
        pairs = torch.stack([torch.cat([q, c]) for q in query for c in classes])
        scores = algo.relation(pairs).view(len(query), e.n_way)
        target = torch.stack([(torch.arange(e.n_way) == y).float() for y in e.query_labels])
        total = total + ((scores - target) ** 2).mean()
    (total / len(episodes)).backward()
    optimizer.step()


def r2d2_step(algo, episodes, optimizer) -> None:
    """R2-D2 with ridge regression in its primal form, W = (X^T X + lambda I)^-1 X^T Y: a D x D
    solve instead of the product's S x S one (the same W, by the Woodbury identity)."""
    optimizer.zero_grad(set_to_none=True)
    total = 0.0
    for e in episodes:
        z = algo.backbone(torch.cat([e.support, e.query]))
        z = torch.cat([z, torch.ones(len(z), 1)], 1)
        x, xq = z[: len(e.support)], z[len(e.support) :]
        y = F.one_hot(e.support_labels, e.n_way).float()
        eye = torch.eye(x.shape[1])
        w = torch.linalg.solve(x.T @ x + algo.log_lambda.exp() * eye, x.T @ y)
        total = total + F.cross_entropy(algo.scale * (xq @ w) + algo.bias, e.query_labels)
    (total / len(episodes)).backward()
    optimizer.step()
