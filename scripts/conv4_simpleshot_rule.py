"""SimpleShot's rule on a trained ProtoNet's Conv4: the frozen pretrained network's rule, on a
network that saw only miniImageNet's 64 training classes.

SimpleShot (Wang et al. 2019) classifies a query by the nearest class centroid after centring
every feature on the training images' mean feature and scaling it to unit length (CL2N).
`docs/results/pretrained_check.md` applies that rule to EfficientNet-Lite0's ImageNet features;
this script applies it to the feature network of a ProtoNet run (the miniImageNet table's,
`--run`), on the same seeded test episodes ProtoNet was scored on, 1- and 5-shot. Appends to
docs/results/pretrained_check.jsonl (check "conv4_simpleshot_rule").

    python scripts/conv4_simpleshot_rule.py --run 20261207-123701-dd1c7e
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from metalearn.config import RunConfig  # noqa: E402
from metalearn.engine.build import build_algorithm  # noqa: E402
from metalearn.engine.evaluate import mean_ci95  # noqa: E402
from metalearn.engine.kinds import kind_of  # noqa: E402
from metalearn.engine.run import restore  # noqa: E402
from metalearn.engine.validate import validate  # noqa: E402
from metalearn.store import Store  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "docs" / "results" / "pretrained_check.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, help="a ProtoNet run on miniImageNet")
    parser.add_argument("--home", default=None, help="its runs directory (default: ./runs)")
    parser.add_argument("--episodes", type=int, default=600)
    args = parser.parse_args()
    store = Store(args.home)
    protonet, cfg, device = restore(store, args.run)
    kind = kind_of(cfg)
    rule_cfg = validate(
        RunConfig(**{**cfg.to_dict(), "algorithm": "simpleshot", "hyper": {"backbone": "conv4"}})
    )
    simple = build_algorithm(rule_cfg, 64).to(device).eval()
    simple.backbone.load_state_dict(protonet.backbone.state_dict())
    started = time.perf_counter()
    train = kind.load(cfg, "train")
    with torch.no_grad():
        total = sum(
            simple.embed(train.to_float(chunk).to(device)).double().sum(0)
            for chunk in train.images.split(2048)
        )
    simple.base_mean.copy_(total / len(train.images))
    rows = []
    for shot in (1, 5):
        shaped = validate(RunConfig(**{**cfg.to_dict(), "n_shot": shot}))
        scores = kind.evaluate(
            simple, shaped, kind.load(shaped, "test"), device, args.episodes, "test"
        )
        mean, ci = mean_ci95(scores.values)
        rows.append(
            {
                "check": "conv4_simpleshot_rule",
                "run_id": args.run,
                "trained_as": cfg.algorithm,
                "image_size": cfg.image_size,
                "n_shot": shot,
                "test_accuracy": mean,
                "test_ci95": ci,
                "eval_episodes": len(scores.values),
                "date": time.strftime("%Y-%m-%d"),
                "device": str(device),
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    with OUT.open("a") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)


if __name__ == "__main__":
    main()
