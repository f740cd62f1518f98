"""Your own photos, classified at once: the pretrained image network (EfficientNet-Lite0 with its
ImageNet weights) reads a few labelled examples per class and the images to classify, with no
trained run; then, if asked, it fine-tunes on those examples and classifies again.

The rule before fine-tuning is the nearest prototype by cosine similarity: each class's
prototype is the mean of its examples' features, a query's scores are 10 x its cosine with each
prototype (the scale P>M>F's classifier starts from; the probabilities shown are their softmax).
Fine-tuning is P>M>F's test-time stage (`metalearn.algorithms.support_finetune`): Adam steps on
the last two stages of blocks and the head, with augmented views of the examples as queries.
How good the examples are is measured without any query: each example is classified by the
prototypes of the others (leave-one-out; classes with a single example cannot be scored so).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from metalearn.algorithms.finetune import cosine_scores
from metalearn.algorithms.protonet import prototypes
from metalearn.algorithms.support_finetune import tune_on_support
from metalearn.data import DataError
from metalearn.data.images import decode
from metalearn.models.pretrained import INPUT_SIZE, EfficientNetLite0

PRETRAINED_MODEL = "pretrained:efficientnet_lite0"  # the model's name where runs are listed
SCALE = 10.0
TUNE_STEPS = 20  # fine-tuning steps the dashboard starts from
TUNE_LR = 1e-4

ImageSource = bytes | Path | str  # an image file's bytes or path; for text, the utterance


@dataclass
class OwnTask:
    """A user's task as pixels.

    Attributes:
        names: the class names, in order; labels index them.
        support: the labelled examples [S, 3, side, side] in [0, 1]; labels [S].
        queries: the images to classify [Q, 3, side, side] in [0, 1]; query_names [Q].
    """

    names: list[str]
    support: torch.Tensor
    labels: torch.Tensor
    queries: torch.Tensor
    query_names: list[str]


def _pixels(items: list[tuple[str, ImageSource]], side: int) -> torch.Tensor:
    out = []
    for name, data in items:
        try:
            out.append(decode(data, 3, side))
        except DataError as err:
            raise DataError(f"{name}: not a readable image ({err})") from err
    return torch.stack(out).float() / 255


def read_task(
    support: dict[str, list[tuple[str, ImageSource]]],
    queries: list[tuple[str, ImageSource]],
    side: int = INPUT_SIZE,
) -> OwnTask:
    """Decodes a task: support, class name -> [(file name, bytes or path)]; queries,
    [(file name, bytes or path)] (may be empty: fine-tuning needs none).

    Raises:
        DataError: fewer than two classes with examples, or an unreadable image.
    """
    support = {k: v for k, v in support.items() if v}
    if len(support) < 2:
        raise DataError(f"need at least 2 classes with example images, got {len(support)}")
    items = [item for examples in support.values() for item in examples]
    labels = torch.tensor([i for i, examples in enumerate(support.values()) for _ in examples])
    query_x = _pixels(queries, side) if queries else torch.zeros(0, 3, side, side)
    return OwnTask(list(support), _pixels(items, side), labels, query_x, [q for q, _ in queries])


class PretrainedPrototypes:
    """The pretrained network as a classifier of a user's own task (see the module docstring).

    Args:
        input_size: the side images are read at.
        device: where the network runs.
    """

    def __init__(self, input_size: int = INPUT_SIZE, device: torch.device | str = "cpu"):
        self.device = torch.device(device)
        self.net = EfficientNetLite0("top", input_size).to(self.device).eval()
        self.tuned_steps = 0

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Images [N, 3, H, W] in [0, 1] -> features [N, 1280] (no gradient)."""
        with torch.no_grad():
            return torch.cat([self.net(c.to(self.device)).cpu() for c in x.split(64)])

    def probabilities(self, task: OwnTask) -> torch.Tensor:
        """Each query's probability of each class [Q, N]."""
        z = self.features(torch.cat([task.support, task.queries]))
        protos = prototypes(z[: len(task.support)], task.labels, len(task.names))
        return cosine_scores(z[len(task.support) :], protos, SCALE).softmax(-1)

    def support_accuracy(self, task: OwnTask) -> float | None:
        """Leave-one-out accuracy on the examples: each one classified by the prototypes of the
        others (None when no class has two examples)."""
        z = self.features(task.support)
        n_way, right, scored = len(task.names), 0, 0
        for i in range(len(z)):
            rest = torch.arange(len(z)) != i
            if not (task.labels[rest] == task.labels[i]).any():
                continue  # its class has no other example
            protos = prototypes(z[rest], task.labels[rest], n_way)
            counts = torch.bincount(task.labels[rest], minlength=n_way)
            scores = cosine_scores(z[i : i + 1], protos, SCALE)[0]
            scores[counts == 0] = -torch.inf
            right += int(scores.argmax() == task.labels[i])
            scored += 1
        return right / scored if scored else None

    def fine_tune(
        self,
        task: OwnTask,
        steps: int = TUNE_STEPS,
        lr: float = TUNE_LR,
        seed: int = 0,
        progress: Callable[[int, int, float], None] | None = None,
    ) -> list[float]:
        """Fine-tunes the network on the task's examples (in place); the loss per step."""
        n_way = len(task.names)
        losses = tune_on_support(
            self.net,
            task.support.to(self.device),
            task.labels.to(self.device),
            steps,
            lr,
            lambda s, y, q: cosine_scores(q, prototypes(s, y, n_way), SCALE),
            torch.Generator().manual_seed(seed),
            progress=progress,
        )
        self.tuned_steps += steps
        return losses

    def embedding(self, task: OwnTask) -> dict[str, Any]:
        """Unit-length features of examples and queries (numpy), as `predict.features` gives."""
        z = F.normalize(self.features(torch.cat([task.support, task.queries])), dim=-1)
        return {
            "support": z[: len(task.support)].numpy(),
            "query": z[len(task.support) :].numpy(),
            "support_labels": task.labels.numpy(),
        }
