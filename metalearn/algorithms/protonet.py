"""Prototypical Networks."""

from __future__ import annotations

import copy

import torch

from metalearn.algorithms.base import Algorithm, episodic_loss, register
from metalearn.algorithms.finetune import cosine_scores
from metalearn.algorithms.support_finetune import tune_on_support
from metalearn.data import Episode
from metalearn.models import build_backbone
from metalearn.models.precision import run_features
from metalearn.settings import LR, LR_DECAY_EVERY, NETWORK, PRECISION, Setting

SUPPORT_STEPS = Setting(
    "support_finetune_steps",
    int,
    0,
    "Fine-tuning steps on each test task",
    "P>M>F (Hu et al. 2022): before a test task's queries are classified, a copy of the feature "
    "network takes this many Adam steps on the task's own support images, augmented views of "
    "them as queries (0: none; a frozen pretrained backbone's cached features cannot be "
    "augmented, so it needs fine-tune top or all)",
    0,
    500,
    advanced=True,
    modality="image",
)
SUPPORT_LR = Setting(
    "support_finetune_lr",
    float,
    1e-5,
    "Learning rate of that fine-tuning",
    "Adam's step size for the fine-tuning on each test task's support images (measured on "
    "miniImageNet, 1-shot: 1e-5 gains 2.3 points over no tuning, 1e-4 loses 2.7)",
    0,
    1,
    True,
    advanced=True,
    modality="image",
)

DISTANCE = Setting(
    "distance",
    str,
    "euclidean",
    "Distance to the prototypes",
    "euclidean: the paper's negative squared Euclidean distance; cosine: cosine similarity "
    "times a learned scale (from 10), as P>M>F scores a pretrained network's features, whose "
    "large norms make Euclidean scores overconfident (meta-training then shrinks and blurs them)",
    choices=("euclidean", "cosine"),
    advanced=True,
)
COSINE_SCALE = 10.0  # P>M>F's starting scale of cosine similarities


def prototypes(features: torch.Tensor, labels: torch.Tensor, n_way: int) -> torch.Tensor:
    """Class means. features [N, D], labels [N] in 0..n_way-1 -> [n_way, D]."""
    sums = torch.zeros(n_way, features.shape[1], device=features.device, dtype=features.dtype)
    sums.index_add_(0, labels, features)
    # Counted with index_add, not bincount: bincount on CUDA reads its input's max back to the
    # host, a sync per episode.
    counts = torch.zeros(n_way, device=features.device, dtype=features.dtype)
    counts.index_add_(0, labels, torch.ones_like(labels, dtype=features.dtype)).clamp_(min=1)
    return sums / counts[:, None]


def neg_sq_distances(query: torch.Tensor, protos: torch.Tensor) -> torch.Tensor:
    """-||q - c||^2. query [Q, D], protos [N, D] -> [Q, N] (computed without a [Q, N, D] tensor)."""
    return -(query.pow(2).sum(1, keepdim=True) - 2 * query @ protos.T + protos.pow(2).sum(1)[None])


@register
class ProtoNet(Algorithm):
    """Prototypical Networks (Snell, Swersky & Zemel, NeurIPS 2017, arXiv:1703.05175).

    Each class is represented by the mean embedding (prototype) of its support images; a query is
    classified by a softmax over negative squared Euclidean distances to the prototypes. Trained
    episodically; the training way may exceed the test way (the paper uses 60-way training on
    Omniglot), which makes training episodes harder than test episodes and helps. As in the
    paper, Adam with its learning rate halved every 2000 episodes (`lr_decay_every`). On CUDA the
    feature network runs in bf16 with channels-last images (`precision`); the prototypes and
    distances stay fp32.

    P>M>F (Hu, Li, Stuhmer, Kim & Hospedales, CVPR 2022) is this method on a pretrained
    backbone with one more stage at test time: `support_finetune_steps` > 0 tunes a copy of the
    network on each test task's support images before its queries are scored
    (`metalearn.algorithms.support_finetune`); the recipe "P>M>F on the pretrained network"
    sets it up on miniImageNet.
    """

    name = "protonet"
    family = "metric"
    summary = "Prototypical Networks: classify by distance to class-mean embeddings."
    formula = (
        r"c_k = \frac{1}{|S_k|}\sum_{x_i \in S_k} f_\phi(x_i), \quad p(y{=}k \mid x) = "
        r"\mathrm{softmax}_k\left(-\lVert f_\phi(x) - c_k \rVert^2\right)"
    )
    pseudocode = """\
for each episode (support S, query Q):
    c_k = mean of f(x) over the support images of class k
    loss = cross-entropy of softmax(-||f(q) - c_k||^2) over Q
    gradient step on the embedding f
"""
    order = 10
    modalities = ("image", "text")
    # The paper: Adam, its learning rate halved every 2000 episodes.
    settings = (
        *NETWORK,
        LR,
        LR_DECAY_EVERY.but(default=2000),
        PRECISION,
        SUPPORT_STEPS,
        SUPPORT_LR,
        DISTANCE,
    )

    def __init__(self, cfg, info, n_train_classes):
        super().__init__(cfg, info, n_train_classes)
        self.backbone = build_backbone(self.hp, info, cfg)
        if self.hp.distance == "cosine":
            self.scale = torch.nn.Parameter(torch.tensor(COSINE_SCALE))

    def _logits(self, z_query: torch.Tensor, protos: torch.Tensor) -> torch.Tensor:
        """Scores of queries [Q, D] against prototypes [N, D] -> [Q, N], by `distance`."""
        if self.hp.distance == "cosine":
            return cosine_scores(z_query, protos, self.scale)
        return neg_sq_distances(z_query, protos)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return run_features(self.backbone, x, self.hp.precision)

    def _scores(self, e: Episode, backbone: torch.nn.Module | None = None) -> torch.Tensor:
        # One forward pass over support and query together: half the kernel launches.
        x = torch.cat([e.support, e.query])
        z = run_features(backbone or self.backbone, x, self.hp.precision)  # [S + Q, D]
        z_support, z_query = z[: len(e.support)], z[len(e.support) :]
        return self._logits(z_query, prototypes(z_support, e.support_labels, e.n_way))

    def loss(self, episodes: list[Episode]):
        return episodic_loss(episodes, self._scores)

    def predict(self, episode: Episode) -> torch.Tensor:
        if not self.hp.support_finetune_steps:
            return self._scores(episode)
        return self._tuned_scores(episode)

    def _tuned_scores(self, e: Episode) -> torch.Tensor:
        """P>M>F's test-time stage: the scores of a copy of the network tuned on e's support set
        (the trained network is left as it was)."""
        net = copy.deepcopy(self.backbone)
        if getattr(self, "_views", None) is None:  # every test task draws its own views
            self._views = torch.Generator().manual_seed(self.cfg.seed)
        tune_on_support(
            net,
            e.support,
            e.support_labels,
            self.hp.support_finetune_steps,
            self.hp.support_finetune_lr,
            lambda s, y, q: self._logits(q, prototypes(s, y, e.n_way)),
            self._views,
            self.info.mean,
            self.info.std,
        )
        with torch.no_grad():
            return self._scores(e, net)
