"""A drawing made on the dashboard's canvas, turned into an image file like those a user uploads:
ink cropped to its bounding box, centred on a square with a margin (Omniglot's characters fill
most of their frame), as a grayscale PNG with dark ink on white. The classifying path then reads
it as it reads any uploaded image (`metalearn.engine.predict`), inverting it for datasets whose
strokes are bright on dark.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

INK = 32  # an ink level (0-255) that counts as drawn, above anti-aliasing haze


def read_canvas(data: bytes | None) -> np.ndarray | None:
    """The canvas component's image (PNG bytes) as uint8 [H, W, 4]; None when there is none
    yet or it is empty (a fresh canvas may send a zero-size image)."""
    if not data:
        return None
    try:
        with Image.open(io.BytesIO(data)) as img:
            rgba = np.asarray(img.convert("RGBA"))
    except (OSError, ValueError):
        return None
    return rgba if rgba.ndim == 3 and rgba.size else None


def ink_of(rgba: np.ndarray) -> np.ndarray:
    """The ink of a canvas image: uint8 [H, W, 4] (RGBA, transparent or white background) ->
    float [H, W] in 0..1, 1 where the stroke is fully dark and opaque."""
    rgba = np.asarray(rgba, dtype=np.float32)
    if rgba.ndim != 3 or rgba.shape[-1] not in (3, 4):
        raise ValueError(f"a canvas image is [H, W, 3 or 4], got shape {rgba.shape}")
    alpha = rgba[..., 3] / 255 if rgba.shape[-1] == 4 else np.ones(rgba.shape[:2], np.float32)
    gray = rgba[..., :3].mean(-1) / 255
    return alpha * (1 - gray)  # over white: dark opaque pixels are ink


def drawing_png(rgba: np.ndarray, margin: float = 0.12) -> bytes | None:
    """The drawing as PNG bytes (dark ink on white, square), None when nothing is drawn.

    Args:
        rgba: the canvas, uint8 [H, W, 4] (or [H, W, 3]).
        margin: blank border around the ink's bounding box, as a share of its longer side.
    """
    ink = ink_of(rgba)
    rows, cols = np.nonzero(ink * 255 > INK)
    if len(rows) == 0:
        return None
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    crop = ink[top:bottom, left:right]
    side = int(round(max(crop.shape) * (1 + 2 * margin)))
    square = np.zeros((side, side), np.float32)
    y0, x0 = (side - crop.shape[0]) // 2, (side - crop.shape[1]) // 2
    square[y0 : y0 + crop.shape[0], x0 : x0 + crop.shape[1]] = crop
    img = Image.fromarray(np.round(255 * (1 - square)).astype(np.uint8), mode="L")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()
