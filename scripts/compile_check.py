"""Does `torch.compile` speed up a training step? Measured, not assumed (issue 19's GPU part).

Races the product's `compile` setting against the same run without it, on the same weights and
meta-batches: ProtoNet (its feature network compiled) and MAML on its loop path (its query pass
compiled; `compile` does not reach the vmapped path, so MAML's eager vmap path - what `auto`
picks on a GPU - is timed beside them). Times `steps` training updates of each, interleaved over
`rounds`, after warm-up (compilation is reported separately). A step that cannot be compiled is
reported with the error, not hidden.

    python scripts/compile_check.py --device cuda --dataset omniglot --data-root .gpu_data

One JSON object per line: algorithm, eager_seconds, compiled_seconds (per update, medians),
speedup, compile_seconds (and vmap_seconds for MAML), or error.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from metalearn.config import RunConfig  # noqa: E402
from metalearn.engine.bench import sync  # noqa: E402
from metalearn.engine.build import build_algorithm  # noqa: E402
from metalearn.engine.kinds import kind_of  # noqa: E402
from metalearn.engine.validate import validate  # noqa: E402

# Each case: its eager settings; the contenders are those, the same with `compile`, and extras.
CASES = {
    "protonet": {"n_way": 5, "n_shot": 1, "n_query": 15, "train_way": 60},
    "maml": {"n_way": 5, "n_shot": 1, "n_query": 15, "meta_batch": 32, "maml_path": "loop"},
}
EXTRA = {"maml": {"vmap": {"maml_path": "vmap"}}}


def check(name: str, args) -> dict:
    settings = CASES[name]
    variants = {"eager": {}, "compiled": {"compile": True}, **EXTRA.get(name, {})}
    device = torch.device(args.device)
    contenders, batches = {}, []
    for key, extra in variants.items():
        cfg = validate(
            RunConfig(
                algorithm=name,
                dataset=args.dataset,
                data_root=args.data_root,
                device=args.device,
                **{**settings, **extra},
            )
        )
        kind = kind_of(cfg)
        train = kind.load(cfg, "train")
        algo = build_algorithm(cfg, kind.n_train_classes({"train": train})).to(device)
        if contenders:  # the same weights as the first contender
            algo.load_state_dict(next(iter(contenders.values())).state_dict())
        else:
            sampler = kind.training_data(cfg, train, device)
            batches = [sampler() for _ in range(4)]
        contenders[key] = algo
    optimizers = {k: a.make_optimizer() for k, a in contenders.items()}
    row: dict = {"algorithm": name, "device": str(device), **settings}
    try:
        for key, algo in contenders.items():
            sync(device)
            start = time.perf_counter()
            for i in range(3):
                algo.train_step(batches[i % 4], optimizers[key])
            sync(device)
            row[f"{key}_warmup_seconds"] = time.perf_counter() - start
        seconds: dict[str, list[float]] = {k: [] for k in contenders}
        for _ in range(args.rounds):
            for key, algo in contenders.items():
                sync(device)
                start = time.perf_counter()
                for i in range(args.steps):
                    algo.train_step(batches[i % 4], optimizers[key])
                sync(device)
                seconds[key].append((time.perf_counter() - start) / args.steps)
    except Exception as err:  # noqa: BLE001 - reported: the finding is whether it compiles
        row["error"] = f"{type(err).__name__}: {str(err).splitlines()[0][:300]}"
        return row
    for key in contenders:
        row[f"{key}_seconds"] = statistics.median(seconds[key])
    row["speedup"] = row["eager_seconds"] / row["compiled_seconds"]
    row["compile_seconds"] = row["compiled_warmup_seconds"] - row["eager_warmup_seconds"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--dataset", default="glyphs")
    parser.add_argument("--data-root")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--algorithms", nargs="*", default=list(CASES))
    args = parser.parse_args()
    for name in args.algorithms:
        print(json.dumps(check(name, args)), flush=True)


if __name__ == "__main__":
    main()
