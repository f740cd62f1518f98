"""Memory-Augmented Neural Network: an LSTM controller with an external memory written by Least
Recently Used Access."""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from metalearn.algorithms.base import Algorithm, register
from metalearn.data import Episode, to_device
from metalearn.settings import LR, LR_DECAY_EVERY, Setting

SIDE = 20  # images are downscaled to SIDE x SIDE and flattened, as in the paper

# Switches for the ablations of the docstring (not needed to use MANN).
INIT = Setting(
    "mann_init",
    str,
    "orthogonal",
    "Initialisation",
    "orthogonal weights, zero biases, forget-gate bias -2 (ours); pytorch: PyTorch's default",
    choices=("orthogonal", "pytorch"),
    advanced=True,
)
KEY_STRENGTH = Setting(
    "mann_key_strength",
    bool,
    True,
    "Key strength (the lab's addition)",
    "not in Santoro et al. 2016: the NTM's learned sharpening of the cosine match (off: the "
    "paper's plain cosine, which stays on its plateau here)",
    advanced=True,
)
GATE_BIAS = Setting("mann_gate_bias", float, 0.0, "Write-gate bias", "", -20, 20, advanced=True)
BETA_BIAS = Setting("mann_beta_bias", float, 5.0, "Key-strength bias", "", -20, 20, advanced=True)


class MemoryState(NamedTuple):
    """Recurrent state of a batch of B sequences (N slots of width W, R read heads)."""

    h: torch.Tensor  # [B, H] controller output
    c: torch.Tensor  # [B, H] controller cell
    memory: torch.Tensor  # [B, N, W]
    usage: torch.Tensor  # [B, N] decayed sum of read and write weights
    read_w: torch.Tensor  # [B, R, N] read weights of the previous step
    least_used: torch.Tensor  # [B, R, N] one-hot: head r's fresh slot is the r-th least used
    reads: torch.Tensor  # [B, R * W] read vectors of the previous step


@register
class MANN(Algorithm):
    """One-shot learning with Memory-Augmented Neural Networks (Santoro et al., ICML 2016).

    An episode is a sequence of n_way classes x n_shot instances (the paper: 5 x 10) in random
    order, with labels assigned afresh per episode. At step t the input is the image x_t (20x20,
    flattened) with the one-hot label of step t-1, so a class's label arrives one step after the
    network had to guess it; the loss is the cross-entropy of every guess. The network can only do
    better than chance on the 2nd presentation of a class by binding image and label in memory.

    Per step (R read heads, memory M of N slots):
        h_t = LSTM([x_t, y_{t-1}, r_{t-1}])             controller, 200 units
        k_t, a_t = tanh(W_k h_t), sigmoid(W_a h_t)       one key and write gate per head
        w^w_t = a_t w^r_{t-1} + (1 - a_t) w^lu_{t-1}     LRU access: the last read slot or the
                                                         least used one (cleared first)
        M_t = M_{t-1} + sum_r w^w_t k_t^T                the key is what is written
        w^r_t = softmax(beta_t cos(k_t, M_t))            content addressing
        r_t = w^r_t M_t;  w^u_t = 0.95 w^u_{t-1} + w^r_t + w^w_t
        p(y_t) = softmax(W_o [h_t, r_t])

    Getting off the plateau (loss ~1.5, about 0.3 from the 2nd presentation on: the network has
    learned label frequencies, not memory). With PyTorch's default initialisation and the usual
    forget-gate bias of +1, the controller's cell state averages many past inputs, so the keys of
    any two images are nearly parallel (cosine 0.87 for the same class, 0.86 for different ones,
    on glyphs) and every read returns the average of memory; nothing points the gradient at
    binding. Two changes, both the lab's additions to the paper's recipe, fix it: (1) orthogonal
    weights, zero biases and a forget-gate bias of -2, which make keys as discriminative as the
    pixels themselves (0.47 vs 0.25); (2) the NTM's key strength beta_t = 1 + softplus(.) on the
    cosine (the paper's softmax over raw cosines in [-1, 1] across 128 slots is nearly flat),
    its bias starting at 5 (beta ~ 6). Gradients are clipped to norm 10; Adam. Settings for the
    ablations: "mann_init": "pytorch", "mann_key_strength": False, "mann_beta_bias",
    "mann_gate_bias".
    """

    name = "mann"
    family = "memory"
    summary = "Memory-Augmented Neural Network: an LSTM that writes and reads an external memory."
    formula = (
        r"w^r_t(i) = \mathrm{softmax}_i\left(\beta_t \cos(k_t, M_t(i))\right),\quad r_t = "
        r"\textstyle\sum_i w^r_t(i) M_t(i), \quad w^w_t = \sigma(\alpha)\, w^r_{t-1} + (1 - "
        r"\sigma(\alpha))\, w^{lu}_{t-1}"
    )
    pseudocode = """\
for each sequence of (image_t, label_{t-1}):
    controller LSTM reads the input and the last reads
    write its key to the last-read or the least-used slot
    read memory by cosine similarity to the key
    predict label_t from the controller state and the reads
"""
    order = 70
    views = ("memory",)  # its reads and writes, on the Inside page
    same_way = True
    kinds = {"classification": "sequences"}  # trained and scored on labelled sequences
    settings = (LR, LR_DECAY_EVERY, INIT, KEY_STRENGTH, GATE_BIAS, BETA_BIAS)
    spec_defaults = {"n_shot": 10, "meta_batch": 16}  # the paper: 10 instances, batches of 16

    def __init__(self, cfg, info, n_train_classes, hidden=200, slots=128, width=40, heads=4):
        super().__init__(cfg, info, n_train_classes)
        self.n_way, self.hidden, self.slots = cfg.n_way, hidden, slots
        self.width, self.heads = width, heads
        self.key_strength = self.hp.mann_key_strength
        n_in = info.channels * SIDE * SIDE + cfg.n_way
        # The input part of the LSTM's gates is computed for all steps at once (one matmul).
        self.gates_in = nn.Linear(n_in, 4 * hidden)
        self.gates_rec = nn.Linear(heads * width + hidden, 4 * hidden, bias=False)
        self.head = nn.Linear(hidden, heads * (width + 2))  # key, write gate, key strength
        self.out = nn.Linear(hidden + heads * width, cfg.n_way)
        with torch.no_grad():
            forget_bias = -2.0
            if self.hp.mann_init == "pytorch":  # ablation: PyTorch's default init
                forget_bias = 1.0
            else:
                for layer in (self.gates_in, self.gates_rec, self.head, self.out):
                    nn.init.orthogonal_(layer.weight)
                    if layer.bias is not None:
                        layer.bias.zero_()
            self.gates_in.bias[hidden : 2 * hidden].fill_(forget_bias)
            b = self.head.bias.view(heads, width + 2)
            b[:, width].fill_(float(self.hp.mann_gate_bias))
            b[:, width + 1].fill_(float(self.hp.mann_beta_bias))

    # -- the recurrence ------------------------------------------------------------------------
    def initial_state(self, batch: int, device: torch.device) -> MemoryState:
        zeros = lambda *s: torch.zeros(*s, device=device)  # noqa: E731
        usage = zeros(batch, self.slots)
        # A tiny constant memory keeps cosine similarity defined before the first write.
        memory = torch.full((batch, self.slots, self.width), 1e-6, device=device)
        return MemoryState(
            zeros(batch, self.hidden),
            zeros(batch, self.hidden),
            memory,
            usage,
            zeros(batch, self.heads, self.slots),
            self.least_used(usage),
            zeros(batch, self.heads * self.width),
        )

    def least_used(self, usage: torch.Tensor) -> torch.Tensor:
        # The paper clears and fills "the least used location": one slot per step, shared by the
        # heads (one fresh slot per head would recycle all 128 slots within a 50-step episode).
        idx = usage.argmin(1, keepdim=True).expand(-1, self.heads)  # [B, R]
        return F.one_hot(idx, self.slots).to(usage.dtype)

    def run(
        self, x: torch.Tensor, y_prev: torch.Tensor, state: MemoryState | None = None, trace=False
    ) -> tuple[torch.Tensor, MemoryState, dict[str, torch.Tensor]]:
        """Runs sequences through the network.

        Args:
            x: images [B, T, D] (flattened 20x20).
            y_prev: one-hot label of the previous step [B, T, n_way] (zeros at t = 0).
            state: carried over from an earlier call; None starts with an empty memory.
            trace: also return read and write weights per step ([B, T, R, N] each).

        Returns:
            logits [B, T, n_way], the final state, and the trace (empty unless asked).
        """
        B, T, _ = x.shape
        s = state or self.initial_state(B, x.device)
        h, c, memory, usage, read_w, least_used, reads = s
        # Per-step views by unbind: its backward stacks the T gradients once, where indexing
        # `[:, t]` would zero-fill a [B, T, 4H] gradient at every step (a fifth of an update).
        gates_x = self.gates_in(torch.cat([x, y_prev], -1)).unbind(1)  # T x [B, 4H]
        R, W = self.heads, self.width
        hs, read_steps, reads_trace, writes_trace = [], [], [], []
        for t in range(T):
            gates = gates_x[t] + self.gates_rec(torch.cat([reads, h], 1))
            i, f, _, o = torch.sigmoid(gates).chunk(4, 1)  # one call for the three gates
            c = f * c + i * torch.tanh(gates[:, 2 * self.hidden : 3 * self.hidden])
            h = o * torch.tanh(c)  # [B, H]
            p = self.head(h).view(B, R, W + 2)
            key = torch.tanh(p[..., :W])  # [B, R, W]
            gate = torch.sigmoid(p[..., W : W + 1])  # [B, R, 1]
            write_w = gate * read_w + (1 - gate) * least_used  # [B, R, N]
            # Clear the least used slot (the heads share it), then add each head's key where it
            # writes.
            keep = 1 - least_used[:, 0]  # [B, N]
            memory = memory * keep[..., None] + write_w.transpose(1, 2) @ key  # [B, N, W]
            sim = F.normalize(key, dim=-1) @ F.normalize(memory, dim=-1).transpose(1, 2)
            if self.key_strength:
                sim = sim * (1 + F.softplus(p[..., W + 1 :]))  # [B, R, N]
            read_w = sim.softmax(-1)
            reads = (read_w @ memory).flatten(1)  # [B, R * W]
            with torch.no_grad():  # usage only picks the next slot: no gradient flows through it
                usage = 0.95 * usage + read_w.sum(1) + write_w.sum(1)
                least_used = self.least_used(usage)
            hs.append(h)
            read_steps.append(reads)
            if trace:
                reads_trace.append(read_w.detach())
                writes_trace.append(write_w.detach())
        # The output layer reads no recurrence: one matmul for all steps.
        logits = self.out(torch.cat([torch.stack(hs, 1), torch.stack(read_steps, 1)], -1))
        state = MemoryState(h, c, memory, usage, read_w, least_used, reads)
        traces = {}
        if trace:
            traces = {"read": torch.stack(reads_trace, 1), "write": torch.stack(writes_trace, 1)}
        return logits, state, traces

    # -- episodes as sequences -----------------------------------------------------------------
    def sequences(
        self, episodes: list[Episode], orders: list[torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Support sets as shuffled sequences: images [B, T, D] and labels [B, T] (T = n_way *
        n_shot). `orders` fixes the shuffles (evaluation); None draws them from the global RNG."""
        if orders is None:
            orders = [torch.randperm(len(e.support_labels)) for e in episodes]
        order = torch.stack(orders)  # [B, T]
        device = episodes[0].support.device
        order = to_device(order, device)  # one copy for the batch
        rows = torch.arange(len(episodes), device=device)[:, None]
        images = torch.stack([e.support for e in episodes])[rows, order]  # [B, T, C, H, W]
        labels = torch.stack([e.support_labels for e in episodes])[rows, order]  # [B, T]
        return flatten_images(images.flatten(0, 1)).view(len(episodes), order.shape[1], -1), labels

    def previous_labels(self, y: torch.Tensor) -> torch.Tensor:
        """[B, T] labels -> [B, T, n_way] one-hot label of the previous step (zeros at t = 0)."""
        one_hot = F.one_hot(y, self.n_way).float()
        return torch.cat([torch.zeros_like(one_hot[:, :1]), one_hot[:, :-1]], 1)

    def outcomes(self, episodes, orders=None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(logits [B, T, n_way], labels [B, T], instance number [B, T], 1 = first sighting)."""
        x, y = self.sequences(episodes, orders)
        logits, _, _ = self.run(x, self.previous_labels(y))
        return logits, y, instance_numbers(y, self.n_way)

    def loss(self, episodes: list[Episode]):
        logits, y, instance = self.outcomes(episodes)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        correct = (logits.detach().argmax(-1) == y).float()
        metrics = {"loss": loss.detach(), "accuracy": correct.mean()}
        n_shot = episodes[0].n_shot
        by_instance = torch.zeros(n_shot, device=y.device).index_add_(
            0, instance.flatten() - 1, correct.flatten()
        ) / (len(episodes) * self.n_way)
        for k in range(n_shot):
            metrics[f"accuracy_instance_{k + 1}"] = by_instance[k]
        return loss, metrics

    def train_step(self, data, optimizer):
        optimizer.zero_grad(set_to_none=True)
        loss, metrics = self.loss(data)
        loss.backward()
        nn.utils.clip_grad_norm_(self.parameters(), 10.0)
        optimizer.step()
        return metrics

    def predict(self, episode: Episode) -> torch.Tensor:
        """Few-shot use: the support set is shown as a sequence (fixed order), then each query is
        one further step from the state it left, with the last support label as input."""
        fixed = torch.Generator().manual_seed(0)
        order = torch.randperm(len(episode.support_labels), generator=fixed)
        x, y = self.sequences([episode], [order])
        _, state, _ = self.run(x, self.previous_labels(y))
        q = len(episode.query)
        state = MemoryState(*(t.expand(q, *t.shape[1:]) for t in state))
        last = F.one_hot(y[:, -1], self.n_way).float()  # [1, n_way]
        x_q = flatten_images(episode.query)[:, None]  # [Q, 1, D]
        logits, _, _ = self.run(x_q, last.expand(q, -1)[:, None], state)
        return logits[:, 0]


def flatten_images(images: torch.Tensor) -> torch.Tensor:
    """[N, C, H, W] -> [N, C * 20 * 20] by area downscaling (the paper's 20x20 inputs)."""
    if images.shape[-1] != SIDE or images.shape[-2] != SIDE:
        images = F.adaptive_avg_pool2d(images, SIDE)
    return images.flatten(1)


def instance_numbers(y: torch.Tensor, n_way: int) -> torch.Tensor:
    """[B, T] labels -> [B, T] how many times this label has been shown so far, this time
    included (1 = the first presentation)."""
    seen = F.one_hot(y, n_way).cumsum(1)  # [B, T, n_way]
    return seen.gather(2, y[..., None])[..., 0]
