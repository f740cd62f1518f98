"""Recipes: named settings for one method on one dataset - each paper's own for miniImageNet, and
the "miniImageNet, CPU demo" that this lab measured to teach something within minutes on a small
CPU. The Train page offers them as starting points (with a time estimate for the device in use,
`engine.estimate`); `scripts/miniimagenet_table.py` trains the CPU demo of every method.
Torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CPU_DEMO = "miniImageNet, CPU demo"
# The CPU demo's shape: 42x42 photos (a quarter of the papers' pixels), 1-shot episodes, an
# 8-minute training budget; tested on 5-way episodes with 15 queries as the papers are. ProtoNet
# on it: 0.373 +- 0.007 (5-way 1-shot), 8.7 minutes from launch to result on a 2-core CPU
# (docs/results/miniimagenet_demo.jsonl). The table (scripts/miniimagenet_table.py) gives every
# method 5 minutes of it.
DEMO_SHAPE: dict[str, Any] = {
    "dataset": "miniimagenet",
    "image_size": 42,
    "n_way": 5,
    "n_shot": 1,
    "n_query": 15,
    "episodes": 100_000_000,  # the time budget ends training
    "max_seconds": 480,
    "val_every": 0,
}
HIGHER_WAY = {"train_way": 20, "train_query": 5}  # ProtoNet's higher-way training, CPU-sized
# MAML's miniImageNet settings (Finn et al. 2017, appendix A.1): 5 steps at lr 0.01, meta-batch
# 4, 10 steps at test; the demo cuts its training queries from 15 to 5 per class.
MAML_DEMO = {"inner_lr": 0.01, "inner_steps": 5, "inner_steps_test": 10, "meta_batch": 4}
MAML_DEMO |= {"train_query": 5}
DEMO: dict[str, dict[str, Any]] = {  # each method's own demo settings over DEMO_SHAPE
    "protonet": HIGHER_WAY,
    "matching": HIGHER_WAY,
    "relation": {"train_query": 10},
    "r2d2": HIGHER_WAY,
    "simpleshot": {},
    "finetune": {},
    "maml": MAML_DEMO,
    "anil": MAML_DEMO,
    "maml_pp": MAML_DEMO,
    "metasgd": {"inner_steps": 1, "meta_batch": 4, "train_query": 5},
    "protomaml": {"inner_steps": 5, "meta_batch": 4, "train_query": 5},
    # Transductive testing (the paper's headline): the queries in one batch. Without it each query
    # goes through the network beside the whole support set (batch norm sees only those): 20
    # 5-shot test episodes took 130 s here, so 600 would take over an hour.
    "reptile": {"meta_batch": 5, "train_query": 15, "transductive": True},
    "meta_lstm": {"train_query": 5},
    "snail": {"train_query": 1},
    "cnp": {"train_query": 5},
    "mann": {},
}


@dataclass(frozen=True)
class Recipe:
    """Settings for one method on one dataset, and where they come from.

    Attributes:
        name: what the menu reads ("ProtoNet, 1-shot (Snell et al. 2017)").
        algorithm: the method it is for.
        values: spec fields and hyperparameters, over the defaults.
        source: the paper (and its section) the settings follow, or how they were measured.
        differs: what the lab does differently from that source, if anything.
    """

    name: str
    algorithm: str
    values: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    differs: str = ""


MINI = {"dataset": "miniimagenet", "image_size": 84, "n_way": 5, "n_query": 15}
# The Baseline / Baseline++ pre-training of Chen et al. 2019: 400 epochs of the 38,400 training
# images in batches of 16 (960,000 batches), with standard augmentation.
CHEN = {**MINI, "n_shot": 1, "episodes": 960_000, "batch_size": 16, "augment": True}
MAML_PAPER = {**MINI, "n_shot": 1, "inner_lr": 0.01, "inner_steps": 5, "inner_steps_test": 10}
MAML_PAPER |= {"meta_batch": 4, "episodes": 240_000}  # 60,000 meta-updates of 4 tasks
PAPERS = (
    Recipe(
        "ProtoNet, 1-shot (Snell et al. 2017)",
        "protonet",
        {**MINI, "n_shot": 1, "train_way": 30, "train_query": 15, "lr_decay_every": 2000}
        | {"episodes": 30_000, "val_every": 1000},
        "Snell, Swersky & Zemel 2017, section 3.2: 30-way training episodes, 15 queries, Adam "
        "1e-3 halved every 2000 episodes",
        "the paper stops on validation loss; here a fixed 30,000 episodes",
    ),
    Recipe(
        "ProtoNet, 5-shot (Snell et al. 2017)",
        "protonet",
        {**MINI, "n_shot": 5, "train_way": 20, "train_query": 15, "lr_decay_every": 2000}
        | {"episodes": 30_000, "val_every": 1000},
        "Snell, Swersky & Zemel 2017, section 3.2: 20-way training episodes, 15 queries",
        "the paper stops on validation loss; here a fixed 30,000 episodes",
    ),
    Recipe(
        "MAML, 1-shot (Finn et al. 2017)",
        "maml",
        MAML_PAPER,
        "Finn, Abbeel & Levine 2017, section 5.2 and appendix A.1: 5 steps at lr 0.01, 10 at "
        "test, meta-batch 4, 60,000 meta-updates",
        "64 filters per block (the paper: 32, to limit overfitting)",
    ),
    Recipe(
        "First-order MAML, 1-shot (Finn et al. 2017)",
        "maml",
        {**MAML_PAPER, "first_order": True},
        "Finn, Abbeel & Levine 2017, section 5.2: the first-order approximation",
        "64 filters per block (the paper: 32)",
    ),
    Recipe(
        "P>M>F on the pretrained network (Hu et al. 2022)",
        "protonet",
        {**MINI, "n_shot": 5, "backbone": "efficientnet_lite0", "finetune_encoder": "top"}
        | {"input_size": 224, "encoder_lr": 1e-5, "episodes": 2_000, "val_every": 500}
        | {"support_finetune_steps": 50, "support_finetune_lr": 1e-5, "distance": "cosine"},
        "Hu, Li, Stuhmer, Kim & Hospedales 2022: Pre-train (here: ImageNet-1k weights), "
        "Meta-train ProtoNet on the training classes, Fine-tune on each test task's support set "
        "(50 Adam steps on augmented views)",
        "EfficientNet-Lite0 with labelled ImageNet weights (the paper: self-supervised DINO "
        "ViTs); its last two stages meta-trained and fine-tuned (the paper: every layer). "
        "ImageNet holds miniImageNet's test classes: such runs are marked so",
    ),
    Recipe(
        "Baseline++ (Chen et al. 2019)",
        "finetune",
        {**CHEN, "head": "cosine"},
        "Chen, Liu, Kira, Wang & Huang 2019, section 4.1: 400 epochs, batch 16, augmentation; "
        "a new cosine head fitted on each task's support set",
    ),
    Recipe(
        "Baseline (Chen et al. 2019)",
        "finetune",
        {**CHEN, "head": "linear"},
        "Chen, Liu, Kira, Wang & Huang 2019, section 4.1: as Baseline++ with a linear head",
    ),
)


def demo(algorithm: str) -> Recipe:
    """The CPU demo recipe for `algorithm` (every image method has one)."""
    return Recipe(
        CPU_DEMO,
        algorithm,
        {**DEMO_SHAPE, **DEMO[algorithm]},
        "measured by the lab on a 2-core CPU: ProtoNet reaches 37% on 5-way 1-shot in 8.7 "
        "minutes; every method's figure in docs/results/miniimagenet.md",
        "42x42 photos (the papers: 84x84) and 8 minutes of training (the papers: hours on a GPU)",
    )


def recipes(algorithm: str, dataset: str) -> list[Recipe]:
    """The recipes for this method on this dataset: the CPU demo first, then its papers'."""
    if dataset != DEMO_SHAPE["dataset"] or algorithm not in DEMO:
        return []
    return [demo(algorithm), *(r for r in PAPERS if r.algorithm == algorithm)]
