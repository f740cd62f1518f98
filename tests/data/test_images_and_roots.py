"""Reading users' images and folders safely: oversized images, and data roots a dashboard may
read."""

import io

import pytest
from PIL import Image

from metalearn.data import DataError
from metalearn.data.base import root_problem
from metalearn.data.images import decode


def png(size, mode="L") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, format="PNG")
    return buf.getvalue()


def test_decode_reads_small_images_and_refuses_huge_ones():
    assert decode(png((30, 20)), 1, 28).shape == (1, 28, 28)
    with pytest.raises(DataError, match="too large"):
        decode(png((7000, 7000), "1"), 1, 28)  # 49 megapixels in a small file
    with pytest.raises(DataError, match="not in an image format this reads"):
        decode(b"not an image", 1, 28)


def test_only_folders_under_the_allowed_roots(tmp_path, monkeypatch):
    allowed = tmp_path / "allowed"
    (allowed / "mine").mkdir(parents=True)
    (tmp_path / "secret").mkdir()
    (allowed / "link").symlink_to(tmp_path / "secret")
    monkeypatch.setenv("METALEARN_DATA_ROOTS", str(allowed))
    assert root_problem(str(allowed)) is None
    assert root_problem(str(allowed / "mine")) is None
    for bad in (tmp_path / "secret", allowed / ".." / "secret", allowed / "link", "/etc"):
        problem = root_problem(str(bad))
        assert problem and "METALEARN_DATA_ROOTS" in problem, bad


def test_without_a_list_only_the_default_data_root(tmp_path, monkeypatch):
    monkeypatch.delenv("METALEARN_DATA_ROOTS", raising=False)
    monkeypatch.setenv("METALEARN_DATA", str(tmp_path))
    assert root_problem(str(tmp_path / "sub")) is None
    assert root_problem("/") is not None


def test_entries_that_link_out_of_the_root_are_not_read(tmp_path, monkeypatch):
    """Inside an allowed root, a class folder or an image that links elsewhere is skipped, and
    so is a FIFO named like an image (reading it would block); the messages name no server
    path beyond what the user gave."""
    import os

    from metalearn.data.folder import _layout
    from tests.formats import write_folder

    root, secret = tmp_path / "root", tmp_path / "secret"
    write_folder(root, 4, 3)
    write_folder(secret, 1, 2)
    (root / "stolen").symlink_to(secret / "class_00")
    (root / "class_00" / "leak.png").symlink_to(secret / "class_00" / "img0.png")
    os.mkfifo(root / "class_01" / "blocks.png")
    layout, _ = _layout(str(root))
    files = [p for split in layout.values() for c in split.values() for p in c]
    assert "stolen" not in {c for split in layout.values() for c in split}
    assert len(files) == 4 * 3 and all(p.resolve().is_relative_to(root) for p in files)
    monkeypatch.setenv("METALEARN_DATA_ROOTS", str(root))
    problem = root_problem(str(root / "stolen"))
    assert "outside the allowed data roots" in problem and str(secret) not in problem
    assert root_problem("data\x00root") == "the data root holds a NUL character; give a folder path"
