"""Issue 17's GPU line: N ProtoNet Omniglot runs launched as one sweep through Ray on one GPU
(each asking for 1/N of it) against one such run alone; prints one JSON object with the total
training episodes per second of each and their ratio (the issue asks >= 3x for N = 8).

    python scripts/ray_gpu_sweep.py --data-root .gpu_data --runs 8 --max-seconds 60

Two totals: the sum of the runs' own episodes/s, and (stricter) every episode trained divided
by the wall time from the first run's start to the last run's end. A CPU dry run:
    python scripts/ray_gpu_sweep.py --device cpu --runs 2 --max-seconds 3 --data-root ../shared/data
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def sweep(home: Path, seeds: int, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, "-m", "metalearn", "--home", str(home), "sweep", "--executor", "ray"]
    cmd += ["--algorithms", "protonet", "--seeds", *map(str, range(seeds))]
    cmd += ["--dataset", "omniglot", "--data-root", args.data_root, "--device", args.device]
    cmd += ["--train-way", "60", "--train-query", "5", "--episodes", "100000000"]
    cmd += ["--max-seconds", str(args.max_seconds), "--val-every", "0", "--log-every", "500"]
    share = 0 if args.device == "cpu" else round(1 / args.runs, 4)
    cmd += ["--eval-episodes", "100", "--gpus-per-run", str(share), "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    from metalearn.store import Store

    store = Store(home)
    runs = store.group_runs(json.loads(proc.stdout.strip().splitlines()[-1])["sweep_id"])
    done = [r for r in runs if r["status"] == "completed"]
    episodes = sum(r["result"]["train_episodes"] for r in done)
    own = sum(r["result"]["train_episodes"] / r["result"]["train_seconds"] for r in done)
    wall = max(r["ended_at"] for r in done) - min(r["started_at"] for r in done) if done else 0
    return {
        "runs": len(runs),
        "completed": len(done),
        "sum_of_own_eps": round(own, 1),
        "episodes_over_wall": round(episodes / wall, 1) if wall else None,
        "test_accuracy": [round(r["result"]["test_accuracy"], 4) for r in done],
        "device": sorted({r["device"] for r in runs if r["device"]}),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-root", default=".gpu_data")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        alone = sweep(Path(tmp) / "alone", 1, args)
        many = sweep(Path(tmp) / "many", args.runs, args)
    out = {"gpu_fraction_per_run": round(1 / args.runs, 4), "alone": alone, "sweep": many}
    if "error" not in alone and "error" not in many and alone["sum_of_own_eps"]:
        out["ratio_own_eps"] = round(many["sum_of_own_eps"] / alone["sum_of_own_eps"], 2)
        if many["episodes_over_wall"] and alone["episodes_over_wall"]:
            out["ratio_over_wall"] = round(
                many["episodes_over_wall"] / alone["episodes_over_wall"], 2
            )
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
