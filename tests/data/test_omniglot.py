import time

import pytest
import torch

from metalearn.data import DATASETS, DataError
from tests.conftest import real_omniglot
from tests.formats import write_omniglot

ALPHABETS = {
    "images_background": {f"Bg{a}": 3 for a in range(7)},  # 7 alphabets -> 1 held out for val
    "images_evaluation": {"EvA": 2, "EvB": 3},
}
omniglot = DATASETS["omniglot"]


@pytest.mark.parametrize("as_zip", [True, False])
def test_lake_split_from_zips_and_folders(tmp_path, as_zip):
    write_omniglot(tmp_path, ALPHABETS, as_zip)
    info = omniglot.describe(str(tmp_path))
    assert info.splits == {"train": (18, 20), "val": (3, 20), "test": (5, 20)}
    test = omniglot.load(str(tmp_path), "test")
    assert test.images.shape == (100, 1, 28, 28) and test.images.dtype == torch.uint8
    assert all(n.startswith("Ev") for n in test.class_names)
    # Ink is bright: the drawings were black strokes on white.
    x = test.to_float(test.images)
    assert x.mean() < 0.5 and x.max() > 0.9


def test_vinyals_split_rotates(tmp_path):
    write_omniglot(tmp_path, ALPHABETS, as_zip=True)
    splits = tmp_path / "omniglot-py" / "splits" / "vinyals"
    splits.mkdir(parents=True)
    rot = lambda c: "\n".join(f"{c}/rot{r:03d}" for r in (0, 90, 180, 270))  # noqa: E731
    (splits / "train.txt").write_text(rot("Bg0/character01") + "\n" + rot("EvA/character01"))
    (splits / "val.txt").write_text(rot("Bg1/character02"))
    (splits / "test.txt").write_text(rot("EvB/character03"))
    assert omniglot.describe(str(tmp_path)).splits["train"] == (8, 20)
    test = omniglot.load(str(tmp_path), "test")
    imgs = test.images.view(4, 20, 1, 28, 28)
    assert torch.equal(imgs[1], torch.rot90(imgs[0], 1, dims=(-2, -1)))
    assert torch.equal(imgs[2], torch.rot90(imgs[0], 2, dims=(-2, -1)))


def test_missing_data_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="images_background, images_evaluation not found"):
        omniglot.describe(str(tmp_path))


@pytest.mark.realdata
@pytest.mark.skipif(real_omniglot() is None, reason="real Omniglot not present")
def test_real_omniglot_vinyals_and_cache():
    root = str(real_omniglot())
    info = omniglot.describe(root)
    assert info.splits == {"train": (4112, 20), "val": (688, 20), "test": (1692, 20)}
    omniglot.load(root, "test")  # fills the cache on first use
    start = time.perf_counter()
    train = omniglot.load(root, "train")
    assert time.perf_counter() - start < 2.0
    assert train.images.shape == (4112 * 20, 1, 28, 28)
