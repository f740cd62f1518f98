"""What running through Ray costs: the ProtoNet quick start (the dashboard's first run: glyphs,
5-way 1-shot, the default 600 episodes) launched as a one-run sweep, alternately through the
local executor (a worker process) and the Ray executor (a Ray task with the same 2 CPUs, on a
local Ray started once here), in pairs. Reports each pair's training episodes per second and
their ratio (Ray / local; the issue asks >= 0.9).

    python scripts/ray_overhead.py --pairs 3 --out docs/results/ray_overhead.jsonl

Run it with nothing else training on the machine (2 cores: a second torch process halves both).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def quick_start(home: Path, executor: str, seed: int, address: str | None) -> dict:
    args = [sys.executable, "-m", "metalearn", "--home", str(home), "sweep"]
    args += ["--algorithms", "protonet", "--seeds", str(seed), "--executor", executor, "--json"]
    if executor == "ray":
        args += ["--ray-address", address, "--cpus-per-run", "2"]
    proc = subprocess.run(args, capture_output=True, text=True, cwd=REPO, check=True)
    (row,) = json.loads(proc.stdout.strip().splitlines()[-1])["runs"]
    sys.path.insert(0, str(REPO))
    from metalearn.store import Store

    result = Store(home).get_run(row["run_id"])["result"]
    return {
        "executor": executor,
        "seed": seed,
        "episodes_per_second": result["train_episodes"] / result["train_seconds"],
        "train_seconds": result["train_seconds"],
        "test_accuracy": result["test_accuracy"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    address = ray.get_runtime_context().gcs_address
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.pairs):
            order = ("local", "ray") if i % 2 == 0 else ("ray", "local")  # alternate who goes first
            pair = {e: quick_start(Path(tmp) / e, e, i, address) for e in order}
            ratio = pair["ray"]["episodes_per_second"] / pair["local"]["episodes_per_second"]
            row = {
                "pair": i,
                **{f"{e}_eps": round(pair[e]["episodes_per_second"], 2) for e in pair},
            }
            row |= {"ratio_ray_over_local": round(ratio, 3), "first": order[0]}
            row["same_accuracy"] = pair["ray"]["test_accuracy"] == pair["local"]["test_accuracy"]
            rows.append(row)
            print(json.dumps(row), flush=True)
    ray.shutdown()
    ratios = sorted(r["ratio_ray_over_local"] for r in rows)
    print(f"median ratio Ray / local: {ratios[len(ratios) // 2]:.3f} over {len(rows)} pairs")
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
