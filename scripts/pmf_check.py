"""P>M>F's test-time fine-tuning against the frozen network on miniImageNet, paired.

Two runs through the CLI on the same seeded test episodes (5-way, 15 queries): ProtoNet on
EfficientNet-Lite0 from its ImageNet weights with no meta-training (`--episodes 0`), scoring
each test task as it is, and the same network tuned on each task's support images first
(`--support-finetune-steps`, P>M>F's last stage: Adam steps on the last two stages and the head,
augmented views of the support images as queries). Writes docs/results/pmf_check.{jsonl,md}
with each run's accuracy and CI and the paired difference (scipy's t interval over episodes).

    python scripts/pmf_check.py --data-root ../shared/data --input-size 112 --eval-episodes 200
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cli_runs import REPO, append, train_row  # noqa: E402

from metalearn.store import Store  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--input-size", type=int, default=112)
    parser.add_argument("--n-shot", type=int, default=1)
    parser.add_argument("--eval-episodes", type=int, default=200)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--home", default=str(REPO / "runs" / "pmf-check"))
    parser.add_argument("--out", default=str(REPO / "docs" / "results" / "pmf_check"))
    args = parser.parse_args()
    base = [
        sys.executable, "-m", "metalearn", "--home", args.home, "train",
        "--algorithm", "protonet", "--dataset", "miniimagenet", "--data-root", args.data_root,
        "--backbone", "efficientnet_lite0", "--finetune-encoder", "top",
        "--input-size", str(args.input_size), "--image-size", "84",
        "--n-way", "5", "--n-shot", str(args.n_shot), "--n-query", "15",
        "--episodes", "0", "--eval-episodes", str(args.eval_episodes), "--val-every", "0",
        "--device", "cpu", "--seed", "0", "--json", "--no-progress",
    ]  # fmt: skip
    rows = [
        train_row(base + ["--support-finetune-steps", "0"], mode="as pretrained"),
        train_row(
            base
            + ["--support-finetune-steps", str(args.steps)]
            + ["--support-finetune-lr", str(args.lr)],
            mode=f"tuned {args.steps} Adam steps (lr {args.lr:g}) on each task's support set",
        ),
    ]
    if any("error" in r for r in rows):
        sys.exit("a run failed: " + next(r["error"] for r in rows if "error" in r))
    store = Store(args.home)
    scores = [np.array(store.episodes(r["result"]["run_id"])) for r in rows]
    diff = scores[1] - scores[0]
    half = stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / np.sqrt(len(diff))
    paired = {"mean_difference": float(diff.mean()), "ci95": float(half), "episodes": len(diff)}
    rows.append({"paired": paired})
    shot = f"5-way {args.n_shot}-shot"
    table = [
        f"## {shot}, {args.input_size} px, {args.eval_episodes} seeded test episodes",
        "",
        "| network | test accuracy | ± 95% CI | wall time |",
        "|---|---:|---:|---:|",
        *(
            f"| {r['mode']} | {r['result']['test_accuracy']:.3f} | "
            f"{r['result']['test_ci95']:.3f} | {r['wall_seconds']:.0f} s |"
            for r in rows[:2]
        ),
        "",
        f"Paired difference (tuned - as pretrained): {diff.mean():+.3f} ± {half:.3f} (95% t "
        f"interval over the {len(diff)} episodes). Commands in pmf_check.jsonl.",
    ]
    append(Path(args.out), rows, table)


if __name__ == "__main__":
    main()
