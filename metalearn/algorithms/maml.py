"""MAML and first-order MAML; the shared base of ANIL and Meta-SGD."""

from __future__ import annotations

import logging
import time
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from metalearn.algorithms.base import Algorithm, accuracy, register
from metalearn.data import Episode
from metalearn.models import MLP, Conv4

log = logging.getLogger(__name__)
Params = dict[str, torch.Tensor]


def build_learner(cfg, info) -> nn.Module:
    """The sinusoid MLP (1-40-40-1) for regression; Conv4 + linear head for classification.

    Batch norm keeps no running statistics: like the original MAML it normalises every forward
    pass with the statistics of the batch at hand, at training and at test time.
    """
    if info.task == "regression":
        return MLP()
    body = Conv4(info.channels, cfg.image_size or info.image_size, running_stats=False)
    return nn.Sequential(body, nn.Linear(body.out_dim, cfg.n_way))


@register
class MAML(Algorithm):
    """Model-Agnostic Meta-Learning (Finn, Abbeel & Levine, ICML 2017, arXiv:1703.03400).

    Learns an initialisation theta such that `inner_steps` SGD steps (step `inner_lr`) on a task's
    support set give low loss on its query set; the outer Adam update differentiates through those
    inner steps (second order), or treats the inner gradients as constants (`first_order`, FOMAML).
    Fast weights are a dict of tensors applied with `torch.func.functional_call`; the tasks of a
    meta-batch are either batched with `torch.func.vmap` or processed one after another, whichever
    was measured faster on the first updates (`maml_path="auto"`), or as forced.
    """

    name = "maml"
    family = "optimization"
    summary = "MAML: learn an initialisation that adapts to a task in a few gradient steps."
    tasks = ("classification", "regression")
    same_way = True  # the output layer has n_way units: training and test way must match
    settings = ("lr", "inner_lr", "inner_steps", "inner_steps_test", "first_order", "maml_path")

    def __init__(self, cfg, info, n_train_classes):
        super().__init__(cfg, info, n_train_classes)
        self.learner = build_learner(cfg, info)
        self.regression = info.task == "regression"
        self.path = cfg.maml_path
        self._timings: dict[str, list[float]] = {"loop": [], "vmap": []}

    # -- what the subclasses change --------------------------------------------------------------
    def adapted_names(self) -> list[str]:
        """Parameters updated in the inner loop (MAML: all of them)."""
        return [n for n, _ in self.learner.named_parameters()]

    def step_size(self, name: str) -> torch.Tensor | float:
        return self.cfg.inner_lr

    # -- the inner loop --------------------------------------------------------------------------
    def task_loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(out, y) if self.regression else F.cross_entropy(out, y)

    def adapt(
        self,
        params: Params,
        x: torch.Tensor,
        y: torch.Tensor,
        steps: int,
        first_order: bool,
        batched: bool = False,
    ) -> Params:
        """`steps` SGD steps on (x, y) from `params`; returns the fast weights. One task.

        `batched`: called under `vmap`, where gradients come from `torch.func.grad`; otherwise
        from `torch.autograd.grad` (the same maths with less overhead per call).
        """
        names = self.adapted_names()
        fast = {n: params[n] for n in names}
        rest = {n: p for n, p in params.items() if n not in fast}

        def support_loss(fast_weights: Params) -> torch.Tensor:
            out = functional_call(self.learner, {**rest, **fast_weights}, (x,))
            return self.task_loss(out, y)

        fast = self.sgd_steps(support_loss, fast, steps, first_order, batched)
        return {**rest, **fast}

    def sgd_steps(
        self, loss_fn, fast: Params, steps: int, first_order: bool, batched: bool, prefix: str = ""
    ) -> Params:
        """`steps` inner SGD steps on `loss_fn(fast)`; the step size of weight n is that of
        `prefix + n` (a learner parameter name)."""
        for _ in range(steps):
            if batched:
                grads = grad(loss_fn)(fast)
            else:
                graph = not first_order and torch.is_grad_enabled()
                g = torch.autograd.grad(loss_fn(fast), list(fast.values()), create_graph=graph)
                grads = dict(zip(fast, g, strict=True))
            if first_order:  # FOMAML: the inner gradient is a constant for the outer update
                grads = {n: g.detach() for n, g in grads.items()}
            fast = {n: w - self.step_size(prefix + n) * grads[n] for n, w in fast.items()}
        return fast

    def query_loss(
        self, params: Params, xs, ys, xq, yq, steps: int, first_order: bool, batched: bool = False
    ):
        """Adapt on the support set, then (loss, outputs) on the query set. One task."""
        fast = self.adapt(params, xs, ys, steps, first_order, batched)
        out = functional_call(self.learner, fast, (xq,))
        return self.task_loss(out, yq), out

    def params(self) -> Params:
        return dict(self.learner.named_parameters())

    # -- training --------------------------------------------------------------------------------
    def loss(self, episodes: list[Episode], path: str | None = None):
        path = path or self._pick_path()
        fn = partial(self.query_loss, steps=self.cfg.inner_steps, first_order=self.cfg.first_order)
        params = self.params()
        if path == "vmap":
            stack = lambda f: torch.stack([f(e) for e in episodes])  # noqa: E731
            losses, outs = vmap(partial(fn, batched=True), in_dims=(None, 0, 0, 0, 0))(
                params,
                stack(lambda e: e.support),
                stack(lambda e: e.support_labels),
                stack(lambda e: e.query),
                stack(lambda e: e.query_labels),
            )
        else:
            pairs = [
                fn(params, e.support, e.support_labels, e.query, e.query_labels) for e in episodes
            ]
            losses, outs = torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])
        loss = losses.mean()
        metrics = {"loss": loss.detach()}
        if not self.regression:
            labels = torch.stack([e.query_labels for e in episodes])
            metrics["accuracy"] = accuracy(outs.detach(), labels)
        return loss, metrics

    def train_step(self, data, optimizer):
        if self.path != "auto":
            return super().train_step(data, optimizer)
        # Measure, do not guess: alternate the two paths for the first updates (the first of each
        # is a warm-up), then keep the faster one.
        trial = "loop" if len(self._timings["loop"]) <= len(self._timings["vmap"]) else "vmap"
        self._sync()
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss, metrics = self.loss(data, path=trial)
        loss.backward()
        optimizer.step()
        self._sync()
        self._timings[trial].append(time.perf_counter() - start)
        if min(len(t) for t in self._timings.values()) >= 3:
            best = {k: min(v[1:]) for k, v in self._timings.items()}
            self.path = min(best, key=best.get)
            log.info("maml path: %s (seconds per update: %s)", self.path, best)
        return metrics

    def _pick_path(self) -> str:
        return "loop" if self.path == "auto" else self.path

    def _sync(self) -> None:
        p = next(self.parameters())
        if p.is_cuda:
            torch.cuda.synchronize(p.device)

    # -- test ------------------------------------------------------------------------------------
    def predict(self, episode: Episode, steps: int | None = None) -> torch.Tensor:
        """Query outputs after `steps` (default `inner_steps_test`) inner steps on the support set:
        class scores [Q, n_way], or regression predictions [Q, 1]."""
        steps = self.cfg.inner_steps_test if steps is None else steps
        with torch.enable_grad():
            params = {n: p.detach().requires_grad_() for n, p in self.params().items()}
            fast = self.adapt(params, episode.support, episode.support_labels, steps, True)
        with torch.no_grad():
            return functional_call(self.learner, fast, (episode.query,))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        if self.regression:
            raise NotImplementedError
        return self.learner[0](x)
