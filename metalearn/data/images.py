"""Reading image files into the uint8 tensors the splits hold."""

from __future__ import annotations

import io
import logging
import struct
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from metalearn.data.base import DataError

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


MAX_PIXELS = 40_000_000  # refuses decompression bombs; a 6000x6000 photo still passes


def decode(data: bytes | Path, channels: int, size: int, ink: bool = False) -> torch.Tensor:
    """One image file -> uint8 [C, size, size].

    Args:
        data: file bytes or a path.
        channels: 1 (grayscale) or 3 (RGB).
        size: output side length.
        ink: for drawings (Omniglot, glyphs): make strokes bright on a dark background,
            inverting images whose background is light.

    Raises:
        DataError: the file is not a readable image.
    """
    try:
        src = io.BytesIO(data) if isinstance(data, bytes) else data
        with Image.open(src) as img:
            if img.width * img.height > MAX_PIXELS:  # checked before decoding the pixels
                raise DataError(
                    f"{getattr(data, 'name', 'image')}: {img.width}x{img.height} pixels is too "
                    f"large; images of up to {MAX_PIXELS // 1_000_000} megapixels are accepted"
                )
            img = img.convert("L" if channels == 1 else "RGB")
            img = img.resize((size, size), Image.Resampling.BILINEAR)
            arr = np.asarray(img, dtype=np.uint8)
    except DataError:
        raise
    except UnidentifiedImageError:
        raise DataError(
            f"{_name(data)} is not in an image format this reads (PNG, JPEG, BMP, GIF, WebP)"
        ) from None
    except (
        OSError,
        ValueError,
        SyntaxError,  # Pillow's "broken PNG file"
        EOFError,
        IndexError,
        struct.error,
        Image.DecompressionBombError,
    ) as err:
        raise DataError(f"cannot read {_name(data)} as an image: {err}") from None
    if ink and arr.mean() > 127:
        arr = 255 - arr
    t = torch.from_numpy(arr.copy())
    return t.unsqueeze(0) if channels == 1 else t.permute(2, 0, 1).contiguous()


def _name(data: bytes | Path) -> str:
    """How an image is named in a message: its file name, never an object's repr."""
    return data.name if isinstance(data, Path) else "the image"


def inside(path: Path, root: Path) -> bool:
    """Whether `path` lies under `root`, links resolved on both (a link cannot lead out)."""
    real, top = path.resolve(), root.resolve()
    return real == top or top in real.parents


def list_images(folder: Path, root: Path | None = None) -> list[Path]:
    """Image files directly in `folder`, sorted by name: regular files only (no FIFO or device
    that would block a read), and none that links out of `root` (default: `folder`)."""
    found = []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if not inside(p, root or folder):
            log.warning("skipped %s: it links outside the data root", p.name)
        elif not p.is_file():
            log.warning("skipped %s: not a regular file", p.name)
        else:
            found.append(p)
    return found
