"""How a setting is declared: once, with its type, default, bounds or choices, a help text and a
human label. The CLI's flags, the Train page's widgets and the validator all read these
declarations; nothing else restates a default or a bound.

This module imports nothing from the package and no third-party library, so every layer (the
run spec, the algorithm catalogue, the dashboard's menus) can use it without loading torch.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

TYPES: dict[str, type] = {"int": int, "float": float, "str": str, "bool": bool}


@dataclass(frozen=True)
class Setting:
    """One declared setting.

    Attributes:
        name: the key in a run's configuration (`n_way`); the CLI flag is `--n-way`.
        type: int, float, str or bool (a bool is never accepted as a number).
        default: the value when none is given (None only if `optional`).
        label: human words for screens ("Classes per episode (N-way)").
        help: one sentence: what it does, and what None / 0 mean where they mean something.
        low, high: inclusive bounds for numbers (None: unbounded on that side).
        low_open: True makes `low` exclusive (learning rates must be > 0).
        choices: the allowed values of a str setting.
        optional: None is allowed (e.g. "training way: as the test way").
        unset: what None means, in a few words a form shows in an empty field ("same as
            test"); optional settings only.
        advanced: shown folded away on the Train page.
        modality: the one kind of data it applies to ("image", "text"); None: every kind.
        group: where a form shows it: "episode" (the task's shape), "training" (how long, how
            often, where) or "method" (an algorithm's own hyperparameters).
        modal_choices: for a choice that depends on the data: (modality, the choices that fit
            it) pairs (the backbone menu offers text encoders for text, image networks for
            images).
    """

    name: str
    type: type
    default: Any
    label: str
    help: str = ""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[str, ...] | None = None
    optional: bool = False
    unset: str = ""
    advanced: bool = False
    modality: str | None = None
    group: str = "method"
    modal_choices: tuple[tuple[str, tuple[str, ...]], ...] | None = None  # pairs: hashable

    def fitting(self, modality: str) -> tuple[str, ...] | None:
        """The choices that fit data of this modality (None: not a modal choice)."""
        return dict(self.modal_choices or ()).get(modality)

    def offered(self, modality: str) -> Setting:
        """The setting as a dataset of this modality offers it (its fitting choices only)."""
        fitting = self.fitting(modality)
        return self if fitting is None else self.but(choices=fitting)

    def but(self, **changes: Any) -> Setting:
        """A copy with some attributes changed, e.g. an algorithm's own default."""
        return dataclasses.replace(self, **changes)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def type_ok(self, value: Any) -> bool:
        if value is None:
            return self.optional
        if self.type is bool:
            return isinstance(value, bool)
        if self.type is int:
            return isinstance(value, int) and not isinstance(value, bool)
        if self.type is float:
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        return isinstance(value, self.type)

    def problems(self, value: Any) -> list[str]:
        """What is wrong with `value` for this setting (empty: nothing)."""
        if not self.type_ok(value):
            allowed = self.type.__name__ + (" or None" if self.optional else "")
            return [f"{self.name} must be {allowed}, got {value!r}"]
        if value is None:
            return []
        if self.choices is not None and value not in self.choices:
            return [f"{self.name} {value!r} is unknown; choose one of {', '.join(self.choices)}"]
        if self.type in (int, float) and not self.within(value):
            return [f"{self.name} must be {self.bounds_text()}, got {value!r}"]
        return []

    def within(self, value: float) -> bool:
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or value <= self.high

    def bounds_text(self) -> str:
        def num(x: float) -> str:  # integers in full (a seed's bound is 4294967295, not 4.3e9)
            return str(int(x)) if self.type is int else f"{x:g}"

        if self.high is None:
            return f"greater than {num(self.low)}" if self.low_open else f"at least {num(self.low)}"
        if self.low is None:
            return f"at most {num(self.high)}"
        return f"a number in {'(' if self.low_open else '['}{num(self.low)}, {num(self.high)}]"

    def describe(self) -> str:
        """The help text with the default and what is allowed, for `--help`."""
        allowed = ""
        if self.choices:
            allowed = f"; one of {', '.join(self.choices)}"
        elif self.type in (int, float) and (self.low is not None or self.high is not None):
            allowed = f"; {self.bounds_text()}"
        return f"{self.label}: {self.help} (default {self.default!r}{allowed})"


def by_name(settings: tuple[Setting, ...] | list[Setting]) -> dict[str, Setting]:
    return {s.name: s for s in settings}


# -- hyperparameters that several algorithms share (each algorithm lists the ones it reads) ------
LR = Setting(
    "lr", float, 1e-3, "Learning rate", "the outer (meta) optimiser's step size", 0, 10, True
)
LR_DECAY_EVERY = Setting(
    "lr_decay_every",
    int,
    0,
    "Halve the learning rate every (episodes)",
    "training episodes between halvings of the learning rate (ProtoNet paper: 2000; 0: constant)",
    low=0,
    advanced=True,
)
LITE0 = "efficientnet_lite0"  # the pretrained image backbone (`metalearn.models.pretrained`)
BACKBONES = ("conv4", "simple_cnn", "resnet12", LITE0)  # metalearn.models.BACKBONES (a test checks)
TEXT_BACKBONES = ("minilm", "bag")  # metalearn.models.text: the pretrained encoder, from scratch
BACKBONE = Setting(
    "backbone",
    str,
    "conv4",
    "Feature network",
    "images: conv4 (four conv blocks), simple_cnn (the article's small CNN), resnet12, or "
    "efficientnet_lite0 (pretrained on ImageNet-1k; see fine-tune); text: minilm (the "
    "pretrained all-MiniLM-L6-v2 sentence encoder) or bag (a bag of word embeddings learned "
    "from scratch)",
    choices=BACKBONES + TEXT_BACKBONES,
    modal_choices=(("image", BACKBONES), ("text", TEXT_BACKBONES)),
)
FINETUNE_ENCODER = Setting(
    "finetune_encoder",
    str,
    "none",
    "Fine-tune the pretrained encoder",
    "a pretrained backbone (minilm for text, efficientnet_lite0 for images): none keeps it "
    "frozen (its features computed once per dataset and cached), top trains its last layers "
    "(MiniLM's last two transformer layers; EfficientNet's last two stages of blocks and its "
    "head), all trains every layer",
    choices=("none", "top", "all"),
)
ENCODER_LR = Setting(
    "encoder_lr",
    float,
    2e-5,
    "Learning rate of the pretrained encoder",
    "step size for the pretrained encoder's own weights when it is fine-tuned (the usual BERT "
    "fine-tuning rate; the learning rate above would wreck them); new layers use the learning "
    "rate",
    0,
    1,
    True,
)
INPUT_SIZE = Setting(
    "input_size",
    int,
    224,
    "Pretrained network's input side (pixels)",
    "efficientnet_lite0: images are resized to this side first (its ImageNet weights were "
    "trained at 224; miniImageNet's 84 px photos upsampled to 224 cost 7x the work of 84)",
    32,
    512,
    advanced=True,
    modality="image",
)

COMPILE = Setting(
    "compile",
    bool,
    False,
    "Compile",
    "torch.compile: forward and backward passes become fused kernels (the feature network; "
    "SNAIL's sequence layers too; MAML, Meta-SGD, ANIL: each training task whole, its inner "
    "steps included): the first steps wait while they compile (about 30-50 s on a 2-core CPU, "
    "again for the test's shapes), then each step is faster (ProtoNet's Conv4, 20-way 5-shot, "
    "on that CPU: 1.2x; MAML, 5-way 1-shot: 1.3x); needs a C++ compiler",
    advanced=True,
    modality="image",
)

# The feature network and, for text, how its pretrained encoder trains: declared together by
# every algorithm with a `backbone` (`settings = (*NETWORK, LR, ...)`).
NETWORK = (BACKBONE, FINETUNE_ENCODER, ENCODER_LR, INPUT_SIZE, COMPILE)


def backbone_modality(name: str) -> str:
    """What a backbone reads: "text" for the text encoders, else "image"."""
    return next(m for m, names in BACKBONE.modal_choices if name in names)


PRECISION = Setting(
    "precision",
    str,
    "auto",
    "Arithmetic of the feature network",
    "auto: bfloat16 with channels-last images on a GPU (faster), fp32 elsewhere; distances, "
    "losses and the optimiser stay fp32",
    choices=("auto", "fp32", "bf16"),
    advanced=True,
)
INNER_STEPS = Setting(
    "inner_steps", int, 1, "Adaptation steps in training", "inner gradient steps per task", 1, 100
)
INNER_STEPS_TEST = Setting(
    "inner_steps_test",
    int,
    3,
    "Adaptation steps at test time",
    "inner gradient steps on a test task's support set",
    0,
    1000,
)
BATCH_SIZE = Setting(
    "batch_size", int, 64, "Images per pre-training batch", "batch-trained (transfer) runs", 1, 4096
)


def with_defaults(declared: tuple[Setting, ...], given: dict[str, Any]) -> dict[str, Any]:
    """Every declared setting's value: the given one, else its default. Given values that are
    not declared are kept (the validator reports them)."""
    return {**{s.name: s.default for s in declared}, **given}
