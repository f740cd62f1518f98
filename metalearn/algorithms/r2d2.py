"""R2-D2: a closed-form ridge-regression head, differentiated through."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from metalearn.algorithms.base import Algorithm, episodic_loss, register
from metalearn.data import Episode
from metalearn.models import build_backbone
from metalearn.models.precision import run_features
from metalearn.settings import LR, LR_DECAY_EVERY, NETWORK, PRECISION


def ridge_woodbury(x: torch.Tensor, y: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    """W = X^T (X X^T + lam I)^-1 Y: ridge regression solved in the support's dimension.

    With S support points and D features (S << D), the S x S system replaces the D x D one of
    W = (X^T X + lam I)^-1 X^T Y; the two are equal (the Woodbury identity).
    x [S, D], y [S, N], lam 0-d -> W [D, N].
    """
    gram = x @ x.T + lam * torch.eye(len(x), device=x.device, dtype=x.dtype)  # [S, S]
    return x.T @ torch.linalg.solve(gram, y)


@register
class R2D2(Algorithm):
    """R2-D2 (Bertinetto, Henriques, Torr & Vedaldi, "Meta-learning with differentiable
    closed-form solvers", ICLR 2019, arXiv:1805.08136).

    Per episode, ridge regression from the support embeddings (a column of ones appended, for a
    bias) to one-hot labels is solved in closed form, W = X^T (X X^T + lambda I)^-1 Y, which costs
    an S x S solve; the query scores are alpha * X_q W + beta. The backbone, lambda (kept
    positive through its log), and the scale alpha and bias beta are meta-learned by
    backpropagating the query cross-entropy through the solve.
    """

    name = "r2d2"
    family = "metric"
    summary = "R2-D2: a ridge-regression head solved in closed form per episode."
    formula = (
        r"W = X_S^\top \left(X_S X_S^\top + \lambda I\right)^{-1} Y_S, \quad \hat{Y}_Q = "
        r"\alpha\, X_Q W + \beta"
    )
    pseudocode = """\
for each episode (support S, query Q):
    X_S = [f(x), 1] for the support images, Y_S their one-hot labels
    W = X_S^T (X_S X_S^T + lambda I)^-1 Y_S      (an S x S solve)
    scores = alpha * X_Q W + beta; loss = cross-entropy on Q
    gradient step on f, lambda, alpha, beta (through the solve)
"""
    order = 16
    modalities = ("image", "text")
    settings = (*NETWORK, LR, LR_DECAY_EVERY, PRECISION)

    def __init__(self, cfg, info, n_train_classes):
        super().__init__(cfg, info, n_train_classes)
        self.backbone = build_backbone(self.hp, info, cfg)
        self.log_lambda = nn.Parameter(torch.zeros(()))  # lambda = 1 at the start
        self.scale = nn.Parameter(torch.ones(()))  # alpha, learned: the scores' temperature
        self.bias = nn.Parameter(torch.zeros(()))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return run_features(self.backbone, x, self.hp.precision)

    def scores(self, e: Episode) -> torch.Tensor:
        """alpha * [X_q, 1] W + beta: [n_way * n_query, n_way]."""
        z = self.embed(torch.cat([e.support, e.query]))
        z = torch.cat([z, torch.ones(len(z), 1, device=z.device, dtype=z.dtype)], 1)
        support, query = z[: len(e.support)], z[len(e.support) :]
        targets = F.one_hot(e.support_labels, e.n_way).to(z.dtype)
        w = ridge_woodbury(support, targets, self.log_lambda.exp())
        return self.scale * (query @ w) + self.bias

    def loss(self, episodes: list[Episode]):
        return episodic_loss(episodes, self.scores)

    def predict(self, episode: Episode) -> torch.Tensor:
        return self.scores(episode)
