"""Labelled sequences (memory-based learners): n_way classes x n_shot instances in random order,
each label shown one step after its image; scored by accuracy at each presentation."""

from __future__ import annotations

from metalearn.engine.kinds.base import Draw, RunKind, Scores


class Sequences(RunKind):
    """No query set: a sequence is the support set alone, and every step is scored. Test
    sequences depend on the dataset, n_way and n_shot only (their own stream, so they never
    pair with query-set episodes of the same shape)."""

    name = "sequences"
    label = "Labelled sequences"
    scored_on = "sequences"
    hidden = frozenset({"n_query", "train_query", "train_way"})
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

    def training_data(self, cfg, train, device):
        from metalearn.data import EpisodeSampler

        sampler = EpisodeSampler(train, *self.training_shape(cfg), cfg.seed, device)
        return Draw(sampler, lambda: sampler.sample_many(cfg.meta_batch))

    def problems(self, cfg, info, same_way):
        out = []
        if cfg.train_shape[0] < 2 or cfg.n_way < 2:
            out.append("n_way must be at least 2 for labelled sequences")
        if same_way and cfg.train_shape[0] != cfg.n_way:
            out.append(f"train_way must equal n_way ({cfg.n_way}), got {cfg.train_shape[0]}")
        for split, (way, shot, _) in (("train", self.training_shape(cfg)), ("val", cfg.test_shape)):
            if split == "val" and (cfg.val_every == 0 or info.splits[split][0] == 0):
                continue
            out += self.sequence_problems(cfg, info, split, way, shot)
        return out + self.sequence_problems(cfg, info, "test", cfg.n_way, cfg.n_shot)

    def sequence_problems(self, cfg, info, split, way, shot) -> list[str]:
        n_classes, min_images = info.splits[split]
        out = []
        if way > n_classes:
            name = "train_way" if split == "train" else "n_way"
            out.append(
                f"{name}={way} is more than the {n_classes} classes of the {split} split of "
                f"{cfg.dataset!r}; allowed: 2..{n_classes}"
            )
        if shot > min_images:
            name = "train_shot" if split == "train" else "n_shot (instances per class)"
            out.append(
                f"{name} = {shot} is more than the {min_images} images of the smallest class in "
                f"the {split} split of {cfg.dataset!r}; allowed: at most {min_images}"
            )
        return out

    def evaluate(self, algo, cfg, split, device, n, name):
        from metalearn.engine.evaluate import evaluate_sequences, instance_accuracy

        per_step = evaluate_sequences(algo, split, self.seed(cfg, name), cfg.test_shape, n, device)
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
