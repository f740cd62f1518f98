"""Bring-your-own task: classify query images (or utterances) given labelled support examples,
with a trained run, or with no run at all: `PRETRAINED_MODEL`, the pretrained image network's
nearest prototype (`metalearn.engine.own_task`). Used by `python -m metalearn predict` (folders
of images, files of utterances) and the dashboard (uploads, typed sentences)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import torch

from metalearn.data import DataError, Episode
from metalearn.data.images import decode, inside, list_images
from metalearn.engine.kinds import kind_of
from metalearn.engine.own_task import (
    PRETRAINED_MODEL,
    ImageSource,
    PretrainedPrototypes,
    read_task,
)
from metalearn.engine.run import restore
from metalearn.store import Store

QUERY_BATCH = 256  # query images decoded and scored at once (20,000 at once would be gigabytes)


@functools.cache
def pretrained_model() -> PretrainedPrototypes:
    """The pretrained network as it was trained (never fine-tuned: `own_task` tunes copies),
    built once per process."""
    return PretrainedPrototypes()


def _read(items: list[tuple[str, ImageSource]], info, size: int) -> torch.Tensor:
    tensors = []
    for name, data in items:
        try:
            tensors.append(decode(data, info.channels, size, ink=info.ink))
        except DataError as err:
            raise DataError(f"{name}: not a readable image ({err})") from err
    x = torch.stack(tensors).float() / 255
    return (x - info.mean) / info.std


def _inputs(items: list[tuple[str, ImageSource]], cfg, info, size: int) -> torch.Tensor:
    """What the run's network reads: images, or utterances in its encoder's form."""
    if info.modality != "text":
        return _read(items, info, size)
    from metalearn.models.text import MAX_TOKENS, encode, input_form, tokenize, tokenizer

    texts = [str(data) for _, data in items]
    for (name, _), ids in zip(items, tokenizer()(texts)["input_ids"], strict=True):
        if len(ids) > MAX_TOKENS:
            raise DataError(
                f"{name}: {len(ids)} word pieces; the encoder reads at most {MAX_TOKENS}, so "
                "shorten it"
            )
    if input_form(cfg.hyper) == "features":
        return encode(texts)
    return tokenize(texts, fixed_width=True)  # support and queries of one width


def _support(
    support: dict[str, list[tuple[str, ImageSource]]], cfg, info, size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The support examples as the run reads them, class by class, and their labels [S]
    (the index of each one's class in `support`'s order)."""
    items = [item for examples in support.values() for item in examples]
    labels = torch.tensor([i for i, examples in enumerate(support.values()) for _ in examples])
    return _inputs(items, cfg, info, size), labels


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
        DataError: fewer than two classes, no queries, unreadable images, too long utterances,
            or a run that does not classify.
    """
    support = {k: v for k, v in support.items() if v}
    if len(support) < 2:
        raise DataError(f"need at least 2 classes with support images, got {len(support)}")
    if not queries:
        raise DataError("no query images to classify")
    if run_id == PRETRAINED_MODEL:  # no trained run: the pretrained network's prototypes
        task = read_task(support, queries)
        out: dict[str, Any] = {}
        add_rows(out, task.query_names, task.names, pretrained_model().probabilities(task))
        return out
    algo, cfg, device = restore(store, run_id)
    kind = kind_of(cfg)
    if kind.task != "classification":
        raise DataError(f"run {run_id} is a {kind.task} run; predict classifies examples")
    info = kind.describe(cfg)
    size = cfg.image_size or info.image_size
    names = list(support)
    if algo.same_way and len(names) != cfg.n_way:
        raise DataError(
            f"run {run_id} ({cfg.algorithm}) has an output layer for exactly {cfg.n_way} classes; "
            f"give {cfg.n_way} support classes, not {len(names)}"
        )
    support_x, labels = _support(support, cfg, info, size)
    out = {}
    for start in range(0, len(queries), QUERY_BATCH):  # decoded and scored a batch at a time
        chunk = queries[start : start + QUERY_BATCH]
        episode = Episode(
            support_x,
            labels,
            _inputs(chunk, cfg, info, size),
            torch.zeros(len(chunk), dtype=torch.long),
            torch.arange(len(names)),
            len(names),
        ).to(device)
        with torch.no_grad():
            probs = algo.predict(episode).softmax(-1).cpu()
        add_rows(out, [q for q, _ in chunk], names, probs)
    return out


def add_rows(out: dict[str, Any], queries: list[str], names: list[str], probs: torch.Tensor):
    """One row per query into `out`: {"class": the likeliest of `names`, "scores": {class:
    probability}}; a query named like an earlier one becomes "name (2)", ... (probs [Q, N])."""
    for q, p in zip(queries, probs, strict=True):
        out[_unique(q, out)] = {
            "class": names[int(p.argmax())],
            "scores": {n: round(float(v), 4) for n, v in zip(names, p, strict=True)},
        }


def drawing_misfit(run: dict[str, Any], n_way: int) -> str | None:
    """Why a stored run cannot classify pen drawings among `n_way` classes (None: it can).

    Args:
        run: a run as `Store.list_runs` gives it (`id`, `status`, `config`).
        n_way: how many classes each question has.
    """
    from metalearn import catalog

    cfg = run["config"]
    if run["status"] != "completed":
        return f"run {run['id']} is {run['status']}; only a completed run has a trained model"
    dataset = catalog.datasets().get(cfg.get("dataset"))
    if dataset is None or not dataset.drawings:
        return f"run {run['id']} was not trained on drawings ({cfg.get('dataset')})"
    algo = catalog.algorithms().get(cfg["algorithm"])
    if algo is not None and algo.same_way and cfg.get("n_way") != n_way:
        return (
            f"run {run['id']} ({cfg['algorithm']}) has an output layer for {cfg.get('n_way')} "
            f"classes, not {n_way}; train it with {n_way} classes per episode"
        )
    return None


def features(
    store: Store,
    run_id: str,
    support: dict[str, list[tuple[str, ImageSource]]],
    queries: list[tuple[str, ImageSource]],
) -> dict[str, Any]:
    """The run's features of support and query examples, read as `classify` reads them.

    Returns:
        {"support": float [S, D], "query": float [Q, D], "support_labels": int [S]} (numpy),
        support in the order of `support`'s classes.

    Raises:
        DataError: as `classify`, or a run whose method has no feature space (MAML's family
            adapts weights instead).
    """
    if run_id == PRETRAINED_MODEL:
        return pretrained_model().embedding(read_task(support, queries))
    algo, cfg, device = restore(store, run_id)
    info = kind_of(cfg).describe(cfg)
    size = cfg.image_size or info.image_size
    support_x, labels = _support({k: v for k, v in support.items() if v}, cfg, info, size)
    try:
        with torch.no_grad():
            z_support = algo.embed(support_x.to(device)).cpu()
            z_query = algo.embed(_inputs(queries, cfg, info, size).to(device)).cpu()
    except NotImplementedError:
        raise DataError(
            f"{cfg.algorithm} has no feature space to show; it adapts its weights instead"
        ) from None
    return {
        "support": z_support.numpy(),
        "query": z_query.numpy(),
        "support_labels": labels.numpy(),
    }


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


def predict_text_files(
    store: Store, run_id: str, support_file: str, query_file: str
) -> dict[str, Any]:
    """`classify` over files of utterances (`metalearn.data.text.read_rows`): support rows
    (text, label), query rows (text) or (text, label). A query's label, where given, must be a
    support class; it is kept as "true" beside the prediction."""
    from metalearn.data.text import read_rows

    support: dict[str, list[tuple[str, ImageSource]]] = {}
    for i, (text, label) in enumerate(read_rows(support_file, need_labels=True), start=1):
        support.setdefault(label.strip(), []).append((f"support row {i}", text))
    rows = read_rows(query_file, need_labels=False)
    for i, (_, label) in enumerate(rows, start=1):
        if label and label.strip() not in support:
            raise DataError(
                f"{Path(query_file).name}, row {i}: label {label!r} is not a support class; "
                f"the support classes: {', '.join(sorted(support))}"
            )
    out = classify(store, run_id, support, [(text, text) for text, _ in rows])
    for row, (_, label) in zip(out.values(), rows, strict=True):
        if label:
            row["true"] = label.strip()
    return out
