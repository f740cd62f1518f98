"""A plain PyTorch ProtoNet training loop, the yardstick for the product's training speed.

Same data, model, episode shape and optimiser as `python -m metalearn train --algorithm protonet`,
written the straightforward way (per-episode Python sampling, no store, no callbacks). Prints
episodes/s and, if --eval, 5-way 1-shot accuracy on 600 test episodes.

    python scripts/reference_protonet.py --dataset omniglot --data-root ../shared/data \
        --train-way 20 --train-shot 5 --train-query 5 --episodes 600
"""

from __future__ import annotations

import argparse
import json
import random
import time

import torch
import torch.nn.functional as F

from metalearn.data import DATASETS
from metalearn.models import Conv4


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--dataset", default="glyphs")
    p.add_argument("--data-root")
    p.add_argument("--train-way", type=int, default=20)
    p.add_argument("--train-shot", type=int, default=5)
    p.add_argument("--train-query", type=int, default=5)
    p.add_argument("--episodes", type=int, default=600)
    p.add_argument("--eval", action="store_true")
    args = p.parse_args()

    split = DATASETS[args.dataset].load(args.data_root, "train")
    per = int(torch.bincount(split.labels).min())
    images = split.images.float().div(255).view(split.n_classes, per, *split.images.shape[1:])
    torch.manual_seed(0)
    random.seed(0)
    model = Conv4(1, 28)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    way, shot, query = args.train_way, args.train_shot, args.train_query
    start = time.perf_counter()
    for _ in range(args.episodes):
        classes = random.sample(range(split.n_classes), way)
        batch = torch.stack([images[c][random.sample(range(per), shot + query)] for c in classes])
        z = model(batch.view(-1, *batch.shape[2:])).view(way, shot + query, -1)
        protos = z[:, :shot].mean(1)
        q = z[:, shot:].reshape(way * query, -1)
        logits = -(torch.cdist(q, protos) ** 2)
        loss = F.cross_entropy(logits, torch.arange(way).repeat_interleave(query))
        opt.zero_grad()
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - start
    out = {"train_seconds": seconds, "episodes_per_second": args.episodes / seconds}
    if args.eval:
        test = DATASETS[args.dataset].load(args.data_root, "test")
        timgs = test.images.float().div(255).view(test.n_classes, per, *test.images.shape[1:])
        model.eval()
        accs = []
        with torch.no_grad():
            for _ in range(600):
                classes = random.sample(range(test.n_classes), 5)
                b = torch.stack([timgs[c][random.sample(range(per), 16)] for c in classes])
                z = model(b.view(-1, *b.shape[2:])).view(5, 16, -1)
                pred = torch.cdist(z[:, 1:].reshape(75, -1), z[:, 0]).argmin(1)
                accs.append((pred == torch.arange(5).repeat_interleave(15)).float().mean())
        out["test_accuracy"] = float(torch.stack(accs).mean())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
