"""N-way K-shot episodes, sampled by indexing tensors that may live on the training device.

Index choices come from a CPU `torch.Generator`, so a seed gives the same episodes on every device;
only the gathered images live on the device. No per-image Python work happens per episode.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from metalearn.data.augment import Augment
from metalearn.data.base import DataError, Split


@dataclass
class Episode:
    """One few-shot task. Classification labels are 0..n_way-1, in class-major order.

    Attributes:
        support: [n_way * n_shot, C, H, W] float (regression: [K, 1] inputs).
        support_labels: [n_way * n_shot] int64 (regression: [K, 1] targets).
        query: [n_way * n_query, C, H, W] float.
        query_labels: [n_way * n_query] int64.
        class_ids: [n_way] split class index of each episode label (regression: task parameters).
        n_way: number of classes (1 for regression).
    """

    support: torch.Tensor
    support_labels: torch.Tensor
    query: torch.Tensor
    query_labels: torch.Tensor
    class_ids: torch.Tensor
    n_way: int

    @property
    def n_shot(self) -> int:
        return self.support.shape[0] // self.n_way

    @property
    def n_query(self) -> int:
        return self.query.shape[0] // self.n_way

    def to(self, device: torch.device | str) -> Episode:
        move = lambda t: t.to(device, non_blocking=True)  # noqa: E731
        return Episode(
            move(self.support),
            move(self.support_labels),
            move(self.query),
            move(self.query_labels),
            self.class_ids,
            self.n_way,
        )


def to_device(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """`t` copied to `device` without waiting: on CUDA a copy from ordinary (pageable) memory
    waits for the GPU's queue to drain, one from pinned memory does not."""
    if device.type == "cuda":
        t = t.pin_memory()
    return t.to(device, non_blocking=True)


class EpisodeSampler:
    """Seeded N-way K-shot episodes from one split.

    Args:
        split: the class split to sample from.
        n_way, n_shot, n_query: episode shape.
        seed: seeds this sampler's own generator (independent of the global RNG).
        device: where the split's images are kept and episodes are built.
        augment: crop, flip and colour-jitter every image (`data.augment`; training only).

    Raises:
        DataError: the split cannot provide episodes of this shape.
    """

    def __init__(
        self,
        split: Split,
        n_way: int,
        n_shot: int,
        n_query: int,
        seed: int,
        device: str | torch.device = "cpu",
        augment: bool = False,
    ):
        counts = torch.bincount(split.labels, minlength=split.n_classes)
        if n_way > split.n_classes:
            raise DataError(
                f"n_way={n_way} is more than the {split.n_classes} classes of the split"
            )
        if n_shot + n_query > int(counts.min()):
            raise DataError(
                f"n_shot + n_query = {n_shot + n_query} is more than the {int(counts.min())} "
                "images of the smallest class"
            )
        self.split, self.n_way, self.n_shot, self.n_query = split, n_way, n_shot, n_query
        self.device = torch.device(device)
        self.generator = torch.Generator().manual_seed(seed)
        self.augment = Augment(self.generator) if augment else None
        self.images = split.images.to(self.device)  # uint8, resident for the whole run
        # class_index[c, j] = position of the j-th image of class c (padded with 0 past counts[c]).
        order = torch.argsort(split.labels, stable=True)
        starts = torch.cumsum(counts, 0) - counts
        width = int(counts.max())
        offs = torch.arange(width)
        self.class_index = order[(starts[:, None] + offs).clamp(max=len(order) - 1)]
        self.valid = offs[None, :] < counts[:, None]  # [n_classes, width]
        self._labels: tuple[torch.Tensor, torch.Tensor] | None = None

    def sample_indices(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(class ids [n_way], image indices [n_way, n_shot + n_query]) for one episode."""
        g = self.generator
        classes = torch.randperm(self.split.n_classes, generator=g)[: self.n_way]
        # A random key per image, invalid slots pushed last: the first k are a uniform draw
        # without replacement from each class.
        keys = torch.rand(self.n_way, self.valid.shape[1], generator=g)
        keys = keys.masked_fill(~self.valid[classes], 2.0)
        pick = keys.argsort(dim=1)[:, : self.n_shot + self.n_query]
        return classes, self.class_index[classes[:, None], pick]

    def sample(self) -> Episode:
        return self.build(*self.sample_indices())

    def sample_many(self, n: int) -> list[Episode]:
        """`n` episodes, the same as `n` calls of `sample`, built with one host-to-device copy
        and one gather (see `to_device`): the host runs ahead of the GPU."""
        drawn = [self.sample_indices() for _ in range(n)]
        idx = torch.stack([i for _, i in drawn])  # [n, n_way, shot + query]
        x = self._gather(idx)  # [n, n_way, shot + query, C, H, W]
        return [self._episode(x[k], classes) for k, (classes, _) in enumerate(drawn)]

    def build(self, classes: torch.Tensor, idx: torch.Tensor) -> Episode:
        """The episode of `sample_indices`' output (class-major, support before query)."""
        return self._episode(self._gather(idx), classes)

    def _gather(self, idx: torch.Tensor) -> torch.Tensor:
        """Image indices [...] -> float images [..., C, H, W] on the device."""
        return self.split.to_float(self.images[to_device(idx, self.device)], self.augment)

    def _episode(self, x: torch.Tensor, classes: torch.Tensor) -> Episode:
        """x [n_way, shot + query, C, H, W] -> the episode (class-major, support before query)."""
        if self._labels is None:  # the same labels every episode: made once, on the device
            labels = torch.arange(self.n_way, device=self.device)
            self._labels = (
                labels.repeat_interleave(self.n_shot),
                labels.repeat_interleave(self.n_query),
            )
        return Episode(
            x[:, : self.n_shot].reshape(-1, *x.shape[2:]),
            self._labels[0],
            x[:, self.n_shot :].reshape(-1, *x.shape[2:]),
            self._labels[1],
            classes,
            self.n_way,
        )

    def __iter__(self):
        while True:
            yield self.sample()


class BatchSampler:
    """Uniform random labelled batches over a whole split, for pre-training (transfer baseline)."""

    def __init__(
        self, split: Split, seed: int, device: str | torch.device = "cpu", augment: bool = False
    ):
        self.split, self.device = split, torch.device(device)
        self.generator = torch.Generator().manual_seed(seed)
        self.augment = Augment(self.generator) if augment else None
        self.images = split.images.to(self.device)
        self.labels = split.labels.to(self.device)

    def sample(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns images [B, C, H, W] float and labels [B] int64."""
        idx = torch.randint(len(self.labels), (batch_size,), generator=self.generator)
        idx = to_device(idx, self.device)
        return self.split.to_float(self.images[idx], self.augment), self.labels[idx]
