"""The LSTM meta-learner: a learned optimiser whose cell state is the learner's parameters."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from metalearn.algorithms.base import Algorithm, accuracy, register
from metalearn.data import Episode
from metalearn.models import Conv4
from metalearn.settings import INNER_STEPS, INNER_STEPS_TEST, LR, LR_DECAY_EVERY

P = 10.0  # preprocessing constant of Andrychowicz et al. 2016


def preprocess(x: torch.Tensor) -> torch.Tensor:
    """[N] -> [N, 2]: (log|x| / p, sign x) for |x| >= e^-p, else (-1, e^p x). Scales gradients and
    losses that span many orders of magnitude into a range an LSTM can read."""
    big = x.abs() >= math.exp(-P)
    first = torch.where(big, x.abs().clamp_min(1e-30).log() / P, torch.full_like(x, -1.0))
    second = torch.where(big, x.sign(), x * math.exp(P))
    return torch.stack([first, second], dim=1)


@register
class MetaLSTM(Algorithm):
    """Optimization as a Model for Few-Shot Learning (Ravi & Larochelle, ICLR 2017).

    A two-layer, coordinate-wise LSTM (shared by every learner parameter) replaces SGD. Layer 1 is
    a standard LSTM reading the preprocessed loss and gradient of each coordinate. Layer 2 is the
    meta-LSTM cell whose cell state *is* the learner's flattened parameters:

        theta_t = f_t * theta_{t-1} - i_t * grad_t,
        i_t = sigmoid(W_i [h_t, theta_{t-1}, i_{t-1}] + b_i),  f_t likewise,

    so the input gate is a learned, per-coordinate learning rate and the forget gate a learned
    shrinkage. b_f starts in U[4, 6] and b_i in U[-5, -4], so it starts as plain gradient descent
    with a small step (i ~ 0.01, f ~ 1). The initial cell state theta_0 is meta-learned: it is
    the learner's initialisation. As in the paper, second derivatives through the learner's
    gradients are dropped, and meta-gradients are clipped (norm 0.25). The learner is Conv4 with
    32 filters; batch norm uses batch statistics.
    """

    name = "meta_lstm"
    family = "optimization"
    summary = "LSTM meta-learner: an LSTM learns the update rule (learned learning rate)."
    formula = (
        r"\theta_t = f_t \odot \theta_{t-1} + i_t \odot \left(-\nabla_{\theta_{t-1}} "
        r"\mathcal{L}_t\right)"
    )
    pseudocode = """\
for each episode:
    theta = learned initial state (the LSTM cell state)
    for each step: gates i_t, f_t from (gradient, loss, previous gates)
        theta = f_t * theta - i_t * gradient
    query loss at the final theta; gradient step on the LSTM and theta_0
"""
    order = 60
    views = ("gates",)  # its learned learning rate and shrinkage, on the Inside page
    same_way = True
    # Five steps by default: with one, the learned input and forget gates have no schedule to
    # show (the learned-learning-rate story of the paper needs several updates per episode).
    settings = (LR, LR_DECAY_EVERY, INNER_STEPS.but(default=5), INNER_STEPS_TEST.but(default=5))

    def __init__(self, cfg, info, n_train_classes, hidden: int = 20):
        super().__init__(cfg, info, n_train_classes)
        body = Conv4(info.channels, cfg.image_size or info.image_size, 32, running_stats=False)
        self.learner = nn.Sequential(body, nn.Linear(body.out_dim, cfg.n_way))
        self.names = [n for n, _ in self.learner.named_parameters()]
        self.shapes = [p.shape for p in self.learner.parameters()]
        self.theta0 = nn.Parameter(
            torch.cat([p.detach().flatten() for p in self.learner.parameters()])
        )  # c_0
        self.learner.requires_grad_(False)  # only a template: its weights come from the cell
        self.lstm = nn.LSTMCell(4, hidden)
        self.w_f = nn.Parameter(torch.empty(hidden + 2).uniform_(-0.01, 0.01))
        self.w_i = nn.Parameter(torch.empty(hidden + 2).uniform_(-0.01, 0.01))
        self.b_f = nn.Parameter(torch.empty(1).uniform_(4.0, 6.0))
        self.b_i = nn.Parameter(torch.empty(1).uniform_(-5.0, -4.0))

    def unflatten(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        parts = flat.split([s.numel() for s in self.shapes])
        return {n: t.view(s) for n, t, s in zip(self.names, parts, self.shapes, strict=True)}

    def inner_loop(self, e: Episode, steps: int) -> tuple[torch.Tensor, list, list]:
        """Learner parameters after `steps` meta-LSTM updates on the support set, with the input
        and forget gates of each step ([n] each; the caller averages them)."""
        theta = self.theta0  # [n]
        n = theta.shape[0]
        state = (theta.new_zeros(n, self.lstm.hidden_size),) * 2
        i_prev = f_prev = theta.new_zeros(n)
        in_gates, forget_gates = [], []
        for _ in range(steps):
            with torch.enable_grad():  # the learner's gradient, second derivatives dropped
                leaf = theta.detach().requires_grad_()
                out = functional_call(self.learner, self.unflatten(leaf), (e.support,))
                loss = F.cross_entropy(out, e.support_labels)
                (g,) = torch.autograd.grad(loss, leaf)
            x = torch.cat([preprocess(g), preprocess(loss.detach().expand(n))], 1)  # [n, 4]
            state = self.lstm(x, state)
            h = state[0]  # [n, hidden]
            # W [h, theta, gate_prev] + b, without building the [n, hidden + 2] concatenation.
            w_f, w_i = self.w_f, self.w_i
            f = torch.sigmoid(h @ w_f[:-2] + theta * w_f[-2] + f_prev * w_f[-1] + self.b_f)
            i = torch.sigmoid(h @ w_i[:-2] + theta * w_i[-2] + i_prev * w_i[-1] + self.b_i)
            theta = f * theta - i * g  # the cell state update is the parameter update
            i_prev, f_prev = i, f
            in_gates.append(i.detach())
            forget_gates.append(f.detach())
        return theta, in_gates, forget_gates

    def loss(self, episodes: list[Episode]):
        losses, accs, gates_i, gates_f = [], [], [], []
        for e in episodes:
            theta, gi, gf = self.inner_loop(e, self.hp.inner_steps)
            out = functional_call(self.learner, self.unflatten(theta), (e.query,))
            losses.append(F.cross_entropy(out, e.query_labels))
            accs.append(accuracy(out.detach(), e.query_labels))
            gates_i += gi
            gates_f += gf
        loss = torch.stack(losses).mean()
        metrics = {"loss": loss.detach(), "accuracy": torch.stack(accs).mean()}
        # Mean gate per inner step over all coordinates and tasks: two reductions per update
        # rather than two per step and task (on a GPU this loop is bound by kernel launches).
        steps = self.hp.inner_steps
        mean_i = torch.stack(gates_i).view(len(episodes), steps, -1).mean((0, 2))  # [steps]
        mean_f = torch.stack(gates_f).view(len(episodes), steps, -1).mean((0, 2))
        for t, (gi, gf) in enumerate(zip(mean_i, mean_f, strict=True)):
            metrics[f"input_gate_{t + 1}"] = gi
            metrics[f"forget_gate_{t + 1}"] = gf
        return loss, metrics

    def train_step(self, data, optimizer):
        optimizer.zero_grad(set_to_none=True)
        loss, metrics = self.loss(data)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.parameters(), 0.25)
        optimizer.step()
        return metrics

    def predict(self, episode: Episode, steps: int | None = None) -> torch.Tensor:
        steps = self.hp.inner_steps_test if steps is None else steps
        theta, _, _ = self.inner_loop(episode, steps)
        return functional_call(self.learner, self.unflatten(theta), (episode.query,))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        params = self.unflatten(self.theta0.detach())
        body = {k.split(".", 1)[1]: v for k, v in params.items() if k.startswith("0.")}
        return functional_call(self.learner[0], body, (x,))
