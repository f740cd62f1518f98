"""MAML++: the training fixes of "How to train your MAML" as one algorithm over MAML."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.func import functional_call

from metalearn.algorithms.base import register
from metalearn.algorithms.maml import FIRST_ORDER, INNER_LR, MAML, MAML_PATH
from metalearn.models.norm import batch_stats_norm
from metalearn.settings import INNER_STEPS, INNER_STEPS_TEST, LR, Setting

MSL = Setting(
    "multi_step_loss",
    bool,
    True,
    "Multi-step loss (MSL)",
    "the query loss after every inner step, weighted; the weights move to the last step over "
    "the first 10% of training",
)
LSLR = Setting(
    "learned_step_sizes",
    bool,
    True,
    "Learned per-layer, per-step step sizes (LSLR)",
    "one learned inner step size per parameter tensor and inner step",
)
BNWB = Setting(
    "per_step_bn",
    bool,
    True,
    "Per-step batch-norm weights (BNWB)",
    "each inner step has its own batch-norm scale and shift, learned in the outer loop",
)
DA = Setting(
    "first_order_fraction",
    float,
    0.3,
    "First-order for the first part of training (DA)",
    "share of the run trained first-order before second-order gradients (derivative-order "
    "annealing; 0: second order throughout)",
    0,
    1,
)
CA = Setting(
    "cosine_lr",
    bool,
    True,
    "Cosine-annealed outer learning rate (CA)",
    "the outer learning rate follows a cosine from `lr` to 1e-5 over the run",
)
MSL_FRACTION = 0.1  # the paper anneals the step weights over its first 10 of 100 epochs


class PerStepBatchNorm(nn.Module):
    """Batch norm over the batch at hand, with a scale and shift for every inner step (BNWB);
    `step` selects them (steps past the last use the last)."""

    def __init__(self, channels: int, steps: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(steps, channels))
        self.bias = nn.Parameter(torch.zeros(steps, channels))
        self.step = 0
        self.in_vmap = False  # see models.vmap.prepared_for_vmap

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = min(self.step, self.weight.shape[0] - 1)
        return batch_stats_norm(x, self.weight[s], self.bias[s], self.in_vmap)


@register
class MAMLPlusPlus(MAML):
    """MAML++ (Antoniou, Edwards & Storkey, "How to train your MAML", ICLR 2019,
    arXiv:1810.09502).

    MAML with the paper's fixes, each a setting: the multi-step loss (the query loss after every
    inner step, weighted, the weights annealed toward the last step: stabler gradients), learned
    per-layer per-step inner step sizes, per-step batch-norm scale and shift (not adapted in the
    inner loop), derivative-order annealing (first-order for the first part of training, then
    second order) and a cosine-annealed outer learning rate. Batch norm keeps using the statistics
    of the batch at hand (the paper's per-step running statistics are not implemented).
    """

    name = "maml_pp"
    summary = "MAML++: MAML with multi-step loss, learned step sizes, per-step batch norm."
    formula = (
        r"\mathcal{L} = \sum_{j=1}^{S} v_j\, \mathcal{L}_{Q}\left(f_{\theta^{(j)}}\right), \quad "
        r"\theta^{(j)} = \theta^{(j-1)} - \alpha_{\ell, j} "
        r"\nabla \mathcal{L}_{S}(f_{\theta^{(j-1)}})"
    )
    pseudocode = """\
like MAML, with S inner steps; after each step j, the query loss weighted by v_j
(v moves toward the last step early in training); a learned step size per layer and
step; batch-norm scale and shift per step; first-order at first, then second order;
the outer learning rate annealed along a cosine
"""
    seed_family = "model"  # the article: it learns an initial model
    order = 35
    modalities = ("image",)  # per-step batch norm sits in the Conv4 blocks
    kinds = {"classification": "episodes", "regression": "regression"}
    settings = (
        LR,
        INNER_LR,
        INNER_STEPS.but(default=5),
        INNER_STEPS_TEST.but(default=5),
        FIRST_ORDER,
        MAML_PATH,
        MSL,
        LSLR,
        BNWB,
        DA,
        CA,
    )

    def __init__(self, cfg, info, n_train_classes):
        super().__init__(cfg, info, n_train_classes)
        steps = self.hp.inner_steps
        if self.hp.per_step_bn and not self.regression:
            for block in self.learner[0].encoder:  # Conv4 blocks: conv, batch norm, ReLU, pool
                block[1] = PerStepBatchNorm(block[1].num_features, steps + 1)
        self.lslr = nn.ParameterDict()
        if self.hp.learned_step_sizes:
            for n in self.adapted_names():
                start = torch.full((steps,), float(self.hp.inner_lr))
                self.lslr[n.replace(".", "_")] = nn.Parameter(start)
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))

    def adapted_names(self) -> list[str]:
        """Every weight but the per-step batch-norm ones (learned in the outer loop only)."""
        norms = {
            f"{name}.{p}"
            for name, m in self.learner.named_modules()
            if isinstance(m, PerStepBatchNorm)
            for p in ("weight", "bias")
        }
        return [n for n, _ in self.learner.named_parameters() if n not in norms]

    def step_size(self, name: str, step: int = 0) -> torch.Tensor | float:
        if not self.hp.learned_step_sizes:
            return self.hp.inner_lr
        sizes = self.lslr[name.replace(".", "_")]
        return sizes[min(step, len(sizes) - 1)]

    def at_step(self, step: int) -> None:
        """Selects every per-step batch norm's weights for inner step `step`."""
        for m in self.net.modules():
            if isinstance(m, PerStepBatchNorm):
                m.step = step

    # -- schedules over the run -------------------------------------------------------------
    def progress(self) -> float:
        return self.run_progress(int(self.updates))

    def first_order_now(self) -> bool:
        return self.hp.first_order or self.progress() < self.hp.first_order_fraction

    def step_weights(self, steps: int) -> list[float]:
        """v_j: uniform at the start, annealed to the last step over the first 10% of training
        (the non-final weights shrink to 0.03 / steps, as in the paper's code)."""
        if not (self.hp.multi_step_loss and self.training) or steps <= 1:
            return [0.0] * (steps - 1) + [1.0]
        f = self.progress() / MSL_FRACTION
        if f >= 1:
            return [0.0] * (steps - 1) + [1.0]
        low = 0.03 / steps
        rest = [max(1 / steps - f * (1 / steps - low), low)] * (steps - 1)
        return rest + [1.0 - sum(rest)]

    # -- the inner loop, step by step -------------------------------------------------------
    def adapt(self, params, x, y, steps, first_order, batched=False):
        names = set(self.adapted_names())
        fast = {n: p for n, p in params.items() if n in names}
        rest = {n: p for n, p in params.items() if n not in names}
        for k in range(steps):
            self.at_step(k)
            fast = self._one_step(rest, fast, x, y, first_order, batched, k)
        self.at_step(steps)
        return {**rest, **fast}

    def _one_step(self, rest, fast, x, y, first_order, batched, k):
        def support_loss(w):
            return self.task_loss(functional_call(self.net, {**rest, **w}, (x,)), y)

        return self.sgd_steps(support_loss, fast, 1, first_order, batched, first=k)

    def adapted_query_loss(self, params, xs, ys, xq, yq, steps, first_order, batched=False):
        names = set(self.adapted_names())
        fast = {n: p for n, p in params.items() if n in names}
        rest = {n: p for n, p in params.items() if n not in names}
        weights = self.step_weights(steps)
        total, out = 0.0, None
        for k in range(steps):
            self.at_step(k)
            fast = self._one_step(rest, fast, xs, ys, first_order, batched, k)
            if weights[k] or k == steps - 1:
                self.at_step(k + 1)
                out = functional_call(self.net, {**rest, **fast}, (xq,))
                total = total + weights[k] * self.task_loss(out, yq)
        return total, out

    def train_step(self, data, optimizer):
        self.updates += 1  # the schedules count this update as done
        if self.hp.cosine_lr:
            cos = 0.5 * (1 + math.cos(math.pi * self.progress()))
            for group in optimizer.param_groups:
                group["lr"] = 1e-5 + (self.hp.lr - 1e-5) * cos
        return super().train_step(data, optimizer)
