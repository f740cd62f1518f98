"""Conditional Neural Processes: encode the context, average, decode the targets."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from metalearn.algorithms.base import Algorithm, episodic_loss, register
from metalearn.data import Episode
from metalearn.models import build_backbone
from metalearn.settings import (
    INNER_STEPS_TEST,
    LR,
    LR_DECAY_EVERY,
    NETWORK,
    Setting,
)

WIDTH = 128  # the paper's encoder and decoder width

DECODER_INPUT = Setting(
    "decoder_input",
    str,
    "product",
    "Decoder input (classification)",
    "what the decoder reads for a query and a class: 'concat' - the query's features and the "
    "class's r side by side; 'product' - also the query's encoding times r, elementwise, which "
    "learns much faster on images",
    choices=("product", "concat"),
    advanced=True,
)


def mlp(d_in: int, d_out: int, layers: int = 3) -> nn.Sequential:
    dims = [d_in] + [WIDTH] * (layers - 1) + [d_out]
    mods: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(dims, dims[1:], strict=False)):
        mods += [nn.Linear(a, b)] + ([nn.ReLU()] if i < len(dims) - 2 else [])
    return nn.Sequential(*mods)


def gaussian_log_density(y: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """log N(y; mean, std^2), elementwise."""
    return -0.5 * ((y - mean) / std) ** 2 - std.log() - 0.5 * math.log(2 * math.pi)


@register
class CNP(Algorithm):
    """Conditional Neural Processes (Garnelo, Rosenbaum, Maddison, Ramalho, Saxton, Shanahan,
    Teh, Rezende & Eslami, "Conditional Neural Processes", ICML 2018, arXiv:1807.01613).

    An encoder h maps each context pair (x_i, y_i) to r_i; their mean r is the task's
    representation (any number of points, in any order); a decoder g maps (x, r) to a
    prediction. Regression: g gives a Gaussian, mean mu(x) and standard deviation
    sigma(x) = 0.1 + 0.9 softplus(.), trained by the log-likelihood of the targets (the query and,
    as in the paper, the context points); the predicted band is drawn beside MAML's adapted
    curve. Classification (the paper's Omniglot setting): images are embedded by the backbone,
    each class's r is the mean of its support representations, and g scores a query against each
    class's r; cross-entropy. g reads [f(x), r_k] (`decoder_input="concat"`) or, by default,
    also h(f(x)) * r_k, elementwise (`"product"`): still a decoder of (x, r), with a
    multiplicative term an MLP over a concatenation finds only slowly (Omniglot 5-way 1-shot
    after 100 s of CPU training: 0.72 with it, 0.56 without). No gradient steps at test time:
    one forward pass.
    """

    name = "cnp"
    family = "model"
    summary = "Conditional Neural Process: average the encoded support set, decode the query."
    formula = (
        r"r = \frac{1}{|C|}\sum_{(x_i, y_i) \in C} h_\theta(x_i, y_i), \quad "
        r"(\mu, \sigma) = g_\theta(x, r), \quad \mathcal{L} = -\sum_{(x, y) \in T} "
        r"\log \mathcal{N}(y;\ \mu, \sigma^2)"
    )
    pseudocode = """\
for each task (context C = support, targets T = query and context):
    r = mean of h(x_i, y_i) over C           (classification: one mean per class)
    mu, sigma = g(x, r) for every target x
    loss = -log N(y; mu, sigma^2)            (classification: cross-entropy)
    gradient step on h and g
"""
    order = 6
    modalities = ("image", "text")
    kinds = {"classification": "episodes", "regression": "regression"}
    settings = (
        *NETWORK,
        LR,
        LR_DECAY_EVERY,
        DECODER_INPUT,
        INNER_STEPS_TEST.but(
            help="a CNP takes no gradient steps; its (unchanging) test MSE is reported as the "
            "MSE after this many steps, so that it pairs with adapting learners tested so",
            advanced=True,
        ),
    )

    def __init__(self, cfg, info, n_train_classes):
        super().__init__(cfg, info, n_train_classes)
        self.regression = info.task == "regression"
        if self.regression:
            self.encoder = mlp(2, WIDTH)  # (x, y) -> r_i
            self.decoder = mlp(1 + WIDTH, 2)  # (x, r) -> (mu, raw sigma)
            return
        self.backbone = build_backbone(self.hp, info, cfg)
        d = self.backbone.out_dim
        self.encoder = mlp(d, WIDTH)
        self.product = self.hp.decoder_input == "product"
        # (query features, class r[, the query's encoding * r]) -> score
        self.decoder = mlp(d + WIDTH * (2 if self.product else 1), 1)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        if self.regression:
            raise NotImplementedError
        return self.backbone(x)

    # -- regression -------------------------------------------------------------------------
    def distribution(self, e: Episode, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Predictive mean and standard deviation at inputs x [N, 1], given the episode's
        support points as the context -> ([N, 1], [N, 1])."""
        r = self.encoder(torch.cat([e.support, e.support_labels], 1)).mean(0)  # [WIDTH]
        out = self.decoder(torch.cat([x, r.expand(len(x), -1)], 1))
        return out[:, :1], 0.1 + 0.9 * F.softplus(out[:, 1:])

    def predict_distribution(self, episode: Episode, x: torch.Tensor):
        return self.distribution(episode, x) if self.regression else None

    # -- classification ---------------------------------------------------------------------
    def scores(self, e: Episode) -> torch.Tensor:
        """[n_way * n_query, n_way]: g(f(x_q), r_k) for every class k."""
        z = self.embed(torch.cat([e.support, e.query]))
        zs, zq = z[: len(e.support)], z[len(e.support) :]
        onehot = F.one_hot(e.support_labels, e.n_way).to(z.dtype)  # [S, n_way]
        r = (onehot.T @ self.encoder(zs)) / onehot.sum(0)[:, None]  # [n_way, WIDTH]
        q, n = len(zq), e.n_way
        pairs = [zq[:, None].expand(q, n, -1), r[None].expand(q, n, -1)]
        if self.product:
            pairs.append(self.encoder(zq)[:, None] * r[None])  # [Q, n_way, WIDTH]
        pairs = torch.cat(pairs, -1)
        return self.decoder(pairs).squeeze(-1)  # [Q, n_way]

    def loss(self, episodes: list[Episode]):
        if self.regression:
            nll = []
            for e in episodes:
                x = torch.cat([e.support, e.query])
                y = torch.cat([e.support_labels, e.query_labels])
                mean, std = self.distribution(e, x)
                nll.append(-gaussian_log_density(y, mean, std).mean())
            loss = torch.stack(nll).mean()
            return loss, {"loss": loss.detach()}
        return episodic_loss(episodes, self.scores)

    def predict(self, episode: Episode, steps: int | None = None) -> torch.Tensor:
        """Class scores [Q, n_way], or the predictive mean [Q, 1] (no steps: `steps` is the
        regression kind's number of adaptation steps, which a CNP does not take)."""
        if self.regression:
            return self.distribution(episode, episode.query)[0]
        return self.scores(episode)
