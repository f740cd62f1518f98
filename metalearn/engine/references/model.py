"""References of the model-based learners, written step by step."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _causal_conv(conv, x: torch.Tensor, dilation: int) -> torch.Tensor:
    """out[t] = W_past x[t - d] + W_now x[t] + b, with x[t - d] = 0 before the start.
    x [B, T, C] -> [B, T, F]."""
    c = x.shape[-1]
    w, b = conv.weight, conv.bias  # [F, 2C], [F]: the past's columns first
    steps = []
    for t in range(x.shape[1]):
        past = x[:, t - dilation] if t - dilation >= 0 else torch.zeros_like(x[:, t])
        steps.append(past @ w[:, :c].T + x[:, t] @ w[:, c:].T + b)
    return torch.stack(steps, 1)


def _dense(block, x):
    d = block.f.dilation
    f, g = _causal_conv(block.f.linear, x, d), _causal_conv(block.g.linear, x, d)
    return torch.cat([x, torch.tanh(f) * torch.sigmoid(g)], -1)


def _attention(block, x):
    """Step t attends over steps 0..t, one step at a time."""
    q, k, v = block.query(x), block.key(x), block.value(x)
    reads = []
    for t in range(x.shape[1]):
        logits = (q[:, t : t + 1] @ k[:, : t + 1].transpose(1, 2)) * block.scale  # [B, 1, t+1]
        reads.append((logits.softmax(-1) @ v[:, : t + 1]).squeeze(1))
    return torch.cat([x, torch.stack(reads, 1)], -1)


def snail_step(algo, episodes, optimizer) -> None:
    """SNAIL with its causal convolutions and attention written per time step."""
    optimizer.zero_grad(set_to_none=True)
    total = 0.0
    for e in episodes:
        order = torch.randperm(len(e.support))
        seq = algo.sequences(e, order)
        h = _attention(algo.att1, seq)
        for block in algo.tc1.blocks:
            h = _dense(block, h)
        h = _attention(algo.att2, h)
        for block in algo.tc2.blocks:
            h = _dense(block, h)
        h = _attention(algo.att3, h)
        total = total + F.cross_entropy(algo.out(h[:, -1]), e.query_labels)
    (total / len(episodes)).backward()
    optimizer.step()


def cnp_step(algo, episodes, optimizer) -> None:
    """CNP: regression by `torch.distributions.Normal`'s log-density of every target point;
    classification by one class mean and one decoder call per (query, class) pair (its input
    with h(f(x)) * r where `decoder_input` is "product")."""
    optimizer.zero_grad(set_to_none=True)
    total = 0.0
    for e in episodes:
        if algo.regression:
            pairs = zip(e.support, e.support_labels, strict=True)
            r = torch.stack([algo.encoder(torch.cat([x, y])) for x, y in pairs]).mean(0)
            x = torch.cat([e.support, e.query])
            y = torch.cat([e.support_labels, e.query_labels])
            out = algo.decoder(torch.cat([x, r.expand(len(x), -1)], 1))
            std = 0.1 + 0.9 * F.softplus(out[:, 1:])
            total = total - torch.distributions.Normal(out[:, :1], std).log_prob(y).mean()
            continue
        z = algo.backbone(torch.cat([e.support, e.query]))
        zs, zq = z[: len(e.support)], z[len(e.support) :]
        reps = algo.encoder(zs)
        classes = [reps[e.support_labels == c].mean(0) for c in range(e.n_way)]

        def decoder_input(q: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
            parts = [q, r] + ([algo.encoder(q) * r] if algo.product else [])
            return torch.cat(parts)

        scores = torch.stack(
            [torch.cat([algo.decoder(decoder_input(q, r)) for r in classes]) for q in zq]
        )
        total = total + F.cross_entropy(scores, e.query_labels)
    (total / len(episodes)).backward()
    optimizer.step()
