"""Presets by teaching goal: a group of runs that answers one question in class, launched in one
click from Home or Train. Each run of a preset trains for the same time budget (`max_seconds`),
the fair comparison on a CPU, and all are tested on the same seeded episodes where their shapes
agree. The durations said are measured (`scripts/preset_times.py`,
docs/results/presets.jsonl): launch to last result, on a 2-core CPU. Torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from metalearn.engine.recipes import demo

BUDGET = 40  # seconds of training per run
PHOTO_BUDGET = 120  # seconds of training per run on photos
SHARED = {
    "dataset": "glyphs",
    "episodes": 100_000,  # the time budget ends training first
    "max_seconds": BUDGET,
    "eval_episodes": 200,
    "val_every": 0,
}


def photo_run(algorithm: str, **values: Any) -> dict[str, Any]:
    """A run of `algorithm` on miniImageNet: its CPU demo recipe on the photo lesson's budget."""
    recipe = demo(algorithm).values
    return {**recipe, "algorithm": algorithm, "max_seconds": PHOTO_BUDGET, **values}


@dataclass(frozen=True)
class Preset:
    """A question for a class and the runs that answer it.

    Attributes:
        title: the question or goal, as the button reads.
        explain: what to look at when the runs are done.
        duration: how long it takes, measured.
        runs: each run's settings (over `SHARED`).
    """

    title: str
    explain: str
    duration: str
    runs: list[dict[str, Any]] = field(default_factory=list)

    def settings(self) -> list[dict[str, Any]]:
        """Every run's full settings."""
        return [{**SHARED, **r} for r in self.runs]


PRESETS = (
    Preset(
        "ProtoNet vs MAML vs fine-tuning in 3 minutes",
        f"Three families, {BUDGET} s of training each, tested on the same 200 episodes: which "
        "learns most per second? Look at the paired differences and the curves by wall time.",
        "150 s on a 2-core CPU",
        [{"algorithm": "protonet"}, {"algorithm": "maml"}, {"algorithm": "finetune"}],
    ),
    Preset(
        "Why does MAML need second derivatives?",
        f"MAML and first-order MAML (FOMAML), {BUDGET} s each on the same episodes: does "
        "dropping the second derivatives cost accuracy, and how much faster is each update?",
        "100 s on a 2-core CPU",
        [{"algorithm": "maml"}, {"algorithm": "maml", "first_order": True}],
    ),
    Preset(
        "What does one-shot mean?",
        f"ProtoNet with one labelled example per class, and with five ({BUDGET} s each): how much "
        "does each extra example buy?",
        "95 s on a 2-core CPU",
        [{"algorithm": "protonet", "n_shot": 1}, {"algorithm": "protonet", "n_shot": 5}],
    ),
    Preset(
        "On real photos, does meta-learning beat a pre-trained baseline?",
        f"miniImageNet photos (its CPU demo recipe: 42x42 pixels), {PHOTO_BUDGET} s of training "
        "each: ProtoNet and first-order MAML (meta-learning) against Baseline++ (pre-train one "
        "classifier on the 64 training classes, then fit a new head on each task's examples). "
        "Chen et al. 2019 found this baseline as good as the meta-learners at this network "
        "size: look at the paired differences on the same test episodes. Needs the miniImageNet "
        "files under the data root.",
        "7.3 min on a 2-core CPU",
        [photo_run("protonet"), photo_run("maml", first_order=True), photo_run("finetune")],
    ),
)
