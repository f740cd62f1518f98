"""Training-step throughput: the product's path against a straightforward reference, measured in
one process on the same model, data and meta-batch."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

from metalearn.algorithms import Algorithm
from metalearn.config import RunConfig
from metalearn.engine.build import build_algorithm
from metalearn.engine.device import describe_device, resolve_device
from metalearn.engine.kinds import kind_of
from metalearn.engine.references import REFERENCES
from metalearn.engine.validate import validate


def bench(cfg: RunConfig, steps: int = 10, warmup: int = 6, rounds: int = 3) -> list[dict]:
    """Times `steps` training updates of the product and of the reference after `warmup` ones
    each, in `rounds` interleaved rounds; reports each one's best round."""
    cfg = validate(cfg)
    device = resolve_device(cfg.device)
    kind = kind_of(cfg)
    train = kind.load(cfg, "train")
    algo: Algorithm = build_algorithm(cfg, kind.n_train_classes({"train": train})).to(device)
    sampler = kind.training_data(cfg, train, device)
    data = [sampler() for _ in range(4)]  # what the kind trains on, as the trainer draws it
    per_step = kind.per_update(cfg)
    variants: dict[str, Callable] = {"product": algo.train_step}
    if cfg.algorithm in REFERENCES:
        ref = REFERENCES[cfg.algorithm]
        variants["loop"] = lambda d, opt: ref(algo, d, opt)
    optimizers = {v: algo.make_optimizer() for v in variants}
    for variant, step in variants.items():
        i = 0
        # The product's "auto" path times its candidates on its first updates: those are warm-up.
        while i < warmup or (variant == "product" and getattr(algo, "path", None) == "auto"):
            step(data[i % len(data)], optimizers[variant])
            i += 1
    # Interleaved rounds, best of each: both variants see the same machine load over time.
    best = dict.fromkeys(variants, float("inf"))
    peak = dict.fromkeys(variants, 0.0)
    for _ in range(rounds):
        for variant, step in variants.items():
            sync(device)
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            start = time.perf_counter()
            for i in range(steps):
                step(data[i % len(data)], optimizers[variant])
            sync(device)
            best[variant] = min(best[variant], time.perf_counter() - start)
            if device.type == "cuda":
                peak[variant] = max(peak[variant], torch.cuda.max_memory_allocated(device) / 2**20)
    rows = []
    for variant in variants:
        row = {
            "algorithm": cfg.algorithm,
            "variant": variant,
            "device": describe_device(device),
            "meta_batch": cfg.meta_batch,
            "steps": steps,
            "rounds": rounds,
            "seconds": best[variant],
            "tasks_per_second": steps * per_step / best[variant],
        }
        if variant == "product" and "maml_path" in algo.run_facts():
            row["path"] = algo.run_facts()["maml_path"]
        if device.type == "cuda":
            row["peak_memory_mb"] = peak[variant]
        rows.append(row)
    if len(rows) == 2:
        rows[0]["ratio_vs_loop"] = rows[0]["tasks_per_second"] / rows[1]["tasks_per_second"]
    return rows


def sync(device: torch.device) -> None:
    """Waits for a CUDA device's queued work (no-op elsewhere): timings end when work ends."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
