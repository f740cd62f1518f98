"""Embedding snapshots of one fixed test episode during training, for the embeddings view.

Saved as a numpy `.npz` (the dashboard reads it without torch): features of the support and query
examples at each snapshot, the predictions then, the labels and the examples themselves (images,
or for text the utterances: `support_texts`, `query_texts`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from metalearn.algorithms import Algorithm
from metalearn.data import EpisodeSampler, Split


class EmbeddingSnapshots:
    """Callable(step): embeds the fixed episode and rewrites `path` with all snapshots so far."""

    def __init__(
        self,
        algo: Algorithm,
        test: Split,
        seed: int,
        shape: tuple[int, int, int],
        device: torch.device,
        path: Path,
    ):
        """`seed`: the test episodes' seed (the kind's), so the snapshot episode is test
        episode 0."""
        sampler = EpisodeSampler(test, *shape, seed, device)
        classes, idx = sampler.sample_indices()
        # The same draw gives the features and the images shown for them (test episode 0).
        self.algo, self.path, self.episode = algo, path, sampler.build(classes, idx)
        n_shot = shape[1]
        rows = idx[:, :n_shot].flatten(), idx[:, n_shot:].flatten()
        texts = getattr(test, "texts", None)  # a text split's utterances
        if texts:
            self.examples = {
                f"{part}_texts": np.array([texts[int(i)] for i in r])
                for part, r in zip(("support", "query"), rows, strict=True)
            }
        else:
            pixels = getattr(test, "pixels", None)  # features of a frozen network: their images
            pixels = test.images if pixels is None else pixels
            self.examples = {
                f"{part}_images": pixels[r].numpy()  # uint8 [n, C, H, W]
                for part, r in zip(("support", "query"), rows, strict=True)
            }
        self.class_names = [test.class_names[int(c)] for c in classes]
        self.steps: list[int] = []
        self.support: list[np.ndarray] = []
        self.query: list[np.ndarray] = []
        self.predictions: list[np.ndarray] = []

    def __call__(self, step: int) -> None:
        e, algo = self.episode, self.algo
        algo.eval()
        with torch.no_grad():
            feats = algo.embed(torch.cat([e.support, e.query])).float().cpu()
            pred = algo.predict(e).argmax(-1).cpu()
        self.steps.append(step)
        self.support.append(feats[: len(e.support)].numpy())
        self.query.append(feats[len(e.support) :].numpy())
        self.predictions.append(pred.numpy())
        tmp = self.path.with_suffix(f".tmp{os.getpid()}.npz")
        np.savez_compressed(
            tmp,
            steps=np.array(self.steps),
            support=np.stack(self.support),  # [snapshots, n_way * n_shot, D]
            query=np.stack(self.query),  # [snapshots, n_way * n_query, D]
            predictions=np.stack(self.predictions),  # [snapshots, n_way * n_query]
            support_labels=e.support_labels.cpu().numpy(),
            query_labels=e.query_labels.cpu().numpy(),
            class_names=np.array(self.class_names),
            **self.examples,
        )
        os.replace(tmp, self.path)

    @staticmethod
    def supported(algo: Algorithm) -> bool:
        return type(algo).embed is not Algorithm.embed


def save_memory_trace(
    algo: Algorithm,
    test: Split,
    seed: int,
    shape: tuple[int, int, int],
    device: torch.device,
    path: Path,
    n_sequences: int = 3,
) -> None:
    """For a memory-based learner: read and write weights at every step of the first test
    sequences (the same sequences `evaluate_sequences` scores first), for the memory heat maps.

    Saved as `.npz`: read, write [S, T, R, N] float32; labels, predictions, instance [S, T].
    """
    from metalearn.algorithms.mann import instance_numbers

    n_way, n_shot, _ = shape
    sampler = EpisodeSampler(test, n_way, n_shot, 0, seed, device)
    orders = torch.Generator().manual_seed(seed + 1)
    episodes = [sampler.sample() for _ in range(n_sequences)]
    order = [torch.randperm(n_way * n_shot, generator=orders) for _ in episodes]
    was_training = algo.training
    algo.eval()
    with torch.no_grad():
        x, y = algo.sequences(episodes, order)
        logits, _, trace = algo.run(x, algo.previous_labels(y), trace=True)
    algo.train(was_training)
    tmp = path.with_suffix(f".tmp{os.getpid()}.npz")
    np.savez_compressed(
        tmp,
        read=trace["read"].float().cpu().numpy(),
        write=trace["write"].float().cpu().numpy(),
        labels=y.cpu().numpy(),
        predictions=logits.argmax(-1).cpu().numpy(),
        instance=instance_numbers(y, n_way).cpu().numpy(),
    )
    os.replace(tmp, path)
