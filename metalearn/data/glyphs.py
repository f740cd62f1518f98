"""`glyphs`: the embedded default dataset, procedurally generated handwriting-like symbols.

Each class is a random set of 2-4 cubic Bezier strokes. Each instance redraws the class with
jittered control points, a small random affine map (rotation, scale, shear, shift) and its own
stroke width, then renders it anti-aliased on a 28x28 canvas. Like Omniglot, many classes with 20
drawings each; like Omniglot, raw pixels are a poor metric (shifts and widths move the ink), so a
model has to learn which features matter. Generation is vectorised (a few seconds) and cached; it
is deterministic from the seed.
"""

from __future__ import annotations

import logging
import math

import torch

from metalearn.data.base import Dataset, DatasetInfo, Split, load_cache, resize, save_cache

log = logging.getLogger(__name__)

N_CLASSES = 3200
PER_CLASS = 20
SIZE = 28
# Class splits (disjoint): train / validation / test, like Omniglot's 1200 / 100+ / 400+.
SPLIT_CLASSES = {"train": (0, 2400), "val": (2400, 2600), "test": (2600, 3200)}
VERSION = 1
_SAMPLES = 24  # points along each stroke; < 1 px apart at this canvas size


def _bezier(ctrl: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Cubic Bezier points. ctrl [..., 4, 2], t [T] -> [..., T, 2]."""
    t = t[:, None]
    p0, p1, p2, p3 = (ctrl[..., i, None, :] for i in range(4))
    return (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t**2 * p2 + t**3 * p3


def generate(seed: int = 0, n_classes: int = N_CLASSES, per_class: int = PER_CLASS) -> torch.Tensor:
    """Renders the dataset. Returns uint8 [n_classes, per_class, 1, 28, 28], ink = 255."""
    g = torch.Generator().manual_seed(seed)
    max_strokes = 4
    # Class prototypes: strokes start anywhere on the canvas and wander in steps of ~0.6.
    start = torch.rand(n_classes, max_strokes, 1, 2, generator=g) * 1.6 - 0.8
    steps = torch.randn(n_classes, max_strokes, 3, 2, generator=g) * 0.6
    ctrl = torch.cat([start, start + steps.cumsum(dim=2)], dim=2).clamp(-0.95, 0.95)
    n_strokes = torch.randint(2, max_strokes + 1, (n_classes,), generator=g)
    used = torch.arange(max_strokes)[None, :] < n_strokes[:, None]  # [classes, strokes]

    ys, xs = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing="ij")
    grid = (torch.stack([xs, ys], -1).reshape(-1, 2).float() - (SIZE - 1) / 2) / 11.0  # unit space
    t = torch.linspace(0, 1, _SAMPLES)
    out = torch.empty(n_classes, per_class, 1, SIZE, SIZE, dtype=torch.uint8)
    chunk = 64  # classes per batch: 64 * 20 images at a time keeps memory near 200 MB
    for c0 in range(0, n_classes, chunk):
        c1 = min(c0 + chunk, n_classes)
        b = (c1 - c0) * per_class
        inst = ctrl[c0:c1, None].expand(-1, per_class, -1, -1, -1).reshape(b, max_strokes, 4, 2)
        inst = inst + torch.randn(inst.shape, generator=g) * 0.1  # handwriting jitter
        angle = (torch.rand(b, generator=g) - 0.5) * math.radians(30)
        scale = 0.85 + torch.rand(b, 2, generator=g) * 0.25
        shear = (torch.rand(b, generator=g) - 0.5) * 0.3
        shift = (torch.rand(b, 2, generator=g) - 0.5) * 0.4
        cos, sin = angle.cos(), angle.sin()
        rot = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
        shr = torch.eye(2).repeat(b, 1, 1)
        shr[:, 0, 1] = shear
        affine = rot @ shr @ torch.diag_embed(scale)  # [b, 2, 2]
        pts = _bezier(inst, t)  # [b, strokes, T, 2]
        pts = torch.einsum("bij,bstj->bsti", affine, pts) + shift[:, None, None, :]
        mask = used[c0:c1, None].expand(-1, per_class, -1).reshape(b, max_strokes)
        # Unused strokes are moved far away so they never win the min-distance below.
        pts = torch.where(mask[:, :, None, None], pts, torch.full_like(pts, 100.0))
        dist = torch.cdist(grid[None].expand(b, -1, -1), pts.reshape(b, -1, 2)).amin(-1) * 11.0
        width = 0.9 + torch.rand(b, 1, generator=g) * 1.1  # stroke width in pixels
        ink = (width / 2 + 0.5 - dist).clamp(0, 1)  # [b, 784], anti-aliased edge
        out[c0:c1] = (ink * 255).round().to(torch.uint8).reshape(c1 - c0, per_class, 1, SIZE, SIZE)
    return out


def all_images(seed: int = 0) -> torch.Tensor:
    """The whole dataset, from the cache when it has been generated before."""
    name = f"glyphs-v{VERSION}-seed{seed}.pt"
    cached = load_cache(name)
    if cached is not None:
        return cached["images"]
    log.info("generating glyphs (seed %d), cached afterwards", seed)
    images = generate(seed)
    save_cache(name, {"images": images})
    return images


class Glyphs(Dataset):
    name = "glyphs"
    needs_root = False
    drawings = True
    summary = "Embedded handwriting-like symbols: 3200 classes x 20 drawings, 28x28, no download."
    how_to_get = "Always available: generated on first use in a few seconds."

    @classmethod
    def describe(cls, root: str | None) -> DatasetInfo:
        splits = {s: (hi - lo, PER_CLASS) for s, (lo, hi) in SPLIT_CLASSES.items()}
        return DatasetInfo(cls.name, cls.task, 1, SIZE, splits, ink=True)

    @classmethod
    def load(cls, root: str | None, split: str, image_size: int | None = None) -> Split:
        lo, hi = SPLIT_CLASSES[split]
        images = all_images()[lo:hi]  # [classes, 20, 1, 28, 28]
        images = resize(images, image_size)
        labels = torch.arange(hi - lo).repeat_interleave(PER_CLASS)
        names = [f"glyph{c:04d}" for c in range(lo, hi)]
        return Split(images.reshape(-1, *images.shape[2:]).contiguous(), labels, names)
