"""The one protocol every algorithm follows, and the registry that names them.

An algorithm is an `nn.Module` holding everything it learns. The trainer hands it what its run
kind samples (a meta-batch of episodes, a labelled batch, a batch of sequences), and the kind's
evaluation asks it to `predict` test episodes. Adding an algorithm is one file in this package
with a subclass decorated by `@register`; its class attributes are read without importing it by
`metalearn.catalog`, so they are literals and `metalearn.settings` declarations.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from metalearn.catalog import TASKS
from metalearn.config import RunConfig
from metalearn.data import DatasetInfo, Episode, Split
from metalearn.settings import LR, LR_DECAY_EVERY, Setting, with_defaults

ALGORITHMS: dict[str, type[Algorithm]] = {}


def register(cls: type[Algorithm]) -> type[Algorithm]:
    """Class decorator: makes `cls` available by `cls.name` to the CLI and the dashboard."""
    cls.tasks = tuple(t for t in cls.kinds if t in TASKS)
    ALGORITHMS[cls.name] = cls
    return cls


class Algorithm(nn.Module):
    """Base class. Subclasses set the class attributes and implement `loss` and `predict`.

    Attributes:
        name: registry key.
        family: "model", "optimization", "metric", "memory" or "transfer".
        summary: one line for menus.
        kinds: dataset task -> the run kind it runs as ("episodes", "transfer", "sequences",
            "regression", see `metalearn.engine.kinds`); a value of `mode_setting` may be a key.
        settings: the hyperparameters it reads (`self.hp.<name>`), each declared once.
        spec_defaults: run spec values it starts from where a user gave none (CLI and UI).
        bench_defaults: the same for `bench`.
        same_way: a fixed-size output layer, so train_way must equal n_way.
        order: menu position.
        formula, pseudocode: the Learn page's LaTeX and short pseudo-code of the method.
        seed_family: the family the article files it under, where that differs from
            `family` (the literature's); e.g. MAML: "model".
        modalities: what its classification runs read: "image", and "text" where its networks
            take the text encoders' features.
    """

    name: ClassVar[str]
    family: ClassVar[str]
    summary: ClassVar[str] = ""
    kinds: ClassVar[dict[str, str]] = {"classification": "episodes"}
    tasks: ClassVar[tuple[str, ...]] = ("classification",)  # set by @register from `kinds`
    settings: ClassVar[tuple[Setting, ...]] = (LR, LR_DECAY_EVERY)
    spec_defaults: ClassVar[dict[str, Any]] = {}
    bench_defaults: ClassVar[dict[str, Any]] = {}  # spec values `bench` starts from
    views: ClassVar[tuple[str, ...]] = ()  # the Inside page's views of it: "gates", "memory"
    mode_setting: ClassVar[str | None] = None
    same_way: ClassVar[bool] = False
    formula: ClassVar[str] = ""
    pseudocode: ClassVar[str] = ""
    seed_family: ClassVar[str | None] = None
    modalities: ClassVar[tuple[str, ...]] = ("image",)  # the kinds of examples it classifies
    # The feature networks it can use, where not every choice of `backbone` (None: all).
    backbones: ClassVar[tuple[str, ...] | None] = None
    order: ClassVar[int] = 100

    def __init__(self, cfg: RunConfig, info: DatasetInfo, n_train_classes: int):
        super().__init__()
        self.cfg, self.info, self.n_train_classes = cfg, info, n_train_classes
        self.hp = SimpleNamespace(**with_defaults(self.settings, cfg.hyper))
        # The share of the run done so far, by episodes or by the time budget, whichever is
        # further (set by the trainer before each update): what schedules over "the run"
        # (an annealed step size, a cosine learning rate) follow, so that a run stopped by
        # `max_seconds` still goes through its whole schedule.
        self.run_fraction = 0.0

    def run_progress(self, updates: int) -> float:
        """How far through the run this algorithm is, in [0, 1]: `updates` (meta-batches done)
        over the run's meta-batches, or the trainer's `run_fraction` if that is further."""
        total = max(1, self.cfg.episodes // max(1, self.cfg.meta_batch))
        return min(1.0, max(updates / total, self.run_fraction))

    def make_optimizer(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.param_groups(), lr=self.hp.lr)

    def param_groups(self) -> list[dict[str, Any]]:
        """The optimiser's parameter groups: the weights of pretrained modules (those with
        `pretrained = True`, e.g. a fine-tuned text encoder) at `encoder_lr`, the rest at
        `lr`."""
        pretrained = {
            id(p) for m in self.modules() if getattr(m, "pretrained", False) for p in m.parameters()
        }
        if not pretrained:
            return [{"params": list(self.parameters())}]
        own = [p for p in self.parameters() if id(p) not in pretrained]
        theirs = [p for p in self.parameters() if id(p) in pretrained]
        return [{"params": own}, {"params": theirs, "lr": self.hp.encoder_lr}]

    def prepare(self, train: Split) -> None:
        """Called once with the training split before training starts (not on a resume): for
        what is computed from the whole training set rather than learned (SimpleShot's mean
        feature under a frozen backbone)."""

    def run_facts(self) -> dict[str, Any]:
        """What a finished run reports about how it was computed (e.g. MAML's chosen path)."""
        return {}

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

    def predict_distribution(
        self, episode: Episode, x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Regression learners with a predictive distribution: mean and standard deviation at
        inputs x [N, 1], given the episode's support set ([N, 1] each). None: point predictions
        only (the dashboard then draws no band)."""
        return None


def episodic_loss(
    episodes: list[Episode],
    scores_of: Callable[[Episode], torch.Tensor],
    loss_of: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = F.cross_entropy,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The mean query loss of a meta-batch and its detached metrics (loss, accuracy).

    Args:
        scores_of: episode -> query scores [n_way * n_query, n_way] (higher: more likely).
        loss_of: (scores, query labels) -> loss; cross-entropy unless the method says otherwise.
    """
    losses, accs = [], []
    for e in episodes:
        scores = scores_of(e)
        losses.append(loss_of(scores, e.query_labels))
        accs.append(accuracy(scores.detach(), e.query_labels))
    loss = torch.stack(losses).mean()
    return loss, {"loss": loss.detach(), "accuracy": torch.stack(accs).mean()}


def accuracy(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean accuracy as a 0-d tensor (stays on the device)."""
    return (scores.argmax(-1) == labels).float().mean()
