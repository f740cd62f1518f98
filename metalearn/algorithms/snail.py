"""SNAIL: temporal convolutions and causal attention over the support set as a sequence."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from metalearn.algorithms.base import Algorithm, episodic_loss, register
from metalearn.data import Episode
from metalearn.models import build_backbone
from metalearn.settings import LR, LR_DECAY_EVERY, NETWORK


class CausalConv(nn.Module):
    """A kernel-2 convolution over time that sees only the present and `dilation` steps back:
    out_t = W [x_{t - dilation}; x_t] + b, with x = 0 before the start. Written as one matrix
    product over the shifted sequence (a Conv1d over sequences this short is slower).
    x [B, T, C] -> [B, T, filters]."""

    def __init__(self, c_in: int, filters: int, dilation: int):
        super().__init__()
        self.linear = nn.Linear(2 * c_in, filters)
        self.dilation = dilation

    def forward(self, x: torch.Tensor, prefix: torch.Tensor | None = None) -> torch.Tensor:
        """x [B, T, C]; prefix [1, P, C]: steps shared by every sequence of the batch, before
        x's (their outputs are not computed again). -> [B, T, filters], x's steps only."""
        p = 0 if prefix is None else prefix.shape[1]
        full = x if prefix is None else torch.cat([prefix.expand(len(x), -1, -1), x], 1)
        past = F.pad(full, (0, 0, self.dilation, 0))[:, p : p + x.shape[1]]  # x_{t - dilation}
        return self.linear(torch.cat([past, x], -1))


class DenseBlock(nn.Module):
    """Gated causal convolution, its output concatenated to its input (C -> C + filters)."""

    def __init__(self, c_in: int, filters: int, dilation: int):
        super().__init__()
        self.f, self.g = CausalConv(c_in, filters, dilation), CausalConv(c_in, filters, dilation)

    def forward(self, x: torch.Tensor, prefix: torch.Tensor | None = None) -> torch.Tensor:
        gate = torch.tanh(self.f(x, prefix)) * torch.sigmoid(self.g(x, prefix))
        return torch.cat([x, gate], -1)


class TCBlock(nn.Module):
    """ceil(log2 T) dense blocks with dilations 2, 4, 8, ...: step t sees the whole past."""

    def __init__(self, c_in: int, length: int, filters: int):
        super().__init__()
        n = max(1, math.ceil(math.log2(length)))
        self.blocks = nn.Sequential(
            *(DenseBlock(c_in + i * filters, filters, 2 ** (i + 1)) for i in range(n))
        )
        self.out_dim = c_in + n * filters

    def forward(self, x: torch.Tensor, prefix: torch.Tensor | None = None) -> torch.Tensor:
        for block in self.blocks:
            x, prefix = block(x, prefix), None if prefix is None else block(prefix)
        return x


class AttentionBlock(nn.Module):
    """Causal soft attention: step t reads from steps <= t; the read is concatenated
    (C -> C + value_dim)."""

    def __init__(self, c_in: int, key_dim: int, value_dim: int):
        super().__init__()
        self.query, self.key = nn.Linear(c_in, key_dim), nn.Linear(c_in, key_dim)
        self.value = nn.Linear(c_in, value_dim)
        self.scale = key_dim**-0.5

    def forward(self, x: torch.Tensor, prefix: torch.Tensor | None = None) -> torch.Tensor:
        """x [B, T, C], prefix [1, P, C] (see CausalConv) -> [B, T, C + value_dim]."""
        t, keys, values = x.shape[1], self.key(x), self.value(x)
        future = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
        if prefix is not None:  # every step of x sees the whole prefix
            p, b = prefix.shape[1], len(x)
            keys = torch.cat([self.key(prefix).expand(b, -1, -1), keys], 1)
            values = torch.cat([self.value(prefix).expand(b, -1, -1), values], 1)
            future = F.pad(future, (p, 0), value=False)
        logits = self.query(x) @ keys.transpose(1, 2) * self.scale  # [B, T, P + T]
        probs = logits.masked_fill(future, float("-inf")).softmax(-1)
        return torch.cat([x, probs @ values], -1)


@register
class SNAIL(Algorithm):
    """SNAIL (Mishra, Rohaninejad, Chen & Abbeel, "A Simple Neural Attentive Meta-Learner",
    ICLR 2018, arXiv:1707.03141).

    A task is read as one sequence: the support examples with their labels, (f(x_t), y_t) for
    t = 1 .. N*K in a shuffled order, then the query with no label, (f(x_q), 0). Over the
    embeddings, the paper's Omniglot stack - attention (keys 64, values 32), a temporal
    convolution block (128 filters), attention (256, 128), a temporal convolution block,
    attention (512, 256) - with every convolution and attention causal, so step t only sees
    steps <= t; a linear layer reads the query's class scores at the last step. Nothing is
    adapted at test time: the network's forward pass over the sequence is the learner. Each
    query gets its own sequence (the support set and that query).
    """

    name = "snail"
    family = "model"
    summary = "SNAIL: causal convolutions and attention read the support set, then the query."
    formula = (
        r"\hat{y}_q = \mathrm{SNAIL}_\theta\left((f(x_1), y_1), \dots, (f(x_{NK}), y_{NK}), "
        r"(f(x_q), \mathbf{0})\right)_{NK+1}"
    )
    pseudocode = """\
for each episode:
    sequence = (f(x_i), onehot(y_i)) for the support, shuffled; then (f(x_q), 0)
    causal attention / temporal convolutions over the sequence
    class scores at the last step; cross-entropy against the query's label
    gradient step on f and the sequence network
"""
    order = 5
    modalities = ("image", "text")
    same_way = True  # the label inputs and the output layer have n_way units
    settings = (*NETWORK, LR, LR_DECAY_EVERY)

    def __init__(self, cfg, info, n_train_classes):
        super().__init__(cfg, info, n_train_classes)
        self.backbone = build_backbone(self.hp, info, cfg)
        n_way = cfg.n_way
        length = n_way * max(cfg.n_shot, cfg.train_shape[1]) + 1
        c = self.backbone.out_dim + n_way
        self.att1 = AttentionBlock(c, 64, 32)
        self.tc1 = TCBlock(c + 32, length, 128)
        self.att2 = AttentionBlock(self.tc1.out_dim, 256, 128)
        self.tc2 = TCBlock(self.tc1.out_dim + 128, length, 128)
        self.att3 = AttentionBlock(self.tc2.out_dim, 512, 256)
        self.out = nn.Linear(self.tc2.out_dim + 256, n_way)
        # `compile`: the sequence layers too (many small operations, fused into few kernels)
        self.read = torch.compile(self.sequence_outputs) if self.hp.compile else None

    def make_optimizer(self) -> torch.optim.Optimizer:
        """Adam as one fused kernel: the same update to rounding; SNAIL's 60 weight tensors (3.2M
        parameters) took 6.2 ms a step in Adam's per-tensor loop, 1.3 ms fused (2-core CPU)."""
        return torch.optim.Adam(self.param_groups(), lr=self.hp.lr, fused=True)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(x)

    def sequence_outputs(self, seq: torch.Tensor, prefix: torch.Tensor | None = None):
        """seq [B, T, D + n_way] -> class scores at every step [B, T, n_way]. With prefix
        [1, P, D + n_way], each sequence is the prefix followed by its own steps, and only
        those steps are scored (the prefix is run once, not once per sequence)."""
        for layer in (self.att1, self.tc1, self.att2, self.tc2, self.att3):
            seq, prefix = layer(seq, prefix), None if prefix is None else layer(prefix)
        return self.out(seq)

    def steps(self, e: Episode, order: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The sequence steps: the support in `order` with its labels [S, D + n_way], and each
        query with no label [Q, D + n_way]."""
        z = self.embed(torch.cat([e.support, e.query]))
        zs, zq = z[: len(e.support)][order], z[len(e.support) :]
        support = torch.cat([zs, F.one_hot(e.support_labels[order], e.n_way).to(z.dtype)], 1)
        return support, torch.cat([zq, zq.new_zeros(len(zq), e.n_way)], 1)

    def sequences(self, e: Episode, order: torch.Tensor) -> torch.Tensor:
        """One whole sequence per query: the support steps, then that query.
        -> [Q, S + 1, D + n_way]."""
        support, query = self.steps(e, order)
        return torch.cat([support.expand(len(query), *support.shape), query[:, None]], 1)

    def scores(self, e: Episode, generator: torch.Generator | None = None) -> torch.Tensor:
        """[Q, n_way]. Every query's sequence starts with the same support steps, and causal
        layers give those steps the same outputs whatever follows: they are run once, as a
        shared prefix, and each query adds one step (the scores of `sequences`' Q whole
        sequences, at a fraction of the cost)."""
        order = torch.randperm(len(e.support), generator=generator).to(e.support.device)
        support, query = self.steps(e, order)
        read = self.read or self.sequence_outputs
        return read(query[:, None], prefix=support[None])[:, -1]

    def loss(self, episodes: list[Episode]):
        return episodic_loss(episodes, self.scores)

    def predict(self, episode: Episode) -> torch.Tensor:
        # A fixed support order at test time: the same episode always gets the same scores.
        return self.scores(episode, torch.Generator().manual_seed(0))
