"""References of the optimization-based learners: the MAML family, Proto-MAML, Reptile and the
LSTM meta-learner."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.func import functional_call

from metalearn.algorithms.meta_lstm import preprocess
from metalearn.engine.references.reinforcement import maml_rl_step, reptile_rl_step


def maml_family_step(algo, episodes, optimizer) -> None:
    """MAML, ANIL and Meta-SGD the plain way: task by task, an explicit inner loop with
    `autograd.grad` over the adapted parameters, each with its step size."""
    if algo.reinforcement:
        return maml_rl_step(algo, episodes, optimizer)
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


def protomaml_step(algo, episodes, optimizer) -> None:
    """Proto-MAML the plain way: per task, prototypes by per-class means of the support
    features, the output layer set to (2 c_k, -||c_k||^2), then the inner SGD steps on every
    weight (first-order: the inner gradients detached), then the query loss."""
    params = dict(algo.learner.named_parameters())
    optimizer.zero_grad(set_to_none=True)
    total = 0.0
    for e in episodes:
        feats = algo.learner[0](e.support)
        protos = torch.stack([feats[e.support_labels == c].mean(0) for c in range(e.n_way)])
        fast = {**params, "1.weight": 2 * protos, "1.bias": -(protos * protos).sum(1)}
        for _ in range(algo.hp.inner_steps):
            out = functional_call(algo.learner, fast, (e.support,))
            loss = F.cross_entropy(out, e.support_labels)
            names = list(fast)
            grads = torch.autograd.grad(
                loss,
                [fast[n] for n in names],
                create_graph=not algo.hp.first_order,
                retain_graph=True,
            )
            for n, g in zip(names, grads, strict=True):
                g = g.detach() if algo.hp.first_order else g
                fast[n] = fast[n] - algo.hp.inner_lr * g
        out = functional_call(algo.learner, fast, (e.query,))
        total = total + F.cross_entropy(out, e.query_labels) / len(episodes)
    total.backward()
    optimizer.step()


def reptile_step(algo, episodes, optimizer) -> None:
    """Reptile with torch's own optimisers: a copy of the network, reset to phi for each task and
    trained by one `torch.optim.Adam` (betas (0, 0.999); its moments carry from task to task,
    starting from none: compare on a fresh model) or SGD on shuffled mini-batches of the task's
    examples; the meta-gradient is phi - mean(W), applied with step epsilon."""
    if algo.reinforcement:
        return reptile_rl_step(algo, episodes, optimizer)
    import copy

    phi = dict(algo.learner.named_parameters())
    delta = {n: torch.zeros_like(p) for n, p in phi.items()}
    net = copy.deepcopy(algo.learner)  # one network and one optimiser for every task, as the
    if algo.hp.inner_optimizer == "adam":  # paper's code: weights reset per task, moments kept
        opt = torch.optim.Adam(net.parameters(), lr=algo.hp.inner_lr, betas=(0.0, 0.999))
    else:
        opt = torch.optim.SGD(net.parameters(), lr=algo.hp.inner_lr)
    for e in episodes:
        x = torch.cat([e.support, e.query])
        y = torch.cat([e.support_labels, e.query_labels])
        with torch.no_grad():
            for n, p in net.named_parameters():
                p.copy_(phi[n])
        order = torch.randperm(len(x))
        b = min(algo.hp.inner_batch, len(x))
        for t in range(algo.hp.inner_steps):
            idx = order[(t * b) % len(x) :][:b]
            opt.zero_grad()
            algo.task_loss(net(x[idx]), y[idx]).backward()
            opt.step()
        for n, p in net.named_parameters():
            delta[n] += (p.detach() - phi[n].detach()) / len(episodes)
    for group in optimizer.param_groups:
        group["lr"] = algo.epsilon()
    optimizer.zero_grad(set_to_none=True)
    for n, p in phi.items():
        p.grad = -delta[n]
    optimizer.step()


def maml_pp_step(algo, episodes, optimizer) -> None:
    """MAML++ the plain way: task by task, each inner step with its own learned step sizes and
    batch-norm weights, the query loss after every step weighted by the multi-step weights."""
    params = dict(algo.learner.named_parameters())
    adapted = algo.adapted_names()
    steps = algo.hp.inner_steps
    weights = algo.step_weights(steps)
    second_order = not algo.first_order_now()
    optimizer.zero_grad(set_to_none=True)
    total = 0.0
    for e in episodes:
        fast = dict(params)
        for k in range(steps):
            algo.at_step(k)
            out = functional_call(algo.learner, fast, (e.support,))
            grads = torch.autograd.grad(
                algo.task_loss(out, e.support_labels),
                [fast[n] for n in adapted],
                create_graph=second_order,
            )
            for n, g in zip(adapted, grads, strict=True):
                fast[n] = fast[n] - algo.step_size(n, k) * g
            algo.at_step(k + 1)
            out = functional_call(algo.learner, fast, (e.query,))
            total = total + weights[k] * algo.task_loss(out, e.query_labels) / len(episodes)
    total.backward()
    optimizer.step()
