"""Training-step throughput of every registered algorithm, product path against a straightforward
reference (`metalearn.engine.references`), written into docs/benchmarks.md.

    python scripts/benchmarks.py --device cpu                       # the CPU section
    python scripts/benchmarks.py --device cuda --dataset omniglot   # the GPU section
    python scripts/benchmarks.py --peers --device cpu --json        # against learn2learn, higher,
                                                                    # easyfsl (scripts/peers.py)

Each device keeps its own section of the document; a rerun replaces only that section. The
peer races also keep their rows in results/peers.jsonl beside the document: a rerun of some races
(`--algorithms protonet`) replaces those rows of the section and keeps the others, each row with
the date it was measured.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from metalearn.algorithms import ALGORITHMS  # noqa: E402
from metalearn.config import RunConfig  # noqa: E402
from metalearn.engine.bench import bench  # noqa: E402
from metalearn.engine.device import describe_device, resolve_device  # noqa: E402

# Per algorithm: the settings benchmarked (CPU sizes; "gpu" entries override them on CUDA).
SETTINGS: dict[str, dict] = {
    "protonet": {"n_way": 5, "n_shot": 1, "n_query": 15, "gpu": {"train_way": 60}},
    "finetune": {"batch_size": 64, "gpu": {"batch_size": 256}},
    "maml": {"meta_batch": 4, "n_query": 15, "gpu": {"meta_batch": 32}},
    "anil": {"meta_batch": 4, "n_query": 15, "gpu": {"meta_batch": 32}},
    "metasgd": {"meta_batch": 4, "n_query": 15, "gpu": {"meta_batch": 32}},
    "meta_lstm": {"meta_batch": 1, "n_query": 15, "inner_steps": 5, "gpu": {"meta_batch": 4}},
    "mann": {"n_shot": 10, "meta_batch": 16, "gpu": {"meta_batch": 64}},
}


def run(args, done=lambda rows: None) -> list[dict]:
    """Benchmarks each algorithm; `done(rows so far)` after each (the document grows as it goes,
    so a run cut short still leaves its figures)."""
    device = resolve_device(args.device)
    rows = []
    for name in args.algorithms or list(ALGORITHMS):
        settings = dict(SETTINGS.get(name, {}))
        gpu = settings.pop("gpu", {})
        if device.type == "cuda":
            settings.update(gpu)
        cfg = RunConfig(
            algorithm=name,
            dataset=args.dataset,
            data_root=args.data_root,
            device=args.device,
            **settings,
        )
        started = time.perf_counter()
        out = bench(cfg, steps=args.steps, rounds=args.rounds)
        for row in out:
            row["settings"] = {k: v for k, v in settings.items()}
            row["bench_seconds"] = time.perf_counter() - started
            print(json.dumps(row), flush=True)
        rows.extend(out)
        done(rows)
    return rows


def section(rows: list[dict], args, device_label: str) -> str:
    lines = [
        f"## {device_label}",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {device_label} ({platform.machine()}, "
        f"{torch.get_num_threads()} CPU threads, torch {torch.__version__}), dataset "
        f"`{args.dataset}`, best of {args.rounds} interleaved rounds of {args.steps} timed updates "
        "(after 6 warm-up ones, and after MAML's `auto` path has timed its candidates):",
        "",
        f"    python scripts/benchmarks.py --device {args.device} --dataset {args.dataset}"
        + (" --data-root ../shared/data" if args.data_root else ""),
        "",
        "| algorithm | settings | product tasks/s | reference tasks/s | product / reference "
        "| peak GPU memory (MB) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    by_algo: dict[str, dict[str, dict]] = {}
    for r in rows:
        by_algo.setdefault(r["algorithm"], {})[r["variant"]] = r
    for name, variants in by_algo.items():
        p, ref = variants.get("product"), variants.get("loop")
        settings = ", ".join(f"{k}={v}" for k, v in p["settings"].items())
        if p.get("path"):
            settings += f", path={p['path']}"
        memory = f"{p['peak_memory_mb']:.0f}" if "peak_memory_mb" in p else "-"
        lines.append(
            f"| {name} | {settings} | {p['tasks_per_second']:.1f} | "
            f"{ref['tasks_per_second']:.1f} | {p['tasks_per_second'] / ref['tasks_per_second']:.2f}"
            f" | {memory} |"
        )
    lines.append("")
    return "\n".join(lines)


def race_key(row: dict) -> tuple:
    """What makes two peer rows the same race: the machine section, algorithm, peer, settings."""
    settings = ("meta_batch", "maml_path", "n_way", "n_shot", "compile")
    return (row.get("section"), row["algorithm"], row["peer"], *(row.get(k) for k in settings))


def latest_rows(path: Path, section: str) -> list[dict]:
    """The newest row of each race measured for `section`, in the order first measured."""
    rows: dict[tuple, dict] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            row = json.loads(line)
            if row.get("section") == section:
                rows[race_key(row)] = row  # later lines are newer
    return list(rows.values())


def run_peers(args, done=lambda row: None) -> list[dict]:
    """The races of `scripts/peers.py` (those of `--algorithms` and `--match` if given), one
    JSON row each, handed to `done` as it is measured."""
    import peers

    installed = peers.peers_installed()
    rows = []
    for algorithm, peer, settings in peers.GPU_RACES if args.device != "cpu" else peers.RACES:
        if args.algorithms and algorithm not in args.algorithms:
            continue
        if any(str(settings.get(k)).lower() != v.lower() for k, v in args.match):
            continue
        if peer not in installed:
            log(
                f"skipped {algorithm} vs {peer}: {peer} is not installed "
                "(bash scripts/install_peers.sh)"
            )
            continue
        row = peers.race(
            algorithm,
            peer,
            settings,
            args.steps,
            args.rounds,
            args.dataset,
            args.data_root,
            device=args.device,
        )
        row["measured"] = time.strftime("%Y-%m-%d")
        print(json.dumps(row) if args.json else peer_line(row), flush=True)
        rows.append(row)
        done(row)
    return rows


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def setting_text(row: dict) -> str:
    keys = ("meta_batch", "n_way", "n_shot", "compile")
    return ", ".join(f"{k}={row[k]}" for k in keys if k in row)


def path_text(r: dict) -> str:
    """The product's path: as asked, and what "auto" chose."""
    if r.get("maml_path") == "auto":
        return f"auto: {r.get('path')}"
    return r.get("path") or "-"


def peer_line(r: dict) -> str:
    return (
        f"{r['algorithm']} vs {r['peer']} ({setting_text(r)}, path {path_text(r)}): "
        f"{r['ratio_median']:.2f} ({r['ratio_min']:.2f}-{r['ratio_max']:.2f}), "
        f"gradients {r['grad_rel_diff']:.1e} (float64 {r['grad_rel_diff_float64']:.1e})"
    )


def peers_section(rows: list[dict], args, heading: str) -> str:
    lines = [
        f"## {heading}",
        "",
        f"Measured on the date in each row ({platform.machine()}, torch {torch.__version__},"
        f" {torch.get_num_threads()} threads, nothing else running), dataset `{args.dataset}` "
        f"(Omniglot-shaped: 28x28 grey, Conv4), 15 queries per class. Product / peer = the "
        f"peer's seconds per update over the product's (> 1: the product is faster): median of "
        f"{args.rounds} interleaved rounds of {args.steps} updates each, and the range. Gradients:"
        " relative difference of the two meta-gradients on the same batch and weights (0: the "
        "same operations in the same order, bitwise equal). Peak memory: peak RSS of a fresh "
        "process while that contender trains alone (its updates 2-4; for `auto` these include "
        "its timing trials of each path). How each peer is called and aligned: "
        "`scripts/peers.py`.",
        "",
        "    bash scripts/install_peers.sh",
        f"    python scripts/benchmarks.py --peers --device cpu --json --rounds {args.rounds} "
        f"--steps {args.steps}",
        "",
        "| algorithm | peer | setting | product path | product / peer (range) | gradient "
        "difference float32 / float64 | peak RSS MB product / peer | measured |",
        "|---|---|---|---|---:|---|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['algorithm']} | {r['peer']} | {setting_text(r)} | {path_text(r)} | "
            f"{r['ratio_median']:.2f} ({r['ratio_min']:.2f}-{r['ratio_max']:.2f}) | "
            f"{r['grad_rel_diff']:.1e} / {r['grad_rel_diff_float64']:.1e} | "
            + (
                f"{r['peak_rss_mb_product']:.0f} / {r['peak_rss_mb_peer']:.0f} |"
                if "peak_rss_mb_product" in r
                else "- |"
            )
            + f" {r.get('measured', '-')} |"
        )
    lines.append("")
    return "\n".join(lines)


def write(doc: Path, text: str, heading: str) -> None:
    head = (
        "# Benchmarks\n\nTraining-step throughput (tasks per second: episodes for episodic "
        "methods, batches for the transfer baseline's pre-training) of each algorithm's product "
        "path against a straightforward reference implementation of the same maths "
        "(`metalearn/engine/references/`), timed in one process on the same model, data and "
        "optimiser. Regenerate a section with the command shown under it.\n\n"
    )
    old = doc.read_text() if doc.exists() else head
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    new = pattern.sub(lambda _: text + "\n", old) if pattern.search(old) else old + text + "\n"
    doc.write_text(new)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dataset", default="glyphs")
    parser.add_argument("--data-root")
    parser.add_argument("--steps", type=int, help="timed updates per round (20; peers 3)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (5; peers 10)")
    parser.add_argument("--peers", action="store_true", help="race learn2learn, higher, easyfsl")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--algorithms", nargs="*")
    parser.add_argument(
        "--match",
        nargs="*",
        default=[],
        type=lambda t: tuple(t.split("=", 1)),
        help="peers: only the races whose settings have these values, e.g. compile=true",
    )
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    args = parser.parse_args()
    args.steps = args.steps or (3 if args.peers else 20)
    args.rounds = args.rounds or (10 if args.peers else 5)
    label = describe_device(resolve_device(args.device))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.peers:
        heading = f"{label}: against the peers"

        kept = args.out.parent / "results" / "peers.jsonl"

        def done(row: dict) -> None:  # kept, then the section redrawn from every race's newest
            with kept.open("a") as f:
                f.write(json.dumps({**row, "section": heading}) + "\n")
            write(args.out, peers_section(latest_rows(kept, heading), args, heading), heading)

        kept.parent.mkdir(parents=True, exist_ok=True)
        run_peers(args, done)
        return
    run(args, done=lambda rows: write(args.out, section(rows, args, label), label))


if __name__ == "__main__":
    main()
