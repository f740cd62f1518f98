"""The training loop, shared by every algorithm. It reports through callbacks and never syncs the
device per step: metrics stay tensors until a log point, every `log_every` episodes."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from metalearn.algorithms import Algorithm
from metalearn.config import RunConfig
from metalearn.data import DataError, Split
from metalearn.engine.kinds import RunKind
from metalearn.engine.memory import current_rss_mb, peak_memory, reset_peak

log = logging.getLogger(__name__)

MetricsFn = Callable[[int, dict[str, float]], None]
STOP_POLL_SECONDS = 0.5
CHECKPOINT_SECONDS = 30.0  # a killed worker loses at most this much training


@dataclass
class TrainStats:
    episodes: int = 0  # training episodes (or batches) done, resumed ones included
    train_seconds: float = 0.0  # time spent in training steps only (no validation, no I/O)
    stopped: bool = False
    # What training itself held (`Trainer.fit`): train_memory_mb, the peak resident memory above
    # that at its start (activations, gradients, optimiser state, batches; Linux); on CUDA
    # train_peak_gpu_mb; setup_peak_rss_mb, the peak before it (loading data, building).
    memory: dict[str, float] = field(default_factory=dict)

    @property
    def episodes_per_second(self) -> float:
        return self.episodes / self.train_seconds if self.train_seconds > 0 else 0.0


class Trainer:
    """Trains `algo` on what its run `kind` samples from `train`, for `cfg.episodes` episodes,
    validating on `val` now and then (as the kind validates).

    Args:
        on_metrics: called with (episode, {name: value}) at each log point and validation.
        should_stop: polled at log points; True ends training early (the run counts as stopped).
        checkpoint_path: where checkpoints go; None disables them.
        on_snapshot: called with the episode count at the start and after every tenth of training
            (the embeddings view saves its snapshots there).
    """

    def __init__(
        self,
        cfg: RunConfig,
        algo: Algorithm,
        kind: RunKind,
        train: Split | None,
        val: Split | None,
        device: torch.device,
        on_metrics: MetricsFn | None = None,
        should_stop: Callable[[], bool] | None = None,
        checkpoint_path: Path | None = None,
        on_snapshot: Callable[[int], None] | None = None,
    ):
        self.cfg, self.algo, self.kind, self.train_split, self.val = cfg, algo, kind, train, val
        self.device = device
        self.on_metrics = on_metrics or (lambda step, values: None)
        self.should_stop = should_stop or (lambda: False)
        self.checkpoint_path = checkpoint_path
        self.on_snapshot = on_snapshot
        self.optimizer = algo.make_optimizer()
        self.stats = TrainStats()
        self.sampler = kind.training_data(cfg, train, device)  # sampler() -> one update's data
        # A trainer feature any algorithm may declare (most do, through the shared declaration).
        self.lr_decay_every = getattr(algo.hp, "lr_decay_every", 0)

    def fit(self) -> TrainStats:
        cfg, stats = self.cfg, self.stats
        per_update = self.kind.per_update(cfg)
        pending: list[dict[str, torch.Tensor]] = []
        next_log = stats.episodes + cfg.log_every
        next_val = stats.episodes + cfg.val_every if cfg.val_every else None
        next_ckpt = stats.episodes + cfg.checkpoint_every if cfg.checkpoint_every else None
        snap_every = max(1, cfg.episodes // 10)
        next_snap = (stats.episodes // snap_every + 1) * snap_every
        if self.on_snapshot and stats.episodes == 0:
            self.on_snapshot(0)
        self.algo.train()
        device = str(self.device)
        setup = peak_memory(device).get("peak_rss_mb")
        reset_peak(device)
        start = current_rss_mb()
        tick = time.perf_counter()
        last_poll = last_ckpt = time.perf_counter()
        while stats.episodes < cfg.episodes:
            if self.lr_decay_every:
                self._decay_lr()
            if cfg.max_seconds:  # schedules over the run follow the time budget too
                spent = stats.train_seconds + time.perf_counter() - tick
                self.algo.run_fraction = min(1.0, spent / cfg.max_seconds)
            pending.append(self.algo.train_step(self.sampler(), self.optimizer))
            stats.episodes += per_update
            stop = False
            if time.perf_counter() - last_poll >= STOP_POLL_SECONDS:  # a stop acts within ~0.5 s
                last_poll = time.perf_counter()
                stop = self.should_stop()
                spent = stats.train_seconds + last_poll - tick
                out_of_time = cfg.max_seconds is not None and spent >= cfg.max_seconds
            else:
                out_of_time = False
            if stop or out_of_time or stats.episodes >= next_log or stats.episodes >= cfg.episodes:
                values = {k: torch.stack([m[k] for m in pending]).mean() for k in pending[0]}
                values = {k: float(v) for k, v in values.items()}  # the one sync per log point
                if not math.isfinite(values.get("loss", 0.0)):
                    raise Diverged(stats.episodes, values["loss"])
                pending.clear()
                now = time.perf_counter()
                stats.train_seconds += now - tick
                values["episodes_per_second"] = stats.episodes_per_second
                values["train_seconds"] = stats.train_seconds
                self.on_metrics(stats.episodes, values)
                next_log = stats.episodes + cfg.log_every
                if next_val is not None and stats.episodes >= next_val:
                    self.on_metrics(stats.episodes, self.validate())
                    next_val = stats.episodes + cfg.val_every
                due = next_ckpt is not None and stats.episodes >= next_ckpt
                if due or time.perf_counter() - last_ckpt >= CHECKPOINT_SECONDS:
                    self.save_checkpoint()
                    last_ckpt = time.perf_counter()
                    if next_ckpt is not None:
                        next_ckpt = stats.episodes + cfg.checkpoint_every
                if self.on_snapshot and stats.episodes >= next_snap:
                    self.on_snapshot(stats.episodes)
                    self.algo.train()
                    next_snap = (stats.episodes // snap_every + 1) * snap_every
                if stop:
                    stats.stopped = True
                    break
                if cfg.max_seconds is not None and stats.train_seconds >= cfg.max_seconds:
                    break  # the time budget is spent: the run completes with what it learned
                tick = time.perf_counter()
        during = peak_memory(device)
        if start is not None and "peak_rss_mb" in during:
            stats.memory["train_memory_mb"] = during["peak_rss_mb"] - start
            stats.memory["setup_peak_rss_mb"] = setup
        if "peak_gpu_mb" in during:
            stats.memory["train_peak_gpu_mb"] = during["peak_gpu_mb"]
        if self.checkpoint_path is not None:
            self.save_checkpoint()
        return stats

    def _decay_lr(self) -> None:
        """Halves every learning rate each `lr_decay_every` episodes. The rate follows from the
        episode count alone, so a resumed run continues on the same schedule."""
        factor = 0.5 ** (self.stats.episodes // self.lr_decay_every)
        for group in self.optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
            group["lr"] = group["initial_lr"] * factor

    def validate(self) -> dict[str, float]:
        """The kind's validation metric on its fixed validation episodes (or tasks)."""
        return self.kind.validate(self.algo, self.cfg, self.val, self.device)

    # -- checkpoints --------------------------------------------------------------------------
    def save_checkpoint(self) -> None:
        """Writes model, optimiser and sampler state atomically (never a half-written file)."""
        if self.checkpoint_path is None:
            return
        state = {
            "config": self.cfg.to_json(),
            "n_train_classes": self.algo.n_train_classes,  # what rebuilding the model needs
            "episodes": self.stats.episodes,
            "train_seconds": self.stats.train_seconds,
            "model": self.algo.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "sampler_rng": self.sampler.generator.get_state(),
            "torch_rng": torch.get_rng_state(),  # e.g. MANN's sequence orders
        }
        tmp = self.checkpoint_path.with_suffix(".tmp")
        try:
            torch.save(state, tmp)
            tmp.replace(self.checkpoint_path)
        except (OSError, RuntimeError) as err:  # torch words a short write as a RuntimeError
            tmp.unlink(missing_ok=True)  # the last good checkpoint stays as it was
            raise DiskFull(f"the checkpoint {self.checkpoint_path.name}", err) from None

    def load_checkpoint(self, path: Path) -> None:
        """Continues from a checkpoint.

        Raises:
            DataError: it is unreadable, or does not fit this run's model and optimizer.
        """
        state = load_checkpoint(path)
        try:
            self.algo.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.sampler.generator.set_state(state["sampler_rng"])
            if "torch_rng" in state:
                torch.set_rng_state(state["torch_rng"])
            self.stats.episodes = int(state["episodes"])
            self.stats.train_seconds = float(state["train_seconds"])
        except (KeyError, TypeError, ValueError, RuntimeError) as err:
            text = f"missing {err}" if isinstance(err, KeyError) else str(err).splitlines()[0]
            raise DataError(
                f"checkpoint {path.name} does not fit this run's model ({text[:300]}); "
                "launch the run again instead of resuming it"
            ) from None


class DiskFull(OSError):
    """A write that failed for want of room (disk full, quota or file-size limit)."""

    def __init__(self, what: str, err: Exception):
        super().__init__(
            f"disk full while writing {what} (or a quota or file-size limit reached): "
            f"{str(err).splitlines()[0][:200]}; free some space, then resume the run"
        )


class Diverged(RuntimeError):
    """Training ran away: the loss is no longer a finite number (no checkpoint is written over
    the last good one)."""

    def __init__(self, episode: int, loss: float):
        super().__init__(
            f"training diverged at episode {episode}: the loss became {loss}. Lower the "
            "learning rate (lr) or the inner step size (inner_lr), then launch it again"
        )


def load_checkpoint(path: Path) -> dict:
    """Reads a checkpoint with `weights_only=True` (no arbitrary code from the file)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as err:
        raise DataError(f"checkpoint {path} does not exist") from err
    except Exception as err:
        raise DataError(f"checkpoint {path} is corrupt or unreadable: {err}") from err
