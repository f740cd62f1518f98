"""A plain PyTorch MAML on sinusoid regression, written independently of the product: the yardstick
for `python -m metalearn train --algorithm maml --dataset sinusoid` (issue 3's acceptance).

Finn et al. 2017, section 5.1: y = A sin(x - phase), A ~ U[0.1, 5], phase ~ U[0, pi],
x ~ U[-5, 5]; MLP 1-40-40-1 (ReLU); K = 10 support and 10 query points per training task
(`--train-query` for more); meta-batch 25; one inner SGD step of 0.01, second order; Adam 1e-3.
Its own NumPy task sampler; tested on 600 seeded tasks of K support and 100 query points, MSE
after 0, 1 and 10 steps.

    python scripts/reference_maml_sinusoid.py --seeds 0 1 2 3 4 --iterations 5000
    python scripts/reference_maml_sinusoid.py --seeds 0 4 --train-query 100
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
import torch.nn.functional as F


def tasks(rng: np.random.Generator, n: int, k: int, q: int):
    """n tasks: support x, y [n, k, 1] and query x, y [n, q, 1] as float32 tensors."""
    amp = rng.uniform(0.1, 5.0, (n, 1, 1))
    phase = rng.uniform(0.0, np.pi, (n, 1, 1))
    x = rng.uniform(-5.0, 5.0, (n, k + q, 1))
    y = amp * np.sin(x - phase)
    t = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    return t(x[:, :k]), t(y[:, :k]), t(x[:, k:]), t(y[:, k:])


def forward(w: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    h = F.relu(F.linear(x, w[0], w[1]))
    h = F.relu(F.linear(h, w[2], w[3]))
    return F.linear(h, w[4], w[5])


def adapt(w, x, y, steps: int, lr: float, create_graph: bool):
    for _ in range(steps):
        g = torch.autograd.grad(F.mse_loss(forward(w, x), y), w, create_graph=create_graph)
        w = [p - lr * gp for p, gp in zip(w, g, strict=True)]
    return w


def run(seed: int, iterations: int, meta_batch: int = 25, k: int = 10, q: int = 10) -> dict:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    layers = [torch.nn.Linear(1, 40), torch.nn.Linear(40, 40), torch.nn.Linear(40, 1)]
    w = [p for layer in layers for p in (layer.weight, layer.bias)]
    opt = torch.optim.Adam(w, lr=1e-3)
    start = time.perf_counter()
    for _ in range(iterations):
        xs, ys, xq, yq = tasks(rng, meta_batch, k, q)
        loss = torch.stack(
            [
                F.mse_loss(forward(adapt(w, xs[i], ys[i], 1, 0.01, True), xq[i]), yq[i])
                for i in range(meta_batch)
            ]
        ).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - start
    own = tasks(np.random.default_rng(10_000 + seed), 600, k, 100)
    return {
        "seed": seed,
        "train_query": q,
        "train_seconds": round(seconds, 1),
        "test_mse_by_steps": test_mse(w, *own),
        # The product's 600 seeded test tasks (the same for every run), for a like-for-like view.
        "product_tasks_mse_by_steps": test_mse(w, *product_test_tasks(k)),
    }


def test_mse(w, xs, ys, xq, yq) -> dict[str, float]:
    mse: dict[int, list[float]] = {0: [], 1: [], 10: []}
    for i in range(len(xs)):
        for steps in mse:
            fast = adapt(w, xs[i], ys[i], steps, 0.01, False)
            with torch.no_grad():
                mse[steps].append(F.mse_loss(forward(fast, xq[i]), yq[i]).item())
    return {str(s): float(np.mean(v)) for s, v in mse.items()}


def product_test_tasks(k: int):
    from metalearn.data import SinusoidSampler
    from metalearn.engine.kinds import episode_seed

    sampler = SinusoidSampler(k, 100, episode_seed(f"sinusoid|test|1|{k}|100"))
    episodes = [sampler.sample() for _ in range(600)]
    return [
        torch.stack([getattr(e, f) for e in episodes])
        for f in ("support", "support_labels", "query", "query_labels")
    ]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--iterations", type=int, default=5000)
    p.add_argument("--train-query", type=int, default=10, help="query points per training task")
    args = p.parse_args()
    for seed in args.seeds:
        print(json.dumps(run(seed, args.iterations, q=args.train_query)), flush=True)


if __name__ == "__main__":
    main()
