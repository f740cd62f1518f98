"""Straightforward reference implementations of each algorithm's training step, for `bench`.

Each does the same maths as the product's `train_step` on the same module (same parameters, data
and optimiser), written the way a tutorial would: one task after another, separate forward passes,
no precomputation. The benchmark times both in one process, so the ratio shows what the product's
choices buy (or cost) on the device at hand.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch.func import functional_call

from metalearn.algorithms.meta_lstm import preprocess


def maml_family_step(algo, episodes, optimizer) -> None:
    """MAML, ANIL and Meta-SGD the plain way: task by task, an explicit inner loop with
    `autograd.grad` over the adapted parameters, each with its step size."""
    params = dict(algo.learner.named_parameters())
    adapted = algo.adapted_names()
    optimizer.zero_grad(set_to_none=True)
    total = 0.0
    for e in episodes:
        fast = dict(params)
        for _ in range(algo.hp.inner_steps):
            out = functional_call(algo.learner, fast, (e.support,))
            grads = torch.autograd.grad(
                algo.task_loss(out, e.support_labels),
                [fast[n] for n in adapted],
                create_graph=not algo.hp.first_order,
            )
            for n, g in zip(adapted, grads, strict=True):
                fast[n] = fast[n] - algo.step_size(n) * g
        out = functional_call(algo.learner, fast, (e.query,))
        total = total + algo.task_loss(out, e.query_labels) / len(episodes)
    total.backward()
    optimizer.step()


def protonet_step(algo, episodes, optimizer) -> None:
    """ProtoNet as in the paper's code: support and query in one batch (so batch norm sees them
    together), prototypes by a per-class mean, squared distances from `cdist`, task by task."""
    optimizer.zero_grad(set_to_none=True)
    total = 0.0
    for e in episodes:
        z = algo.backbone(torch.cat([e.support, e.query]))
        zs, zq = z[: len(e.support)], z[len(e.support) :]
        protos = torch.stack([zs[e.support_labels == c].mean(0) for c in range(e.n_way)])
        total = total + F.cross_entropy(-(torch.cdist(zq, protos) ** 2), e.query_labels)
    (total / len(episodes)).backward()
    optimizer.step()


def finetune_step(algo, batch, optimizer) -> None:
    """Pre-training of the transfer baseline: one labelled batch, cross-entropy."""
    optimizer.zero_grad(set_to_none=True)
    if algo.regression:
        x = torch.cat([torch.cat([e.support, e.query]) for e in batch])
        y = torch.cat([torch.cat([e.support_labels, e.query_labels]) for e in batch])
        loss = F.mse_loss(algo.net(x), y)
    else:
        images, labels = batch
        loss = F.cross_entropy(algo.logits(algo.backbone(images)), labels)
    loss.backward()
    optimizer.step()


def meta_lstm_step(algo, episodes, optimizer) -> None:
    """The LSTM meta-learner with the two gates written out per coordinate: the textbook form
    of theta_t = f_t * theta_{t-1} - i_t * grad_t."""
    optimizer.zero_grad(set_to_none=True)
    total = 0.0
    n = algo.theta0.shape[0]
    for e in episodes:
        theta = algo.theta0
        h = c = theta.new_zeros(n, algo.lstm.hidden_size)
        i_prev = f_prev = theta.new_zeros(n)
        for _ in range(algo.hp.inner_steps):
            leaf = theta.detach().requires_grad_()
            out = functional_call(algo.learner, algo.unflatten(leaf), (e.support,))
            loss = F.cross_entropy(out, e.support_labels)
            (g,) = torch.autograd.grad(loss, leaf)
            x = torch.cat([preprocess(g), preprocess(loss.detach().expand(n))], 1)
            h, c = algo.lstm(x, (h, c))
            w_f, w_i = algo.w_f, algo.w_i
            f = torch.sigmoid(h @ w_f[:-2] + theta * w_f[-2] + f_prev * w_f[-1] + algo.b_f)
            i = torch.sigmoid(h @ w_i[:-2] + theta * w_i[-2] + i_prev * w_i[-1] + algo.b_i)
            theta = f * theta - i * g
            i_prev, f_prev = i, f
        out = functional_call(algo.learner, algo.unflatten(theta), (e.query,))
        total = total + F.cross_entropy(out, e.query_labels) / len(episodes)
    total.backward()
    torch.nn.utils.clip_grad_norm_(algo.parameters(), 0.25)
    optimizer.step()


def mann_step(algo, episodes, optimizer) -> None:
    """The memory network step by step: the whole controller input (image, previous label,
    previous reads) concatenated and projected at every step."""
    x, y = algo.sequences(episodes)
    y_prev = algo.previous_labels(y)
    B, T, _ = x.shape
    R, W = algo.heads, algo.width
    h, c, memory, usage, read_w, least_used, reads = algo.initial_state(B, x.device)
    w_in = algo.gates_in.weight  # [4H, D + n_way]
    logits = []
    for t in range(T):
        inp = torch.cat([x[:, t], y_prev[:, t], reads, h], 1)
        weight = torch.cat([w_in, algo.gates_rec.weight], 1)
        gates = inp @ weight.T + algo.gates_in.bias
        i, f, g, o = gates.chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        p = algo.head(h).view(B, R, W + 2)
        key = torch.tanh(p[..., :W])
        gate = torch.sigmoid(p[..., W : W + 1])
        write_w = gate * read_w + (1 - gate) * least_used
        keep = 1 - least_used.sum(1).clamp(max=1)
        memory = memory * keep[..., None] + torch.einsum("brn,brw->bnw", write_w, key)
        sim = F.cosine_similarity(key[:, :, None], memory[:, None], dim=-1, eps=1e-12)
        if algo.key_strength:
            sim = sim * (1 + F.softplus(p[..., W + 1 :]))
        read_w = sim.softmax(-1)
        reads = torch.einsum("brn,bnw->brw", read_w, memory).flatten(1)
        usage = 0.95 * usage + read_w.sum(1) + write_w.sum(1)
        least_used = algo.least_used(usage.detach())
        logits.append(algo.out(torch.cat([h, reads], 1)))
    loss = F.cross_entropy(torch.stack(logits, 1).flatten(0, 1), y.flatten())
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(algo.parameters(), 10.0)
    optimizer.step()


# Algorithms without a reference are timed alone by `bench`.
REFERENCES: dict[str, Callable] = {
    "protonet": protonet_step,
    "finetune": finetune_step,
    "maml": maml_family_step,
    "anil": maml_family_step,
    "metasgd": maml_family_step,
    "meta_lstm": meta_lstm_step,
    "mann": mann_step,
}
