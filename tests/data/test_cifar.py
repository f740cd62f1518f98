import pytest
import torch

from metalearn.data import DATASETS, DataError
from metalearn.data.cifar import CIFAR_FS_TEST, CIFAR_FS_VAL, load_standard
from tests.formats import write_cifar10, write_cifar100


def test_cifar10_episodic_split_and_standard_split(tmp_path):
    write_cifar10(tmp_path, per_class_train=10, per_class_test=4)
    info = DATASETS["cifar10"].describe(str(tmp_path))
    assert info.splits == {"train": (5, 14), "val": (2, 14), "test": (3, 14)}
    test = DATASETS["cifar10"].load(str(tmp_path), "test")
    assert test.class_names == ["horse", "ship", "truck"]
    assert test.images.shape == (42, 3, 32, 32)
    x = test.to_float(test.images)
    assert -1.0 <= float(x.min()) and float(x.max()) <= 1.0
    tx, ty, vx, vy, names = load_standard(str(tmp_path))
    assert tx.shape == (100, 3, 32, 32) and vx.shape == (40, 3, 32, 32) and len(names) == 10
    assert torch.bincount(ty).tolist() == [10] * 10


def test_cifar_fs_uses_the_bertinetto_split(tmp_path):
    others = [f"class{i}" for i in range(64)]
    names = sorted(others + CIFAR_FS_VAL + CIFAR_FS_TEST)
    write_cifar100(tmp_path, names, per_class=3)
    info = DATASETS["cifar-fs"].describe(str(tmp_path))
    assert info.splits == {"train": (64, 5), "val": (16, 5), "test": (20, 5)}
    assert set(DATASETS["cifar-fs"].load(str(tmp_path), "val").class_names) == set(CIFAR_FS_VAL)


def test_missing_or_corrupt_files(tmp_path):
    with pytest.raises(DataError, match="not found"):
        DATASETS["cifar10"].describe(str(tmp_path))
    write_cifar10(tmp_path, 2, 1)
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"not a pickle")
    with pytest.raises(DataError, match="cannot read"):
        DATASETS["cifar10"].describe(str(tmp_path))
