"""Datasets by name. Each yields disjoint train / val / test class splits as tensors."""

from metalearn.data.base import DataError, Dataset, DatasetInfo, Split, data_root
from metalearn.data.cifar import Cifar10, CifarFS
from metalearn.data.clinc150 import Clinc150
from metalearn.data.digits import Digits
from metalearn.data.episodes import BatchSampler, Episode, EpisodeSampler, to_device
from metalearn.data.folder import Folder
from metalearn.data.glyphs import Glyphs
from metalearn.data.miniimagenet import MiniImageNet
from metalearn.data.omniglot import Omniglot
from metalearn.data.sinusoid import Sinusoid, SinusoidSampler, TaskSampler

DATASETS: dict[str, type[Dataset]] = {
    d.name: d
    for d in (
        Glyphs,
        Omniglot,
        MiniImageNet,
        Sinusoid,
        Cifar10,
        CifarFS,
        Clinc150,
        Digits,
        Folder,
    )
}

__all__ = [
    "DATASETS",
    "BatchSampler",
    "DataError",
    "Dataset",
    "DatasetInfo",
    "Episode",
    "EpisodeSampler",
    "SinusoidSampler",
    "Split",
    "TaskSampler",
    "data_root",
    "to_device",
]
