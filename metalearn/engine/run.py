"""One run from start to finish: validate, load data, train, test, record everything in the store.

Used by the CLI and by the dashboard's worker processes alike, so both record runs the same way.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import torch

from metalearn.algorithms import ALGORITHMS, Algorithm
from metalearn.config import RunConfig
from metalearn.data import DATASETS, DatasetInfo, Split
from metalearn.engine.device import describe_device, resolve_device
from metalearn.engine.evaluate import (
    REGRESSION_STEPS,
    evaluate,
    evaluate_regression,
    evaluate_sequences,
    instance_accuracy,
    mean_ci95,
    regression_curves,
)
from metalearn.engine.snapshots import EmbeddingSnapshots, save_memory_trace
from metalearn.engine.trainer import Trainer, load_checkpoint
from metalearn.store import Store

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, dict[str, float]], None]


def build_algorithm(cfg: RunConfig, info: DatasetInfo, n_train_classes: int) -> Algorithm:
    torch.manual_seed(cfg.seed)  # model initialisation follows the run's seed
    return ALGORITHMS[cfg.algorithm](cfg, info, n_train_classes)


def load_split(cfg: RunConfig, split: str) -> Split:
    return DATASETS[cfg.dataset].load(cfg.data_root, split, cfg.image_size)


def execute(
    cfg: RunConfig,
    store: Store,
    run_id: str,
    resume: bool = False,
    progress: ProgressFn | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Runs `run_id` (already created in `store`) and returns its result, also stored.

    Raises:
        ConfigError, DataError: bad settings or data (the run is marked failed first).
    """
    try:
        cfg.validate()
        device = resolve_device(cfg.device)
        store.start_run(run_id, describe_device(device))
        if cfg.finetune_mode == "seed":
            from metalearn.engine.transfer import run_seed_pipeline

            result = run_seed_pipeline(cfg, device, _logger(store, run_id, progress))
        else:
            result = _episodic(cfg, store, run_id, device, resume, progress, should_stop)
    except BaseException as err:
        store.finish_run(run_id, "failed", error=describe_failure(err, cfg))
        raise
    result.update(
        run_id=run_id, algorithm=cfg.algorithm, dataset=cfg.dataset, device=describe_device(device)
    )
    status = "stopped" if result.pop("stopped", False) else "completed"
    store.finish_run(run_id, status, result)
    return result


def describe_failure(err: BaseException, cfg: RunConfig) -> str:
    """The error text stored with a failed run; out-of-memory errors say what to shrink."""
    text = f"{type(err).__name__}: {err}"
    if (
        isinstance(err, (torch.OutOfMemoryError, MemoryError))
        or "out of memory" in str(err).lower()
    ):
        return (
            f"out of memory on {cfg.device}: the run's batch does not fit. Try a smaller "
            f"meta_batch (now {cfg.meta_batch}), n_way / n_query / batch_size (now {cfg.n_way} / "
            f"{cfg.n_query} / {cfg.batch_size}), a smaller image_size or backbone. ({text[:300]})"
        )
    if isinstance(err, KeyboardInterrupt):
        return "interrupted (Ctrl-C or SIGINT); resume it from its last checkpoint"
    return text


def _logger(store: Store, run_id: str, progress: ProgressFn | None) -> ProgressFn:
    def on_metrics(step: int, values: dict[str, float]) -> None:
        store.log_metrics(run_id, step, values)
        if progress:
            progress(step, values)

    return on_metrics


def _episodic(cfg, store, run_id, device, resume, progress, should_stop) -> dict[str, Any]:
    info = DATASETS[cfg.dataset].describe(cfg.data_root)
    if info.task == "regression":
        return _regression(cfg, store, run_id, device, info, resume, progress, should_stop)
    started = time.perf_counter()
    train = load_split(cfg, "train")
    val = load_split(cfg, "val") if cfg.val_every else None
    test = load_split(cfg, "test")
    load_seconds = time.perf_counter() - started
    algo = build_algorithm(cfg, info, train.n_classes).to(device)
    ckpt = store.run_dir(run_id) / "checkpoint.pt"
    snapshots = None
    if EmbeddingSnapshots.supported(algo):
        path = store.run_dir(run_id) / "embeddings.npz"
        snapshots = EmbeddingSnapshots(algo, test, cfg.dataset, cfg.test_shape, device, path)
        store.add_artifact(run_id, "embeddings", path)
    trainer = Trainer(
        cfg,
        algo,
        train,
        val,
        device,
        _logger(store, run_id, progress),
        should_stop,
        ckpt,
        on_snapshot=snapshots,
    )
    if resume and ckpt.exists():
        trainer.load_checkpoint(ckpt)
        log.info("resumed %s at episode %d", run_id, trainer.stats.episodes)
    stats = trainer.fit()
    store.add_artifact(run_id, "checkpoint", ckpt)
    if stats.stopped:
        return _stopped(stats, started)
    extra: dict[str, Any] = {}
    if algo.sequence:
        per_step = evaluate_sequences(
            algo, test, cfg.dataset, cfg.test_shape, cfg.eval_episodes, device
        )
        accs = per_step["correct"].mean(1).tolist()
        extra["instance_accuracy"], extra["instance_ci95"] = instance_accuracy(per_step)
        path = store.run_dir(run_id) / "memory.npz"
        save_memory_trace(algo, test, cfg, device, path)
        store.add_artifact(run_id, "memory", path)
    else:
        accs = evaluate(algo, test, cfg.dataset, cfg.test_shape, cfg.eval_episodes, device)
    store.save_episodes(run_id, accs)
    mean, ci = mean_ci95(accs)
    return {
        **extra,
        **_chosen_path(algo),
        "test_accuracy": mean,
        "test_ci95": ci,
        "eval_episodes": len(accs),
        "train_episodes": stats.episodes,
        "train_seconds": stats.train_seconds,
        "episodes_per_second": stats.episodes_per_second,
        "load_seconds": load_seconds,
        "wall_seconds": time.perf_counter() - started,
        "stopped": stats.stopped,
    }


def _regression(cfg, store, run_id, device, info, resume, progress, should_stop) -> dict:
    """Sinusoid runs: MSE on seeded tasks (100 query points each) after 0, 1, 10 and
    `inner_steps_test` adaptation steps, and a few predicted curves for the adaptation figure."""
    started = time.perf_counter()
    algo = build_algorithm(cfg, info, 1).to(device)
    ckpt = store.run_dir(run_id) / "checkpoint.pt"
    trainer = Trainer(
        cfg, algo, None, None, device, _logger(store, run_id, progress), should_stop, ckpt
    )
    if resume and ckpt.exists():
        trainer.load_checkpoint(ckpt)
    stats = trainer.fit()
    store.add_artifact(run_id, "checkpoint", ckpt)
    if stats.stopped:
        return _stopped(stats, started)
    steps = tuple(sorted({*REGRESSION_STEPS, cfg.inner_steps_test}))
    by_steps = evaluate_regression(algo, cfg.n_shot, 100, cfg.eval_episodes, device, steps=steps)
    mse = by_steps[cfg.inner_steps_test]
    store.save_episodes(run_id, mse)
    curves_path = store.run_dir(run_id) / "curves.json"
    curves_path.write_text(json.dumps(regression_curves(algo, cfg.n_shot, device)))
    store.add_artifact(run_id, "regression_curves", curves_path)
    mean, ci = mean_ci95(mse)
    return {
        **_chosen_path(algo),
        "test_mse": mean,
        "test_mse_ci95": ci,
        "test_mse_by_steps": {str(s): mean_ci95(v)[0] for s, v in by_steps.items()},
        "eval_episodes": len(mse),
        "train_episodes": stats.episodes,
        "train_seconds": stats.train_seconds,
        "episodes_per_second": stats.episodes_per_second,
        "wall_seconds": time.perf_counter() - started,
        "stopped": stats.stopped,
    }


def _chosen_path(algo) -> dict[str, str]:
    """How a MAML-family run computed its meta-batches ("auto" reports what its timing chose)."""
    path = getattr(algo, "path", None)
    return {"maml_path": path} if path in ("loop", "vmap", "threads") else {}


def _stopped(stats, started: float) -> dict[str, Any]:
    """A stopped run ends at once, with its checkpoint and no test (`eval` tests it later, and a
    resumed run tests when it completes)."""
    return {
        "train_episodes": stats.episodes,
        "train_seconds": stats.train_seconds,
        "episodes_per_second": stats.episodes_per_second,
        "wall_seconds": time.perf_counter() - started,
        "stopped": True,
    }


def evaluate_run(
    store: Store,
    run_id: str,
    eval_episodes: int | None = None,
    n_way: int | None = None,
    n_shot: int | None = None,
) -> dict[str, Any]:
    """Re-tests a finished run from its checkpoint on the standard seeded test episodes, of its
    own shape or of another `n_way` / `n_shot` (e.g. a 5-way model on 20-way episodes)."""
    algo, cfg, device = restore(store, run_id)
    if n_way is not None or n_shot is not None:
        shape = {"n_way": n_way or cfg.n_way, "n_shot": n_shot or cfg.n_shot}
        if algo.same_way and shape["n_way"] != cfg.n_way:
            from metalearn.config import ConfigError

            raise ConfigError(
                [f"{cfg.algorithm} has {cfg.n_way} output units; it cannot test {n_way}-way"]
            )
        cfg = RunConfig.from_dict({**cfg.to_dict(), **shape, "train_way": cfg.train_shape[0]})
        cfg.validate()
    test = load_split(cfg, "test")
    n = eval_episodes or cfg.eval_episodes
    accs = evaluate(algo, test, cfg.dataset, cfg.test_shape, n, device)
    mean, ci = mean_ci95(accs)
    return {
        "run_id": run_id,
        "n_way": cfg.n_way,
        "n_shot": cfg.n_shot,
        "test_accuracy": mean,
        "test_ci95": ci,
        "eval_episodes": len(accs),
    }


def restore(store: Store, run_id: str) -> tuple[Algorithm, RunConfig, torch.device]:
    """The trained algorithm of a run, from its checkpoint, in eval mode."""
    from metalearn.data import DataError

    run = store.get_run(run_id)
    if run is None:
        raise DataError(f"no run with id {run_id!r}; `python -m metalearn runs` lists them")
    state = load_checkpoint(store.home / run_id / "checkpoint.pt")
    cfg = RunConfig.from_json(state["config"])
    device = resolve_device(cfg.device)
    info = DATASETS[cfg.dataset].describe(cfg.data_root)
    n_train = _n_train_classes(state, cfg, info)
    algo = build_algorithm(cfg, info, n_train)
    algo.load_state_dict(state["model"])
    return algo.to(device).eval(), cfg, device


def _n_train_classes(state: dict, cfg: RunConfig, info: DatasetInfo) -> int:
    weight = state["model"].get("classifier.weight")
    return int(weight.shape[0]) if weight is not None else info.splits["train"][0]
