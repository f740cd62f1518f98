import math

import pytest
import torch

from metalearn.data import DATASETS, DataError, SinusoidSampler
from tests.formats import write_folder, write_mini_imagenet


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_folder_tree(tmp_path, suffix):
    write_folder(tmp_path, n_classes=10, per_class=4, suffix=suffix)
    info = DATASETS["folder"].describe(str(tmp_path))
    assert info.splits == {"train": (6, 4), "val": (2, 4), "test": (2, 4)}
    names = set()
    for s in ("train", "val", "test"):
        split = DATASETS["folder"].load(str(tmp_path), s)
        assert split.images.shape[1:] == (3, 32, 32)
        assert not names & set(split.class_names)
        names |= set(split.class_names)
    assert len(names) == 10


def test_mini_imagenet_csv_layout(tmp_path):
    write_mini_imagenet(tmp_path, {"train": 4, "val": 2, "test": 3}, per_class=3)
    info = DATASETS["folder"].describe(str(tmp_path))
    assert info.image_size == 84 and info.splits["test"] == (3, 3)
    assert DATASETS["folder"].load(str(tmp_path), "test").images.shape == (9, 3, 84, 84)


def test_folder_errors(tmp_path):
    with pytest.raises(DataError, match="not a folder"):
        DATASETS["folder"].describe(str(tmp_path / "nope"))
    write_folder(tmp_path, n_classes=2, per_class=2)
    with pytest.raises(DataError, match="need at least 3"):
        DATASETS["folder"].describe(str(tmp_path))


def test_digits_split():
    info = DATASETS["digits"].describe(None)
    assert [n for n, _ in info.splits.values()] == [5, 2, 3]
    test = DATASETS["digits"].load(None, "test")
    assert test.class_names == ["7", "8", "9"] and test.images.shape[1:] == (1, 28, 28)


def test_sinusoid_tasks_follow_finn_et_al():
    sampler = SinusoidSampler(n_shot=10, n_query=100, seed=0)
    for _ in range(50):
        e = sampler.sample()
        amp, phase = e.class_ids.tolist()
        assert 0.1 <= amp <= 5.0 and 0.0 <= phase <= math.pi
        assert e.support.shape == (10, 1) and e.query.shape == (100, 1)
        assert float(e.support.abs().max()) <= 5.0
        assert torch.allclose(e.query_labels, amp * torch.sin(e.query - phase), atol=1e-5)
