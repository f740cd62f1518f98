"""Honest evaluation: seeded test episodes, identical for every algorithm on the same task shape,
each episode's accuracy kept, reported as a mean with a 95% confidence interval."""

from __future__ import annotations

import hashlib
import math

import torch

from metalearn.algorithms import Algorithm
from metalearn.data import EpisodeSampler, Split


def episode_seed(dataset: str, split: str, n_way: int, n_shot: int, n_query: int) -> int:
    """The sampler seed of a split's evaluation episodes: fixed by the task shape alone, never by
    the run's seed or algorithm, so all runs are scored on the very same episodes."""
    key = f"{dataset}|{split}|{n_way}|{n_shot}|{n_query}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:4], "big")


def mean_ci95(values: list[float]) -> tuple[float, float]:
    """Mean and half-width of its 95% normal confidence interval (1.96 standard errors)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, 0.0
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, 1.96 * math.sqrt(var / n)


def evaluate(
    algo: Algorithm,
    split: Split,
    dataset: str,
    shape: tuple[int, int, int],
    n_episodes: int,
    device: torch.device,
    split_name: str = "test",
    chunk: int = 50,
) -> list[float]:
    """Per-episode query accuracy of `algo` on `n_episodes` seeded episodes of `split`."""
    n_way, n_shot, n_query = shape
    sampler = EpisodeSampler(
        split, n_way, n_shot, n_query, episode_seed(dataset, split_name, *shape), device
    )
    was_training = algo.training
    algo.eval()
    accs: list[torch.Tensor] = []
    try:
        with torch.no_grad():
            for start in range(0, n_episodes, chunk):
                episodes = [sampler.sample() for _ in range(min(chunk, n_episodes - start))]
                for e, scores in zip(episodes, algo.predict_many(episodes), strict=True):
                    accs.append((scores.argmax(-1) == e.query_labels).float().mean())
    finally:
        algo.train(was_training)
    return torch.stack(accs).tolist()  # one host sync for the whole evaluation
