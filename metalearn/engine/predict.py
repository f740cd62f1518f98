"""Bring-your-own task: classify a folder of query images given a folder of labelled support
images, with a trained run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from metalearn.data import DATASETS, DataError, Episode
from metalearn.data.images import decode, list_images
from metalearn.engine.run import restore
from metalearn.store import Store


def _read(paths: list[Path], info, size: int) -> torch.Tensor:
    x = torch.stack([decode(p, info.channels, size, ink=info.ink) for p in paths]).float() / 255
    return (x - info.mean) / info.std


def predict_folder(store: Store, run_id: str, support_dir: str, query_dir: str) -> dict[str, Any]:
    """Returns {query file name: {"class": name, "scores": {class: probability}}}.

    Raises:
        DataError: missing folders, no images, fewer than two classes, unreadable images.
    """
    support_root, query_root = Path(support_dir), Path(query_dir)
    for label, path in (("--support", support_root), ("--query", query_root)):
        if not path.is_dir():
            raise DataError(f"{label} {path} is not a folder")
    classes = {d.name: list_images(d) for d in sorted(support_root.iterdir()) if d.is_dir()}
    classes = {k: v for k, v in classes.items() if v}
    if len(classes) < 2:
        raise DataError(
            f"--support {support_root} needs at least 2 class sub-folders holding images "
            f"(found {len(classes)}); lay it out as <support>/<class name>/*.png|jpg"
        )
    queries = list_images(query_root)
    if not queries:
        raise DataError(f"--query {query_root} holds no images (.png, .jpg, ...)")
    algo, cfg, device = restore(store, run_id)
    info = DATASETS[cfg.dataset].describe(cfg.data_root)
    if info.task != "classification":
        raise DataError(f"run {run_id} is a {info.task} run; predict classifies images")
    size = cfg.image_size or info.image_size
    names = list(classes)
    support_paths = [p for n in names for p in classes[n]]
    labels = torch.tensor([i for i, n in enumerate(names) for _ in classes[n]])
    episode = Episode(
        _read(support_paths, info, size),
        labels,
        _read(queries, info, size),
        torch.zeros(len(queries), dtype=torch.long),
        torch.arange(len(names)),
        len(names),
    ).to(device)
    with torch.no_grad():
        probs = algo.predict(episode).softmax(-1).cpu()
    return {
        q.name: {
            "class": names[int(p.argmax())],
            "scores": {n: round(float(v), 4) for n, v in zip(names, p, strict=True)},
        }
        for q, p in zip(queries, probs, strict=True)
    }
