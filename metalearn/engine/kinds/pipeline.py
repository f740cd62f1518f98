"""The article's transfer pipeline on a whole dataset: train a classifier on the full
training set, fine-tune it on a 1000-image subset, score it on the full test set."""

from __future__ import annotations

from metalearn.engine.kinds.base import RunKind


class Pipeline(RunKind):
    """No episodes: one accuracy over the test images (CI from the binomial), so a pipeline run
    is never paired episode by episode with another."""

    name = "pipeline"
    label = "Whole-dataset transfer pipeline"
    unit = "test images"
    curves = ("finetune_loss",)
    hidden = frozenset(
        {"n_way", "n_shot", "n_query", "train_way", "train_shot", "train_query", "meta_batch"}
        | {"eval_episodes", "val_every", "val_episodes", "image_size", "train_classes"}
    )
    artifacts = ()
    # The article's recipe: 10 epochs of the 50,000 training images in batches of 100 (about a
    # minute on a 2-core CPU); the episodic default of 300 steps of 64 scores chance.
    spec_defaults = {"episodes": 5000, "log_every": 100}
    hyper_defaults = {"batch_size": 100}

    def pairing_key(self, cfg) -> str | None:
        return None

    def shape_label(self, cfg) -> str:
        return "whole dataset"

    def summary(self, result) -> str:
        before = result.get("test_accuracy_pretrained", result.get("pretrain_test_accuracy"))
        before = float("nan") if before is None else before
        if self.metric not in result:
            return ""
        return (
            f"Test accuracy {result['test_accuracy']:.3f} ± {result['test_ci95']:.3f} "
            f"(95% CI, {result.get('test_images', '?')} test images; before fine-tuning "
            f"{before:.3f}"
            f"; fine-tuned on {result.get('finetune_subset', 'the first')} 1000 images)"
        )

    def problems(self, cfg, info, same_way) -> list[str]:
        from metalearn.data import DATASETS

        able = [n for n, d in DATASETS.items() if getattr(d, "standard_split", False)]
        if cfg.dataset not in able:
            return [
                f"the whole-dataset pipeline needs a dataset with a standard train/test split "
                f"({', '.join(able)}), not {cfg.dataset!r}"
            ]
        if cfg.hyper.get("finetune_encoder", "none") != "none":
            return [
                "the whole-dataset pipeline runs the pretrained network frozen (its features "
                "of 60,000 images computed once; training it through them would take hours on "
                "a CPU); set finetune_encoder to none"
            ]
        return []

    def run(self, ctx):
        from metalearn.engine.transfer import run_seed_pipeline

        return run_seed_pipeline(ctx.cfg, ctx.device, ctx.on_metrics or (lambda s, v: None))
