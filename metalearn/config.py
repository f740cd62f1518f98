"""One `RunConfig` for every run: built by the CLI and the dashboard, stored with runs and
checkpoints.

Validation happens up front, before any data is loaded or a worker is started, and reports every
problem at once so a user can fix them in one go.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16")
MIN_IMAGE_SIZE = 16  # Conv4, SimpleCNN and ResNet-12 pool four times


class ConfigError(ValueError):
    """A run configuration that cannot run; the message lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid settings:\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass
class RunConfig:
    """Everything that defines a run. Defaults are the CPU quick start (ProtoNet on `glyphs`).

    Attributes:
        algorithm: registered algorithm name (see `metalearn.algorithms.ALGORITHMS`).
        dataset: registered dataset name (see `metalearn.data.DATASETS`).
        data_root: folder holding the dataset files; unused by generated datasets.
        n_way, n_shot, n_query: the shape of test (and validation) episodes.
        train_way, train_shot, train_query: the shape of training episodes; None means "as test".
        episodes: training episodes (for batch-trained baselines: training batches).
        meta_batch: episodes per optimiser update.
        lr: outer (meta) learning rate.
        lr_decay_every: training episodes between halvings of the learning rate (the ProtoNet
            paper's schedule is 2000); 0 keeps it constant.
        backbone: feature extractor, see `metalearn.models.BACKBONES`.
        image_size: side length images are resized to; None means the dataset's own size.
        head: fine-tuning baseline classifier, "linear" (Baseline) or "cosine" (Baseline++).
        batch_size: images per pre-training batch of the fine-tuning baseline.
        finetune_epochs: passes over the support set when fitting a new head per episode.
        finetune_lr: learning rate of that head.
        finetune_mode: "episodic" (few-shot evaluation) or "seed" (the CIFAR-10 transfer pipeline:
            train on the full training set, fine-tune on a 1000-image subset, test on the test set).
        inner_lr: step size of the inner (task adaptation) loop of MAML-style algorithms.
        inner_steps, inner_steps_test: inner gradient steps in training and at test time.
        first_order: MAML without second derivatives (FOMAML).
        maml_path: how a meta-batch is computed: "vmap" (tasks batched with torch.func.vmap),
            "loop" (one task after another), "threads" (CPU: the tasks split over threads) or
            "auto" (time the candidates on the first updates, keep the fastest).
        precision: the feature network's arithmetic where an algorithm offers a choice: "fp32",
            "bf16" (autocast to bfloat16, channels-last images), or "auto" (bf16 on CUDA, fp32
            elsewhere). Distances, losses and the optimiser stay in fp32 either way.
        eval_episodes: seeded test episodes, identical for every algorithm on the same task shape.
        val_every: training episodes between validation passes (0 disables them).
        val_episodes: episodes per validation pass.
        log_every: training episodes between logged metric points.
        checkpoint_every: training episodes between checkpoints (0: only at the end).
        max_seconds: a training time budget: training ends at the first log point past it, even
            if fewer than `episodes` were done (None: no budget).
        seed: seeds model initialisation and the training sampler.
        device: "auto" picks CUDA, then MPS, then CPU.
    """

    algorithm: str = "protonet"
    dataset: str = "glyphs"
    data_root: str | None = None
    n_way: int = 5
    n_shot: int = 1
    n_query: int = 15
    train_way: int | None = None
    train_shot: int | None = None
    train_query: int | None = None
    episodes: int = 600
    meta_batch: int = 1
    lr: float = 1e-3
    lr_decay_every: int = 0
    backbone: str = "conv4"
    image_size: int | None = None
    head: str = "cosine"
    batch_size: int = 64
    finetune_epochs: int = 100
    finetune_lr: float = 0.01
    finetune_mode: str = "episodic"
    inner_lr: float = 0.4
    inner_steps: int = 1
    inner_steps_test: int = 3
    first_order: bool = False
    maml_path: str = "auto"
    precision: str = "auto"
    eval_episodes: int = 600
    val_every: int = 250
    val_episodes: int = 100
    log_every: int = 25
    checkpoint_every: int = 0
    max_seconds: float | None = None
    seed: int = 0
    device: str = "auto"
    extra: dict[str, Any] = field(default_factory=dict)

    # -- episode shapes -----------------------------------------------------------------------
    @property
    def train_shape(self) -> tuple[int, int, int]:
        """(way, shot, query) of training episodes, falling back to the test shape."""
        return (
            self.train_way or self.n_way,
            self.train_shot or self.n_shot,
            self.train_query or self.n_query,
        )

    @property
    def test_shape(self) -> tuple[int, int, int]:
        return (self.n_way, self.n_shot, self.n_query)

    # -- JSON round trip ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError([f"unknown setting(s): {', '.join(unknown)}"])
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        return cls.from_dict(json.loads(text))

    # -- validation ---------------------------------------------------------------------------
    def type_problems(self) -> list[str]:
        """Each setting against its declared type (a bool is not a number here)."""
        out = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            allowed = [t.strip() for t in str(f.type).split("|")]
            if not any(_is(value, t) for t in allowed):
                out.append(f"{f.name} must be {' or '.join(allowed)}, got {value!r}")
        return out

    def problems(self) -> list[str]:
        """Checks that need no dataset: types, ranges and names. Returns the problems found."""
        typed = self.type_problems()
        if typed:  # the range checks below assume the right types
            return typed
        from metalearn.algorithms import ALGORITHMS
        from metalearn.data import DATASETS
        from metalearn.models import BACKBONES

        out: list[str] = []
        if self.algorithm not in ALGORITHMS:
            out.append(
                f"algorithm {self.algorithm!r} is unknown; choose one of {', '.join(ALGORITHMS)}"
            )
        if self.dataset not in DATASETS:
            out.append(f"dataset {self.dataset!r} is unknown; choose one of {', '.join(DATASETS)}")
        if self.backbone not in BACKBONES:
            out.append(
                f"backbone {self.backbone!r} is unknown; choose one of {', '.join(BACKBONES)}"
            )
        ints = {
            "n_way": (self.n_way, 1),
            "n_shot": (self.n_shot, 1),
            "n_query": (self.n_query, 1),
            "episodes": (self.episodes, 0),
            "meta_batch": (self.meta_batch, 1),
            "eval_episodes": (self.eval_episodes, 1),
            "val_every": (self.val_every, 0),
            "val_episodes": (self.val_episodes, 1),
            "log_every": (self.log_every, 1),
            "checkpoint_every": (self.checkpoint_every, 0),
            "batch_size": (self.batch_size, 1),
            "finetune_epochs": (self.finetune_epochs, 0),
            "inner_steps": (self.inner_steps, 1),
            "inner_steps_test": (self.inner_steps_test, 0),
            "seed": (self.seed, 0),
            "lr_decay_every": (self.lr_decay_every, 0),
        }
        for name in ("train_way", "train_shot", "train_query", "image_size"):
            value = getattr(self, name)
            if value is not None:
                ints[name] = (value, 1)
        for name, (value, low) in ints.items():
            if value < low:  # types were checked by type_problems
                out.append(f"{name} must be at least {low}, got {value}")
        if self.dataset != "sinusoid" and ((self.train_way or self.n_way) < 2 or self.n_way < 2):
            out.append("n_way and train_way must be at least 2 for classification episodes")
        algo = ALGORITHMS.get(self.algorithm)
        uses_conv = algo is not None and not algo.sequence and self.dataset != "sinusoid"
        if uses_conv and self.image_size is not None and 0 < self.image_size < MIN_IMAGE_SIZE:
            out.append(
                f"image_size must be at least {MIN_IMAGE_SIZE} for the convolutional networks "
                f"(their four poolings halve it each time), got {self.image_size}"
            )
        if self.max_seconds is not None and not 0 < self.max_seconds < math.inf:
            out.append(
                f"max_seconds must be a positive number of seconds, got {self.max_seconds!r}"
            )
        for name in ("lr", "finetune_lr", "inner_lr"):
            value = getattr(self, name)
            if not 0 < value <= 10:
                out.append(f"{name} must be a number in (0, 10], got {value!r}")
        if self.device not in DEVICES:
            out.append(f"device {self.device!r} is unknown; choose one of {', '.join(DEVICES)}")
        if self.head not in ("linear", "cosine"):
            out.append(f"head {self.head!r} is unknown; choose 'linear' or 'cosine'")
        if self.maml_path not in ("auto", "vmap", "loop", "threads"):
            out.append(
                f"maml_path {self.maml_path!r} is unknown; 'auto', 'vmap', 'loop' or 'threads'"
            )
        if self.precision not in PRECISIONS:
            out.append(
                f"precision {self.precision!r} is unknown; choose one of {', '.join(PRECISIONS)}"
            )
        if not isinstance(self.first_order, bool):
            out.append(f"first_order must be true or false, got {self.first_order!r}")
        if self.finetune_mode not in ("episodic", "seed"):
            out.append(f"finetune_mode {self.finetune_mode!r} is unknown; 'episodic' or 'seed'")
        return out

    def validate(self) -> RunConfig:
        """Checks everything, the chosen dataset's splits included, without loading images.

        Raises:
            ConfigError: listing every problem found.
        """
        out = self.problems()
        if not out:
            out = _dataset_problems(self)
        if out:
            raise ConfigError(out)
        return self


def _is(value: Any, type_name: str) -> bool:
    if type_name == "None":
        return value is None
    if type_name == "bool":
        return isinstance(value, bool)
    if type_name == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if type_name == "str":
        return isinstance(value, str)
    if type_name.startswith("dict"):
        return isinstance(value, dict)
    raise AssertionError(f"unhandled type {type_name}")


def _dataset_problems(cfg: RunConfig) -> list[str]:
    from metalearn.algorithms import ALGORITHMS
    from metalearn.data import DATASETS, DataError

    try:
        info = DATASETS[cfg.dataset].describe(cfg.data_root)
    except DataError as err:
        return [str(err)]
    algo = ALGORITHMS[cfg.algorithm]
    if info.task not in algo.tasks:
        return [
            f"algorithm {cfg.algorithm!r} does not do {info.task} (dataset {cfg.dataset!r}); "
            f"it supports: {', '.join(algo.tasks)}"
        ]
    if cfg.finetune_mode == "seed":
        if cfg.algorithm != "finetune" or cfg.dataset != "cifar10":
            return ["finetune_mode 'seed' runs only with algorithm 'finetune' on dataset 'cifar10'"]
        return []
    out = []
    if algo.same_way and cfg.train_shape[0] != cfg.n_way:
        out.append(
            f"{cfg.algorithm} has an output layer of n_way units, so train_way must equal n_way "
            f"({cfg.n_way}), got {cfg.train_shape[0]}"
        )
    if info.task == "regression":
        return out
    for split, (way, shot, query) in (
        ("train", cfg.train_shape),
        ("val", cfg.test_shape),
        ("test", cfg.test_shape),
    ):
        n_classes, min_images = info.splits[split]
        if algo.sequence:  # a sequence holds n_shot instances of each class and no query set
            query = 0
        if split == "val" and (cfg.val_every == 0 or n_classes == 0):
            continue
        if way > n_classes:
            label = "train_way" if split == "train" else "n_way"
            out.append(
                f"{label}={way} is more than the {n_classes} classes of the {split} split of "
                f"{cfg.dataset!r}; allowed: 2..{n_classes}"
            )
        if shot + query > min_images:
            names = "train_shot + train_query" if split == "train" else "n_shot + n_query"
            if algo.sequence:
                names = "train_shot" if split == "train" else "n_shot (instances per class)"
            out.append(
                f"{names} = {shot + query} is more than the {min_images} images of the smallest "
                f"class in the {split} split of {cfg.dataset!r}; allowed: at most {min_images}"
            )
    return out
