"""How the tasks of a MAML-family meta-batch are computed, and picking the fastest by measuring.

Three paths do the same maths (the meta-gradient is the mean of the tasks' query-loss gradients):

- "loop": one task after another in this thread, a backward pass per task, so that memory holds
  one task's graph at a time (`task_gradients`). Fewest operations per task.
- "vmap": all tasks in one batched computation (`torch.func.vmap`): per-task weights become
  grouped convolutions. Many small kernels become few big ones: the fast path on a GPU, and the
  slow one on a small CPU (grouped convolutions' second derivatives are slow there), where "auto"
  no longer tries it.
- "threads": CPU only. The tasks are split over worker threads, each running its share as a loop
  (a backward pass per task) with one intra-op thread. The tensors of one task are small (a
  5-way episode on 28x28 images), so splitting each operation over cores (PyTorch's intra-op
  parallelism) leaves cores idle at every synchronisation; splitting the tasks keeps them busy.
  `functional_call` swaps a module's attributes while it runs, so each worker thread uses its
  own copy of the learner module (the weights themselves always come from the dict of fast
  weights, never from the copy).

`PathChooser` times the candidates on the first updates (the first of each is a warm-up) and
keeps the fastest: measured, not guessed, on the machine at hand.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import torch
from torch import nn

log = logging.getLogger(__name__)

TRIALS = 4  # timed updates per candidate path; the first is a warm-up
_worker = threading.local()  # a worker thread's own copy of the learner module


def worker_module(default: nn.Module) -> nn.Module:
    """The module to call functionally: in a `ThreadedTasks` worker its private copy of the
    learner, elsewhere `default`."""
    own = getattr(_worker, "learner", None)
    return own if own is not None else default


def candidate_paths(
    device: torch.device, meta_batch: int, compiled: bool = False, convolutional: bool = True
) -> tuple[str, ...]:
    """The paths worth timing. On a GPU "loop" and "vmap". On a CPU "loop", and "threads" with
    at least 2 threads and 2 tasks, unless `compiled` (`compile` runs on the loop path only);
    "vmap" on a CPU only for a learner without convolutions (`convolutional` False: the
    sinusoid MLP, 3.0x the loop's updates per second here): for a conv net it took 2.2-2.5x as
    long as the loop on this project's 2-core CPU (docs/benchmarks.md, the peer race) and its
    trial updates alone raised the peak memory of a meta-batch of 16 from 1.0 to 2.7-2.9 GB."""
    if device.type == "cpu":
        paths = ("loop",)
        if meta_batch >= 2 and torch.get_num_threads() >= 2 and not compiled:
            paths += ("threads",)
        if meta_batch >= 2 and not convolutional and not compiled:
            paths += ("vmap",)
        return paths
    return ("loop", "vmap")


class PathChooser:
    """Round-robin trials of each candidate path, then the fastest one for good."""

    def __init__(self, candidates: tuple[str, ...]):
        self.timings: dict[str, list[float]] = {p: [] for p in candidates}
        self.chosen: str | None = None

    def next(self) -> str:
        return self.chosen or min(self.timings, key=lambda p: len(self.timings[p]))

    def record(self, path: str, seconds: float) -> None:
        self.timings[path].append(seconds)
        if self.chosen is None and min(len(t) for t in self.timings.values()) >= TRIALS:
            best = {p: min(t[1:]) for p, t in self.timings.items()}
            self.chosen = min(best, key=best.get)
            log.info("maml path: %s (seconds per update: %s)", self.chosen, best)


class ThreadedTasks:
    """Runs a meta-batch's tasks on `n_threads` worker threads (CPU), summing their gradients.

    Args:
        algo: a MAML-family algorithm: `query_loss(params, xs, ys, xq, yq, steps, first_order)`
            for one task, `params()` the learner's weights, `learner` the module; its functional
            calls go through `worker_module(algo.learner)`.
        n_threads: worker threads; each takes a contiguous share of the tasks, so the sum (and
            the result) does not depend on scheduling.
    """

    def __init__(self, algo: nn.Module, n_threads: int):
        self.algo, self.n_threads = algo, n_threads
        # Workers are this object's alone, so a worker's copy belongs to this algorithm.
        self.pool = ThreadPoolExecutor(n_threads, thread_name_prefix="maml-task")

    def _share(self, episodes, n_total: int):
        """One worker's tasks, on its own copy of the learner module (see `task_gradients`)."""
        if getattr(_worker, "learner", None) is None:
            _worker.learner = copy.deepcopy(self.algo.learner)
        return task_gradients(self.algo, episodes, n_total)

    def step(self, episodes, optimizer: torch.optim.Optimizer):
        """One outer update; returns (query losses [T], query outputs [T, Q, ...])."""
        n = min(self.n_threads, len(episodes))
        bounds = [round(i * len(episodes) / n) for i in range(n + 1)]
        shares = [episodes[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
        intra = torch.get_num_threads()
        torch.set_num_threads(1)  # the workers are the parallelism; no nested thread teams
        try:
            results = list(self.pool.map(lambda s: self._share(s, len(episodes)), shares))
        finally:
            torch.set_num_threads(intra)
        grads = [sum_grads(parts) for parts in zip(*(r[0] for r in results), strict=True)]
        apply(self.algo, grads, optimizer)
        losses = torch.stack([loss for r in results for loss in r[1]])
        outs = torch.stack([out for r in results for out in r[2]])
        return losses, outs

    def close(self) -> None:
        self.pool.shutdown(wait=False)


def task_gradients(algo: nn.Module, episodes, n_total: int):
    """Sum over `episodes` of the gradient of (query loss / `n_total`) with respect to every
    trainable tensor of `algo`, one backward pass per task: each task's graph is freed before the
    next one is built, so memory holds one task's graph, not the meta-batch's.

    Returns:
        (gradients, one per trainable tensor, None where none flows; each task's loss [];
        each task's query outputs [Q, ...]), the last two detached.
    """
    params = algo.params()
    trainable = [p for p in algo.parameters() if p.requires_grad]
    sums: list[torch.Tensor | None] = [None] * len(trainable)
    losses, outs = [], []
    for e in episodes:
        loss, out = algo.query_loss(
            params,
            e.support,
            e.support_labels,
            e.query,
            e.query_labels,
            algo.hp.inner_steps,
            algo.first_order_now(),
        )
        grads = torch.autograd.grad(loss / n_total, trainable, allow_unused=True)
        sums = [sum_grads((s, g)) for s, g in zip(sums, grads, strict=True)]
        losses.append(loss.detach())
        outs.append(out.detach())
    return sums, losses, outs


def sum_grads(parts) -> torch.Tensor | None:
    """The sum of the gradients in `parts` that are not None (None if all are)."""
    present = [g for g in parts if g is not None]
    if not present:
        return None
    total = present[0]
    for g in present[1:]:
        total = total + g
    return total


def apply(algo: nn.Module, grads: list[torch.Tensor | None], optimizer) -> None:
    """Sets each trainable tensor's .grad (in `algo.parameters()` order) and steps."""
    optimizer.zero_grad(set_to_none=True)
    trainable = [p for p in algo.parameters() if p.requires_grad]
    for p, g in zip(trainable, grads, strict=True):
        p.grad = g
    optimizer.step()


def loop_step(algo: nn.Module, episodes, optimizer):
    """One outer update with the tasks one after another in this thread, a backward pass per
    task (`task_gradients`); returns (query losses [T], query outputs [T, Q, ...])."""
    grads, losses, outs = task_gradients(algo, episodes, len(episodes))
    apply(algo, grads, optimizer)
    return torch.stack(losses), torch.stack(outs)


def timed(fn, device: torch.device):
    """(fn(), seconds), synchronising a CUDA device before and after."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    out = fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return out, time.perf_counter() - start
