"""Writers of small datasets in the real on-disk formats, for loader tests."""

from __future__ import annotations

import csv
import pickle
import zipfile
from io import BytesIO
from pathlib import Path

import numpy as np
from PIL import Image


def pattern(cls: int, i: int, size: int = 32, rgb: bool = True) -> np.ndarray:
    """A learnable class pattern (colour and stripe frequency follow the class) plus noise."""
    rng = np.random.default_rng(cls * 1000 + i)
    yy, xx = np.mgrid[0:size, 0:size]
    stripes = np.sin(xx * (0.2 + 0.15 * (cls % 5)) + yy * 0.1 * (cls // 5) + rng.uniform(0, 6))
    base = (stripes * 60 + 128 + rng.normal(0, 20, (size, size))).clip(0, 255)
    if not rgb:
        return base.astype(np.uint8)
    tint = np.array([(cls * 53) % 256, (cls * 97) % 256, (cls * 151) % 256]) / 255.0
    return (base[..., None] * (0.5 + tint)).clip(0, 255).astype(np.uint8)


def png_bytes(arr: np.ndarray, mode: str | None = None) -> bytes:
    buf = BytesIO()
    img = Image.fromarray(arr)
    if mode:
        img = img.convert(mode)
    img.save(buf, format="PNG")
    return buf.getvalue()


def write_omniglot(root: Path, alphabets: dict[str, dict[str, int]], as_zip: bool) -> None:
    """<root>/omniglot-py/images_{background,evaluation}[.zip] with 105x105 1-bit PNGs.

    alphabets: part -> {alphabet name: number of characters}; 20 drawers each.
    """
    base = root / "omniglot-py"
    base.mkdir(parents=True, exist_ok=True)
    char_id = 1
    for part, alphas in alphabets.items():
        files: dict[str, bytes] = {}
        for alpha, n_chars in alphas.items():
            for c in range(1, n_chars + 1):
                for d in range(1, 21):
                    img = np.full((105, 105), 255, np.uint8)
                    rng = np.random.default_rng(char_id * 100 + d)
                    y0, x0 = 20 + char_id % 30 + rng.integers(0, 5), 20 + rng.integers(0, 5)
                    img[y0 : y0 + 30, x0 : x0 + 8 + char_id % 40] = 0  # black ink
                    name = f"{part}/{alpha}/character{c:02d}/{char_id:04d}_{d:02d}.png"
                    files[name] = png_bytes(img, "1")
                char_id += 1
        if as_zip:
            with zipfile.ZipFile(base / f"{part}.zip", "w") as zf:
                for name, data in files.items():
                    zf.writestr(name, data)
        else:
            for name, data in files.items():
                (base / name).parent.mkdir(parents=True, exist_ok=True)
                (base / name).write_bytes(data)


def _cifar_rows(labels: list[int]) -> np.ndarray:
    return np.stack([pattern(c, i).transpose(2, 0, 1).reshape(-1) for i, c in enumerate(labels)])


def write_cifar10(root: Path, per_class_train: int = 20, per_class_test: int = 10) -> None:
    """<root>/cifar-10-batches-py in torchvision's format (pickled dicts, uint8 rows of 3072)."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    names = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": names, "num_cases_per_batch": 0, "num_vis": 3072}, f)
    train = [c for c in range(10) for _ in range(per_class_train)]
    np.random.default_rng(0).shuffle(train)
    for b in range(5):
        part = train[b::5]
        with open(folder / f"data_batch_{b + 1}", "wb") as f:
            pickle.dump(
                {
                    "batch_label": f"training batch {b + 1} of 5",
                    "labels": part,
                    "data": _cifar_rows(part),
                    "filenames": [f"{i}.png" for i in part],
                },
                f,
            )
    test = [c for c in range(10) for _ in range(per_class_test)]
    with open(folder / "test_batch", "wb") as f:
        rows = np.stack(
            [pattern(c, 10_000 + i).transpose(2, 0, 1).reshape(-1) for i, c in enumerate(test)]
        )
        pickle.dump(
            {
                "batch_label": "testing batch 1 of 1",
                "labels": test,
                "data": rows,
                "filenames": [f"{i}.png" for i in test],
            },
            f,
        )


CIFAR10_NAMES = "airplane automobile bird cat deer dog frog horse ship truck".split()


def write_cifar10_images(
    root: Path, per_class_train: int = 6, per_class_test: int = 3, zipped: bool = True
) -> Path:
    """CIFAR-10 as JPEG files, class folders in `cifar10-images/{train,test}/<class>/NNNN.jpg`,
    inside `<root>/cifar10-images/cifar10-images.zip` (as the shared copy) or extracted under
    `<root>/cifar10-images/`. Returns the zip or the folder."""
    files = {}
    for part, count, offset in (("train", per_class_train, 0), ("test", per_class_test, 5000)):
        for c, name in enumerate(CIFAR10_NAMES):
            for i in range(count):
                buf = BytesIO()
                Image.fromarray(pattern(c, offset + i)).save(buf, format="JPEG", quality=95)
                files[f"cifar10-images/{part}/{name}/{i:04d}.jpg"] = buf.getvalue()
    return _zipped_or_extracted(root, "cifar10-images", files, zipped)


def _zipped_or_extracted(root: Path, name: str, files: dict[str, bytes], zipped: bool) -> Path:
    """`files` (paths under `root`, starting `<name>/`) in `<root>/<name>/<name>.zip`, or
    written out under `root`. Returns the zip or the folder `<root>/<name>`."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    if zipped:
        with zipfile.ZipFile(folder / f"{name}.zip", "w") as z:
            for member, data in files.items():
                z.writestr(member, data)
        return folder / f"{name}.zip"
    for member, data in files.items():
        (root / member).parent.mkdir(parents=True, exist_ok=True)
        (root / member).write_bytes(data)
    return folder


def write_cifar100(root: Path, names: list[str], per_class: int = 6) -> None:
    """<root>/cifar-100-python/{train,test,meta} in torchvision's format."""
    folder = root / "cifar-100-python"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "meta", "wb") as f:
        pickle.dump({"fine_label_names": names, "coarse_label_names": ["x"] * 20}, f)
    for part, n in (("train", per_class), ("test", 2)):
        labels = [c for c in range(len(names)) for _ in range(n)]
        with open(folder / part, "wb") as f:
            pickle.dump(
                {
                    "fine_labels": labels,
                    "coarse_labels": [0] * len(labels),
                    "data": _cifar_rows(labels),
                },
                f,
            )


def write_folder(root: Path, n_classes: int, per_class: int, suffix: str = ".png") -> None:
    """<root>/<class>/*.png|jpg."""
    for c in range(n_classes):
        d = root / f"class_{c:02d}"
        d.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.fromarray(pattern(c, i, 40)).save(d / f"img{i}{suffix}")


def write_mini_imagenet(root: Path, splits: dict[str, int], per_class: int) -> None:
    """Ravi & Larochelle layout: <root>/images/*.jpg and <root>/{train,val,test}.csv."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    c = 0
    for split, n_classes in splits.items():
        with open(root / f"{split}.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["filename", "label"])
            for _ in range(n_classes):
                label = f"n{c:08d}"
                for i in range(per_class):
                    name = f"{label}{i:08d}.jpg"
                    Image.fromarray(pattern(c, i, 90)).save(root / "images" / name)
                    w.writerow([name, label])
                c += 1


def write_miniimagenet_images(
    root: Path,
    splits: dict[str, int],
    per_class: int,
    zipped: bool = True,
    names: bool = True,
    side: int = 84,
    wnids: list[str] | None = None,
) -> Path:
    """miniImageNet as the shared copy lays it out: `miniimagenet-images/{train,val,test}/<wnid>/
    <wnid><8 digits>.jpg` and the split CSVs under `splits/ravi/`, inside
    `<root>/miniimagenet-images/miniimagenet-images.zip` (or extracted there), with
    `class_names.tsv` beside it. Class c of the whole set is WordNet id n{c:08d}, named
    "thing_<c>", unless `wnids` names the classes in order. Returns the zip or the folder."""
    files: dict[str, bytes] = {}
    rows = ["split\twnid\tname"]
    c = 0
    for split, n_classes in splits.items():
        lines = ["filename,label"]
        for _ in range(n_classes):
            wnid = wnids[c] if wnids else f"n{c:08d}"
            rows.append(f"{split}\t{wnid}\tthing_{c}")
            for i in range(per_class):
                buf = BytesIO()
                Image.fromarray(pattern(c, i, side)).save(buf, format="JPEG", quality=95)
                files[f"miniimagenet-images/{split}/{wnid}/{wnid}{i:08d}.jpg"] = buf.getvalue()
                lines.append(f"{wnid}{i:08d}.jpg,{wnid}")
            c += 1
        files[f"miniimagenet-images/splits/ravi/{split}.csv"] = "\n".join(lines).encode()
    out = _zipped_or_extracted(root, "miniimagenet-images", files, zipped)
    if names:
        (root / "miniimagenet-images" / "class_names.tsv").write_text("\n".join(rows) + "\n")
    return out


INTENTS = {
    "book_flight": ("flight", "plane ticket", "airline seat", "trip to paris"),
    "check_balance": ("balance", "money in my account", "savings total", "bank funds"),
    "play_music": ("song", "music", "playlist", "some jazz"),
    "set_alarm": ("alarm", "wake up call", "timer for six", "morning alarm"),
    "weather": ("weather", "forecast", "rain today", "temperature outside"),
    "order_pizza": ("pizza", "pepperoni pie", "food delivery", "a large margherita"),
    "translate": ("translation", "word in spanish", "phrase in french", "meaning in german"),
    "tell_joke": ("joke", "something funny", "a pun", "a laugh"),
    "reset_pin": ("pin", "card code", "password for my card", "new pin number"),
}
OPENERS = ("please", "can you", "i want to", "could you", "i need to", "help me")
VERBS = ("find", "get", "show", "check", "sort out", "look up")


def utterances(intent: str, n: int) -> list[str]:
    """`n` distinct made-up utterances of one intent (its own topic words, shared openers)."""
    topics = INTENTS[intent]
    return [
        f"{OPENERS[i % 6]} {VERBS[(i // 6) % 6]} the {topics[i % len(topics)]} {i}"
        for i in range(n)
    ]


def write_clinc150(root: Path, per_intent: int = 12, oos: int = 3) -> Path:
    """<root>/clinc150/data_full.json in CLINC150's layout: in-scope [utterance, intent] pairs
    split train / val / test within each intent, plus out-of-scope rows that loaders skip."""
    import json

    data: dict[str, list] = {p: [] for p in ("train", "val", "test", "oos_train", "oos_val")}
    for intent in INTENTS:
        rows = [[t, intent] for t in utterances(intent, per_intent)]
        third = per_intent // 3
        data["train"] += rows[: per_intent - 2 * third]
        data["val"] += rows[per_intent - 2 * third : per_intent - third]
        data["test"] += rows[per_intent - third :]
    data["oos_train"] = [[f"what is the meaning of life {i}", "oos"] for i in range(oos)]
    data["oos_val"] = [[f"tell me about volcanoes {i}", "oos"] for i in range(oos)]
    folder = root / "clinc150"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "data_full.json"
    path.write_text(json.dumps(data))
    return path
