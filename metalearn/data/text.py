"""Text datasets: labelled utterances, split by class like the image datasets, held as tensors in
the form the run's encoder reads (`metalearn.models.text.input_form`): cached sentence features
of the frozen pretrained encoder, or token ids with their attention masks.

Episodes of text are sampled by the same `EpisodeSampler` as images (it only indexes the split's
tensor), so every algorithm that runs on features runs on text with no special case.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import torch

from metalearn.data.base import (
    DataError,
    Dataset,
    DatasetInfo,
    Split,
    class_rows,
    load_cache,
    save_cache,
)

if TYPE_CHECKING:
    from metalearn.config import RunConfig

log = logging.getLogger(__name__)
FORMS = ("tokens", "features")


@dataclass
class TextSplit(Split):
    """A class split of utterances.

    Attributes:
        images: what the encoder reads, one row per utterance: float [N, 384] sentence features
            ("features") or int64 [N, 2, L] token ids and attention masks ("tokens").
        texts: the utterances themselves, in the same order.
    """

    texts: list[str] = field(default_factory=list)

    def to_float(self, images: torch.Tensor, augment=None) -> torch.Tensor:
        """Rows as they are: features are already float, token ids must stay integers (no
        augmentation: validation refuses it for text)."""
        return images


@dataclass
class Utterances:
    """A text dataset pooled: every utterance, its class, the class names, the class split."""

    texts: list[str]
    labels: torch.Tensor  # int64 [N]
    class_names: list[str]
    splits: dict[str, list[int]]  # split -> class indices


class TextDataset(Dataset):
    """Base of the text datasets: subclasses implement `utterances`."""

    modality: ClassVar[str] = "text"
    standard_split: ClassVar[bool] = False
    # Where a user chose none: the pretrained encoder (frozen) reads the utterances.
    hyper_defaults: ClassVar[dict[str, str]] = {"backbone": "minilm"}

    @classmethod
    def utterances(cls, root: str | None) -> Utterances:
        raise NotImplementedError

    @classmethod
    def describe(cls, root: str | None) -> DatasetInfo:
        data = cls.utterances(root)
        counts = torch.bincount(data.labels, minlength=len(data.class_names))
        splits = {
            s: (len(k), int(counts[torch.tensor(k, dtype=torch.long)].min()) if k else 0)
            for s, k in data.splits.items()
        }
        return DatasetInfo(cls.name, cls.task, 0, 0, splits, modality="text")

    @classmethod
    def load(
        cls,
        root: str | None,
        split: str,
        image_size: int | None = None,
        form: str = "tokens",
        progress=None,
    ) -> TextSplit:
        """One class split, its utterances as `form` ("tokens" or "features"; the first
        encoding of a dataset calls `progress(done, total)` as it goes)."""
        if form not in FORMS:
            raise ValueError(f"form must be one of {FORMS}, got {form!r}")
        data = cls.utterances(root)
        keep = data.splits[split]
        rows, relabelled = class_rows(data.labels, len(data.class_names), keep)
        texts = [data.texts[i] for i in rows.tolist()]
        if form == "features":
            inputs = cls.features(data, progress)[rows]
        else:
            from metalearn.models.text import tokenize

            inputs = tokenize(texts)
        names = [data.class_names[i] for i in keep]
        return TextSplit(inputs, relabelled, names, texts=texts)

    @classmethod
    def load_for(cls, cfg: RunConfig, split: str, progress=None) -> TextSplit:
        from metalearn.models.text import input_form

        return cls.load(cfg.data_root, split, form=input_form(cfg.hyper), progress=progress)

    @classmethod
    def features(cls, data: Utterances, progress=None) -> torch.Tensor:
        """The frozen encoder's features of every utterance, float [N, 384]: computed once (on
        a GPU if there is one; `progress(done, total)` as batches finish) and cached on disk
        under a digest of the texts, so later runs on the same dataset start at once."""
        from metalearn.models.text import MINILM, encode

        digest = hashlib.sha256("\n".join(data.texts).encode()).hexdigest()[:16]
        name = f"{cls.name}-{MINILM}-{digest}.pt"
        cached = load_cache(name)
        if cached is not None and cached["features"].shape[0] == len(data.texts):
            return cached["features"]
        device = "cuda" if torch.cuda.is_available() else "cpu"
        start = time.perf_counter()
        features = encode(data.texts, device, progress=progress)
        seconds = time.perf_counter() - start
        log.info(
            "%s: encoded %d utterances with %s in %.1f s (cached as %s)",
            cls.name,
            len(data.texts),
            MINILM,
            seconds,
            name,
        )
        save_cache(name, {"features": features, "seconds": seconds})
        return features


def check_rows(rows: object, where: str) -> list[tuple[str, str]]:
    """[(text, label), ...] from a JSON list of [text, label] pairs.

    Raises:
        DataError: naming `where` and what is wrong.
    """
    if not isinstance(rows, list):
        raise DataError(f"{where} must be a list of [utterance, intent] pairs")
    out = []
    for i, row in enumerate(rows):
        ok = isinstance(row, (list, tuple)) and len(row) == 2
        if not ok or not all(isinstance(v, str) for v in row):
            raise DataError(f"{where}[{i}] must be a pair [utterance, intent] of strings")
        if not row[0].strip():
            raise DataError(f"{where}[{i}] is an empty utterance")
        out.append((row[0], row[1]))
    return out


MAX_CHARS = 1000  # a longer "utterance" is refused, not silently cut
ROWS_LIMIT = 100_000


def read_rows(path: str | Path, need_labels: bool) -> list[tuple[str, str | None]]:
    """Labelled (or, for queries, possibly unlabelled) utterances from a user's file: a CSV with
    a header naming a `text` column and a `label` column, or JSON: a list of [text, label]
    pairs or of {"text": ..., "label": ...} objects (queries may give texts alone).

    Raises:
        DataError: naming the file, the row and what is wrong.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path.name}: no such file; give a .csv or .json file of utterances")
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"{path.name}: cannot read it as UTF-8 text ({err})") from None
    if path.suffix.lower() == ".json":
        rows = _json_rows(raw, path.name)
    elif path.suffix.lower() == ".csv":
        rows = _csv_rows(raw, path.name)
    else:
        raise DataError(f"{path.name}: give a .csv or a .json file, not {path.suffix or 'none'}")
    if not rows:
        raise DataError(f"{path.name} holds no utterances")
    if len(rows) > ROWS_LIMIT:
        raise DataError(f"{path.name} holds {len(rows)} rows; at most {ROWS_LIMIT} are read")
    for i, (text, label) in enumerate(rows, start=1):
        if not text.strip():
            raise DataError(f"{path.name}, row {i}: the utterance is empty")
        if len(text) > MAX_CHARS:
            raise DataError(
                f"{path.name}, row {i}: the utterance has {len(text)} characters; at most "
                f"{MAX_CHARS} are accepted"
            )
        if need_labels and not (label or "").strip():
            raise DataError(f"{path.name}, row {i}: a support utterance needs its label")
    return rows


def _json_rows(raw: str, name: str) -> list[tuple[str, str | None]]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as err:
        raise DataError(f"{name}: not valid JSON ({err})") from None
    if not isinstance(data, list):
        raise DataError(f"{name}: must be a JSON list of [text, label] pairs or objects")
    rows = []
    for i, item in enumerate(data, start=1):
        if isinstance(item, dict):
            text, label = item.get("text"), item.get("label")
        elif isinstance(item, list) and 1 <= len(item) <= 2:
            text, label = item[0], item[1] if len(item) == 2 else None
        elif isinstance(item, str):
            text, label = item, None
        else:
            raise DataError(f"{name}, row {i}: expected [text, label] or {{text, label}}")
        if not isinstance(text, str) or not isinstance(label, (str, type(None))):
            raise DataError(f"{name}, row {i}: text and label must be strings")
        rows.append((text, label))
    return rows


def _csv_rows(raw: str, name: str) -> list[tuple[str, str | None]]:
    reader = csv.DictReader(io.StringIO(raw))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if "text" not in fields:
        raise DataError(f"{name}: the first line must name the columns, with `text` and `label`")
    reader.fieldnames = fields
    rows = []
    for row in reader:
        label = row.get("label")
        rows.append((row.get("text") or "", label.strip() if label else None))
    return rows
