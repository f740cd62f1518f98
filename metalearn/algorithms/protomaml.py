"""Proto-MAML: MAML whose output layer starts from the task's prototypes."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.func import functional_call

from metalearn.algorithms.base import register
from metalearn.algorithms.maml import FIRST_ORDER, INNER_LR, MAML, MAML_PATH
from metalearn.settings import (
    BACKBONE,
    INNER_STEPS,
    INNER_STEPS_TEST,
    INPUT_SIZE,
    LR,
    LR_DECAY_EVERY,
)


def prototype_head(features: torch.Tensor, labels: torch.Tensor, n_way: int) -> dict:
    """The linear layer equal to the prototype rule: W_k = 2 c_k, b_k = -||c_k||^2, so that
    W x + b = -||x - c_k||^2 + ||x||^2 (the same argmax and softmax as ProtoNet's distances).
    features [S, D], labels [S] -> {"weight": [n_way, D], "bias": [n_way]}."""
    onehot = F.one_hot(labels, n_way).to(features.dtype)  # [S, n_way]; works under vmap
    protos = (onehot.T @ features) / onehot.sum(0)[:, None]  # [n_way, D]
    return {"weight": 2 * protos, "bias": -(protos**2).sum(1)}


@register
class ProtoMAML(MAML):
    """Proto-MAML (Triantafillou, Zhu, Dumoulin, Lamblin, Evci, Xu, Goroshin, Gelada, Swersky,
    Manzagol & Larochelle, "Meta-Dataset: A Dataset of Datasets for Learning to Learn from Few
    Examples", ICLR 2020, arXiv:1903.03096).

    MAML's inner loop, but each task's output layer is not a learned initialisation: it is set
    from the support set's prototypes c_k (mean features), W_k = 2 c_k and b_k = -||c_k||^2, the
    linear form of ProtoNet's squared distances. First-order by default, as in the paper
    (fo-Proto-MAML): the inner gradients are constants, while the outer gradient still flows
    through the prototypes into the feature network. Then `inner_steps` SGD steps on the whole
    network, and the query loss.
    """

    name = "protomaml"
    summary = "Proto-MAML: MAML with the output layer initialised from the prototypes."
    formula = (
        r"W_k^{(0)} = 2 c_k,\quad b_k^{(0)} = -\lVert c_k \rVert^2, \quad \theta_i' = \theta - "
        r"\alpha \nabla_\theta \mathcal{L}_{S_i}"
    )
    pseudocode = """\
for each task: prototypes c_k of the support features
    output layer set to W_k = 2 c_k, b_k = -||c_k||^2
    MAML's inner steps on the support set (first-order)
    query loss; outer step on the feature network
"""
    seed_family = "model"  # the article: it learns an initial model
    order = 42
    modalities = ("image", "text")
    kinds = {"classification": "episodes"}
    settings = (
        BACKBONE,
        INPUT_SIZE,
        LR,
        LR_DECAY_EVERY,
        INNER_LR.but(default=0.1),
        INNER_STEPS.but(default=5),
        INNER_STEPS_TEST,
        FIRST_ORDER.but(default=True),
        MAML_PATH,
    )

    def __init__(self, cfg, info, n_train_classes):
        super().__init__(cfg, info, n_train_classes)
        self.learner[1].requires_grad_(False)  # never used: each task's head is its prototypes

    def with_prototype_head(self, params, xs, ys) -> dict:
        """params with the output layer replaced by the prototype head of (xs, ys)."""
        body = {n[2:]: p for n, p in params.items() if n.startswith("0.")}
        features = functional_call(self.net[0], body, (xs,))  # [S, D]
        head = prototype_head(features, ys, self.cfg.n_way)
        return {**params, "1.weight": head["weight"], "1.bias": head["bias"]}

    def adapted_query_loss(
        self, params, xs, ys, xq, yq, steps: int, first_order: bool, batched: bool = False
    ):
        params = self.with_prototype_head(params, xs, ys)
        return super().adapted_query_loss(params, xs, ys, xq, yq, steps, first_order, batched)

    def predict(self, episode, steps: int | None = None) -> torch.Tensor:
        steps = self.hp.inner_steps_test if steps is None else steps
        with torch.enable_grad():
            params = {n: p.detach() for n, p in self.params().items()}
            params = self.with_prototype_head(params, episode.support, episode.support_labels)
            params = {n: p.detach().requires_grad_() for n, p in params.items()}
            fast = self.adapt(params, episode.support, episode.support_labels, steps, True)
        with torch.no_grad():
            return functional_call(self.learner, fast, (episode.query,))
