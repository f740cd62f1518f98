"""Where does a training step wait for the GPU? Runs a few training updates of each algorithm
with CUDA's sync debug mode on and counts the synchronising calls by source line.

    python scripts/sync_audit.py --data-root .gpu_data [--device cuda]

Prints one JSON object: {algorithm: {"file:line": count}}. On a CPU nothing syncs (it prints
empty counts; the point there is that the script runs).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections import Counter
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from metalearn.config import RunConfig  # noqa: E402
from metalearn.engine.build import build_algorithm  # noqa: E402
from metalearn.engine.device import resolve_device  # noqa: E402
from metalearn.engine.kinds import kind_of  # noqa: E402
from metalearn.engine.trainer import Trainer  # noqa: E402

SETTINGS = {
    "protonet": {"train_way": 20, "train_query": 5},
    "maml": {"meta_batch": 8, "maml_path": "vmap"},
    "anil": {"meta_batch": 8},
    "metasgd": {"meta_batch": 8},
    "meta_lstm": {"meta_batch": 2},
    "finetune": {"batch_size": 64},
    "mann": {"n_shot": 10, "meta_batch": 8},
}


def audit(name: str, args) -> dict[str, int]:
    cfg = RunConfig(
        algorithm=name,
        dataset="omniglot",
        data_root=args.data_root,
        device=args.device,
        val_every=0,
        log_every=10**6,
        **SETTINGS[name],
    )
    device = resolve_device(cfg.device)
    kind = kind_of(cfg)
    train = kind.load(cfg, "train")
    algo = build_algorithm(cfg, train.n_classes).to(device)
    trainer = Trainer(cfg, algo, kind, train, None, device)
    for _ in range(3):  # warm-up (cuDNN benchmarking, path choice) is not audited
        algo.train_step(trainer.sampler(), trainer.optimizer)
    counts: Counter[str] = Counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if device.type == "cuda":
            torch.cuda.set_sync_debug_mode("warn")
        for _ in range(5):
            algo.train_step(trainer.sampler(), trainer.optimizer)
        if device.type == "cuda":
            torch.cuda.set_sync_debug_mode(0)
    for w in caught:
        if "synchroniz" in str(w.message):
            counts[f"{Path(w.filename).name}:{w.lineno}"] += 1
    return dict(counts.most_common(8))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-root", default=".gpu_data")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--algorithms", nargs="*", default=list(SETTINGS))
    args = parser.parse_args()
    out = {}
    for name in args.algorithms:
        try:
            out[name] = audit(name, args)
        except Exception as err:  # an audit failure must not hide the others
            out[name] = {"error": f"{type(err).__name__}: {err}"[:300]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
