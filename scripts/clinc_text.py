"""Few-shot text on CLINC150 through the CLI, as issue 15 measures it: (a) the frozen pretrained
encoder with the nearest-prototype rule and no training, (b) ProtoNet meta-trained with the
encoder fine-tuned, (c) ProtoNet on a text encoder learned from scratch with the same time
budget. Every run is tested on the same 600 seeded episodes per shape (the test intents).

Appends one JSON line per (part, shape) to --out as it goes (a long run's earlier parts are kept
if a later one fails), and prints a Markdown table at the end.

    python scripts/clinc_text.py --data-root ../shared/data --seconds 1200 \
        --out docs/results/clinc_text.jsonl
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHAPES = ((5, 1), (5, 5), (10, 1), (10, 5))
ROOT = Path(__file__).resolve().parent.parent


def cli(home: str, *args: str) -> dict:
    """One `python -m metalearn ... --json` call; its last line as JSON."""
    cmd = [sys.executable, "-m", "metalearn", "--home", home, *args, "--json"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def record(path: Path, row: dict) -> None:
    with path.open("a") as f:
        f.write(json.dumps(row) + "\n")
    print(json.dumps(row), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", default="../shared/data")
    parser.add_argument("--seconds", type=float, default=1200.0, help="training budget of (b), (c)")
    parser.add_argument("--eval-episodes", type=int, default=600)
    parser.add_argument("--parts", nargs="+", default=["frozen", "finetuned", "scratch"])
    parser.add_argument("--finetune-encoder", default="all")
    parser.add_argument(
        "--trained-shapes",
        nargs="+",
        default=["10w1s", "5w1s", "10w5s", "5w5s"],
        help="shapes the trained runs are tested on (a fine-tuned encoder tests slowly on a CPU)",
    )
    parser.add_argument("--out", default="docs/results/clinc_text.jsonl")
    args = parser.parse_args()
    out = Path(args.out)
    home = tempfile.mkdtemp(prefix="clinc-text-")
    common = ["--dataset", "clinc150", "--data-root", args.data_root, "--val-every", "0"]
    common += ["--eval-episodes", str(args.eval_episodes), "--no-progress"]

    if "frozen" in args.parts:  # (a): no training at all
        for way, shot in SHAPES:
            r = cli(home, "train", "--algorithm", "protonet", *common, "--episodes", "0",
                    "--n-way", str(way), "--n-shot", str(shot))  # fmt: skip
            record(out, {"part": "frozen", "shape": f"{way}w{shot}s", **_keep(r)})

    trained = {
        "finetuned": ["--backbone", "minilm", "--finetune-encoder", args.finetune_encoder],
        "scratch": ["--backbone", "bag"],
    }
    for part, flags in trained.items():
        if part not in args.parts:
            continue
        start = time.perf_counter()
        r = cli(home, "train", "--algorithm", "protonet", *common, *flags,
                "--episodes", "1000000", "--max-seconds", str(args.seconds),
                "--n-way", "10", "--n-shot", "1", "--train-query", "5",
                "--eval-episodes", "1")  # fmt: skip
        trained_row = {"part": part, "flags": " ".join(flags), **_keep(r)}
        trained_row["wall_seconds"] = round(time.perf_counter() - start, 1)
        record(out, {**trained_row, "shape": "trained"})
        for way, shot in SHAPES:
            if f"{way}w{shot}s" not in args.trained_shapes:
                continue
            e = cli(home, "eval", "--run", r["run_id"], "--n-way", str(way), "--n-shot", str(shot),
                    "--eval-episodes", str(args.eval_episodes))  # fmt: skip
            record(out, {"part": part, "shape": f"{way}w{shot}s", **_keep(e)})


def _keep(r: dict) -> dict:
    keys = ("run_id", "test_accuracy", "test_ci95", "eval_episodes", "train_episodes",
            "train_seconds", "episodes_per_second", "load_seconds", "pairing_key")  # fmt: skip
    return {k: r[k] for k in keys if k in r}


if __name__ == "__main__":
    main()
