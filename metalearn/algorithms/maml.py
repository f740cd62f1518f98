"""MAML and first-order MAML; the shared base of ANIL and Meta-SGD."""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from metalearn.algorithms.base import Algorithm, accuracy, register
from metalearn.algorithms.policy_gradient import PolicyLearner
from metalearn.algorithms.task_paths import (
    PathChooser,
    ThreadedTasks,
    candidate_paths,
    loop_step,
    timed,
    worker_module,
)
from metalearn.data import Episode
from metalearn.models import MLP, Conv4
from metalearn.models.mlp import FeatureBody
from metalearn.models.policy import GaussianPolicy
from metalearn.models.pretrained import LITE0_DIM
from metalearn.models.text import MINILM_DIM
from metalearn.models.vmap import prepared_for_vmap
from metalearn.settings import (
    BACKBONE,
    COMPILE,
    INNER_STEPS,
    INNER_STEPS_TEST,
    INPUT_SIZE,
    LITE0,
    LR,
    LR_DECAY_EVERY,
    Setting,
)

Params = dict[str, torch.Tensor]

INNER_LR = Setting(
    "inner_lr",
    float,
    0.4,
    "Adaptation step size",
    "step size of the per-task SGD steps",
    0,
    10,
    True,
)
FIRST_ORDER = Setting(
    "first_order", bool, False, "First-order (FOMAML)", "no second derivatives in the meta-update"
)
MAML_PATH = Setting(
    "maml_path",
    str,
    "auto",
    "How a meta-batch is computed",
    "auto: time the candidates on the first updates and keep the fastest (loop and threads on "
    "a CPU, loop and vmap on a GPU); vmap: tasks batched with torch.func.vmap; loop: one after "
    "another; threads: a CPU's cores split the tasks",
    choices=("auto", "vmap", "loop", "threads"),
    advanced=True,
)


def build_learner(cfg, info) -> nn.Module:
    """The sinusoid MLP (1-40-40-1) for regression; Conv4 + linear head for classification of
    images; one hidden layer + linear head over frozen pretrained features: MiniLM's for text,
    EfficientNet-Lite0's for images with `backbone` efficientnet_lite0 (the network itself never
    adapts: its features are cached); the Gaussian MLP policy (2-100-100-2) for reinforcement
    learning.

    Batch norm keeps no running statistics: like the original MAML it normalises every forward
    pass with the statistics of the batch at hand, at training and at test time.
    """
    if info.task == "regression":
        return MLP()
    if info.task == "reinforcement":
        return GaussianPolicy()
    if info.modality == "text" or cfg.hyper.get("backbone") == LITE0:
        body = FeatureBody(MINILM_DIM if info.modality == "text" else LITE0_DIM)
    else:
        body = Conv4(info.channels, cfg.image_size or info.image_size, running_stats=False)
    return nn.Sequential(body, nn.Linear(body.out_dim, cfg.n_way))


def whole_task(algo: MAML, params: Params, xs, ys, xq, yq, steps: int, first_order: bool):
    """One task's inner steps and query loss: what `compile` compiles, into one graph that holds
    the inner gradients (`torch.func.grad`) as well as the passes. The meta-gradient then
    differentiates that graph once, where differentiating the support passes' backward again
    (second-order MAML on a compiled network) is not supported."""
    return algo.adapted_query_loss(params, xs, ys, xq, yq, steps, first_order)


@register
class MAML(PolicyLearner, Algorithm):
    """Model-Agnostic Meta-Learning (Finn, Abbeel & Levine, ICML 2017, arXiv:1703.03400).

    Learns an initialisation theta such that `inner_steps` SGD steps (step `inner_lr`) on a task's
    support set give low loss on its query set; the outer Adam update differentiates through those
    inner steps (second order), or treats the inner gradients as constants (`first_order`, FOMAML).
    Fast weights are a dict of tensors applied with `torch.func.functional_call`; the tasks of a
    meta-batch are batched with `torch.func.vmap`, processed one after another, or (CPU) split
    over threads, whichever was measured fastest on the first updates (`maml_path="auto"`), or as
    forced; see `task_paths`.

    Reinforcement learning (section 5.3 of the paper): a task's support set is K trajectories
    sampled with the current policy, its inner step a vanilla policy gradient (REINFORCE with a
    linear baseline); the meta-objective is the surrogate loss of K new trajectories sampled
    with the adapted policy, differentiated through the inner step. The outer update is Adam on
    that meta-gradient where the paper used TRPO (see `meta_rl_step`).
    """

    name = "maml"
    family = "optimization"
    summary = "MAML: learn an initialisation that adapts to a task in a few gradient steps."
    formula = (
        r"\theta_i' = \theta - \alpha \nabla_\theta \mathcal{L}_{S_i}(f_\theta), \quad \theta "
        r"\leftarrow \theta - \beta \nabla_\theta \sum_i \mathcal{L}_{Q_i}(f_{\theta_i'})"
    )
    pseudocode = """\
for each meta-batch of tasks:
    for each task i: theta_i = theta - alpha * grad of its support loss (a few steps)
    meta-loss = sum of query losses at theta_i
    theta -= beta * grad of meta-loss (through the inner steps)
"""
    seed_family = "model"  # the article: it learns an initial model
    order = 30
    modalities = ("image", "text")
    kinds = {
        "classification": "episodes",
        "regression": "regression",
        "reinforcement": "rollouts",
    }
    same_way = True  # the output layer has n_way units: training and test way must match
    bench_defaults = {"meta_batch": 4}  # enough tasks for the meta-batch paths to differ
    # Conv4 adapted whole, or a head over a pretrained backbone's frozen features.
    backbones = ("conv4", "efficientnet_lite0", "minilm")
    settings = (
        BACKBONE,
        INPUT_SIZE,
        LR,
        LR_DECAY_EVERY,
        INNER_LR,
        INNER_STEPS,
        INNER_STEPS_TEST,
        FIRST_ORDER,
        MAML_PATH,
        COMPILE,
    )

    def __init__(self, cfg, info, n_train_classes):
        super().__init__(cfg, info, n_train_classes)
        self.learner = build_learner(cfg, info)
        self.regression = info.task == "regression"
        self.reinforcement = info.task == "reinforcement"
        self.path = self.hp.maml_path
        self._chooser: PathChooser | None = None
        self._threads: ThreadedTasks | None = None
        # `compile`: each training task's whole computation (see `whole_task`, `compiled_now`)
        self.compiled = torch.compile(whole_task) if getattr(self.hp, "compile", False) else None

    def compiled_now(self, batched: bool) -> bool:
        """Whether a task runs compiled: with `compile`, in training (gradients on), one task at
        a time in this thread: not under `vmap` (`batched`), nor in a "threads" worker."""
        return (
            self.compiled is not None
            and not batched
            and torch.is_grad_enabled()
            and worker_module(self.learner) is self.learner
        )

    @property
    def net(self) -> nn.Module:
        """The learner module to call functionally (a worker thread's own copy on "threads")."""
        return worker_module(self.learner)

    # -- what the subclasses change --------------------------------------------------------------
    def adapted_names(self) -> list[str]:
        """Parameters updated in the inner loop (MAML: all of them)."""
        return [n for n, _ in self.learner.named_parameters()]

    def step_size(self, name: str, step: int = 0) -> torch.Tensor | float:
        """The inner step size of learner parameter `name` at inner step `step`."""
        return self.hp.inner_lr

    def first_order_now(self) -> bool:
        """Whether this update's meta-gradient drops the second derivatives."""
        return self.hp.first_order

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
            out = functional_call(self.net, {**rest, **fast_weights}, (x,))
            return self.task_loss(out, y)

        fast = self.sgd_steps(support_loss, fast, steps, first_order, batched)
        return {**rest, **fast}

    def sgd_steps(
        self,
        loss_fn,
        fast: Params,
        steps: int,
        first_order: bool,
        batched: bool,
        prefix: str = "",
        first: int = 0,
    ) -> Params:
        """`steps` inner SGD steps on `loss_fn(fast)`, numbered from `first`; the step size of
        weight n is that of `prefix + n` (a learner parameter name) at that step."""
        for k in range(first, first + steps):
            if batched or torch.compiler.is_compiling():  # torch.func: traceable, vmappable
                grads = grad(loss_fn)(fast)
            else:
                graph = not first_order and torch.is_grad_enabled()
                # retain_graph: fast weights computed from the outer parameters (Proto-MAML's
                # prototype head) share that graph with the query loss, even first-order.
                g = torch.autograd.grad(
                    loss_fn(fast), list(fast.values()), create_graph=graph, retain_graph=True
                )
                grads = dict(zip(fast, g, strict=True))
            if first_order:  # FOMAML: the inner gradient is a constant for the outer update
                grads = {n: g.detach() for n, g in grads.items()}
            fast = {n: w - self.step_size(prefix + n, k) * grads[n] for n, w in fast.items()}
        return fast

    def query_loss(
        self, params: Params, xs, ys, xq, yq, steps: int, first_order: bool, batched: bool = False
    ):
        """Adapt on the support set, then (loss, outputs) on the query set. One task, compiled
        where `compiled_now`."""
        if self.compiled_now(batched):
            return self.compiled(self, params, xs, ys, xq, yq, steps, first_order)
        return self.adapted_query_loss(params, xs, ys, xq, yq, steps, first_order, batched)

    def adapted_query_loss(
        self, params: Params, xs, ys, xq, yq, steps: int, first_order: bool, batched: bool = False
    ):
        """The maths of `query_loss` (what the subclasses change)."""
        fast = self.adapt(params, xs, ys, steps, first_order, batched)
        out = functional_call(self.net, fast, (xq,))
        return self.task_loss(out, yq), out

    # -- training --------------------------------------------------------------------------------
    def loss(self, episodes: list[Episode], path: str | None = None):
        """Mean query loss of the meta-batch, by the "vmap" or the "loop" path (default: the
        chosen one; "threads" computes its gradients itself, see `train_step`)."""
        if path is None:
            path = self.path if self.path in ("vmap", "loop") else "loop"
        fn = partial(self.query_loss, steps=self.hp.inner_steps, first_order=self.first_order_now())
        params = self.params()
        if path == "vmap":
            stack = lambda f: torch.stack([f(e) for e in episodes])  # noqa: E731
            # e.g. the fused batch-norm kernel's double backward is wrong under vmap (models.vmap)
            with prepared_for_vmap(self.learner):
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
        return losses.mean(), self._metrics(losses, outs, episodes)

    def _metrics(self, losses, outs, episodes) -> dict[str, torch.Tensor]:
        metrics = {"loss": losses.detach().mean()}
        if not self.regression:
            labels = torch.stack([e.query_labels for e in episodes])
            metrics["accuracy"] = accuracy(outs.detach(), labels)
        return metrics

    def train_step(self, data, optimizer):
        if self.reinforcement:
            return self.meta_rl_step(data, optimizer)
        device = next(self.parameters()).device
        if self.path == "auto" and self._chooser is None:
            convolutional = any(isinstance(m, nn.Conv2d) for m in self.learner.modules())
            paths = candidate_paths(device, len(data), self.compiled is not None, convolutional)
            self._chooser = PathChooser(paths)
        path = self._chooser.next() if self.path == "auto" else self.path
        if path == "threads" and self._threads is None:
            self._threads = ThreadedTasks(self, torch.get_num_threads())
        if path == "threads":
            step = lambda: self._metrics(*self._threads.step(data, optimizer), data)  # noqa: E731
        elif path == "loop":
            step = lambda: self._metrics(*loop_step(self, data, optimizer), data)  # noqa: E731
        else:
            step = lambda: self._plain_step(data, optimizer, path)  # noqa: E731
        if self.path != "auto":
            return step()
        metrics, seconds = timed(step, device)
        self._chooser.record(path, seconds)
        if self._chooser.chosen is not None:
            self.path = self._chooser.chosen
            if self.path != "threads" and self._threads is not None:
                self._threads.close()
                self._threads = None
        return metrics

    def _plain_step(self, data, optimizer, path: str):
        """One update by `path` ("vmap": one backward pass over all tasks' batched graph)."""
        optimizer.zero_grad(set_to_none=True)
        loss, metrics = self.loss(data, path=path)
        loss.backward()
        optimizer.step()
        return metrics

    # -- reinforcement learning ------------------------------------------------------------------
    @property
    def policy(self) -> GaussianPolicy:
        return self.learner

    def policy_step_size(self, name: str, step: int):
        return self.step_size(name, step)

    def adapted_policy_names(self) -> list[str]:
        return self.adapted_names()

    def meta_rl_step(self, tasks, optimizer) -> dict[str, torch.Tensor]:
        """One meta-update on a batch of RL tasks (`meta_policy_gradient`).

        Plain Adam on the MAML meta-gradient instead of the paper's TRPO: TRPO's trust region
        (a conjugate-gradient solve with Hessian-vector products through the inner step, and a
        line search) makes each update several times dearer; Adam with a small step needs no
        second-order solve.
        """
        optimizer.zero_grad(set_to_none=True)
        _, n_shot, n_query = self.cfg.train_shape
        loss, before, after = self.meta_policy_gradient(
            tasks, (n_shot, n_query), self.hp.inner_steps, not self.first_order_now()
        )
        loss.backward()
        optimizer.step()
        return {
            "loss": loss.detach(),
            "return": after.returns.mean(),
            "return_before": before.returns.mean(),
        }

    def run_facts(self) -> dict[str, str]:
        """How the meta-batches were computed ("auto" reports what its timing chose)."""
        if self.reinforcement:
            return {}
        return {"maml_path": self.path} if self.path in ("loop", "vmap", "threads") else {}

    def params(self) -> Params:
        return dict(self.learner.named_parameters())

    # -- test ------------------------------------------------------------------------------------
    def predict(self, episode: Episode, steps: int | None = None) -> torch.Tensor:
        """Query outputs after `steps` (default `inner_steps_test`) inner steps on the support set:
        class scores [Q, n_way], or regression predictions [Q, 1]."""
        steps = self.hp.inner_steps_test if steps is None else steps
        with torch.enable_grad():
            params = {n: p.detach().requires_grad_() for n, p in self.params().items()}
            fast = self.adapt(params, episode.support, episode.support_labels, steps, True)
        with torch.no_grad():
            return functional_call(self.learner, fast, (episode.query,))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        if self.regression or self.reinforcement:
            raise NotImplementedError
        return self.learner[0](x)
