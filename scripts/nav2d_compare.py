"""2D navigation (Finn et al. 2017, section 5.3): MAML against the paper's baselines on the very
same fixed test goals, with the article's convergence-speed measure.

Every run goes through the CLI, one at a time (measure alone: two torch processes on two cores
slow each other down). Each method trains for its time budget; the table gives the mean return
on the test goals after 0, 1, 2 and 3 policy-gradient steps (95% CI), the steps and
environment samples to the return threshold, and whether MAML beats each baseline by more than
both CIs after 1 and after 3 steps.

    python scripts/nav2d_compare.py --out docs/results/nav2d_compare
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli_runs import append, train_row

REPO = Path(__file__).resolve().parents[1]
COMMON = "--dataset nav2d --n-shot 20 --n-query 20 --eval-episodes 100 --val-every 0 --device cpu"
# name: (algorithm and its settings, default training budget in seconds)
METHODS = {
    "maml": ("--algorithm maml", 600),
    "fomaml": ("--algorithm maml --first-order", 300),
    "reptile": ("--algorithm reptile", 180),
    "pretrained": ("--algorithm finetune", 180),
    "random": ("--algorithm finetune --episodes 0", 0),
    "oracle": ("--algorithm oracle", 90),
}
STEPS = ("0", "1", "2", "3")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget-scale", type=float, default=1.0, help="times each budget")
    parser.add_argument("--extra", default="", help="settings added to every run")
    parser.add_argument("--out", default=str(REPO / "docs" / "results" / "nav2d_compare"))
    args = parser.parse_args()
    rows = []
    for method in args.methods:
        settings, budget = METHODS[method]
        cmd = [sys.executable, "-m", "metalearn", "train", *settings.split(), *COMMON.split()]
        if budget:
            seconds = budget * args.budget_scale
            cmd += ["--episodes", "100000000", "--max-seconds", f"{seconds:g}"]
        cmd += [*args.extra.split(), "--seed", str(args.seed), "--json", "--no-progress"]
        rows.append(train_row(cmd, method=method, seed=args.seed))
    append(Path(args.out), rows, table(rows))


def table(rows: list[dict]) -> list[str]:
    lines = [
        "| method | return, 0 steps | 1 step | 2 steps | 3 steps | steps to threshold "
        "| samples to threshold | training s | training tasks |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    done = {r["method"]: r["result"] for r in rows if "result" in r}
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['method']} | failed | | | | | | | |")
            continue
        res = r["result"]
        cells = [
            f"{res['test_return_by_steps'][s]:.1f} ± {res['test_return_ci95_by_steps'][s]:.1f}"
            for s in STEPS
        ]
        lines.append(
            f"| {r['method']} | {' | '.join(cells)} | {res['steps_to_threshold']} "
            f"| {res['samples_to_threshold']} | {res['train_seconds']:.0f} "
            f"| {res['train_episodes']} |"
        )
    if "maml" in done:
        threshold = done["maml"]["return_threshold"]
        lines += ["", f"Threshold: mean return {threshold:g}. MAML minus baseline (both CIs):"]
        maml = done["maml"]
        for name in ("pretrained", "random"):
            if name not in done:
                continue
            for s in ("1", "3"):
                gap = maml["test_return_by_steps"][s] - done[name]["test_return_by_steps"][s]
                both = (
                    maml["test_return_ci95_by_steps"][s]
                    + done[name]["test_return_ci95_by_steps"][s]
                )
                verdict = "beats it by more than both CIs" if gap > both else "NOT beyond the CIs"
                lines.append(
                    f"- after {s} step(s), vs {name}: {gap:+.1f} (CIs {both:.1f}): {verdict}"
                )
    return lines


if __name__ == "__main__":
    main()
