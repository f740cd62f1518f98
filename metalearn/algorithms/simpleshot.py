"""SimpleShot: nearest centroid on centred, L2-normalised features of a pre-trained network."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from metalearn.algorithms.base import Algorithm, accuracy, register
from metalearn.algorithms.protonet import neg_sq_distances, prototypes
from metalearn.data import Episode
from metalearn.models import build_backbone
from metalearn.models.precision import run_features
from metalearn.settings import (
    BATCH_SIZE,
    LR,
    LR_DECAY_EVERY,
    NETWORK,
    PRECISION,
    Setting,
)

TRANSFORM = Setting(
    "feature_transform",
    str,
    "cl2n",
    "Feature transform",
    "cl2n: subtract the mean feature of the training classes, then scale to unit length; "
    "l2n: unit length only; un: raw features",
    choices=("cl2n", "l2n", "un"),
)
MEAN_MOMENTUM = 0.01  # the running mean of training features follows the last ~100 batches


def transform(features: torch.Tensor, base_mean: torch.Tensor, how: str) -> torch.Tensor:
    """features [N, D] -> [N, D]: centred on `base_mean` (cl2n) and/or L2-normalised."""
    if how == "cl2n":
        features = features - base_mean
    return F.normalize(features, dim=-1) if how in ("cl2n", "l2n") else features


@register
class SimpleShot(Algorithm):
    """SimpleShot (Wang, Chao, Weinberger & van der Maaten, "SimpleShot: Revisiting
    Nearest-Neighbor Classification for Few-Shot Learning", arXiv:1911.04623, 2019).

    The network is trained as an ordinary classifier over all training classes (cross-entropy,
    labelled batches); no episodes. At test time each feature is transformed, by default CL2N:
    minus the mean feature of the training classes, then divided by its norm; a query goes to the
    nearest class centroid of the transformed support features (Euclidean). The mean is a running
    average of the training batches' features, kept like batch norm's running mean (the paper
    takes it over the training set with the final network; the average follows its last ~100
    batches).
    """

    name = "simpleshot"
    family = "metric"
    summary = "SimpleShot: a pre-trained network's centred, normalised features, nearest centroid."
    formula = (
        r"\tilde{f}(x) = \frac{f(x) - \bar{f}}{\lVert f(x) - \bar{f} \rVert}, \quad \hat{y} = "
        r"\arg\min_k \lVert \tilde{f}(x) - \tilde{c}_k \rVert"
    )
    pseudocode = """\
pre-train f with a classifier over all training classes (batches)
keep f_bar, the mean training feature
for a test episode: transform every feature (minus f_bar, unit length)
    a query goes to the nearest class centroid
"""
    order = 18
    modalities = ("image", "text")
    kinds = {"classification": "transfer"}
    settings = (
        *NETWORK,
        LR,
        LR_DECAY_EVERY,
        BATCH_SIZE,
        PRECISION,
        TRANSFORM,
    )

    def __init__(self, cfg, info, n_train_classes):
        super().__init__(cfg, info, n_train_classes)
        self.backbone = build_backbone(self.hp, info, cfg)
        self.classifier = nn.Linear(self.backbone.out_dim, n_train_classes)
        self.register_buffer("base_mean", torch.zeros(self.backbone.out_dim))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return run_features(self.backbone, x, self.hp.precision)

    def prepare(self, train) -> None:
        """Under a frozen pretrained backbone the features never change: the mean is the
        paper's, over every training image (their cached features), not a running average."""
        if not getattr(self.backbone, "frozen", False):
            return
        features = train.to_float(train.images).to(self.base_mean.device)
        with torch.no_grad():
            total = sum(self.embed(c).double().sum(0) for c in features.split(4096))
        self.base_mean.copy_(total / len(features))

    def loss(self, batch):
        images, labels = batch  # [B, C, H, W], [B]
        features = self.embed(images)
        if self.training and not getattr(self.backbone, "frozen", False):
            with torch.no_grad():
                self.base_mean.lerp_(features.mean(0), MEAN_MOMENTUM)
        logits = self.classifier(features)
        loss = F.cross_entropy(logits, labels)
        return loss, {"loss": loss.detach(), "accuracy": accuracy(logits.detach(), labels)}

    def predict(self, episode: Episode) -> torch.Tensor:
        """Negative squared distances of transformed query features to the class centroids."""
        with torch.no_grad():
            z = self.embed(torch.cat([episode.support, episode.query]))
        z = transform(z, self.base_mean, self.hp.feature_transform)
        support, query = z[: len(episode.support)], z[len(episode.support) :]
        return neg_sq_distances(query, prototypes(support, episode.support_labels, episode.n_way))
