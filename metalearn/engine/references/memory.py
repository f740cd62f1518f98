"""Reference of the memory-augmented network."""

from __future__ import annotations

import torch
import torch.nn.functional as F


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
