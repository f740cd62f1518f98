"""Reptile: first-order meta-learning by moving the initialisation toward adapted weights."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from metalearn.algorithms.base import Algorithm, accuracy, register
from metalearn.algorithms.maml import build_learner
from metalearn.algorithms.policy_gradient import PolicyLearner, pg_step, sample
from metalearn.data import Episode
from metalearn.models.vmap import prepared_for_vmap
from metalearn.settings import BACKBONE, INNER_STEPS, INNER_STEPS_TEST, INPUT_SIZE, Setting

Params = dict[str, torch.Tensor]

INNER_LR = Setting(
    "inner_lr", float, 1e-3, "Adaptation step size", "of the per-task optimiser", 0, 10, True
)
INNER_OPTIMIZER = Setting(
    "inner_optimizer",
    str,
    "adam",
    "Adaptation optimiser",
    "adam (beta1 = 0, as in the paper) or plain sgd, for the per-task steps",
    choices=("adam", "sgd"),
)
INNER_BATCH = Setting(
    "inner_batch", int, 10, "Examples per adaptation step", "mini-batch of a task's data", 1
)
OUTER_STEP = Setting(
    "outer_step",
    float,
    1.0,
    "Meta step size (epsilon)",
    "how far the initialisation moves toward the adapted weights; annealed linearly to 0",
    0,
    1,
)
TRANSDUCTIVE = Setting(
    "transductive",
    bool,
    False,
    "Transductive test",
    "batch norm over all queries of an episode at once (the paper's headline numbers); off: "
    "each query is normalised with the support set alone",
)


class AdamMoments(nn.Module):
    """The adaptation optimiser's second moments, one per learner weight, and its step count:
    kept across tasks and meta-batches for the whole run, as in the paper's code (it resets the
    weights after each task, never the optimiser's slots), and saved with the model. Test-time
    adaptation starts from them without changing them."""

    def __init__(self, learner: nn.Module):
        super().__init__()
        self.names = [n for n, _ in learner.named_parameters()]
        for i, (_, p) in enumerate(learner.named_parameters()):
            self.register_buffer(f"v{i}", torch.zeros_like(p))
        self.register_buffer("t", torch.zeros((), dtype=torch.long))

    def get(self) -> tuple[Params, int]:
        return {n: getattr(self, f"v{i}") for i, n in enumerate(self.names)}, int(self.t)

    def keep(self, v: Params, t: int) -> None:
        for i, n in enumerate(self.names):
            getattr(self, f"v{i}").copy_(v[n])
        self.t.fill_(t)

    def _load_from_state_dict(self, state_dict, prefix, meta, strict, missing, *rest):
        super()._load_from_state_dict(state_dict, prefix, meta, strict, missing, *rest)
        # models saved before the moments were kept start from zeros
        missing[:] = [k for k in missing if not k.startswith(prefix)]


@register
class Reptile(PolicyLearner, Algorithm):
    """Reptile (Nichol, Achiam & Schulman, "On First-Order Meta-Learning Algorithms",
    arXiv:1803.02999, 2018).

    For each task of a meta-batch, `inner_steps` optimiser steps (Adam with beta1 = 0, its
    second moments carried from task to task as in the paper's code, or SGD; on mini-batches of
    `inner_batch` of the task's examples, support and query pooled) take the initialisation phi
    to weights W_i; then phi <- phi + epsilon * mean_i(W_i - phi), with
    epsilon annealed linearly from `outer_step` to 0 over the run. No second derivatives, no
    query/support split in training. At test time the support set is fitted with
    `inner_steps_test` steps; unless `transductive`, batch norm sees the support set and one
    query at a time, so no query informs another's prediction.

    Reinforcement learning: W_i is `inner_steps` vanilla policy-gradient steps (step size
    `inner_lr`, K fresh trajectories each) from phi on task i, the same steps as MAML's inner
    loop and as every learner's adaptation at test time (the RL inner steps use no Adam).
    """

    name = "reptile"
    family = "optimization"
    summary = "Reptile: fit each task, then move the initialisation toward the fitted weights."
    formula = (
        r"W_i = \mathrm{SGD}_k(\phi;\ \tau_i), \quad \phi \leftarrow \phi + \epsilon\, "
        r"\frac{1}{n}\sum_{i=1}^{n} \left(W_i - \phi\right)"
    )
    pseudocode = """\
for each meta-batch of tasks:
    for each task i: W_i = k optimiser steps from phi on the task's examples
    phi += epsilon * mean(W_i - phi)      (no second derivatives)
at test: k' steps on the support set from phi
"""
    seed_family = "model"  # the article: it learns an initial model
    order = 45
    modalities = ("image", "text")
    kinds = {
        "classification": "episodes",
        "regression": "regression",
        "reinforcement": "rollouts",
    }
    same_way = True  # the output layer has n_way units
    backbones = ("conv4", "efficientnet_lite0", "minilm")  # see MAML
    settings = (
        BACKBONE,
        INPUT_SIZE,
        INNER_LR,
        INNER_OPTIMIZER,
        INNER_STEPS.but(default=5),
        INNER_STEPS_TEST.but(default=50),
        INNER_BATCH,
        OUTER_STEP,
        TRANSDUCTIVE,
    )

    def __init__(self, cfg, info, n_train_classes):
        super().__init__(cfg, info, n_train_classes)
        self.learner = build_learner(cfg, info)
        self.regression = info.task == "regression"
        self.reinforcement = info.task == "reinforcement"
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))  # for the annealing
        self.moments = AdamMoments(self.learner)

    def make_optimizer(self) -> torch.optim.Optimizer:
        # phi <- phi - lr * (phi - mean W): the meta-update as an SGD step on the "Reptile
        # gradient"; train_step sets lr to the annealed epsilon.
        return torch.optim.SGD(self.parameters(), lr=self.hp.outer_step)

    def task_loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(out, y) if self.regression else F.cross_entropy(out, y)

    def fit(self, x: torch.Tensor, y: torch.Tensor, steps: int, generator=None):
        """`steps` optimiser steps from phi on mini-batches of (x, y), shuffled once by
        `generator` (None: torch's global one), torch's Adam starting from the kept moments and
        leaving them for the next task; returns (W, last loss, outputs of the last mini-batch,
        its labels). x [N, ...], y [N] (or [N, 1] for regression)."""
        w = {n: p.detach().clone().requires_grad_() for n, p in self.learner.named_parameters()}
        adam = self.hp.inner_optimizer == "adam"
        if adam:  # beta1 = 0: no momentum, as in the paper
            opt = torch.optim.Adam(w.values(), lr=self.hp.inner_lr, betas=(0.0, 0.999))
            v, t0 = self.moments.get()
            for n, p in w.items():
                step = torch.tensor(float(t0))
                opt.state[p] = {"step": step, "exp_avg": torch.zeros_like(p), "exp_avg_sq": v[n]}
        else:
            opt = torch.optim.SGD(w.values(), lr=self.hp.inner_lr)
        loss, out, yb = torch.zeros(()), None, y
        order = torch.randperm(len(x), generator=generator).to(x.device)
        b = min(self.hp.inner_batch, len(x))
        for t in range(steps):
            idx = order[(t * b) % len(x) :][:b]
            xb, yb = x[idx], y[idx]
            with torch.enable_grad():
                opt.zero_grad()
                out = functional_call(self.learner, w, (xb,))
                loss = self.task_loss(out, yb)
                loss.backward()
            opt.step()
        if adam:
            self.moments.keep({n: opt.state[p]["exp_avg_sq"] for n, p in w.items()}, t0 + steps)
        return w, loss.detach(), (out.detach() if out is not None else None), yb

    def inner_step(self, w: Params, g: Params, v: Params, t: int) -> tuple[Params, Params]:
        """One adaptation step: Adam with beta1 = 0 (v: second moments, t: the step's number,
        counted as the moments were) or SGD. -> (weights, moments)."""
        if self.hp.inner_optimizer == "adam":
            v = {n: 0.999 * v[n] + 0.001 * g[n] * g[n] for n in w}
            g = {n: g[n] / ((v[n] / (1 - 0.999**t)).sqrt() + 1e-8) for n in w}
        return {n: w[n] - self.hp.inner_lr * g[n] for n in w}, v

    def epsilon(self) -> float:
        """The meta step size now: `outer_step`, annealed linearly to 0 over the run."""
        return self.hp.outer_step * (1.0 - self.run_progress(int(self.updates)))

    def train_step(self, episodes: list[Episode], optimizer) -> dict[str, torch.Tensor]:
        if self.reinforcement:
            return self.rl_step(episodes, optimizer)
        phi = dict(self.learner.named_parameters())
        delta = {n: torch.zeros_like(p) for n, p in phi.items()}
        losses, accs = [], []
        for e in episodes:
            x = torch.cat([e.support, e.query])
            y = torch.cat([e.support_labels, e.query_labels])
            w, loss, out, yb = self.fit(x, y, self.hp.inner_steps)
            for n in delta:
                delta[n] += (w[n].detach() - phi[n].detach()) / len(episodes)
            losses.append(loss)
            if not self.regression and out is not None:
                accs.append(accuracy(out, yb))
        for group in optimizer.param_groups:
            group["lr"] = self.epsilon()
        optimizer.zero_grad(set_to_none=True)
        for n, p in phi.items():
            p.grad = -delta[n]  # SGD: phi - eps * (-(mean W - phi)) = phi + eps * (mean W - phi)
        optimizer.step()
        self.updates += 1
        metrics = {"loss": torch.stack(losses).mean()}
        if accs:
            metrics["accuracy"] = torch.stack(accs).mean()
        return metrics

    # -- reinforcement learning ------------------------------------------------------------------
    @property
    def policy(self):
        return self.learner

    def policy_step_size(self, name: str, step: int) -> float:
        return self.hp.inner_lr

    def rl_step(self, tasks, optimizer) -> dict[str, torch.Tensor]:
        """phi += epsilon * mean_i(W_i - phi), W_i: policy-gradient steps on task i (all
        tasks at once, weights [T, ...])."""
        phi = dict(self.learner.named_parameters())
        fast = {n: p.detach().expand(len(tasks), *p.shape).clone() for n, p in phi.items()}
        returns = []
        for _ in range(self.hp.inner_steps):
            batch = sample(self.learner, fast, tasks, self.cfg.train_shape[1])
            returns.append(batch.returns.mean())
            with torch.enable_grad():
                fast = {n: p.requires_grad_() for n, p in fast.items()}
                fast = pg_step(self.learner, fast, batch, lambda n: self.hp.inner_lr)
            fast = {n: p.detach() for n, p in fast.items()}
        for group in optimizer.param_groups:
            group["lr"] = self.epsilon()
        optimizer.zero_grad(set_to_none=True)
        for n, p in phi.items():
            p.grad = p.detach() - fast[n].mean(0)  # SGD: phi + eps * (mean W - phi)
        optimizer.step()
        self.updates += 1
        return {"loss": -returns[-1], "return": returns[-1], "return_before": returns[0]}

    def adapted(self, xs: torch.Tensor, ys: torch.Tensor, steps: int, batched=False) -> Params:
        """The weights after `steps` steps on one support set, written functionally (as `fit`,
        from the training's moments, which it leaves as they were) so that `vmap` can adapt many
        test episodes at once (`batched`: gradients from `torch.func.grad`).
        xs [S, ...], ys [S] -> weights."""
        w = {n: p.detach() for n, p in self.learner.named_parameters()}
        if not batched:
            w = {n: p.requires_grad_() for n, p in w.items()}
        v, t0 = self.moments.get()
        order = torch.randperm(len(xs), generator=torch.Generator().manual_seed(self.cfg.seed))
        b = min(self.hp.inner_batch, len(xs))

        def loss(weights, x, y):
            return self.task_loss(functional_call(self.learner, weights, (x,)), y)

        for t in range(1, steps + 1):
            idx = order[((t - 1) * b) % len(xs) :][:b].to(xs.device)
            if batched:
                g = grad(loss)(w, xs[idx], ys[idx])
            else:
                grads = torch.autograd.grad(loss(w, xs[idx], ys[idx]), list(w.values()))
                g = dict(zip(w, grads, strict=True))
            w, v = self.inner_step(w, g, v, t0 + t)
            if not batched:  # nothing differentiates through the test-time steps
                w = {n: p.detach().requires_grad_() for n, p in w.items()}
        return w

    def predict(self, episode: Episode, steps: int | None = None) -> torch.Tensor:
        """Query outputs after fitting the support set: scores [Q, n_way] or predictions [Q, 1]."""
        return self.predict_many([episode], steps)[0]

    def predict_many(self, episodes: list[Episode], steps: int | None = None):
        """Adapts to every episode's support set at once (vmap), then predicts each episode's
        queries: all together if transductive, else each query beside the support set alone."""
        steps = self.hp.inner_steps_test if steps is None else steps
        if len({(len(e.support), len(e.query)) for e in episodes}) > 1:
            return [self.predict_many([e], steps)[0] for e in episodes]
        xs = torch.stack([e.support for e in episodes])
        ys = torch.stack([e.support_labels for e in episodes])
        with torch.enable_grad():
            if xs.is_cuda:  # on a GPU one batched adaptation beats many small ones
                adapt = lambda x, y: self.adapted(x, y, steps, batched=True)  # noqa: E731
                with prepared_for_vmap(self.learner):
                    fast = vmap(adapt, randomness="same")(xs, ys)
                weights = [{n: p[i] for n, p in fast.items()} for i in range(len(episodes))]
            else:  # on a CPU vmap's batched convolutions are slower than a loop
                weights = [self.adapted(x, y, steps) for x, y in zip(xs, ys, strict=True)]
        out = []
        with torch.no_grad():
            for e, w in zip(episodes, weights, strict=True):
                if self.transductive_batch():
                    out.append(functional_call(self.learner, w, (e.query,)))
                    continue
                s, q = e.support, e.query
                batches = torch.cat([s.expand(len(q), *s.shape), q[:, None]], 1)  # [Q, S+1, ..]
                one_each = lambda xb, w=w: functional_call(self.learner, w, (xb,))[-1]  # noqa: E731
                if q.is_cuda:
                    with prepared_for_vmap(self.learner):
                        out.append(vmap(one_each)(batches))
                else:  # a loop of small batches is faster than vmap on a CPU
                    out.append(torch.stack([one_each(xb) for xb in batches]))
        return out

    def transductive_batch(self) -> bool:
        """Whether the queries may share a forward pass: asked for, or nothing normalises over
        the batch (the regression MLP)."""
        return self.hp.transductive or self.regression

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        if self.regression or self.reinforcement:
            raise NotImplementedError
        return self.learner[0](x)
