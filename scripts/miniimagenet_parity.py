"""Parity on miniImageNet: the product's ProtoNet against a plain PyTorch loop doing the same work,
in one process, one after the other (so both meet the same machine).

Both train Conv4-64 at 84x84 on 20-way 1-shot episodes with 15 queries (Adam, lr 1e-3) for the
same number of seconds, then are tested on 300 5-way 1-shot episodes of the test classes. The
reference samples each episode in Python and normalises as the product does; the product trains
through `metalearn.engine.run.execute` (what `python -m metalearn train` runs).

    python scripts/miniimagenet_parity.py --data-root ../shared/data --seconds 300

Prints one JSON line per side and writes them to docs/results/miniimagenet_parity.jsonl.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from metalearn.config import RunConfig  # noqa: E402
from metalearn.data import DATASETS, EpisodeSampler  # noqa: E402
from metalearn.engine.device import describe_device  # noqa: E402
from metalearn.engine.evaluate import mean_ci95  # noqa: E402
from metalearn.engine.run import execute  # noqa: E402
from metalearn.models import Conv4  # noqa: E402
from metalearn.store import Store  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "results" / "miniimagenet_parity.jsonl"


def reference(root: str, seconds: float, way: int, query: int, tests: int) -> dict:
    """The plain loop: per-episode `random.sample`, uint8 gathered then normalised."""
    train = DATASETS["miniimagenet"].load(root, "train")
    by_class = [torch.nonzero(train.labels == c).squeeze(1) for c in range(train.n_classes)]
    torch.manual_seed(0)
    random.seed(0)
    model = Conv4(3, 84)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    labels = torch.arange(way).repeat_interleave(query)
    start, episodes = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        classes = random.sample(range(train.n_classes), way)
        rows = torch.stack(
            [by_class[c][random.sample(range(len(by_class[c])), 1 + query)] for c in classes]
        )
        x = train.to_float(train.images[rows.flatten()])  # [way * (1 + query), 3, 84, 84]
        z = model(x).view(way, 1 + query, -1)
        logits = -(torch.cdist(z[:, 1:].reshape(way * query, -1), z[:, 0]) ** 2)
        loss = F.cross_entropy(logits, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        episodes += 1
    train_seconds = time.perf_counter() - start
    test = DATASETS["miniimagenet"].load(root, "test")
    sampler = EpisodeSampler(test, 5, 1, 15, seed=12345)
    model.eval()
    accs = []
    with torch.no_grad():
        for _ in range(tests):
            e = sampler.sample()
            protos, zq = model(e.support), model(e.query)
            accs.append((torch.cdist(zq, protos).argmin(1) == e.query_labels).float().mean())
    accuracy, ci = mean_ci95([float(a) for a in accs])
    return {
        "side": "reference",
        "train_episodes": episodes,
        "train_seconds": train_seconds,
        "episodes_per_second": episodes / train_seconds,
        "test_accuracy": accuracy,
        "test_ci95": ci,
    }


def product(root: str, seconds: float, way: int, query: int, tests: int) -> dict:
    cfg = RunConfig(
        algorithm="protonet",
        dataset="miniimagenet",
        data_root=root,
        n_way=5,
        n_shot=1,
        n_query=15,
        train_way=way,
        train_query=query,
        episodes=1_000_000,
        max_seconds=seconds,
        eval_episodes=tests,
        val_every=0,
        device="cpu",
    )
    store = Store(Path(tempfile.mkdtemp(prefix="parity-")))
    result = execute(cfg, store, store.create_run(cfg.to_json()))
    keys = ("train_episodes", "train_seconds", "episodes_per_second", "test_accuracy", "test_ci95")
    return {"side": "metalearn", **{k: result[k] for k in keys}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-root", default="../shared/data")
    p.add_argument("--seconds", type=float, default=300)
    p.add_argument("--train-way", type=int, default=20)
    p.add_argument("--train-query", type=int, default=15)
    p.add_argument("--test-episodes", type=int, default=300)
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    DATASETS["miniimagenet"].load(args.data_root, "train")  # decoded before either clock starts
    shape = (args.data_root, args.seconds, args.train_way, args.train_query, args.test_episodes)
    rows = [reference(*shape), product(*shape)]
    common = {
        "device": describe_device(torch.device("cpu")),
        "seconds": args.seconds,
        "train_way": args.train_way,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "a") as f:
        for row in rows:
            line = json.dumps({**common, **row})
            print(line)
            f.write(line + "\n")
    ref, ours = rows
    print(
        f"episodes/s {ours['episodes_per_second']:.3f} vs reference "
        f"{ref['episodes_per_second']:.3f}; accuracy {ours['test_accuracy']:.3f} vs "
        f"{ref['test_accuracy']:.3f} ({100 * (ours['test_accuracy'] - ref['test_accuracy']):+.1f} "
        "points)"
    )


if __name__ == "__main__":
    main()
