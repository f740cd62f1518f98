"""A run's configuration: its spec (what data, which episode shapes, how long, where) and the
hyperparameters of its algorithm, each declared once (`metalearn.settings.Setting`).

The spec's fields are declared here; each algorithm declares the hyperparameters it reads (see
`metalearn.catalog`). This module imports no registry: checks that need the algorithms or
datasets live in `metalearn.engine.validate`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from metalearn.settings import TYPES, Setting

EPISODE = "episode"  # the group of the settings that shape an episode
MIN_IMAGE_SIZE = 16  # Conv4, SimpleCNN and ResNet-12 pool four times


class ConfigError(ValueError):
    """A run configuration that cannot run; the message lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid settings:\n" + "\n".join(f"  - {p}" for p in problems))


def _spec(default: Any, label: str, help: str = "", **bounds: Any) -> Any:
    """A spec field: its default and, as metadata, the rest of its declaration."""
    bounds.setdefault("group", "training")
    return field(default=default, metadata={"label": label, "help": help, **bounds})


@dataclass(init=False)
class RunConfig:
    """Everything that defines a run. Defaults are the CPU quick start (ProtoNet on `glyphs`).

    `RunConfig(n_way=20, inner_lr=0.1)` takes spec fields and hyperparameters alike: names that
    are not spec fields go to `hyper`, which `metalearn.engine.validate.resolve` completes with
    the algorithm's declared defaults and checks against its declarations.
    """

    algorithm: str = _spec("protonet", "Algorithm", "a registered algorithm name")
    dataset: str = _spec("glyphs", "Dataset", "a registered dataset name")
    data_root: str | None = _spec(
        None, "Data root", "folder holding the dataset files (None: $METALEARN_DATA or ./data)"
    )
    n_way: int = _spec(
        5, "Classes per episode (N-way)", "classes in each test episode", low=1, group=EPISODE
    )
    n_shot: int = _spec(
        1,
        "Examples per class (K-shot)",
        "labelled support examples per class",
        low=1,
        group=EPISODE,
    )
    n_query: int = _spec(
        15, "Query examples per class", "examples to classify per class", low=1, group=EPISODE
    )
    train_way: int | None = _spec(
        None,
        "Classes per training episode",
        "None: as the test episodes",
        low=1,
        group=EPISODE,
        unset="same as test",
    )
    train_shot: int | None = _spec(
        None,
        "Examples per class in training",
        "None: as the test episodes",
        low=1,
        group=EPISODE,
        unset="same as test",
    )
    train_query: int | None = _spec(
        None,
        "Query examples per class in training",
        "None: as the test episodes",
        low=1,
        group=EPISODE,
        unset="same as test",
    )
    train_classes: int | None = _spec(
        None,
        "Training classes",
        "train on this many of the training split's classes, a fixed subset (None: all); "
        "the test episodes stay the same, so runs on smaller and larger training sets compare",
        low=2,
        group=EPISODE,
        advanced=True,
        unset="all",
    )
    episodes: int = _spec(
        600,
        "Training episodes",
        "episodes (or batches, for batch-trained baselines)",
        low=0,
        high=10**9,  # with --max-seconds, "until the time is up"
    )
    meta_batch: int = _spec(
        1, "Episodes per update (meta-batch)", "tasks per update", low=1, high=1024
    )
    image_size: int | None = _spec(
        None,
        "Image side (pixels)",
        "resize images to this side (None: the dataset's)",
        unset="the dataset's",
        low=1,
        high=512,
        modality="image",
        group=EPISODE,
    )
    augment: bool = _spec(
        False,
        "Augment training images",
        "crop at random size and place, flip and colour-jitter every training image, each on its "
        "own (the usual for photos)",
        modality="image",
        advanced=True,
    )
    eval_episodes: int = _spec(
        600,
        "Test episodes",
        "seeded test episodes, the same for every run of a kind",
        low=1,
        high=100_000,
    )
    val_every: int = _spec(
        250, "Validate every (episodes)", "episodes between validation passes (0: none)", low=0
    )
    val_episodes: int = _spec(
        100,
        "Validation episodes",
        "episodes per validation pass",
        low=1,
        high=10_000,
        advanced=True,
    )
    log_every: int = _spec(
        25, "Log every (episodes)", "episodes between logged points", low=1, advanced=True
    )
    checkpoint_every: int = _spec(
        0,
        "Checkpoint every (episodes)",
        "episodes between checkpoints (0: every 30 s and at the end)",
        low=0,
        advanced=True,
    )
    max_seconds: float | None = _spec(
        None,
        "Time budget (seconds)",
        "training ends at the first log point past it (None: no budget)",
        low=0,
        low_open=True,
        unset="no budget",
    )
    seed: int = _spec(
        0, "Seed", "seeds model initialisation and the training sampler", low=0, high=2**32 - 1
    )
    device: str = _spec(
        "auto",
        "Device",
        "auto picks CUDA, then MPS, then CPU",
        choices=("auto", "cpu", "cuda", "mps"),
    )
    hyper: dict[str, Any] = field(default_factory=dict)

    def __init__(self, hyper: dict[str, Any] | None = None, **values: Any):
        own = dict(hyper or {})
        names = spec_names()
        for f in dataclasses.fields(self):
            if f.name != "hyper":
                setattr(self, f.name, f.default)
        for name, value in values.items():
            if name in names:
                setattr(self, name, value)
            elif name == "extra" and isinstance(value, dict):  # stored before `hyper` existed
                own.update(value)
            else:
                own[name] = value
        self.hyper = own

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
        """The spec's fields, and the hyperparameters under "hyper"."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """Reads today's form ({spec..., "hyper": {...}}) and the flat form runs were stored in
        before (every setting at the top level, with an "extra" dict).

        Raises:
            ConfigError: `data` is not a JSON object, or its "hyper" is not one.
        """
        if not isinstance(data, dict):
            raise ConfigError([f"a configuration must be a JSON object, got {type(data).__name__}"])
        hyper = data.get("hyper", {})
        if not isinstance(hyper, dict):
            raise ConfigError([f"hyper must be an object of settings, got {hyper!r}"])
        return cls(hyper=hyper, **{k: v for k, v in data.items() if k != "hyper"})

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        return cls.from_dict(json.loads(text))

    # -- checks of the spec alone ---------------------------------------------------------------
    def problems(self) -> list[str]:
        """Each spec field against its declaration (type, bounds, choices)."""
        out = []
        for name, setting in SPEC.items():
            out += setting.problems(getattr(self, name))
        return out


def _setting(f: dataclasses.Field) -> Setting:
    parts = [p.strip() for p in str(f.type).split("|")]
    meta = dict(f.metadata)
    return Setting(
        f.name,
        TYPES[parts[0]],
        f.default,
        meta.pop("label"),
        meta.pop("help"),
        optional="None" in parts,
        **{k: tuple(v) if k == "choices" else v for k, v in meta.items()},
    )


def spec_names() -> frozenset[str]:
    return _SPEC_NAMES


SPEC: dict[str, Setting] = {
    f.name: _setting(f) for f in dataclasses.fields(RunConfig) if f.name != "hyper"
}
_SPEC_NAMES = frozenset(SPEC)
