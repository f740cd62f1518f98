"""A canvas drawing becomes an upload-like image: ink cropped, centred, dark on white."""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from metalearn.data.drawings import drawing_png, ink_of, read_canvas


def canvas(lines, size=280, background=(0, 0, 0, 0)) -> np.ndarray:
    """An RGBA canvas like the component returns: black strokes, transparent or white around."""
    img = Image.new("RGBA", (size, size), background)
    pen = ImageDraw.Draw(img)
    for line in lines:
        pen.line(line, fill=(0, 0, 0, 255), width=14)
    return np.asarray(img)


def read(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as img:
        assert img.mode == "L"
        return np.asarray(img)


def test_nothing_drawn_is_none():
    assert drawing_png(canvas([])) is None
    assert drawing_png(canvas([], background=(255, 255, 255, 255))) is None


@pytest.mark.parametrize("background", [(0, 0, 0, 0), (255, 255, 255, 255)])
def test_a_stroke_is_cropped_centred_and_square_with_dark_ink(background):
    """A short stroke in a corner fills the middle of the image, on either background."""
    got = read(drawing_png(canvas([(20, 20, 20, 100)], background=background)))
    assert got.shape[0] == got.shape[1]
    assert got[0].min() == 255 and got[:, 0].min() == 255  # a white margin all round
    ink = got < 128
    rows, cols = np.nonzero(ink)
    centre = (got.shape[0] - 1) / 2
    assert abs(rows.mean() - centre) < 2 and abs(cols.mean() - centre) < 2
    assert rows.max() - rows.min() > 0.7 * got.shape[0]  # the stroke's length fills the frame


def test_a_horizontal_and_a_vertical_stroke_stay_apart():
    flat = read(drawing_png(canvas([(40, 140, 240, 140)])))
    tall = read(drawing_png(canvas([(140, 40, 140, 240)])))
    assert np.abs(flat.astype(int) - tall.T.astype(int)).mean() < 3  # the same, turned
    assert np.abs(flat.astype(int) - tall.astype(int)).mean() > 20


def test_ink_of_rejects_what_is_not_an_image():
    with pytest.raises(ValueError, match="H, W, 3 or 4"):
        ink_of(np.zeros((28, 28)))


def test_the_canvas_image_is_read_or_none():
    buf = io.BytesIO()
    Image.fromarray(canvas([(20, 20, 200, 200)])).save(buf, format="PNG")
    got = read_canvas(buf.getvalue())
    assert got.shape == (280, 280, 4) and drawing_png(got) is not None
    assert read_canvas(None) is None and read_canvas(b"") is None
    assert read_canvas(b"data:,") is None  # not an image: no drawing yet, not an error
