"""Bring-your-own task: classify query images given labelled support images, with a trained run.
Used by `python -m metalearn predict` (folders) and the dashboard (uploads)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from metalearn.data import DataError, Episode
from metalearn.data.images import decode, inside, list_images
from metalearn.engine.kinds import kind_of
from metalearn.engine.run import restore
from metalearn.store import Store

ImageSource = bytes | Path
QUERY_BATCH = 256  # query images decoded and scored at once (20,000 at once would be gigabytes)


def _read(items: list[tuple[str, ImageSource]], info, size: int) -> torch.Tensor:
    tensors = []
    for name, data in items:
        try:
            tensors.append(decode(data, info.channels, size, ink=info.ink))
        except DataError as err:
            raise DataError(f"{name}: not a readable image ({err})") from err
    x = torch.stack(tensors).float() / 255
    return (x - info.mean) / info.std


def classify(
    store: Store,
    run_id: str,
    support: dict[str, list[tuple[str, ImageSource]]],
    queries: list[tuple[str, ImageSource]],
) -> dict[str, Any]:
    """Returns {query name: {"class": name, "scores": {class: probability}}}.

    Args:
        support: class name -> [(file name, bytes or path)], at least two classes.
        queries: [(file name, bytes or path)].

    Raises:
        DataError: fewer than two classes, no queries, unreadable images, or a regression run.
    """
    support = {k: v for k, v in support.items() if v}
    if len(support) < 2:
        raise DataError(f"need at least 2 classes with support images, got {len(support)}")
    if not queries:
        raise DataError("no query images to classify")
    algo, cfg, device = restore(store, run_id)
    kind = kind_of(cfg)
    if kind.task != "classification":
        raise DataError(f"run {run_id} is a {kind.task} run; predict classifies images")
    info = kind.describe(cfg)
    size = cfg.image_size or info.image_size
    names = list(support)
    if algo.same_way and len(names) != cfg.n_way:
        raise DataError(
            f"run {run_id} ({cfg.algorithm}) has an output layer for exactly {cfg.n_way} classes; "
            f"give {cfg.n_way} support classes, not {len(names)}"
        )
    items = [item for n in names for item in support[n]]
    labels = torch.tensor([i for i, n in enumerate(names) for _ in support[n]])
    support_x = _read(items, info, size)
    out: dict[str, Any] = {}
    for start in range(0, len(queries), QUERY_BATCH):  # decoded and scored a batch at a time
        chunk = queries[start : start + QUERY_BATCH]
        episode = Episode(
            support_x,
            labels,
            _read(chunk, info, size),
            torch.zeros(len(chunk), dtype=torch.long),
            torch.arange(len(names)),
            len(names),
        ).to(device)
        with torch.no_grad():
            probs = algo.predict(episode).softmax(-1).cpu()
        for (q, _), p in zip(chunk, probs, strict=True):
            out[_unique(q, out)] = {
                "class": names[int(p.argmax())],
                "scores": {n: round(float(v), 4) for n, v in zip(names, p, strict=True)},
            }
    return out


def _unique(name: str, taken: dict[str, Any]) -> str:
    """`name`, or "name (2)", "name (3)", ... if an earlier query has it (one row per file)."""
    k, candidate = 1, name
    while candidate in taken:
        k += 1
        candidate = f"{name} ({k})"
    return candidate


def predict_folder(store: Store, run_id: str, support_dir: str, query_dir: str) -> dict[str, Any]:
    """`classify` over `<support>/<class>/*.png|jpg` and `<query>/*.png|jpg`."""
    support_root, query_root = Path(support_dir), Path(query_dir)
    for what, path in (("support", support_root), ("query", query_root)):
        if not path.is_dir():
            raise DataError(f"the {what} folder {path} is not a folder")
    classes = {
        d.name: list_images(d, support_root)
        for d in sorted(support_root.iterdir())
        if d.is_dir() and inside(d, support_root)
    }
    classes = {k: v for k, v in classes.items() if v}
    if len(classes) < 2:
        raise DataError(
            f"the support folder {support_root} needs at least 2 class sub-folders holding images "
            f"(found {len(classes)}); lay it out as <support>/<class name>/*.png|jpg"
        )
    queries = list_images(query_root)
    if not queries:
        raise DataError(f"the query folder {query_root} holds no images (.png, .jpg, ...)")
    support = {k: [(p.name, p) for p in v] for k, v in classes.items()}
    return classify(store, run_id, support, [(p.name, p) for p in queries])
