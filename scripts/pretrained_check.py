"""The pretrained image backbone on real miniImageNet: do its weights load right, and what does
the frozen network give few-shot (issue: fine-tuned pretrained models for images).

1. ImageNet top-1 of the pretrained classifier on the first `--per-class` photos of each of
   miniImageNet's 20 test classes (84 px photos upsampled to `--input-size`; a class's ImageNet
   label is its WordNet id): the product's network (timm with the mapped weights) with the
   TensorFlow Lite preprocessing, the same with ImageNet's usual mean / deviation instead, and
   the plain reference (the weights' own package, `efficientnet-lite-pytorch`) with the
   product's preprocessing, and with its own (bilinear upsampling, (x - 0.5) / 0.5: nothing from
   the project).
2. SimpleShot's rule on the frozen features (no training: nearest centroid of centred,
   L2-normalised features, centred on the training classes' mean) through the CLI as a user runs
   it, 5-way 1-shot and 5-shot on `--episodes` seeded test episodes; the first run computes and
   caches the features of the training and test photos.

    python scripts/pretrained_check.py --data-root ../shared/data

Appends to docs/results/pretrained_check.jsonl (one line per measurement), prints them, and
writes docs/results/pretrained_check.md from the latest of each.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from metalearn.data import DATASETS  # noqa: E402
from metalearn.models.pretrained import (  # noqa: E402
    imagenet_wnids,
    lite0_network,
    prepare,
    weights_path,
)

OUT = REPO / "docs" / "results" / "pretrained_check.jsonl"
IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def top1(root: str, per_class: int, size: int) -> list[dict]:
    split = DATASETS["miniimagenet"].load(root, "test")
    wnids = DATASETS["miniimagenet"].class_keys(root, "test")
    index = {w: i for i, w in enumerate(imagenet_wnids())}
    rows = torch.cat([(split.labels == c).nonzero().squeeze(1)[:per_class] for c in range(20)])
    images = split.images[rows].float() / 255.0
    truth = torch.tensor([index[wnids[c]] for c in split.labels[rows].tolist()])

    from efficientnet_lite_pytorch import EfficientNet

    reference = EfficientNet.from_name("efficientnet-lite0", image_size=size).eval()
    reference.load_state_dict(torch.load(weights_path(), map_location="cpu", weights_only=True))
    ours = lite0_network(classifier=True).eval()

    def lite(x):
        return prepare(x, size)

    def reference_prep(x):  # the reference: bilinear upsampling, (x - 0.5) / 0.5
        x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear")
        return (x - 0.5) / 0.5

    def imagenet_norm(x):
        x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear")
        return (x - IMAGENET_MEAN) / IMAGENET_STD

    out = []
    for name, net, prep in (
        ("product, TensorFlow Lite preprocessing", ours, lite),
        ("product, ImageNet mean/std preprocessing", ours, imagenet_norm),
        ("reference package, TensorFlow Lite preprocessing", reference, lite),
        ("reference package, its own (x - 0.5) / 0.5 preprocessing", reference, reference_prep),
    ):
        started, hits = time.perf_counter(), 0
        with torch.inference_mode():
            for chunk, want in zip(images.split(100), truth.split(100), strict=True):
                hits += int((net(prep(chunk)).argmax(1) == want).sum())
        out.append(
            {
                "check": "imagenet_top1",
                "network": name,
                "top1": hits / len(truth),
                "images": len(truth),
                "input_size": size,
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
        print(json.dumps(out[-1]), flush=True)
    return out


def cli(*args: str, home: Path) -> dict:
    cmd = [sys.executable, "-m", "metalearn", "--home", str(home), *args, "--json"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def frozen_rule(root: str, size: int, episodes: int, home: Path) -> list[dict]:
    started = time.perf_counter()
    one = cli(
        "train", "--algorithm", "simpleshot", "--dataset", "miniimagenet", "--data-root", root,
        "--backbone", "efficientnet_lite0", "--finetune-encoder", "none",
        "--input-size", str(size), "--episodes", "0", "--n-way", "5", "--n-shot", "1",
        "--n-query", "15", "--eval-episodes", str(episodes), "--val-every", "0",
        "--no-progress", home=home,
    )  # fmt: skip
    first_seconds = time.perf_counter() - started
    five = cli(
        "eval", "--run", one["run_id"], "--n-shot", "5", "--eval-episodes", str(episodes), home=home
    )
    out = []
    for shot, r, seconds in ((1, one, first_seconds), (5, five, None)):
        out.append(
            {
                "check": "frozen_simpleshot_rule",
                "n_shot": shot,
                "test_accuracy": r["test_accuracy"],
                "test_ci95": r["test_ci95"],
                "eval_episodes": r.get("eval_episodes", episodes),
                "input_size": size,
                "pretrained_on": one.get("pretrained_on"),
                "test_classes_seen_in_pretraining": one.get("test_classes_seen_in_pretraining"),
                "wall_seconds_with_feature_cache_fill": round(seconds, 1) if seconds else None,
                "run_id": one["run_id"],
            }
        )
        print(json.dumps(out[-1]), flush=True)
    return out


def conv4_rows(rows: list[dict]) -> list[str]:
    """The same rule on a Conv4 that saw only the 64 training classes
    (`scripts/conv4_simpleshot_rule.py`), beside the published ProtoNet it was trained as."""
    conv4 = {r["n_shot"]: r for r in rows if r["check"] == "conv4_simpleshot_rule"}
    if not conv4:
        return []
    first = next(iter(conv4.values()))
    return [
        "## Beside it: the same rule on a Conv4 that never saw the test classes",
        "",
        f"SimpleShot's rule on the feature network of ProtoNet run `{first['run_id']}` (the "
        f"miniImageNet table's: a Conv4 trained 300 s on this CPU on the 64 training classes, "
        f"{first['image_size']} px photos), on the same seeded test episodes. Published for a "
        "Conv4 ProtoNet trained for hours at 84 px: 49.4% (1-shot) and 68.2% (5-shot), Snell "
        "et al. 2017. The distance to the rows above is what ImageNet's 1.3 million labelled "
        "photos, these test classes among them, buy.",
        "",
        "| shots | accuracy | ± 95% CI | episodes | image px |",
        "|---:|---:|---:|---:|---:|",
        *(
            f"| {k} | {r['test_accuracy']:.3f} | {r['test_ci95']:.3f} | {r['eval_episodes']} | "
            f"{r['image_size']} |"
            for k, r in sorted(conv4.items())
        ),
        "",
    ]


def render() -> None:
    """docs/results/pretrained.md from the latest row of each measurement in OUT."""
    rows = [json.loads(line) for line in OUT.read_text().splitlines()]
    top = {r["network"]: r for r in rows if r["check"] == "imagenet_top1"}
    rule = {r["n_shot"]: r for r in rows if r["check"] == "frozen_simpleshot_rule"}
    lines = [
        "# The pretrained image backbone on miniImageNet (EfficientNet-Lite0, ImageNet-1k)",
        "",
        "Written by `python scripts/pretrained_check.py` from `pretrained_check.jsonl`.",
        "",
        "## Do the weights load right?",
        "",
        "ImageNet top-1 of the pretrained classifier on the first 100 photos of each of "
        "miniImageNet's 20 test classes (84 px photos upsampled; a class's ImageNet label is its "
        "WordNet id):",
        "",
        "| network and preprocessing | top-1 | photos | input px | seconds | device |",
        "|---|---:|---:|---:|---:|---|",
        *(
            f"| {n} | {r['top1']:.3f} | {r['images']} | {r['input_size']} | {r['seconds']} | "
            f"{r['device']} |"
            for n, r in top.items()
        ),
        "",
        "## Frozen, no training: SimpleShot's rule",
        "",
        "`simpleshot --backbone efficientnet_lite0 --episodes 0`: nearest centroid of centred, "
        "L2-normalised features (centred on the mean feature of the 38,400 training photos), "
        "5-way, 15 queries, seeded test episodes. **The test classes were seen in pretraining** "
        "(they are ImageNet classes): this is not few-shot learning on unseen classes, and not "
        "comparable with the papers' miniImageNet rows.",
        "",
        "| shots | accuracy | ± 95% CI | episodes | input px | first run, features included |",
        "|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {k} | {r['test_accuracy']:.3f} | {r['test_ci95']:.3f} | {r['eval_episodes']} | "
            f"{r['input_size']} | {r['wall_seconds_with_feature_cache_fill'] or ''} |"
            for k, r in sorted(rule.items())
        ),
        "",
        *conv4_rows(rows),
    ]
    OUT.with_suffix(".md").write_text("\n".join(lines))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-root", default="../shared/data")
    p.add_argument("--per-class", type=int, default=100)
    p.add_argument("--input-size", type=int, default=224)
    p.add_argument("--episodes", type=int, default=600)
    p.add_argument("--skip-top1", action="store_true")
    args = p.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    rows = [] if args.skip_top1 else top1(args.data_root, args.per_class, args.input_size)
    with tempfile.TemporaryDirectory() as home:
        rows += frozen_rule(args.data_root, args.input_size, args.episodes, Path(home))
    stamp = {
        "date": time.strftime("%Y-%m-%d"),
        "device": device,
        "threads": torch.get_num_threads(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("a") as f:
        for r in rows:
            f.write(json.dumps({**r, **stamp}) + "\n")
    render()


if __name__ == "__main__":
    main()
