"""Labelled sequences (memory-based learners): n_way classes x n_shot instances in random order,
each label shown one step after its image; scored by accuracy at each presentation."""

from __future__ import annotations

from metalearn.engine.kinds.base import RunKind, Scores


class Sequences(RunKind):
    """No query set: a sequence is the support set alone, and every step is scored. Test
    sequences depend on the dataset, n_way and n_shot only (their own stream, so they never
    pair with query-set episodes of the same shape)."""

    name = "sequences"
    label = "Labelled sequences"
    scored_on = "sequences"
    hidden = frozenset({"n_query", "train_query", "train_way"})
    uses_image_size = False  # images are downscaled to 20 x 20 whatever their size
    artifacts = ("checkpoint", "memory")
    description = (
        "Learns from sequences of n_way classes x n_shot instances each, guessing every label one "
        "step before it is shown; there is no separate query set."
    )

    def stream(self, cfg, split: str) -> str:
        return f"{cfg.dataset}|{split}|{cfg.n_way}|{cfg.n_shot}|0"

    def shape_label(self, cfg) -> str:
        return f"{cfg['n_way']}x{cfg['n_shot']} seq"

    def training_shape(self, cfg):
        way, shot, _ = cfg.train_shape
        return way, shot, 0

    def test_shape(self, cfg):
        return cfg.n_way, cfg.n_shot, 0

    def per_class_names(self, split: str) -> str:
        return "train_shot" if split == "train" else "n_shot (instances per class)"

    def evaluate(self, algo, cfg, split, device, n, name, progress=None):
        from metalearn.engine.evaluate import evaluate_sequences, instance_accuracy

        per_step = evaluate_sequences(
            algo, split, self.seed(cfg, name), cfg.test_shape, n, device, progress=progress
        )
        by_instance, cis = instance_accuracy(per_step)
        extra = {"instance_accuracy": by_instance, "instance_ci95": cis}
        return Scores(per_step["correct"].mean(1).tolist(), extra)

    def snapshots(self, algo, cfg, test, ctx):
        return None

    def write_artifacts(self, algo, cfg, test, ctx) -> None:
        from metalearn.engine.snapshots import save_memory_trace

        path = ctx.store.artifact(ctx.run_id, "memory")
        save_memory_trace(algo, test, self.seed(cfg, "test"), cfg.test_shape, ctx.device, path)
        ctx.store.add_artifact(ctx.run_id, "memory", path)
