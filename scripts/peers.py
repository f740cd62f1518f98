"""The product's training step raced against the peers' documented usage, in one process.

Peers (install: `bash scripts/install_peers.sh`): learn2learn (MAML, first-order MAML, Meta-SGD,
ANIL), higher (MAML), easyfsl (ProtoNet). Each race uses identical weights (the peer's model is a
copy of the product's), the same meta-batches and the same optimiser (Adam, the product's
learning rate), and:

- times `steps` updates of the product, then of the peer, `rounds` times (A B A B: both see the
  same machine load); a round's ratio is peer seconds / product seconds (> 1: the product is
  faster); reports the median and range over rounds;
- compares the two meta-gradients on one batch before training, in float32 and in float64;
- measures each contender's peak memory in a fresh subprocess of its own: peak RSS while it
  trains (the process as built - torch, data, both models - plus its training's peak).

Alignments (so that the race is of the same computation):
- the model: the peers get the textbook Conv4 with the product's weights (`textbook_model`):
  `nn.BatchNorm2d(track_running_stats=False)` where the product's MAML family has its own batch
  norm (fused kernel outside vmap, elementary ops inside: `models.norm`), and conv, batch norm,
  ReLU, max-pool where the product pools before the ReLU (the same function, less work);
- ANIL: the peer computes the support and query features in separate passes, as the product does
  (batch statistics per set);
- easyfsl's ProtoNet scores by minus the Euclidean distance; the product (and the paper) by minus
  the squared distance: the peer's scores are squared (`SquaredProtoNet`). The product embeds
  support and query in one pass, easyfsl in two, so batch-norm statistics differ in training
  mode: gradients are compared with batch norm in evaluation mode (running statistics); timed
  in training mode.

Used by `scripts/benchmarks.py --peers`; `python scripts/peers.py --memory-of ...` is the
subprocess that measures one contender's memory.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from metalearn.config import RunConfig  # noqa: E402
from metalearn.engine.bench import sync  # noqa: E402
from metalearn.engine.build import build_algorithm  # noqa: E402
from metalearn.engine.kinds import kind_of  # noqa: E402
from metalearn.engine.validate import validate  # noqa: E402
from metalearn.models.norm import BatchStatsNorm2d  # noqa: E402

Step = Callable[[list], None]  # one training update on a meta-batch of episodes


# -- the peers' models and training steps (their documented usage) ----------------------------
def textbook_model(module: nn.Module) -> nn.Module:
    """A copy of the product's `module` as a peer's user writes it, with the same weights: each
    `BatchStatsNorm2d` becomes the fused `nn.BatchNorm2d(track_running_stats=False)`, and each
    Conv4 block's max-pool-then-ReLU becomes the textbook ReLU-then-max-pool (the same
    function)."""
    module = copy.deepcopy(module)
    for parent in list(module.modules()):
        for name, child in parent.named_children():
            if isinstance(child, BatchStatsNorm2d):
                native = nn.BatchNorm2d(child.num_features, track_running_stats=False)
                native.load_state_dict(child.state_dict())
                setattr(parent, name, native.to(child.weight.device, child.weight.dtype))
        if isinstance(parent, nn.Sequential):
            layers = list(parent)
            for i in range(len(layers) - 1):
                if isinstance(layers[i], nn.MaxPool2d) and isinstance(layers[i + 1], nn.ReLU):
                    parent[i], parent[i + 1] = layers[i + 1], layers[i]
    return module


def product_names(algo, prefix: str, module: nn.Module) -> list[str]:
    """The product's parameter names of `module` (an attribute `prefix` of algo), in order."""
    return [f"{prefix}.{n}" for n, _ in module.named_parameters()]


def l2l_step(algo, first_order: bool, kind: str = "maml") -> tuple[nn.Module, Step, list[str]]:
    """learn2learn: `MAML(model).clone()` and `adapt` per task, backward per task."""
    import learn2learn as l2l

    hp = algo.hp
    if kind == "anil":
        body = textbook_model(algo.learner[0])
        head = l2l.algorithms.MAML(copy.deepcopy(algo.learner[1]), lr=hp.inner_lr)
        model = nn.ModuleList([body, head])
    elif kind == "metasgd":
        order = [n.replace(".", "_") for n, _ in algo.learner.named_parameters()]
        lrs = nn.ParameterList([nn.Parameter(algo.alphas[k].detach().clone()) for k in order])
        model = l2l.algorithms.MetaSGD(textbook_model(algo.learner), lrs=lrs)
    else:
        model = l2l.algorithms.MAML(
            textbook_model(algo.learner), lr=hp.inner_lr, first_order=first_order
        )

    def step(episodes, optimizer):
        optimizer.zero_grad()
        for e in episodes:
            if kind == "anil":
                learner = model[1].clone()
                fs, fq = model[0](e.support), model[0](e.query)
            else:
                learner, fs, fq = model.clone(), e.support, e.query
            for _ in range(hp.inner_steps):
                learner.adapt(F.cross_entropy(learner(fs), e.support_labels))
            loss = F.cross_entropy(learner(fq), e.query_labels)
            (loss / len(episodes)).backward()
        optimizer.step()

    names = product_names(algo, "learner", algo.learner)
    if kind == "metasgd":
        names += [f"alphas.{k}" for k in order]
    return model, step, names


def higher_step(algo) -> tuple[nn.Module, Step, list[str]]:
    """higher: `innerloop_ctx` with a differentiable SGD per task, backward per task."""
    import higher

    hp = algo.hp
    model = textbook_model(algo.learner)
    inner = torch.optim.SGD(model.parameters(), lr=hp.inner_lr)

    def step(episodes, optimizer):
        optimizer.zero_grad()
        for e in episodes:
            with higher.innerloop_ctx(model, inner, copy_initial_weights=False) as (fmodel, opt):
                for _ in range(hp.inner_steps):
                    opt.step(F.cross_entropy(fmodel(e.support), e.support_labels))
                loss = F.cross_entropy(fmodel(e.query), e.query_labels)
                (loss / len(episodes)).backward()
        optimizer.step()

    return model, step, product_names(algo, "learner", algo.learner)


def easyfsl_step(algo) -> tuple[nn.Module, Step, list[str]]:
    """easyfsl: `process_support_set`, then the query scores; backward per episode."""
    from easyfsl.methods import PrototypicalNetworks

    class SquaredProtoNet(PrototypicalNetworks):
        def l2_distance_to_prototypes(self, samples):
            return -torch.cdist(samples, self.prototypes).pow(2)

    model = SquaredProtoNet(copy.deepcopy(algo.backbone))

    def step(episodes, optimizer):
        optimizer.zero_grad()
        for e in episodes:
            model.process_support_set(e.support, e.support_labels)
            loss = F.cross_entropy(model(e.query), e.query_labels)
            (loss / len(episodes)).backward()
        optimizer.step()

    return model, step, product_names(algo, "backbone", algo.backbone)


# (algorithm, peer) -> the peer's (model, step, the product's names of the peer's parameters in
# the peer's order) for a built product algorithm
PEERS: dict[tuple[str, str], Callable] = {
    ("maml", "learn2learn"): lambda a: l2l_step(a, first_order=False),
    ("maml", "higher"): higher_step,
    ("fomaml", "learn2learn"): lambda a: l2l_step(a, first_order=True),
    ("metasgd", "learn2learn"): lambda a: l2l_step(a, False, kind="metasgd"),
    ("anil", "learn2learn"): lambda a: l2l_step(a, False, kind="anil"),
    ("protonet", "easyfsl"): easyfsl_step,
}

# The races run by default: (algorithm, peer, settings).
# vmap only at meta-batch 4: on a CPU it is the slow path (minutes per race at 16).
RACES: list[tuple[str, str, dict]] = [
    *(
        ("maml", peer, {"meta_batch": mb, "maml_path": path})
        for mb in (4, 16)
        for peer in ("learn2learn", "higher")
        for path in ("auto", "loop", "threads", "vmap")
        if not (mb == 16 and path == "vmap")
    ),
    *(
        ("maml", peer, {"meta_batch": mb, "maml_path": "auto", "compile": True})
        for mb in (4, 16)
        for peer in ("learn2learn", "higher")
    ),
    ("fomaml", "learn2learn", {"meta_batch": 4, "maml_path": "auto"}),
    ("metasgd", "learn2learn", {"meta_batch": 4, "maml_path": "auto"}),
    ("anil", "learn2learn", {"meta_batch": 4, "maml_path": "auto"}),
    ("anil", "learn2learn", {"meta_batch": 4, "maml_path": "auto", "compile": True}),
    ("protonet", "easyfsl", {"n_way": 20, "n_shot": 5}),
    ("protonet", "easyfsl", {"n_way": 20, "n_shot": 5, "compile": True}),
    ("protonet", "easyfsl", {"n_way": 5, "n_shot": 1}),
    ("protonet", "easyfsl", {"n_way": 5, "n_shot": 1, "compile": True}),
]


# On a GPU (scripts/gpu_check.sh --only peers): the meta-batch 32, and ProtoNet.
GPU_RACES: list[tuple[str, str, dict]] = [
    ("maml", "learn2learn", {"meta_batch": 32, "maml_path": "auto"}),
    ("maml", "higher", {"meta_batch": 32, "maml_path": "auto"}),
    ("maml", "learn2learn", {"meta_batch": 32, "maml_path": "auto", "compile": True}),
    ("protonet", "easyfsl", {"n_way": 20, "n_shot": 5}),
    ("protonet", "easyfsl", {"n_way": 20, "n_shot": 5, "compile": True}),
]


def product_config(
    algorithm: str, settings: dict, dataset: str, data_root: str | None, device: str = "cpu"
):
    """The product's run configuration for a race (first-order MAML is `maml` with
    `first_order`)."""
    extra = {"first_order": True} if algorithm == "fomaml" else {}
    name = "maml" if algorithm == "fomaml" else algorithm
    return validate(
        RunConfig(
            algorithm=name,
            dataset=dataset,
            data_root=data_root,
            n_query=15,
            device=device,
            **extra,
            **settings,
        )
    )


class Race:
    """The product and one peer, built on the same weights and meta-batches."""

    def __init__(
        self, algorithm: str, peer: str, settings: dict, dataset="glyphs", root=None, device="cpu"
    ):
        self.algorithm, self.peer, self.settings = algorithm, peer, settings
        self.device = torch.device(device)
        cfg = product_config(algorithm, settings, dataset, root, device)
        kind = kind_of(cfg)
        train = kind.load(cfg, "train")
        torch.manual_seed(0)
        self.cfg, self.n_classes = cfg, kind.n_train_classes({"train": train})
        self.algo = build_algorithm(cfg, self.n_classes).to(self.device)
        sampler = kind.training_data(cfg, train, self.device)
        self.batches = [sampler() for _ in range(4)]
        peer_model, peer_step, _ = PEERS[(algorithm, peer)](self.algo)
        self.contenders: dict[str, tuple[nn.Module, Step]] = {
            "product": (self.algo, self.algo.train_step),
            "peer": (peer_model, peer_step),
        }

    def optimizer(self, module: nn.Module) -> torch.optim.Optimizer:
        return torch.optim.Adam(module.parameters(), lr=self.algo.hp.lr)

    def grad_rel_diff(self, dtype: torch.dtype) -> float:
        """||g_product - g_peer|| / ||g_product|| on the first batch, from the weights as built,
        in `dtype` (copies: the race's own models stay untouched)."""
        # built anew, not deep-copied: a deep copy of a compiled module runs eagerly
        algo = build_algorithm(self.cfg, self.n_classes).to(self.device)
        algo.load_state_dict(self.algo.state_dict())
        algo = algo.to(dtype)
        peer_model, peer_step, names = PEERS[(self.algorithm, self.peer)](algo)
        batch = [cast(e, dtype) for e in self.batches[0]]
        for model, step in ((algo, algo.train_step), (peer_model, peer_step)):
            if self.algorithm == "protonet":  # one pass vs two: see the module docstring
                model.eval()
            step(batch, torch.optim.SGD(model.parameters(), lr=0.0))
        ours = dict(algo.named_parameters())
        assert len(names) == len(ours), "the peer's parameters do not map onto the product's"
        product = torch.cat([ours[n].grad.flatten() for n in names]).double()
        peer = torch.cat([p.grad.flatten() for p in peer_model.parameters()]).double()
        return ((product - peer).norm() / product.norm()).item()

    def time(self, steps: int, rounds: int, warmup: int = 3) -> dict:
        """Interleaved rounds after warm-up; the median and range of the per-round ratios (peer
        / product seconds), each side's median seconds per update, the product's path."""
        optimizers = {n: self.optimizer(m) for n, (m, _) in self.contenders.items()}
        for name, (_, step) in self.contenders.items():
            i = 0
            while i < warmup or (name == "product" and getattr(self.algo, "path", "") == "auto"):
                step(self.batches[i % len(self.batches)], optimizers[name])
                i += 1
        seconds: dict[str, list[float]] = {"product": [], "peer": []}
        for _ in range(rounds):
            for name, (_, step) in self.contenders.items():
                sync(self.device)
                start = time.perf_counter()
                for i in range(steps):
                    step(self.batches[i % len(self.batches)], optimizers[name])
                sync(self.device)
                seconds[name].append((time.perf_counter() - start) / steps)
        ratios = [b / a for a, b in zip(seconds["product"], seconds["peer"], strict=True)]
        return {
            "ratio_median": statistics.median(ratios),
            "ratio_min": min(ratios),
            "ratio_max": max(ratios),
            "rounds": rounds,
            "seconds_per_step_product": statistics.median(seconds["product"]),
            "seconds_per_step_peer": statistics.median(seconds["peer"]),
            "path": self.algo.run_facts().get("maml_path"),
        }


def cast(e, dtype: torch.dtype):
    """A copy of episode e with its images in `dtype`."""
    e = copy.copy(e)
    e.support, e.query = e.support.to(dtype), e.query.to(dtype)
    return e


def peak_rss_mb(algorithm, peer, settings, contender, dataset, root, steps=4) -> float:
    """Peak RSS (MB) while `contender` trains alone in a fresh process (from its second update
    on: the process's memory as built, plus what training adds at its peak)."""
    cmd = [
        sys.executable,
        __file__,
        "--memory-of",
        contender,
        "--race",
        json.dumps([algorithm, peer, settings]),
        "--dataset",
        dataset,
        "--steps",
        str(steps),
    ] + (["--data-root", root] if root else [])
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=REPO)
    return float(out.stdout.strip().splitlines()[-1])


def race(
    algorithm, peer, settings, steps, rounds, dataset="glyphs", root=None, memory=True, device="cpu"
):
    """One row: timing, gradient agreement and (CPU) memory of the product against `peer`."""
    r = Race(algorithm, peer, settings, dataset, root, device)
    row = {"algorithm": algorithm, "peer": peer, **settings, "threads": torch.get_num_threads()}
    row["device"] = device
    row["grad_rel_diff"] = r.grad_rel_diff(torch.float32)
    row["grad_rel_diff_float64"] = r.grad_rel_diff(torch.float64)
    row.update(r.time(steps, rounds))
    if memory and device == "cpu":
        for contender in ("product", "peer"):
            row[f"peak_rss_mb_{contender}"] = peak_rss_mb(
                algorithm, peer, settings, contender, dataset, root
            )
    return row


def peers_installed() -> list[str]:
    """The peers importable here."""
    found = []
    for name in ("learn2learn", "higher", "easyfsl"):
        try:
            __import__(name)
            found.append(name)
        except ImportError:
            pass
    return found


def _memory_main(args) -> None:
    algorithm, peer, settings = json.loads(args.race)
    r = Race(algorithm, peer, settings, args.dataset, args.data_root)
    model, step = r.contenders[args.memory_of]
    optimizer = r.optimizer(model)
    step(r.batches[0], optimizer)  # the first update allocates the optimiser's state
    # Linux: "5" resets the process's peak RSS (VmHWM) to its current RSS, so that the peak
    # read below is that of training, not of building the data and both models.
    Path("/proc/self/clear_refs").write_text("5")
    for i in range(1, args.steps):
        step(r.batches[i % len(r.batches)], optimizer)
    status = Path("/proc/self/status").read_text()
    print(int(status.split("VmHWM:")[1].split()[0]) / 1024)  # kB


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--memory-of", choices=("product", "peer"), required=True)
    parser.add_argument("--race", required=True, help="JSON [algorithm, peer, settings]")
    parser.add_argument("--dataset", default="glyphs")
    parser.add_argument("--data-root")
    parser.add_argument("--steps", type=int, default=4)
    _memory_main(parser.parse_args())
