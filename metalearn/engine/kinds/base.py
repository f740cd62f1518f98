"""What a kind of run is: one class that every layer asks.

A kind owns what a run of it samples for training, how it is scored and validated, the typed
result it reports (primary metric, direction, per-episode scores, extra curves), the metric names
it logs, the artifacts it writes, which spec settings apply to it, and the key that says which
runs were scored on the very same test episodes.

Importing this module loads no torch: the dashboard asks kinds for labels, metric names and
pairing keys without it. The methods that train or evaluate import what they need when called.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # only for annotations; nothing here runs torch at import
    import torch

    from metalearn.algorithms.base import Algorithm
    from metalearn.config import RunConfig
    from metalearn.data import DatasetInfo, Split
    from metalearn.data.base import Progress
    from metalearn.settings import Setting
    from metalearn.store import Store

log = logging.getLogger(__name__)
ProgressFn = Callable[[int, dict[str, float]], None]


def episode_seed(stream: str) -> int:
    """The sampler seed of a stream of evaluation episodes (see `RunKind.stream`)."""
    return int.from_bytes(hashlib.sha256(stream.encode()).digest()[:4], "big")


@dataclass
class Scores:
    """An evaluation: one primary score per episode (accuracy, or MSE for regression), plus
    what the kind reports beside it (e.g. accuracy by presentation, MSE by adaptation steps)."""

    values: list[float]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunResult:
    """A finished run's result, typed; `fields` is the JSON stored with the run and printed by
    `train --json` (its keys, e.g. `test_accuracy`, `test_ci95`, stay as they always were).

    Attributes:
        kind: the run kind's name.
        value, ci95: the primary metric's mean over test episodes and its 95% CI half-width.
        pairing_key: runs with equal keys were scored on identical test episodes (None: never).
        fields: everything else the run reports (timings, extra curves).
    """

    kind: str
    value: float | None
    ci95: float | None
    pairing_key: str | None
    fields: dict[str, Any]

    @classmethod
    def from_dict(cls, data: dict[str, Any], kind: RunKind) -> RunResult:
        return cls(
            kind.name,
            data.get(kind.metric),
            data.get(kind.ci_key),
            data.get("pairing_key"),
            data,
        )


@dataclass
class Context:
    """What a run needs while it executes."""

    cfg: RunConfig
    store: Store
    run_id: str
    device: torch.device
    resume: bool = False
    on_metrics: ProgressFn | None = None
    should_stop: Callable[[], bool] | None = None
    started: float = field(default_factory=time.perf_counter)


class RunKind:
    """Base class of the kinds; subclasses set the class attributes and the few methods that
    differ. The defaults are those of episodic few-shot classification."""

    name: ClassVar[str]
    label: ClassVar[str]  # human words: "Few-shot classification episodes"
    task: ClassVar[str] = "classification"  # the dataset task it runs on
    metric: ClassVar[str] = "test_accuracy"  # the result key of the primary metric
    ci_key: ClassVar[str] = "test_ci95"
    metric_label: ClassVar[str] = "Test accuracy"
    higher_is_better: ClassVar[bool] = True
    val_metric: ClassVar[str] = "val_accuracy"
    curves: ClassVar[tuple[str, ...]] = ("accuracy", "val_accuracy")  # beside the loss
    unit: ClassVar[str] = "episodes"  # what one test score is of ("episodes", "tasks")
    scored_on: ClassVar[str] = "episodes"  # kinds with equal `scored_on` can share episodes
    hidden: ClassVar[frozenset[str]] = frozenset()  # spec settings that do not apply
    artifacts: ClassVar[tuple[str, ...]] = ("checkpoint",)
    description: ClassVar[str] = ""  # shown on the Train page under the algorithm
    uses_image_size: ClassVar[bool] = True  # the convolutional networks' minimum side applies
    # A kind of generated tasks may bring its own dataset: its name (in every dataset menu, no
    # files) and the line shown under it. Runs on that dataset are of this kind.
    generates: ClassVar[str | None] = None
    dataset_summary: ClassVar[str] = ""
    # Where a user gave no value: spec values and algorithm hyperparameters this kind starts
    # from (an algorithm's own `spec_defaults` come on top), and the words its screens use for
    # spec settings that mean something else here: name -> (label, help).
    # Kinds that score after several numbers of adaptation steps: the result keys of the mean
    # (and 95% CI) by steps, e.g. {"0": ..., "1": ...}; Compare draws them against the steps.
    steps_key: ClassVar[str | None] = None
    steps_ci_key: ClassVar[str | None] = None
    # The range a convergence target of the validation metric is picked from: low, high, start.
    target_range: ClassVar[tuple[float, float, float]] = (0.3, 1.0, 0.8)
    spec_defaults: ClassVar[dict[str, Any]] = {}
    hyper_defaults: ClassVar[dict[str, Any]] = {}
    relabel: ClassVar[dict[str, tuple[str, str]]] = {}

    # -- the test episodes, and which runs share them ----------------------------------------
    def stream(self, cfg: RunConfig, split: str) -> str:
        """What fixes a split's evaluation episodes: never the run's seed or algorithm."""
        return f"{cfg.dataset}|{split}|{cfg.n_way}|{cfg.n_shot}|{cfg.n_query}"

    def seed(self, cfg: RunConfig, split: str) -> int:
        return episode_seed(self.stream(cfg, split))

    def pairing_key(self, cfg: RunConfig) -> str | None:
        """Equal keys: the two runs were scored on identical test episodes, so their
        per-episode scores pair up. The data root is part of it (a `folder` run's classes are
        whatever its root holds)."""
        root = str(Path(cfg.data_root).expanduser().resolve()) if cfg.data_root else ""
        return f"{self.scored_on}|{self.stream(cfg, 'test')}|{root}"

    # -- what a user sees ---------------------------------------------------------------------
    def summary(self, result: dict[str, Any]) -> str:
        """One line for a finished run (CLI, Runs page and live panel alike)."""
        value, ci = result.get(self.metric), result.get(self.ci_key)
        if value is None:
            return ""
        n = result.get("eval_episodes", "?")
        text = f"{self.metric_label} {value:.3f} ± {ci:.3f} (95% CI, {n} {self.unit})"
        if "train_seconds" in result and "episodes_per_second" in result:
            text += (
                f" · trained {result['train_seconds']:.0f} s at "
                f"{result['episodes_per_second']:.1f} ep/s"
            )
        return text

    def setting(self, setting: Setting) -> Setting:
        """A spec setting as this kind's screens and flags describe it."""
        if setting.name not in self.relabel:
            return setting
        label, help = self.relabel[setting.name]
        return setting.but(label=label, help=help)

    def shape_label(self, cfg: dict[str, Any]) -> str:
        return f"{cfg['n_way']}w{cfg['n_shot']}s"

    # -- the dataset's description, and the checks that need it ---------------------------------
    def describe(self, cfg: RunConfig) -> DatasetInfo:
        """What the run's dataset is (splits, image channels and size), without loading it.

        Raises:
            DataError: the dataset's files are missing or unreadable.
        """
        from metalearn.data import DATASETS

        return DATASETS[cfg.dataset].describe(cfg.data_root)

    def problems(self, cfg: RunConfig, info: DatasetInfo, same_way: bool) -> list[str]:
        """Episode shapes against the dataset's splits (no images loaded)."""
        out = []
        if cfg.train_shape[0] < 2 or cfg.n_way < 2:
            out.append("n_way and train_way must be at least 2 for classification episodes")
        if same_way and cfg.train_shape[0] != cfg.n_way:
            out.append(
                f"{cfg.algorithm} has an output layer of n_way units, so train_way must equal "
                f"n_way ({cfg.n_way}), got {cfg.train_shape[0]}"
            )
        from metalearn.config import MIN_IMAGE_SIZE

        small = cfg.image_size is not None and cfg.image_size < MIN_IMAGE_SIZE
        if self.uses_image_size and small and info.modality == "image":
            out.append(
                f"image_size must be at least {MIN_IMAGE_SIZE} for the convolutional networks "
                f"(their four poolings halve it each time), got {cfg.image_size}"
            )
        if cfg.train_classes is not None:
            out += self.train_classes_problems(cfg, info)
        for split, shape in (("train", self.training_shape(cfg)), ("val", self.test_shape(cfg))):
            if split == "val" and (cfg.val_every == 0 or info.splits[split][0] == 0):
                continue
            out += self.split_problems(cfg, info, split, shape)
        return out + self.split_problems(cfg, info, "test", self.test_shape(cfg))

    def train_classes_problems(self, cfg: RunConfig, info: DatasetInfo) -> list[str]:
        """`train_classes` against the training split and a training episode's classes."""
        n_classes, way = info.splits["train"][0], self.training_shape(cfg)[0]
        if way <= cfg.train_classes <= n_classes:
            return []
        return [
            f"train_classes={cfg.train_classes} cannot give training episodes of {way} classes "
            f"from the {n_classes} classes of the train split of {cfg.dataset!r}; allowed: "
            f"{way}..{n_classes}"
        ]

    def memory(self, cfg: RunConfig, info: DatasetInfo):
        """The least memory the run takes (an `engine.memory.Estimate`), or None where the kind
        holds no images of the spec's size. Here: a meta-batch of episodes per update."""
        if not self.uses_image_size or info.task != "classification" or info.modality != "image":
            return None
        from metalearn.engine.memory import estimate

        shapes = (self.training_shape(cfg), self.test_shape(cfg))
        train, test = (way * (shot + query) for way, shot, query in shapes)  # images per episode
        return estimate(cfg, info, cfg.meta_batch * train, max(train, test))

    def test_shape(self, cfg: RunConfig) -> tuple[int, int, int]:
        """(way, shot, query) of the test (and validation) episodes."""
        return cfg.test_shape

    def per_class_names(self, split: str) -> str:
        """How an error names the images an episode takes from each class."""
        return "train_shot + train_query" if split == "train" else "n_shot + n_query"

    def split_problems(self, cfg, info, split: str, shape: tuple[int, int, int]) -> list[str]:
        way, shot, query = shape
        n_classes, min_images = info.splits[split]
        out = []
        if way > n_classes:
            name = "train_way" if split == "train" else "n_way"
            out.append(
                f"{name}={way} is more than the {n_classes} classes of the {split} split of "
                f"{cfg.dataset!r}; allowed: 2..{n_classes}"
            )
        if shot + query > min_images:
            names = self.per_class_names(split)
            out.append(
                f"{names} = {shot + query} is more than the {min_images} images of the smallest "
                f"class in the {split} split of {cfg.dataset!r}; allowed: at most {min_images}"
            )
        return out

    # -- training -----------------------------------------------------------------------------
    def training_shape(self, cfg: RunConfig) -> tuple[int, int, int]:
        return cfg.train_shape

    def training_data(self, cfg: RunConfig, train: Split | None, device: torch.device):
        """A sampler of training data: `draw()` gives one update's worth (a meta-batch of
        episodes here); `generator` is the CPU generator a checkpoint saves."""
        from metalearn.data import EpisodeSampler

        shape = self.training_shape(cfg)
        sampler = EpisodeSampler(train, *shape, cfg.seed, device, augment=cfg.augment)
        return Draw(sampler, lambda: sampler.sample_many(cfg.meta_batch))

    def per_update(self, cfg: RunConfig) -> int:
        """Training episodes one update counts for."""
        return cfg.meta_batch

    # -- evaluation ---------------------------------------------------------------------------
    def evaluate(
        self,
        algo: Algorithm,
        cfg: RunConfig,
        split: Split | None,
        device,
        n: int,
        name: str,
        progress: Callable[[int], None] | None = None,
    ) -> Scores:
        """The run's scores on `n` seeded episodes (or tasks) of split `name`; `progress(done)`
        as they are scored."""
        from metalearn.engine.evaluate import evaluate

        seed = self.seed(cfg, name)
        return Scores(evaluate(algo, split, seed, cfg.test_shape, n, device, progress=progress))

    def validate(self, algo: Algorithm, cfg: RunConfig, val: Split | None, device) -> dict:
        if val is None:
            return {}
        from metalearn.engine.evaluate import mean_ci95

        scores = self.evaluate(algo, cfg, val, device, cfg.val_episodes, "val")
        return {self.val_metric: mean_ci95(scores.values)[0]}

    # -- a whole run --------------------------------------------------------------------------
    def load(self, cfg: RunConfig, split: str, progress: Progress | None = None) -> Split | None:
        """One split of the run's dataset, as tensors (`progress`: see `Dataset.load_for`)."""
        from metalearn.data import DATASETS
        from metalearn.engine.features import cached_input, feature_split

        loaded = DATASETS[cfg.dataset].load_for(cfg, split, progress)
        kind = cached_input(cfg, split)
        if loaded is None or kind is None:
            return loaded
        from metalearn.engine.device import resolve_device

        device = resolve_device(cfg.device)
        return feature_split(loaded, cfg.hyper["input_size"], device, progress, kind)

    def splits(self, cfg: RunConfig, progress: Progress | None = None) -> dict[str, Split | None]:
        train = self.load(cfg, "train", progress)
        if cfg.train_classes is not None and train is not None:
            train = train.keep_classes(cfg.train_classes)
        return {
            "train": train,
            "val": self.load(cfg, "val", progress) if cfg.val_every else None,
            "test": self.load(cfg, "test", progress),
        }

    def n_train_classes(self, splits: dict[str, Split | None]) -> int:
        return splits["train"].n_classes

    def run(self, ctx: Context) -> dict[str, Any]:
        """Loads the data, trains (or resumes), tests and writes the artifacts; returns the
        result's fields (a stopped run: no test, `stopped` True)."""
        from metalearn.engine.build import build_algorithm
        from metalearn.engine.trainer import Trainer

        cfg, store, run_id = ctx.cfg, ctx.store, ctx.run_id
        splits = self.splits(cfg, loading_progress(ctx))
        load_seconds = time.perf_counter() - ctx.started
        algo = build_algorithm(cfg, self.n_train_classes(splits)).to(ctx.device)
        if not ctx.resume and splits["train"] is not None:
            algo.prepare(splits["train"])
        ckpt = store.artifact(run_id, "checkpoint")
        snapshot = self.snapshots(algo, cfg, splits["test"], ctx)
        trainer = Trainer(
            cfg,
            algo,
            self,
            splits["train"],
            splits["val"],
            ctx.device,
            ctx.on_metrics,
            ctx.should_stop,
            ckpt,
            on_snapshot=snapshot,
        )
        if ctx.resume and ckpt.exists():
            trainer.load_checkpoint(ckpt)
            store.drop_metrics_after(run_id, trainer.stats.episodes)  # logged again from here
            log.info("resumed %s at episode %d", run_id, trainer.stats.episodes)
        stats = trainer.fit()
        store.add_artifact(run_id, "checkpoint", ckpt)
        timing = {
            "train_episodes": stats.episodes,
            "train_seconds": stats.train_seconds,
            "episodes_per_second": stats.episodes_per_second,
            **stats.memory,
        }
        if stats.stopped:  # ends at once; `eval` tests it later, or a resumed run when done
            return {**timing, "wall_seconds": time.perf_counter() - ctx.started, "stopped": True}
        scores = self.evaluate(
            algo,
            cfg,
            splits["test"],
            ctx.device,
            cfg.eval_episodes,
            "test",
            progress=testing_progress(ctx, stats.episodes),
        )
        store.save_episodes(run_id, scores.values)
        self.write_artifacts(algo, cfg, splits["test"], ctx)
        from metalearn.engine.evaluate import mean_ci95
        from metalearn.engine.features import pretraining_facts

        mean, ci = mean_ci95(scores.values)
        return {
            **scores.extra,
            **algo.run_facts(),
            **pretraining_facts(cfg),
            self.metric: mean,
            self.ci_key: ci,
            "eval_episodes": len(scores.values),
            **timing,
            "load_seconds": load_seconds,
            "wall_seconds": time.perf_counter() - ctx.started,
            "stopped": False,
        }

    def snapshots(self, algo: Algorithm, cfg: RunConfig, test: Split | None, ctx: Context):
        """The embeddings view's snapshots of one fixed test episode (algorithms that embed)."""
        from metalearn.engine.snapshots import EmbeddingSnapshots

        if not EmbeddingSnapshots.supported(algo):
            return None
        path = ctx.store.artifact(ctx.run_id, "embeddings")
        ctx.store.add_artifact(ctx.run_id, "embeddings", path)
        return EmbeddingSnapshots(
            algo, test, self.seed(cfg, "test"), cfg.test_shape, ctx.device, path
        )

    def write_artifacts(self, algo: Algorithm, cfg: RunConfig, test, ctx: Context) -> None:
        """Files a finished run leaves beside its checkpoint (none here)."""


class Draw:
    """One update's training data per call, from a seeded sampler."""

    def __init__(self, sampler: Any, draw: Callable[[], Any]):
        self.sampler, self._draw = sampler, draw

    @property
    def generator(self):
        return self.sampler.generator

    def __call__(self):
        return self._draw()


def loading_progress(ctx: Context) -> Callable[[int, int], None]:
    """Reports a slow first load's progress (miniImageNet's decode, `Dataset.load_for`) as
    metrics at step 0: `load_done` and `load_total` (images), so a live panel can show it."""

    def report(done: int, total: int) -> None:
        if ctx.on_metrics:
            ctx.on_metrics(0, {"load_done": done, "load_total": total})

    return report


def testing_progress(ctx: Context, step: int) -> Callable[[int], None]:
    """Reports the test's progress as metrics at the last training step: `test_done` (episodes
    or tasks scored so far) and `test_seconds` (since the test began); one row each, updated in
    place, so a live panel and the CLI can show the test's progress and time left."""
    started = time.perf_counter()

    def report(done: int) -> None:
        if ctx.on_metrics:
            ctx.on_metrics(step, {"test_done": done, "test_seconds": time.perf_counter() - started})

    report(0)
    return report
