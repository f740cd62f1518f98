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


@pytest.mark.parametrize("zipped", [True, False])
def test_cifar10_from_image_folders_zipped_or_extracted(tmp_path, zipped):
    from tests.formats import CIFAR10_NAMES, write_cifar10_images

    write_cifar10_images(tmp_path, per_class_train=6, per_class_test=3, zipped=zipped)
    info = DATASETS["cifar10"].describe(str(tmp_path))
    assert info.splits == {"train": (5, 9), "val": (2, 9), "test": (3, 9)}
    tx, ty, vx, vy, names = load_standard(str(tmp_path))
    assert names == CIFAR10_NAMES
    assert tx.shape == (60, 3, 32, 32) and vx.shape == (30, 3, 32, 32) and tx.dtype == torch.uint8
    assert ty[:6].tolist() == [0] * 6 and torch.bincount(vy).tolist() == [3] * 10  # class order
    test = DATASETS["cifar10"].load(str(tmp_path), "test")
    assert test.class_names == ["horse", "ship", "truck"] and len(test.images) == 27
    # JPEG keeps the class patterns: each class's mean colour is nearest its own generated one
    means = torch.stack([tx[ty == c].float().mean((0, 2, 3)) for c in range(10)])
    assert (torch.cdist(means, means).fill_diagonal_(1e9).min(1).values > 5).all()


def test_decoded_images_are_cached(tmp_path, monkeypatch):
    from metalearn.data import cifar_images
    from tests.formats import write_cifar10_images

    write_cifar10_images(tmp_path, 2, 1)
    first = load_standard(str(tmp_path))[0]

    def no_decoding(*args):
        raise AssertionError("decoded again")

    monkeypatch.setattr(cifar_images, "_pixels", no_decoding)
    assert torch.equal(load_standard(str(tmp_path))[0], first)


def test_bad_image_copies_say_what_is_wrong(tmp_path):
    from tests.formats import write_cifar10_images

    folder = write_cifar10_images(tmp_path, 2, 1, zipped=False)
    (folder / "test" / "truck" / "0000.jpg").rename(folder / "test" / "lorry.jpg")
    import shutil

    shutil.rmtree(folder / "test" / "truck")
    with pytest.raises(DataError, match="same class folders"):
        DATASETS["cifar10"].describe(str(tmp_path))
    (folder / "test" / "truck").mkdir()
    (folder / "test" / "truck" / "0000.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match="cannot read test/truck/0000.jpg as an image"):
        DATASETS["cifar10"].describe(str(tmp_path))
    broken = tmp_path / "z" / "cifar10-images"
    broken.mkdir(parents=True)
    (broken / "cifar10-images.zip").write_bytes(b"PK not really")
    with pytest.raises(DataError, match="cannot read cifar10-images.zip as a zip"):
        DATASETS["cifar10"].describe(str(tmp_path / "z"))
