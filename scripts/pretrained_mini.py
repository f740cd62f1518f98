"""The pretrained network on miniImageNet: frozen, meta-trained (`top`), and P>M>F's three stages.

Three networks, scored on the same seeded 5-way test episodes (15 queries) by ProtoNet's rule
(nearest class mean; `--distance`: cosine, P>M>F's, or the paper's squared Euclidean), the
photos resized from 84 to `--input-size`:

1. frozen: EfficientNet-Lite0 from its ImageNet weights, no training (`--episodes 0`);
2. meta-trained: its last two stages and head trained as a ProtoNet on miniImageNet's 64
   training classes for `--max-seconds` (`--finetune-encoder top`; the frozen trunk's maps are
   computed once and cached, so a step runs only the trained stages);
3. P>M>F: network 2, tuned on each test task's support set first
   (`--support-finetune-steps`; on the first `--pmf-episodes` episodes: 2 s a task here).

Paired differences over the same episodes (scipy's t interval) say whether each stage pays.
Writes docs/results/pretrained_mini.{jsonl,md}. miniImageNet's test classes are ImageNet
classes: every row is "seen in pretraining".

    python scripts/pretrained_mini.py --data-root ../shared/data --input-size 112 --max-seconds 900
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cli_runs import REPO, append, train_row  # noqa: E402

from metalearn.config import RunConfig  # noqa: E402
from metalearn.engine.kinds import kind_of  # noqa: E402
from metalearn.engine.run import evaluate_run, restore  # noqa: E402
from metalearn.engine.validate import validate  # noqa: E402
from metalearn.store import Store  # noqa: E402


def tuned_scores(store: Store, run_id: str, steps: int, lr: float, episodes: int) -> np.ndarray:
    """Per-episode accuracies of run `run_id` with P>M>F's test-time tuning (the run's seeded
    test episodes, as `metalearn eval --support-finetune-steps` scores them)."""
    algo, cfg, device = restore(store, run_id)
    hyper = {**cfg.hyper, "support_finetune_steps": steps, "support_finetune_lr": lr}
    cfg = validate(RunConfig(**{**cfg.to_dict(), "hyper": hyper}))
    algo.hp.support_finetune_steps, algo.hp.support_finetune_lr = steps, lr
    kind = kind_of(cfg)
    scores = kind.evaluate(algo, cfg, kind.load(cfg, "test"), device, episodes, "test")
    return np.array(scores.values)


def paired(a: np.ndarray, b: np.ndarray) -> dict:
    """b - a over the same episodes: mean and 95% t half-width."""
    d = b - a[: len(b)]
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return {"mean_difference": float(d.mean()), "ci95": float(half), "episodes": len(d)}


def ci(x: np.ndarray) -> float:
    return float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--input-size", type=int, default=112)
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument(
        "--episodes", type=int, help="train this many episodes instead of --max-seconds"
    )
    parser.add_argument("--encoder-lr", type=float, default=1e-5)
    parser.add_argument(
        "--distance", default="cosine", help="ProtoNet's scores: cosine (P>M>F's) or euclidean"
    )
    parser.add_argument("--eval-episodes", type=int, default=600)
    parser.add_argument("--pmf-episodes", type=int, default=200)
    parser.add_argument("--pmf-steps", type=int, default=20)
    parser.add_argument("--pmf-lr", type=float, default=1e-5)
    parser.add_argument("--home", default=str(REPO / "runs" / "pretrained-mini"))
    parser.add_argument("--out", default=str(REPO / "docs" / "results" / "pretrained_mini"))
    args = parser.parse_args()
    base = [
        sys.executable, "-m", "metalearn", "--home", args.home, "train",
        "--algorithm", "protonet", "--dataset", "miniimagenet", "--data-root", args.data_root,
        "--backbone", "efficientnet_lite0", "--input-size", str(args.input_size),
        "--image-size", "84", "--n-way", "5", "--n-shot", "1", "--n-query", "15",
        "--eval-episodes", str(args.eval_episodes), "--val-every", "0",
        "--distance", args.distance,
        "--device", "cpu", "--seed", "0", "--json", "--no-progress",
    ]  # fmt: skip
    frozen = train_row(
        base + ["--finetune-encoder", "none", "--episodes", "0"],
        network="frozen, no training",
        distance=args.distance,
    )
    trained = train_row(
        base
        + ["--finetune-encoder", "top", "--encoder-lr", str(args.encoder_lr)]
        + (
            ["--episodes", str(args.episodes)]
            if args.episodes
            else ["--episodes", "1000000", "--max-seconds", str(args.max_seconds)]
        ),
        network="meta-trained: last two stages and head, ProtoNet on the 64 training classes",
        distance=args.distance,
    )
    rows = [frozen, trained]
    if any("error" in r for r in rows):
        sys.exit("a run failed: " + next(r["error"] for r in rows if "error" in r))
    store = Store(args.home)
    ids = [r["result"]["run_id"] for r in rows]
    scores = [np.array(store.episodes(i)) for i in ids]
    started = time.time()
    pmf = tuned_scores(store, ids[1], args.pmf_steps, args.pmf_lr, args.pmf_episodes)
    rows.append(
        {
            "network": f"P>M>F: the meta-trained network tuned {args.pmf_steps} Adam steps "
            f"(lr {args.pmf_lr:g}) on each test task's support set",
            "command": f"metalearn eval --run {ids[1]} --support-finetune-steps "
            f"{args.pmf_steps} --support-finetune-lr {args.pmf_lr:g} --eval-episodes "
            f"{args.pmf_episodes}",
            "result": {"test_accuracy": float(pmf.mean()), "test_ci95": ci(pmf)},
            "eval_episodes": len(pmf),
            "distance": args.distance,
            "wall_seconds": round(time.time() - started, 1),
        }
    )
    five = [evaluate_run(store, i, n_shot=5) for i in ids]
    for r, f in zip(rows, five, strict=False):
        r["five_shot"] = {"test_accuracy": f["test_accuracy"], "test_ci95": f["test_ci95"]}
    diffs = {
        "meta-trained - frozen": paired(scores[0], scores[1]),
        "P>M>F - frozen": paired(scores[0], pmf),
        "P>M>F - meta-trained": paired(scores[1], pmf),
    }
    rows.append({"paired": diffs, "date": time.strftime("%Y-%m-%d")})
    trained_result = trained["result"]
    cost = trained_result["train_seconds"] / max(trained_result["train_episodes"], 1)
    table = [
        f"## 5-way 1-shot, {args.input_size} px, {args.distance} scores, {args.eval_episodes} "
        f"seeded test episodes ({time.strftime('%Y-%m-%d')})",
        "",
        "| network | 1-shot | ± 95% CI | episodes | 5-shot | ± 95% CI | wall time |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {r['network']} | {r['result']['test_accuracy']:.3f} | "
            f"{r['result']['test_ci95']:.3f} | {r.get('eval_episodes', args.eval_episodes)} | "
            + (
                f"{r['five_shot']['test_accuracy']:.3f} | {r['five_shot']['test_ci95']:.3f} | "
                if "five_shot" in r
                else " |  | "
            )
            + f"{r['wall_seconds']:.0f} s |"
            for r in rows[:3]
        ),
        "",
        f"Meta-training: {trained_result['train_episodes']} episodes in "
        f"{trained_result['train_seconds']:.0f} s ({cost:.2f} s an episode of 80 photos), "
        f"after {trained_result.get('load_seconds', 0):.0f} s loading the photos and computing "
        "the trunk's maps (cached for later runs).",
        "",
        "Paired differences over the same episodes (95% t interval):",
        "",
        *(
            f"- {name}: {d['mean_difference']:+.3f} ± {d['ci95']:.3f} ({d['episodes']} episodes)"
            for name, d in diffs.items()
        ),
    ]
    append(Path(args.out), rows, table)
    print(json.dumps(diffs))


if __name__ == "__main__":
    main()
