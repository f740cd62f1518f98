"""Every GPU check in one process tree, inside a deadline: the time-to-accuracy runs on Omniglot
(issue 3's MAML line, issue 7's ProtoNet lines), MAML's product-vs-loop benchmark at meta-batch 32,
ProtoNet in fp32 against bf16, and the throughput of every algorithm (docs/benchmarks.md's GPU
section). Called by scripts/gpu_check.sh; results go to $OUT (at most 4 files):

    results.jsonl   one JSON object per step: {"step", "seconds", "result" | "error"}
    bench.jsonl     the benchmark rows of scripts/benchmarks.py
    benchmarks.md   the GPU section for docs/benchmarks.md
    log.txt         every command's stderr, with timestamps

A dry run on a CPU (tiny budgets) checks the script itself:
    DEVICE=cpu SCALE=0.05 python scripts/gpu_check.py --data-root ../shared/data [--only maml]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-root", default=".gpu_data")
    parser.add_argument("--deadline", type=float, default=540.0, help="seconds for everything")
    parser.add_argument(
        "--only",
        choices=["all", "maml", "methods", "sweep", "peers", "accuracy", "miniimagenet"],
        default="all",
        help="maml: issue 3's GPU lines alone; methods: issue 14's methods on the papers' four "
        "Omniglot settings (scripts/omniglot_methods.py); sweep: issue 17's 8 ProtoNet runs "
        "on one GPU through Ray against one alone (scripts/ray_gpu_sweep.py); peers: issue "
        "19's race against learn2learn / higher / easyfsl on the GPU and the torch.compile "
        "check; accuracy: issue 19's time to the papers' accuracy (ProtoNet 98.8, MAML 98.7); "
        "miniimagenet: issue 36's paper-setting runs on miniImageNet (ProtoNet, Baseline++; "
        "MAML and ResNet-12 pre-training throughput and peak memory)",
    )
    args = parser.parse_args()
    device = os.environ.get("DEVICE", "cuda")
    scale = float(os.environ.get("SCALE", "1"))  # < 1: a dry run with shorter budgets
    out = Path(os.environ.get("OUT", REPO / "gpu_out"))
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.setdefault("METALEARN_HOME", "/tmp/metalearn_gpu_runs")
    env.setdefault("METALEARN_CACHE", "/tmp/metalearn_gpu_cache")
    started = time.time()
    log = (out / "log.txt").open("a")
    results = (out / "results.jsonl").open("a")

    def left() -> float:
        return args.deadline - (time.time() - started)

    def call(step: str, cmd: list[str], parse: str = "json", need: float = 0.0):
        """Runs `cmd`; records its stdout (one JSON object, or JSON lines) under `step`."""
        if left() < need:
            record = {"step": step, "skipped": f"{left():.0f} s left, needs {need:.0f}"}
        else:
            stamp = time.time()
            log.write(f"== {stamp - started:.0f} s: {step}: {' '.join(cmd)}\n")
            log.flush()
            try:
                proc = subprocess.run(
                    cmd,
                    cwd=REPO,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    text=True,
                    timeout=max(5.0, left()),
                )
                text = proc.stdout.strip()
                record = {
                    "step": step,
                    "seconds": round(time.time() - stamp, 1),
                    "rc": proc.returncode,
                }
                try:
                    if parse == "lines":
                        record["result"] = [json.loads(x) for x in text.splitlines() if x.strip()]
                    elif parse == "json":
                        record["result"] = json.loads(text)
                    else:
                        record["result"] = text[-4000:]
                except json.JSONDecodeError:
                    record["error"] = text[-2000:] or f"no output (exit {proc.returncode})"
            except subprocess.TimeoutExpired:
                record = {"step": step, "error": "deadline reached"}
        results.write(json.dumps(record) + "\n")
        results.flush()
        print(json.dumps(record)[:1500], flush=True)
        return record.get("result")

    data = ["--dataset", "omniglot", "--data-root", args.data_root, "--device", device]
    train = [PY, "-m", "metalearn", "train", *data, "--json", "--no-progress", "--val-every", "0"]
    secs = lambda s: str(max(2.0, s * scale))  # noqa: E731
    evals = str(max(20, int(600 * min(1.0, scale * 4))))

    call(
        "environment",
        [
            PY,
            "-c",
            "import json, platform, torch; print(json.dumps({'python': platform.python_version(), "
            "'torch': torch.__version__, 'gpu': torch.cuda.get_device_name() "
            "if torch.cuda.is_available() else None}))",
        ],
    )
    if device == "cuda":
        call(
            "nvidia-smi",
            ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv"],
            parse="text",
        )
        call(
            "gpu unit tests",
            [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/models/test_precision.py"],
            parse="text",
        )

    if args.only == "sweep":  # issue 17: 8 runs sharing one GPU through Ray vs one alone
        call(
            "ray sweep 8 runs on one GPU",
            [PY, "scripts/ray_gpu_sweep.py", "--data-root", args.data_root, "--device", device,
             "--runs", "8", "--max-seconds", secs(90)],
            need=60,
        )  # fmt: skip
        print(f"done in {time.time() - started:.0f} s", flush=True)
        return

    if args.only == "methods":  # issue 14: every new method, the papers' four settings
        settings = ["5w1s", "5w5s", "20w1s", "20w5s"]
        methods = ["matching", "relation", "r2d2", "simpleshot", "protomaml", "reptile", "snail"]
        methods.append("cnp")
        per_run = max(5.0, (left() - 30) / (len(settings) * len(methods)) - 12)  # 12 s: start, test
        call(
            "methods on omniglot",
            [PY, "scripts/omniglot_methods.py", "--methods", *methods, "--settings", *settings,
             "--max-seconds", secs(per_run), "--device", device, "--data-root", args.data_root,
             "--eval-episodes", evals, "--out", str(out / "omniglot_methods")],
            parse="text",
        )  # fmt: skip
        print(f"done in {time.time() - started:.0f} s", flush=True)
        return

    if args.only == "peers":  # issue 19: the peer race at GPU sizes; torch.compile measured
        peers_dir = str((REPO / args.data_root / "peers").resolve())
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [peers_dir, env.get("PYTHONPATH")]))
        call("peers on the gpu",
             [PY, "scripts/benchmarks.py", "--peers", "--device", device, "--json", "--dataset",
              "omniglot", "--data-root", args.data_root, "--rounds", "10", "--steps", "5",
              "--out", str(out / "benchmarks.md")],
             parse="lines", need=60)  # fmt: skip
        call("torch.compile",
             [PY, "scripts/compile_check.py", "--device", device, "--dataset", "omniglot",
              "--data-root", args.data_root],
             parse="lines", need=60)  # fmt: skip
        print(f"done in {time.time() - started:.0f} s", flush=True)
        return

    if args.only == "miniimagenet":  # issue 36: the papers' settings at 84x84, on a budget
        mini = ["--dataset", "miniimagenet", "--data-root", args.data_root, "--device", device]
        mtrain = [PY, "-m", "metalearn", "train", *mini, "--json", "--no-progress"]
        recipes = {  # `metalearn.engine.recipes`, each cut to a wall-clock budget
            "protonet 1-shot (Snell et al.)": ("--algorithm protonet --n-shot 1 --train-way 30 "
                                               "--train-query 15 --lr-decay-every 2000", 170),
            "baseline++ (Chen et al.)": ("--algorithm finetune --head cosine --n-shot 1 "
                                         "--batch-size 16 --augment", 170),
        }  # fmt: skip
        for step, (flags, budget) in recipes.items():
            res = call(step,
                       [*mtrain, *flags.split(), "--image-size", "84", "--n-query", "15",
                        "--episodes", "100000000", "--max-seconds", secs(budget), "--val-every",
                        "0", "--log-every", "500", "--eval-episodes", evals],
                       need=budget * scale + 30)  # fmt: skip
            if isinstance(res, dict) and "run_id" in res:
                call(f"{step}, 5-shot test",
                     [PY, "-m", "metalearn", "eval", "--run", res["run_id"], "--n-shot", "5",
                      "--eval-episodes", evals, "--json"], need=20)  # fmt: skip
        bench = [PY, "-m", "metalearn", "bench", *mini, "--json", "--image-size", "84"]
        for step, flags in {
            "maml bench (Finn et al.: 5 steps, meta-batch 4)": "--algorithm maml --n-shot 1 "
            "--n-query 15 --inner-lr 0.01 --inner-steps 5 --meta-batch 4",
            "resnet12 pre-training bench (RFS)": "--algorithm finetune --backbone resnet12 "
            "--batch-size 64 --n-shot 1",
        }.items():
            call(step, [*bench, *flags.split(), *"--steps 10 --rounds 2".split()],
                 parse="lines", need=30)  # fmt: skip
        print(f"done in {time.time() - started:.0f} s", flush=True)
        return

    if args.only == "accuracy":  # issue 19: seconds of training to the papers' accuracy
        runs = {
            "protonet to 0.988": ("--algorithm protonet --n-way 5 --n-shot 1 --train-shot 1 "
                                  "--n-query 15 --train-way 60 --train-query 5 "
                                  "--lr-decay-every 2000 --log-every 1000", 150),
            "maml to 0.985": ("--algorithm maml --n-way 5 --n-shot 1 --n-query 15 --meta-batch 32 "
                              "--inner-steps 1 --inner-steps-test 3 --inner-lr 0.4 "
                              "--log-every 640", 300),
        }  # fmt: skip
        for step, (flags, budget) in runs.items():
            call(step,
                 [*train, *flags.split(), "--episodes", "100000000", "--max-seconds",
                  secs(budget), "--eval-episodes", evals],
                 need=60)  # fmt: skip
        print(f"done in {time.time() - started:.0f} s", flush=True)
        return

    # Issue 3: MAML, 5-way 1-shot, second order, meta-batch 32, one inner step (3 at test).
    metalearn = [PY, "-m", "metalearn"]
    maml = "--algorithm maml --n-way 5 --n-shot 1 --n-query 15 --meta-batch 32 --inner-steps 1"
    call(
        "maml 120 s",
        [*train, *maml.split(), *"--inner-steps-test 3 --inner-lr 0.4 --episodes 100000000".split(),
         "--max-seconds", secs(120), "--log-every", "640", "--eval-episodes", evals],
        need=60,
    )  # fmt: skip
    bench = [*metalearn, "bench", *data, "--json"]
    call("maml bench meta-batch 32", [*bench, *maml.split(), *"--steps 10 --rounds 2".split()],
         parse="lines", need=30)  # fmt: skip
    if args.only == "maml":
        print(f"done in {time.time() - started:.0f} s", flush=True)
        return

    # Issue 7: ProtoNet, Vinyals split, 60-way training; the four standard test settings.
    proto = "--algorithm protonet --n-way 5 --n-query 15 --train-way 60 --train-query 5"
    runs = {}
    for shot, budget in (("1", 60), ("5", 40)):
        res = call(
            f"protonet {shot}-shot {budget} s",
            [*train, *proto.split(), *"--lr-decay-every 2000 --episodes 100000000".split(),
             "--log-every", "500", "--eval-episodes", evals, "--n-shot", shot,
             "--train-shot", shot, "--max-seconds", secs(budget)],
            need=budget * scale + 20,
        )  # fmt: skip
        if isinstance(res, dict) and "run_id" in res:
            runs[shot] = res["run_id"]
    for shot, run in runs.items():
        call(f"protonet 20-way {shot}-shot",
             [*metalearn, "eval", "--run", run, "--n-way", "20", "--n-shot", shot, "--json"],
             need=15)  # fmt: skip
    call(
        "sync audit",
        [PY, "scripts/sync_audit.py", "--data-root", args.data_root, "--device", device],
        need=40,
    )
    for precision in ("fp32", "auto"):
        call(f"protonet bench {precision}",
             [*bench, *proto.split(), "--n-shot", "1", "--precision", precision,
              *"--steps 20 --rounds 2".split()],
             parse="lines", need=20)  # fmt: skip

    # Every algorithm, product vs reference, peak memory: rows as they come, then the section.
    remaining = max(10.0, left() - 5)
    log.write(f"== {time.time() - started:.0f} s: benchmarks ({remaining:.0f} s left)\n")
    log.flush()
    with (out / "bench.jsonl").open("w") as rows:
        try:
            subprocess.run(
                [
                    PY,
                    "scripts/benchmarks.py",
                    "--device",
                    device,
                    "--dataset",
                    "omniglot",
                    "--data-root",
                    args.data_root,
                    "--steps",
                    "10",
                    "--rounds",
                    "2",
                    "--out",
                    str(out / "benchmarks.md"),
                ],
                cwd=REPO,
                env=env,
                stdout=rows,
                stderr=log,
                timeout=remaining,
            )
        except subprocess.TimeoutExpired:
            log.write("benchmarks: deadline reached (rows so far in bench.jsonl)\n")
    print((out / "bench.jsonl").read_text()[-3000:], flush=True)
    log.write(f"== {time.time() - started:.0f} s: done\n")
    print(f"done in {time.time() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
