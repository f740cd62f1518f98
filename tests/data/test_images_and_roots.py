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
    with pytest.raises(DataError, match="cannot read"):
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
