"""Sinusoid regression, K = 10: the lab's regression learners on the very same 600 test tasks.

Every run goes through the CLI with the README's MAML command (5000 meta-batches of 25 tasks,
100 query points per training task), one algorithm at a time; the table gives each one's test
MSE after 0, 1 and 10 adaptation steps (a CNP takes no steps: one forward pass).

    python scripts/sinusoid_compare.py --seeds 0 --out docs/results/sinusoid_compare
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli_runs import append, train_row

REPO = Path(__file__).resolve().parents[1]
COMMON = (
    "--dataset sinusoid --n-way 1 --n-shot 10 --n-query 10 --train-query 100 --meta-batch 25 "
    "--episodes 125000 --inner-steps-test 10 --eval-episodes 600 --val-every 0 --device cpu"
)
EXTRA = {
    "maml": "--inner-lr 0.01",
    "finetune": "",
    "cnp": "",
    "reptile": "--inner-lr 0.01 --inner-optimizer sgd --inner-batch 10",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", nargs="+", default=list(EXTRA))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "results" / "sinusoid_compare"))
    args = parser.parse_args()
    out = Path(args.out)
    rows = []
    for method in args.methods:
        for seed in args.seeds:
            cmd = [sys.executable, "-m", "metalearn", "train", "--algorithm", method]
            cmd += [*COMMON.split(), *EXTRA[method].split(), "--seed", str(seed)]
            cmd += ["--json", "--no-progress"]
            rows.append(train_row(cmd, method=method, seed=seed))
    lines = [
        "| method | seed | MSE, 0 steps | 1 step | 10 steps | training s |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['method']} | {r['seed']} | failed | | | |")
            continue
        s = r["result"]["test_mse_by_steps"]
        lines.append(
            f"| {r['method']} | {r['seed']} | {s['0']:.3f} | {s['1']:.3f} | {s['10']:.3f} "
            f"| {r['result']['train_seconds']:.0f} |"
        )
    append(out, rows, lines)


if __name__ == "__main__":
    main()
