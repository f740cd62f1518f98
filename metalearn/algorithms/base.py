"""The one protocol every algorithm follows, and the registry that names them.

An algorithm is an `nn.Module` holding everything it learns. The trainer hands it training data
(a meta-batch of episodes, or a labelled batch for batch-trained baselines), and the evaluator asks
it to `predict` query labels of test episodes. Adding an algorithm is one file with a subclass
decorated by `@register`.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from metalearn.config import RunConfig
from metalearn.data import DatasetInfo, Episode

ALGORITHMS: dict[str, type[Algorithm]] = {}


def register(cls: type[Algorithm]) -> type[Algorithm]:
    """Class decorator: makes `cls` available by `cls.name` to the CLI and the dashboard."""
    ALGORITHMS[cls.name] = cls
    return cls


class Algorithm(nn.Module):
    """Base class. Subclasses set the class attributes and implement `loss` and `predict`.

    Attributes:
        name: registry key.
        family: "metric", "optimization", "memory" or "transfer".
        summary: one line for menus.
        tasks: the dataset tasks it handles ("classification", "regression").
        train_data: "episodes" (meta-batches of episodes) or "batches" (labelled image batches).
        settings: RunConfig fields that matter to it (the dashboard shows only these).
        defaults: RunConfig values it needs other than the global defaults (a user's own
            values win).
    """

    name: ClassVar[str]
    family: ClassVar[str]
    summary: ClassVar[str] = ""
    tasks: ClassVar[tuple[str, ...]] = ("classification",)
    train_data: ClassVar[str] = "episodes"
    same_way: ClassVar[bool] = False  # True: a fixed-size output layer, so train_way == n_way
    # True: learns from labelled sequences of n_way classes x n_shot instances (no query set) and
    # implements `outcomes`; scored per step (see `engine.evaluate.evaluate_sequences`).
    sequence: ClassVar[bool] = False
    settings: ClassVar[tuple[str, ...]] = ()
    defaults: ClassVar[dict] = {}  # RunConfig values this algorithm starts from (CLI and UI)

    def __init__(self, cfg: RunConfig, info: DatasetInfo, n_train_classes: int):
        super().__init__()
        self.cfg, self.info, self.n_train_classes = cfg, info, n_train_classes

    def make_optimizer(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.cfg.lr)

    def loss(self, data) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Training loss of one meta-batch, plus detached metrics (no host sync).

        Args:
            data: list[Episode] for episodic training; (images [B,C,H,W], labels [B]) for batches.
        """
        raise NotImplementedError

    def train_step(self, data, optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
        """One optimiser update. Override for algorithms whose update is not plain backprop."""
        optimizer.zero_grad(set_to_none=True)
        loss, metrics = self.loss(data)
        loss.backward()
        optimizer.step()
        return metrics

    def predict(self, episode: Episode) -> torch.Tensor:
        """Query scores of one episode: [n_way * n_query, n_way], higher is more likely."""
        raise NotImplementedError

    def predict_many(self, episodes: list[Episode]) -> list[torch.Tensor]:
        """`predict` over several episodes; algorithms that can batch them override this."""
        return [self.predict(e) for e in episodes]

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Features [B, D] for images [B, C, H, W] (used by the embeddings view)."""
        raise NotImplementedError


def accuracy(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean accuracy as a 0-d tensor (stays on the device)."""
    return (scores.argmax(-1) == labels).float().mean()
