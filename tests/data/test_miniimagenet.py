"""miniImageNet in its three layouts, on small copies generated here (the real zip: realdata)."""

import shutil
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from metalearn.data import DATASETS, DataError, EpisodeSampler
from metalearn.data import miniimagenet as mini
from metalearn.data.base import resize
from tests.conftest import REAL_DATA
from tests.formats import pattern, write_mini_imagenet, write_miniimagenet_images

SPLITS = {"train": 5, "val": 3, "test": 4}


@pytest.fixture(scope="module")
def zipped(tmp_path_factory):
    root = tmp_path_factory.mktemp("mini")
    write_miniimagenet_images(root, SPLITS, per_class=7)
    return root


def test_describe_counts_classes_and_images_per_split(zipped):
    info = DATASETS["miniimagenet"].describe(str(zipped))
    assert (info.channels, info.image_size) == (3, 84)
    assert info.splits == {"train": (5, 7), "val": (3, 7), "test": (4, 7)}


def test_each_split_holds_its_own_classes_with_readable_names(zipped):
    loaded = {s: DATASETS["miniimagenet"].load(str(zipped), s) for s in SPLITS}
    assert loaded["train"].class_names == [f"thing {c}" for c in range(5)]
    assert loaded["val"].class_names == ["thing 5", "thing 6", "thing 7"]
    assert loaded["test"].class_names == [f"thing {c}" for c in range(8, 12)]
    test = loaded["test"]
    assert test.images.shape == (28, 3, 84, 84) and test.images.dtype == torch.uint8
    assert test.labels.tolist() == [c for c in range(4) for _ in range(7)]
    # The pixels are the file's: image 2 of the test split's class 1 (class 9 overall).
    expected = np.asarray(Image.fromarray(pattern(9, 2, 84))).transpose(2, 0, 1).astype(float)
    assert np.abs(test.images[7 + 2].numpy() - expected).mean() < 6  # JPEG quality 95


def test_pixels_are_decoded_once_and_memory_mapped(zipped, monkeypatch):
    source = mini.find(zipped)
    mini.pixels(source)  # decoded (or already cached by an earlier test)
    calls = []
    monkeypatch.setattr(mini, "_decode_all", lambda *a: calls.append(a))
    split = DATASETS["miniimagenet"].load(str(zipped), "train")
    assert calls == []  # from the cache
    assert isinstance(mini.pixels(source), np.memmap)
    # The split's pixels lie in a mapping of the cache file (pages the system shares between
    # processes), not in a private copy.
    address = split.images.data_ptr()
    with open("/proc/self/maps") as f:
        for line in f:
            low, high = (int(a, 16) for a in line.split()[0].split("-"))
            if low <= address < high:
                assert line.split()[-1].startswith(str(mini.cache_dir())), line
                assert line.split()[-1].endswith("-84.npy"), line
                break
        else:
            raise AssertionError("the split's pixels are in no mapping")
    again = DATASETS["miniimagenet"].load(str(zipped), "train")
    assert again.images.data_ptr() == address  # one mapping per process


def test_another_image_size_is_resized_from_the_cache_with_progress(zipped):
    seen = []
    split = DATASETS["miniimagenet"].load(
        str(zipped), "val", image_size=42, progress=lambda d, n: seen.append((d, n))
    )
    assert split.images.shape == (21, 3, 42, 42)
    assert seen and seen[-1] == (84, 84)  # every image of the copy, once
    full = DATASETS["miniimagenet"].load(str(zipped), "val").images
    assert torch.equal(split.images, resize(full, 42))  # as any other dataset is resized


def test_extracted_folders_and_the_original_csv_layout_give_the_same_split(tmp_path, zipped):
    with zipfile.ZipFile(zipped / "miniimagenet-images" / "miniimagenet-images.zip") as z:
        z.extractall(tmp_path / "extracted")
    shutil.copy(zipped / "miniimagenet-images/class_names.tsv", tmp_path / "extracted")
    source = mini.find(tmp_path / "extracted")
    assert source.kind == "folders" and source.names is not None
    a = DATASETS["miniimagenet"].load(str(zipped), "test")
    b = DATASETS["miniimagenet"].load(str(tmp_path / "extracted"), "test")
    assert a.class_names == b.class_names and torch.equal(a.images, b.images)

    write_mini_imagenet(tmp_path / "original", {"train": 3, "val": 2, "test": 2}, per_class=5)
    source = mini.find(tmp_path / "original")
    assert source.kind == "csv" and source.names is None
    test = DATASETS["miniimagenet"].load(str(tmp_path / "original"), "test")
    assert test.class_names == ["n00000005", "n00000006"]  # no name table: the WordNet ids
    assert test.images.shape == (10, 3, 84, 84)  # the 90x90 photos resized


def test_episodes_sample_from_the_mapped_split(zipped):
    split = DATASETS["miniimagenet"].load(str(zipped), "train")
    episode = EpisodeSampler(split, 5, 1, 3, seed=0).sample()
    assert episode.support.shape == (5, 3, 84, 84) and episode.query.shape == (15, 3, 84, 84)
    assert episode.support.dtype == torch.float32 and -1 <= episode.support.min() < 0


def test_missing_and_broken_copies_say_what_is_expected(tmp_path):
    with pytest.raises(DataError, match="no copy found.*miniimagenet-images.zip"):
        DATASETS["miniimagenet"].describe(str(tmp_path))
    folder = tmp_path / "miniimagenet-images"
    folder.mkdir()
    (folder / "miniimagenet-images.zip").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="cannot read miniimagenet-images.zip as a zip"):
        DATASETS["miniimagenet"].describe(str(tmp_path))
    with zipfile.ZipFile(folder / "miniimagenet-images.zip", "w") as z:
        z.writestr("miniimagenet-images/train/n1/a.jpg", b"")
    with pytest.raises(DataError, match="no images for val, test"):
        DATASETS["miniimagenet"].describe(str(tmp_path))


def test_a_bad_image_names_its_file(tmp_path):
    write_miniimagenet_images(tmp_path, {"train": 2, "val": 1, "test": 1}, 3, zipped=False)
    bad = tmp_path / "miniimagenet-images/val/n00000002/n0000000200000001.jpg"
    bad.write_bytes(b"garbage")
    with pytest.raises(DataError, match="n0000000200000001.jpg"):
        DATASETS["miniimagenet"].load(str(tmp_path), "train")
    assert not list(mini.cache_dir().glob("*.tmp*"))  # nothing half-written is left behind


@pytest.mark.realdata
def test_the_real_copy_holds_the_ravi_split():
    """Its listing and names (the 1.3 GB decode is left to the scripts that train on it)."""
    source = mini.find(REAL_DATA)
    if source is None:
        pytest.skip(f"miniImageNet not under {REAL_DATA}")
    info = DATASETS["miniimagenet"].describe(str(REAL_DATA))
    assert info.splits == {"train": (64, 600), "val": (16, 600), "test": (20, 600)}
    classes = mini._index(source)["classes"]
    for split in ("train", "val", "test"):
        listed = (source.path.parent / "splits" / "ravi" / f"{split}.txt").read_text().split()
        assert classes[split] == sorted(listed)
    names = mini.class_names(source)
    assert names["n01532829"] == "house finch" and len(names) == 100
    with zipfile.ZipFile(source.path) as z:
        first = mini._decode("first", z.read(mini._listing(source)["test"][classes["test"][0]][0]))
    assert first.shape == (3, 84, 84) and first.std() > 10
