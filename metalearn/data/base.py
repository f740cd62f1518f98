"""What every dataset provides: a cheap `describe` (for validation) and `load` of one
class split."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import torch

if TYPE_CHECKING:
    from metalearn.config import RunConfig

SPLITS = ("train", "val", "test")
Progress = Callable[[int, int], None]  # a slow load's (items done, items in all)


class DataError(ValueError):
    """A dataset that cannot be found or read; the message says what is missing and what to do."""


@dataclass
class DatasetInfo:
    """What validation needs to know about a dataset, without loading its images.

    Attributes:
        splits: split name -> (number of classes, images in its smallest class).
    """

    name: str
    task: str
    channels: int
    image_size: int
    splits: dict[str, tuple[int, int]] = field(default_factory=dict)
    mean: float = 0.0  # normalisation that `Split.to_float` applies
    std: float = 1.0
    ink: bool = False  # drawings: strokes bright on dark (user images are inverted to match)
    modality: str = "image"  # "text": utterances (`metalearn.data.text`)


@dataclass
class Split:
    """One class split held as tensors, ready to be put on a device and sampled by indexing.

    Attributes:
        images: uint8 [N, C, H, W]; ink/brightness 255 is 1.0 after `to_float`.
        labels: int64 [N], class index into `class_names`.
        class_names: human-readable class names.
        mean, std: normalisation applied by `to_float`.
    """

    images: torch.Tensor
    labels: torch.Tensor
    class_names: list[str]
    mean: float = 0.0
    std: float = 1.0

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def keep_classes(self, n_classes: int, seed: int = 0) -> Split:
        """The split cut down to `n_classes` of its classes: a seeded choice that does not depend
        on `n_classes` (the 20 kept are among the 50 kept), so runs on smaller and larger
        training sets differ only in what was added. Classes are renumbered 0..n_classes-1.

        Args:
            n_classes: how many classes to keep (at most `self.n_classes`).
            seed: the order the classes are taken in.
        """
        order = torch.randperm(self.n_classes, generator=torch.Generator().manual_seed(seed))
        keep = order[:n_classes].sort().values
        new_label = torch.full((self.n_classes,), -1, dtype=torch.long)
        new_label[keep] = torch.arange(len(keep))
        rows = torch.isin(self.labels, keep).nonzero().squeeze(1)
        cut = {
            "images": self.images[rows],
            "labels": new_label[self.labels[rows]],
            "class_names": [self.class_names[i] for i in keep.tolist()],
        }
        if texts := getattr(self, "texts", None):  # a text split: its utterances, row for row
            cut["texts"] = [texts[i] for i in rows.tolist()]
        if (pixels := getattr(self, "pixels", None)) is not None:  # features: their images
            cut["pixels"] = pixels[rows]
        return dataclasses.replace(self, **cut)

    def to_float(
        self, images: torch.Tensor, augment: Callable[[torch.Tensor], torch.Tensor] | None = None
    ) -> torch.Tensor:
        """uint8 [..., C, H, W] -> float32, normalised; `augment` (`data.augment.Augment`) is
        applied to the [0, 1] images first."""
        x = images.float().div_(255.0)
        if augment is not None:
            x = augment(x)
        if self.mean != 0.0 or self.std != 1.0:
            x = x.sub_(self.mean).div_(self.std)
        return x


@dataclass
class FeatureSplit(Split):
    """A class split held as a frozen pretrained network's outputs: `images` is its features,
    float [N, D], or its trunk's maps, float16 [N, 112, h, w] (read as float32 by the stages
    that train), read as they are (no scaling, no augmentation: `engine.features.cached_input`
    uses them only where the images never change); `pixels` the uint8 images [N, C, H, W] they
    are of, row for row, for showing."""

    pixels: torch.Tensor | None = None

    def to_float(self, images: torch.Tensor, augment=None) -> torch.Tensor:
        return images.float()


class Dataset:
    """A named dataset. Subclasses set the class attributes and implement the two methods."""

    name: ClassVar[str]
    task: ClassVar[str] = "classification"
    needs_root: ClassVar[bool] = True
    summary: ClassVar[str] = ""
    how_to_get: ClassVar[str] = ""
    # Pen drawings (one channel, ink bright on dark): a run trained on them can read a drawing
    # made on the dashboard's canvas or a one-shot trial (`metalearn.data.trials`).
    drawings: ClassVar[bool] = False
    standard_split: ClassVar[bool] = False  # has its own train/test images (whole-dataset runs)
    modality: ClassVar[str] = "image"  # what its examples are: "image" or "text"

    @classmethod
    def download(cls, root: str | None) -> None:
        """Fetches the files into `root` where the dataset knows where from; others need none
        or are the user's own."""

    @classmethod
    def describe(cls, root: str | None) -> DatasetInfo:
        raise NotImplementedError

    @classmethod
    def load(cls, root: str | None, split: str, image_size: int | None = None) -> Split:
        raise NotImplementedError

    @classmethod
    def load_for(cls, cfg: RunConfig, split: str, progress: Progress | None = None) -> Split:
        """One split as the run `cfg` reads it (images at its `image_size`; a text dataset's
        utterances in the form its encoder takes). `progress` is called with (done, in all)
        by a dataset whose first load takes a while (miniImageNet's decode)."""
        return cls.load(cfg.data_root, split, cfg.image_size)

    @classmethod
    def class_keys(cls, root: str | None, split: str) -> list[str]:
        """The identifiers of a split's classes as its files name them (miniImageNet's WordNet
        ids, a folder's subfolder names), for checking them against what a pretrained network
        saw; empty for data made here or named by this project (glyphs, Omniglot's alphabets,
        CIFAR-10's ten words)."""
        return []

    @classmethod
    def available(cls, root: str | None) -> bool:
        """True when `describe` succeeds, i.e. the files are present."""
        try:
            cls.describe(root)
        except DataError:
            return False
        return True


def data_root(root: str | None) -> Path:
    """The data root: the given one, else $METALEARN_DATA, else ./data."""
    return Path(root or os.environ.get("METALEARN_DATA") or "data").expanduser()


def allowed_roots() -> list[Path]:
    """Folders a dashboard may read datasets from: $METALEARN_DATA_ROOTS (separated by the
    system's path separator), else the default data root alone. Subfolders count."""
    listed = os.environ.get("METALEARN_DATA_ROOTS")
    roots = [p for p in listed.split(os.pathsep) if p.strip()] if listed else [None]
    return [data_root(r).resolve() for r in roots]


def root_problem(root: str | None) -> str | None:
    """Why `root` may not be read by a dashboard (links resolved, so '..' and symlinks cannot
    escape), or None if it lies under an allowed folder."""
    if root and "\x00" in root:
        return "the data root holds a NUL character; give a folder path"
    path = data_root(root).resolve()
    if any(path == a or a in path.parents for a in allowed_roots()):
        return None
    return (  # no server paths in the message: a viewer may read it
        f"data root {root!r} is outside the allowed data roots; the dashboard's operator can "
        "allow more with METALEARN_DATA_ROOTS"
    )


def cache_dir() -> Path:
    """Where decoded tensors are cached: $METALEARN_CACHE, else ~/.cache/metalearn."""
    path = Path(os.environ.get("METALEARN_CACHE") or Path.home() / ".cache" / "metalearn")
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_cache(name: str, payload: dict) -> None:
    """Atomically writes a tensor cache (a crash never leaves a half-written file behind)."""
    path = cache_dir() / name
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def load_cache(name: str) -> dict | None:
    path = cache_dir() / name
    if not path.exists():
        return None
    try:
        return torch.load(path, weights_only=True)
    except Exception:  # a corrupt cache is rebuilt, never fatal
        path.unlink(missing_ok=True)
        return None


def resize(images: torch.Tensor, size: int | None) -> torch.Tensor:
    """uint8 [..., C, H, W] -> uint8 [..., C, size, size] (antialiased bilinear); None: as is."""
    if not size or tuple(images.shape[-2:]) == (size, size):
        return images
    lead = images.shape[:-3]
    flat = images.reshape(-1, *images.shape[-3:]).float()
    flat = torch.nn.functional.interpolate(flat, size=size, mode="bilinear", antialias=True)
    return flat.round().clamp(0, 255).to(torch.uint8).reshape(*lead, *flat.shape[1:])


def split_by_class(
    images: torch.Tensor, labels: torch.Tensor, names: list[str], keep: list[int], **norm: float
) -> Split:
    """The images of the classes `keep` (indices into `names`), relabelled 0..len(keep)-1."""
    rows, new = class_rows(labels, len(names), keep)
    return Split(images[rows].contiguous(), new, [names[i] for i in keep], **norm)


def class_rows(
    labels: torch.Tensor, n_classes: int, keep: list[int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The rows of the classes `keep` (int64 [M], in their order) and their labels renumbered
    0..len(keep)-1 in the order of `keep` ([M])."""
    lookup = torch.full((n_classes,), -1, dtype=torch.long)
    lookup[torch.tensor(keep, dtype=torch.long)] = torch.arange(len(keep))
    new = lookup[labels]
    rows = torch.nonzero(new >= 0).squeeze(1)
    return rows, new[rows]


def counts_info(labels: torch.Tensor, keep: list[int]) -> tuple[int, int]:
    """(classes, images in the smallest) for the classes `keep`."""
    if not keep:
        return (0, 0)
    counts = torch.bincount(labels)
    return (len(keep), int(counts[torch.tensor(keep)].min()))
