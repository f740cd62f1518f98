"""CLINC150 (Larson et al., EMNLP 2019, "An Evaluation Dataset for Intent Classification and
Out-of-Scope Prediction"): 150 intents of a task-oriented assistant, 150 English utterances
each, as `data_full.json` (found as `<data root>/clinc150/data_full.json` or directly in the
data root).

The split, fixed and documented: the 150 intent names, sorted, are shuffled by Python's
`random.Random(0)` and cut into thirds in that order (50 train, 50 validation, 50 test intents;
a smaller file of n intents: n - 2(n // 3) / n // 3 / n // 3). An intent's train, validation and
test utterances of the original file are pooled (150 per intent), since the classes themselves
are split; out-of-scope utterances ("oos") are left out.
"""

from __future__ import annotations

import functools
import json
import random
from pathlib import Path

import torch

from metalearn.data.base import DataError, data_root
from metalearn.data.text import TextDataset, Utterances, check_rows

FILE = "data_full.json"
PARTS = ("train", "val", "test")  # the in-scope parts of the file; oos_* are left out
MAX_BYTES = 64 * 2**20


def find(root: str | None) -> Path:
    """The data file under a data root.

    Raises:
        DataError: no such file.
    """
    base = data_root(root)
    for path in (base / "clinc150" / FILE, base / FILE):
        if path.is_file():
            return path
    raise DataError(
        f"clinc150: no {FILE} in the data root or in its clinc150/ folder; {Clinc150.how_to_get}"
    )


def split_intents(names: list[str], seed: int = 0) -> dict[str, list[str]]:
    """The fixed class split: sorted names shuffled by `random.Random(seed)`, cut in thirds."""
    order = sorted(names)
    random.Random(seed).shuffle(order)
    third = len(order) // 3
    n_train = len(order) - 2 * third
    return {
        "train": order[:n_train],
        "val": order[n_train : n_train + third],
        "test": order[n_train + third :],
    }


@functools.lru_cache(maxsize=4)
def _read(path: Path, mtime: float, size: int) -> Utterances:
    if size > MAX_BYTES:
        raise DataError(f"clinc150: {path.name} is {size} bytes; at most {MAX_BYTES} are read")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(f"clinc150: {path.name} is not valid JSON ({err})") from None
    if not isinstance(data, dict) or not all(p in data for p in PARTS):
        raise DataError(f"clinc150: {path.name} must be an object with lists {', '.join(PARTS)}")
    rows = [r for p in PARTS for r in check_rows(data[p], f"clinc150: {path.name}: {p}")]
    names = sorted({label for _, label in rows})
    if len(names) < 3:
        raise DataError(f"clinc150: {path.name} holds {len(names)} intents; at least 3 needed")
    index = {n: i for i, n in enumerate(names)}
    by_split = split_intents(names)
    return Utterances(
        texts=[t for t, _ in rows],
        labels=torch.tensor([index[label] for _, label in rows], dtype=torch.long),
        class_names=names,
        splits={s: [index[n] for n in by_split[s]] for s in PARTS},
    )


class Clinc150(TextDataset):
    """CLINC150 intents as few-shot text classification (see the module docstring)."""

    name = "clinc150"
    summary = (
        "CLINC150 (Larson et al. 2019): 150 intents of a voice assistant, 150 English "
        "utterances each; intents split 50 / 50 / 50."
    )
    how_to_get = (
        "Put CLINC150's `data_full.json` (github.com/clinc/oos-eval, `data/`) in a `clinc150/` "
        "folder of the data root."
    )

    @classmethod
    def utterances(cls, root: str | None) -> Utterances:
        path = find(root)
        stat = path.stat()
        return _read(path.resolve(), stat.st_mtime, stat.st_size)
