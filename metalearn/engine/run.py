"""One run from start to finish, over its kind: validate, train, test, record in the store.

Used by the CLI and by the dashboard's worker processes alike, so both record runs the same way.
"""

from __future__ import annotations

import errno
import json
import logging
import sqlite3
from collections.abc import Callable
from typing import Any

import torch

from metalearn.algorithms import Algorithm
from metalearn.config import ConfigError, RunConfig
from metalearn.data import DataError
from metalearn.engine.build import build_algorithm
from metalearn.engine.device import describe_device, resolve_device
from metalearn.engine.evaluate import mean_ci95
from metalearn.engine.kinds import Context, kind_of
from metalearn.engine.memory import (
    keep_freed_memory,
    memory_problems,
    peak_memory,
    reset_peak,
)
from metalearn.engine.trainer import DiskFull, Diverged, load_checkpoint
from metalearn.engine.validate import stored, validate
from metalearn.store import NoSuchRun, Store

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, dict[str, float]], None]


def execute(
    cfg: RunConfig,
    store: Store,
    run_id: str,
    resume: bool = False,
    progress: ProgressFn | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Runs `run_id` (already created in `store`) as its kind runs, and returns its result,
    also stored.

    Raises:
        ConfigError, DataError: bad settings or data (the run is marked failed first).
    """
    try:
        cfg = validate(cfg)
        kind = kind_of(cfg)
        device = resolve_device(cfg.device)
        if device.type == "cuda":  # its free memory, known once CUDA has started
            torch.cuda.init()
            if out := memory_problems(kind.memory(cfg, kind.describe(cfg)), str(device)):
                raise ConfigError(out)
        store.start_run(run_id, describe_device(device))
        store.run_dir(run_id)  # the run's folder, for its checkpoint and artifacts

        def on_metrics(step: int, values: dict[str, float]) -> None:
            store.log_metrics(run_id, step, values)
            if progress:
                progress(step, values)

        ctx = Context(cfg, store, run_id, device, resume, on_metrics, should_stop)
        keep_freed_memory()
        reset_peak(str(device))
        result = kind.run(ctx)
        peak = peak_memory(str(device))  # since training began, where a trainer reset it
        setup = result.pop("setup_peak_rss_mb", None)
        if "peak_rss_mb" in peak and setup is not None:
            peak["peak_rss_mb"] = max(peak["peak_rss_mb"], setup)
        result.update(peak)
    except BaseException as err:
        if isinstance(err, KeyboardInterrupt) and should_stop is not None and should_stop():
            # Interrupted because a stop was asked for (a Ray task cancelled as it started,
            # before its driver knew it had): stopped, as asked, not failed.
            store.finish_run(run_id, "stopped", error="stopped as it started")
            raise
        reason = describe_failure(err, cfg)
        try:
            store.finish_run(run_id, "failed", error=reason)
        except sqlite3.Error as db_err:  # e.g. the disk is full: leave the reason in the folder
            store.note_failure(run_id, f"{reason} (the store could not record it: {db_err})")
        raise
    result.update(
        run_id=run_id,
        algorithm=cfg.algorithm,
        dataset=cfg.dataset,
        device=describe_device(device),
        kind=kind.name,
        pairing_key=kind.pairing_key(cfg),
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
        or "can't allocate memory" in str(err).lower()  # the CPU allocator's words
    ):
        batch = cfg.hyper.get("batch_size")
        return (
            f"out of memory on {cfg.device}: the run's batch does not fit. Try a smaller "
            f"meta_batch (now {cfg.meta_batch}), n_way / n_query (now {cfg.n_way} / "
            f"{cfg.n_query})"
            + (f", batch_size (now {batch})" if batch else "")
            + f", a smaller image_size or backbone. ({text[:300]})"
        )
    if isinstance(err, KeyboardInterrupt):
        return "interrupted (Ctrl-C or SIGINT); resume it from its last checkpoint"
    if isinstance(err, (DiskFull, Diverged)):
        return str(err)
    if isinstance(err, sqlite3.OperationalError) and ("disk" in str(err) or "full" in str(err)):
        return str(DiskFull("the run store", err))
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        return str(DiskFull(f"{getattr(err, 'filename', None) or 'a file'}", err))
    return text


def evaluate_run(
    store: Store,
    run_id: str,
    eval_episodes: int | None = None,
    n_way: int | None = None,
    n_shot: int | None = None,
    support_finetune_steps: int | None = None,
    support_finetune_lr: float | None = None,
) -> dict[str, Any]:
    """Re-tests a finished run from its checkpoint on its kind's seeded test episodes, of its
    own shape or of another `n_way` / `n_shot` (e.g. a 5-way model on 20-way episodes), and
    with or without P>M>F's fine-tuning on each test task's support set
    (`support_finetune_steps`, `support_finetune_lr`; None: as the run was trained)."""
    algo, cfg, device = restore(store, run_id)
    tuning = {
        k: v
        for k, v in (
            ("support_finetune_steps", support_finetune_steps),
            ("support_finetune_lr", support_finetune_lr),
        )
        if v is not None
    }
    if n_way is not None or n_shot is not None or tuning:
        shape = {"n_way": n_way or cfg.n_way, "n_shot": n_shot or cfg.n_shot}
        if algo.same_way and shape["n_way"] != cfg.n_way:
            raise ConfigError(
                [f"{cfg.algorithm} has {cfg.n_way} output units; it cannot test {n_way}-way"]
            )
        changed = {**shape, "train_way": cfg.train_shape[0], "hyper": {**cfg.hyper, **tuning}}
        cfg = validate(RunConfig(**{**cfg.to_dict(), **changed}))
        for name, value in tuning.items():  # read at test time only: the model is the same
            setattr(algo.hp, name, value)
    kind = kind_of(cfg)
    test = kind.load(cfg, "test")
    n = eval_episodes or cfg.eval_episodes
    scores = kind.evaluate(algo, cfg, test, device, n, "test")
    mean, ci = mean_ci95(scores.values)
    return {
        "run_id": run_id,
        "n_way": cfg.n_way,
        "n_shot": cfg.n_shot,
        **tuning,
        kind.metric: mean,
        kind.ci_key: ci,
        "eval_episodes": len(scores.values),
        "pairing_key": kind.pairing_key(cfg),
    }


def restore(store: Store, run_id: str) -> tuple[Algorithm, RunConfig, torch.device]:
    """The trained algorithm of a run, from its checkpoint, in eval mode.

    Raises:
        NoSuchRun: no run has this id.
        DataError: its checkpoint is missing or unreadable.
    """
    if store.get_run(run_id) is None:
        raise NoSuchRun(run_id)
    state = load_checkpoint(store.artifact(run_id, "checkpoint"))
    try:
        cfg = stored(json.loads(state["config"]))
        device = resolve_device(cfg.device)
        algo = model_from(state, cfg)
    except (KeyError, TypeError, RuntimeError, json.JSONDecodeError) as err:
        raise misfit(run_id, err) from None
    return algo.to(device).eval(), cfg, device


def model_from(state: dict, cfg: RunConfig) -> Algorithm:
    """The algorithm `cfg` builds, holding a checkpoint's weights (`state`: as `load_checkpoint`
    reads it).

    Raises:
        KeyError, RuntimeError, TypeError: the weights do not fit the model.
    """
    algo = build_algorithm(cfg, _n_train_classes(state, cfg))
    algo.load_state_dict(state["model"])
    return algo


def misfit(run_id: str, err: Exception) -> DataError:
    """A checkpoint that loads but does not fit its run's model (wrong keys or shapes)."""
    text = f"missing {err}" if isinstance(err, KeyError) else str(err).splitlines()[0][:300]
    return DataError(
        f"the checkpoint of run {run_id} (checkpoint.pt) does not fit its model ({text}); "
        "train the run again"
    )


def _n_train_classes(state: dict, cfg: RunConfig) -> int:
    if "n_train_classes" in state:
        return int(state["n_train_classes"])
    # Checkpoints written before they recorded it: the classifier's rows, else the split's size.
    weight = state["model"].get("classifier.weight")
    if weight is not None:
        return int(weight.shape[0])
    return kind_of(cfg).describe(cfg).splits["train"][0]
