"""Honest evaluation: seeded test episodes, identical for every run given the same seed (each
run kind derives it from the task shape alone, see `RunKind.seed`), each episode's score kept,
reported as a mean with a 95% confidence interval."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import torch

from metalearn.data import Episode, EpisodeSampler, Split, TaskSampler
from metalearn.engine.kinds.base import episode_seed

if TYPE_CHECKING:
    from metalearn.algorithms import Algorithm

Progress = Callable[[int], None]  # called with the number of test episodes (or tasks) done

__all__ = [
    "episode_seed",
    "evaluate",
    "evaluate_regression",
    "evaluate_sequences",
    "instance_accuracy",
    "mean_ci95",
]


def mean_ci95(values: list[float]) -> tuple[float, float]:
    """Mean and half-width of its 95% normal confidence interval (1.96 standard errors)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, 0.0
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, 1.96 * math.sqrt(var / n)


CHUNK_VALUES = 4_000_000  # input values of the episodes tested in one batch, at most


def episodes_per_chunk(split: Split, shape: tuple[int, int, int], most: int = 50) -> int:
    """How many test episodes go through the network together: up to `most`, with at most
    `CHUNK_VALUES` input values among them, so the activations of one batch stay near a GB
    (50 5-way 84x84 episodes at once held 16 GB; 50 of 28x28 glyphs are 3.1M values)."""
    n_way, n_shot, n_query = shape
    values = n_way * (n_shot + n_query) * split.images[0].numel()
    return max(1, min(most, CHUNK_VALUES // max(values, 1)))


def evaluate(
    algo: Algorithm,
    split: Split,
    seed: int,
    shape: tuple[int, int, int],
    n_episodes: int,
    device: torch.device,
    chunk: int | None = None,
    progress: Progress | None = None,
) -> list[float]:
    """Per-episode query accuracy of `algo` on `n_episodes` episodes of `split` drawn from
    `seed`, `chunk` episodes at a time (None: `episodes_per_chunk`); `progress(done)` after
    each chunk."""
    chunk = chunk or episodes_per_chunk(split, shape)
    sampler = EpisodeSampler(split, *shape, seed, device)
    was_training = algo.training
    algo.eval()
    accs: list[torch.Tensor] = []
    try:
        with torch.no_grad():
            for start in range(0, n_episodes, chunk):
                episodes = sampler.sample_many(min(chunk, n_episodes - start))
                for e, scores in zip(episodes, algo.predict_many(episodes), strict=True):
                    accs.append((scores.argmax(-1) == e.query_labels).float().mean())
                if progress:
                    progress(len(accs))
    finally:
        algo.train(was_training)
    return torch.stack(accs).tolist()  # one host sync for the whole evaluation


def evaluate_sequences(
    algo: Algorithm,
    split: Split,
    seed: int,
    shape: tuple[int, int, int],
    n_episodes: int,
    device: torch.device,
    chunk: int = 100,
    progress: Progress | None = None,
) -> dict[str, torch.Tensor]:
    """Sequence learners (MANN) on seeded sequences of n_way classes x n_shot instances.

    The sequences (classes, images and their order) depend only on `seed`. Returns CPU tensors:
    "correct" [E, T] (1.0 where the guess was right) and "instance" [E, T] (1 at a class's first
    presentation, 2 at its second, ...).
    """
    n_way, n_shot, _ = shape
    sampler = EpisodeSampler(split, n_way, n_shot, 0, seed, device)
    orders = torch.Generator().manual_seed(seed + 1)
    was_training = algo.training
    algo.eval()
    correct, instance = [], []
    try:
        with torch.no_grad():
            for start in range(0, n_episodes, chunk):
                episodes = sampler.sample_many(min(chunk, n_episodes - start))
                order = [torch.randperm(n_way * n_shot, generator=orders) for _ in episodes]
                logits, labels, inst = algo.outcomes(episodes, order)
                correct.append((logits.argmax(-1) == labels).float().cpu())
                instance.append(inst.cpu())
                if progress:
                    progress(start + len(episodes))
    finally:
        algo.train(was_training)
    return {"correct": torch.cat(correct), "instance": torch.cat(instance)}


def instance_accuracy(per_step: dict[str, torch.Tensor]) -> tuple[list[float], list[float]]:
    """Accuracy by instance number, with 95% CIs over episodes: ([acc of 1st, 2nd, ...], [ci])."""
    correct, instance = per_step["correct"], per_step["instance"]
    means, cis = [], []
    for k in range(1, int(instance.max()) + 1):
        mask = (instance == k).float()
        per_episode = (correct * mask).sum(1) / mask.sum(1)  # [E]
        mean, ci = mean_ci95(per_episode.tolist())
        means.append(mean)
        cis.append(ci)
    return means, cis


def evaluate_regression(
    algo: Algorithm,
    tasks: TaskSampler,
    n_tasks: int,
    steps: tuple[int, ...] = (0, 1, 10),
    progress: Progress | None = None,
) -> dict[int, list[float]]:
    """Per-task query MSE after each number of adaptation steps, on the first `n_tasks` tasks of
    a seeded sampler (every algorithm given the same sampler seed sees the same tasks)."""
    episodes = tasks.sample_many(n_tasks)
    was_training = algo.training
    algo.eval()
    out: dict[int, list[torch.Tensor]] = {s: [] for s in steps}
    try:
        with torch.no_grad():
            for i, e in enumerate(episodes, start=1):
                for s in steps:
                    pred = algo.predict(e, steps=s)
                    out[s].append(((pred - e.query_labels) ** 2).mean())
                if progress and (i % 50 == 0 or i == len(episodes)):
                    progress(i)
    finally:
        algo.train(was_training)
    return {s: torch.stack(v).tolist() for s, v in out.items()}


def regression_curves(
    algo: Algorithm,
    tasks: TaskSampler,
    n_tasks: int = 3,
    steps: tuple[int, ...] = tuple(range(11)),
) -> list[dict]:
    """For a few tasks of a seeded sampler (one query point each): the true curve, the K support
    points, and the predicted curve after each number of steps (every step 0..10: the
    dashboard's step-by-step animation), on a grid over the sampler's input range (the MAML
    paper's adaptation figure)."""
    low, high = tasks.x_range
    grid = torch.linspace(low, high, 200, device=tasks.device)[:, None]
    curves = []
    algo.eval()
    for _ in range(n_tasks):
        e = tasks.sample()
        truth = tasks.function(e.class_ids.to(grid.device), grid)
        on_grid = Episode(e.support, e.support_labels, grid, truth, e.class_ids, 1)
        curve = {
            "x": grid.squeeze(1).tolist(),
            "true": on_grid.query_labels.squeeze(1).tolist(),
            "support_x": e.support.squeeze(1).tolist(),
            "support_y": e.support_labels.squeeze(1).tolist(),
            "predicted": {
                str(s): algo.predict(on_grid, steps=s).squeeze(1).tolist() for s in steps
            },
        }
        with torch.no_grad():
            dist = algo.predict_distribution(on_grid, grid)
        if dist is not None:  # e.g. a CNP: its predictive mean and standard deviation
            curve["mean"], curve["std"] = (t.squeeze(1).tolist() for t in dist)
        curves.append(curve)
    return curves
