"""Batch-trained transfer: pre-train on labelled batches of all training classes, then fit a new
head on each test episode's support set."""

from __future__ import annotations

from metalearn.engine.kinds.base import Draw, RunKind


class Transfer(RunKind):
    """Trained like an ordinary classifier (batches, `batch_size` images each); tested on the
    very same seeded episodes as `episodes` runs, so the two pair up in comparisons."""

    name = "transfer"
    label = "Pre-training on batches, fine-tuning per episode"
    hidden = frozenset({"meta_batch", "train_way", "train_shot", "train_query"})
    artifacts = ("checkpoint", "embeddings")
    # Beside the loss, only the episodes' validation accuracy: the training batches' accuracy is
    # over all training classes (2560 on glyphs), not comparable with a 5-way episode's.
    curves = ("val_accuracy",)
    description = "Pre-trained on labelled batches of all training classes; each test episode "
    description += "fits a new head on its support set."

    def training_data(self, cfg, train, device):
        from metalearn.data import BatchSampler

        sampler = BatchSampler(train, cfg.seed, device, augment=cfg.augment)
        return Draw(sampler, lambda: sampler.sample(cfg.hyper["batch_size"]))

    def per_update(self, cfg) -> int:
        return 1  # one batch counts as one training "episode"

    def memory(self, cfg, info):
        from metalearn.engine.memory import estimate

        batch = cfg.hyper["batch_size"]
        return estimate(cfg, info, batch, batch)  # one forward pass over the whole batch
