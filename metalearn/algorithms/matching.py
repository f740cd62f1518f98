"""Matching Networks, with full context embeddings as an option."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from metalearn.algorithms.base import Algorithm, episodic_loss, register
from metalearn.data import Episode
from metalearn.models import build_backbone
from metalearn.models.precision import run_features
from metalearn.settings import (
    LR,
    LR_DECAY_EVERY,
    NETWORK,
    PRECISION,
    Setting,
)

FCE = Setting(
    "fce",
    bool,
    False,
    "Full context embeddings",
    "embed the support set with a bidirectional LSTM over it, and each query with an LSTM "
    "that attends over the support set (the paper's FCE)",
)
FCE_STEPS = Setting(
    "fce_steps", int, 5, "Attention steps (FCE)", "processing steps K of the query's LSTM", 1, 50
)


def attention(query: torch.Tensor, support: torch.Tensor) -> torch.Tensor:
    """a(x, x_i): softmax over the support of cosine similarities. [Q, D], [S, D] -> [Q, S]."""
    return (F.normalize(query, dim=-1) @ F.normalize(support, dim=-1).T).softmax(-1)


def label_probabilities(attn: torch.Tensor, labels: torch.Tensor, n_way: int) -> torch.Tensor:
    """P(y | x, S) = sum_i a(x, x_i) y_i. attn [Q, S], labels [S] -> [Q, n_way]."""
    return attn @ F.one_hot(labels, n_way).to(attn.dtype)


class ContextEmbeddings(nn.Module):
    """Full context embeddings (Vinyals et al. 2016, appendix A).

    g(x_i, S) = g'(x_i) + h_fwd_i + h_bwd_i: a bidirectional LSTM over the support embeddings.
    f(x, S) = attLSTM(f'(x), g(S), K): for k = 1..K,
        h_hat_k, c_k = LSTM(f'(x), [h_{k-1}, r_{k-1}], c_{k-1});  h_k = h_hat_k + f'(x);
        r_k = sum_i softmax(h_k . g(x_i)) g(x_i).
    The LSTM's hidden state is the concatenation [h, r] (width 2D); its output's first D units
    are h_hat (the paper leaves the widths open; this keeps h and r at the embedding's width D).
    """

    def __init__(self, dim: int, steps: int):
        super().__init__()
        self.support_lstm = nn.LSTM(dim, dim, bidirectional=True, batch_first=True)
        self.query_cell = nn.LSTMCell(dim, 2 * dim)
        self.steps, self.dim = steps, dim

    def support(self, z: torch.Tensor) -> torch.Tensor:
        """z [S, D] -> g(S) [S, D]."""
        out, _ = self.support_lstm(z[None])  # [1, S, 2D]
        return z + out[0, :, : self.dim] + out[0, :, self.dim :]

    def query(self, z: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """z [Q, D], g(S) [S, D] -> f(x, S) [Q, D]."""
        h, r = z, torch.zeros_like(z)
        c = torch.zeros(len(z), 2 * self.dim, device=z.device, dtype=z.dtype)
        for _ in range(self.steps):
            out, c = self.query_cell(z, (torch.cat([h, r], 1), c))
            h = out[:, : self.dim] + z
            r = (h @ g.T).softmax(-1) @ g
        return h


@register
class MatchingNetworks(Algorithm):
    """Matching Networks (Vinyals, Blundell, Lillicrap, Kavukcuoglu & Wierstra, "Matching
    Networks for One Shot Learning", NeurIPS 2016, arXiv:1606.04080).

    A query's label distribution is an attention-weighted sum of the support labels,
    P(y | x, S) = sum_i a(x, x_i) y_i, with a the softmax over cosine similarities of the
    embeddings f(x) and g(x_i); training maximises log P of the query labels over episodes. With
    `fce`, the embeddings see the whole support set (full context embeddings: a bidirectional
    LSTM for g, an attention LSTM of `fce_steps` steps for f); without, f = g = the backbone.
    """

    name = "matching"
    family = "metric"
    summary = "Matching Networks: attention over the support set's labels by cosine similarity."
    formula = (
        r"P(y \mid x, S) = \sum_{i} a(x, x_i)\, y_i, \quad a(x, x_i) = \mathrm{softmax}_i\, "
        r"\cos\left(f(x), g(x_i)\right)"
    )
    pseudocode = """\
for each episode (support S, query Q):
    embed support with g (FCE: a bidirectional LSTM over S), queries with f
    a = softmax over S of cosine(f(q), g(x_i))
    P(y | q) = sum_i a_i * onehot(y_i)
    loss = -log P(true label | q); gradient step on f, g
"""
    order = 12
    modalities = ("image", "text")
    settings = (
        *NETWORK,
        LR,
        LR_DECAY_EVERY,
        PRECISION,
        FCE,
        FCE_STEPS,
    )

    def __init__(self, cfg, info, n_train_classes):
        super().__init__(cfg, info, n_train_classes)
        self.backbone = build_backbone(self.hp, info, cfg)
        d = self.backbone.out_dim
        self.context = ContextEmbeddings(d, self.hp.fce_steps) if self.hp.fce else None

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return run_features(self.backbone, x, self.hp.precision)

    def probabilities(self, e: Episode) -> torch.Tensor:
        """P(y | x, S) of the queries: [n_way * n_query, n_way]."""
        z = self.embed(torch.cat([e.support, e.query]))
        g, f = z[: len(e.support)], z[len(e.support) :]
        if self.context is not None:
            g = self.context.support(g)
            f = self.context.query(f, g)
        return label_probabilities(attention(f, g), e.support_labels, e.n_way)

    def loss(self, episodes: list[Episode]):
        return episodic_loss(episodes, self.predict, F.nll_loss)  # -log P(y | x, S)

    def predict(self, episode: Episode) -> torch.Tensor:
        return self.probabilities(episode).clamp_min(1e-8).log()
