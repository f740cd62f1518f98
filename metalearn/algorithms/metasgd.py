"""Meta-SGD: MAML whose inner step sizes are learned, one per parameter entry."""

from __future__ import annotations

import torch
from torch import nn

from metalearn.algorithms.base import register
from metalearn.algorithms.maml import MAML


@register
class MetaSGD(MAML):
    """Meta-SGD (Li, Zhou, Chen & Li, 2017, arXiv:1707.09835).

    The inner update is theta - alpha * grad with alpha a tensor of the same shape as theta, learned
    with the initialisation by the outer optimiser: it learns the direction and the size of the
    adaptation step. One inner step, as in the paper. alpha starts at `inner_lr` everywhere (the
    paper draws it at random from a small range).
    """

    name = "metasgd"
    summary = "Meta-SGD: MAML that also learns a step size for every parameter."
    formula = (
        r"\theta_i' = \theta - \boldsymbol{\alpha} \odot \nabla_\theta "
        r"\mathcal{L}_{S_i}(f_\theta), \quad (\theta, \boldsymbol{\alpha}) \leftarrow (\theta, "
        r"\boldsymbol{\alpha}) - \beta \nabla \sum_i \mathcal{L}_{Q_i}(f_{\theta_i'})"
    )
    pseudocode = """\
like MAML, with a learned step size for every parameter (alpha),
meta-learned together with the initialisation
"""
    seed_family = "model"  # the article: it learns an initial model
    order = 50
    modalities = ("image", "text")

    def __init__(self, cfg, info, n_train_classes):
        super().__init__(cfg, info, n_train_classes)
        self.alphas = nn.ParameterDict(
            {
                n.replace(".", "_"): nn.Parameter(torch.full_like(p, self.hp.inner_lr))
                for n, p in self.learner.named_parameters()
            }
        )

    def step_size(self, name: str, step: int = 0) -> torch.Tensor:
        return self.alphas[name.replace(".", "_")]
