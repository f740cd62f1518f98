"""Episodic few-shot classification: N-way K-shot episodes in training and at test time."""

from __future__ import annotations

from metalearn.engine.kinds.base import RunKind


class Episodes(RunKind):
    """Trained on meta-batches of N-way K-shot episodes; scored by query accuracy on seeded
    test episodes that depend only on the dataset and the episode shape (the base class's
    defaults are this kind's)."""

    name = "episodes"
    label = "Few-shot classification episodes"
    artifacts = ("checkpoint", "embeddings")
