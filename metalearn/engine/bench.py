"""Training-step throughput: the product's path against a straightforward reference, measured in
one process on the same model, data and meta-batch."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

from metalearn.algorithms import ALGORITHMS, Algorithm
from metalearn.config import RunConfig
from metalearn.data import DATASETS, BatchSampler, EpisodeSampler, SinusoidSampler
from metalearn.engine.device import describe_device, resolve_device
from metalearn.engine.references import REFERENCES
from metalearn.engine.run import build_algorithm, load_split


def bench(cfg: RunConfig, steps: int = 10, warmup: int = 6, rounds: int = 3) -> list[dict]:
    """Times `steps` training updates of the product and of the reference after `warmup` ones
    each, in `rounds` interleaved rounds; reports each one's best round."""
    cfg.validate()
    device = resolve_device(cfg.device)
    info = DATASETS[cfg.dataset].describe(cfg.data_root)
    way, shot, query = cfg.train_shape
    if ALGORITHMS[cfg.algorithm].sequence:
        query = 0  # sequences are support sets alone
    if info.task == "regression":
        sampler = SinusoidSampler(shot, query, cfg.seed, device)
        n_train = 1
    else:
        split = load_split(cfg, "train")
        n_train = split.n_classes
        sampler = EpisodeSampler(split, way, shot, query, cfg.seed, device)
    algo: Algorithm = build_algorithm(cfg, info, n_train).to(device)
    if algo.train_data == "batches" and info.task != "regression":
        batches = BatchSampler(split, cfg.seed, device)
        data = [batches.sample(cfg.batch_size) for _ in range(4)]
    else:
        data = [sampler.sample_many(cfg.meta_batch) for _ in range(4)]
    episodic = algo.train_data == "episodes" or info.task == "regression"
    per_step = cfg.meta_batch if episodic else 1
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
            _sync(device)
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            start = time.perf_counter()
            for i in range(steps):
                step(data[i % len(data)], optimizers[variant])
            _sync(device)
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
        if getattr(algo, "path", None) in ("loop", "vmap", "threads") and variant == "product":
            row["path"] = algo.path
        if device.type == "cuda":
            row["peak_memory_mb"] = peak[variant]
        rows.append(row)
    if len(rows) == 2:
        rows[0]["ratio_vs_loop"] = rows[0]["tasks_per_second"] / rows[1]["tasks_per_second"]
    return rows


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
