#!/usr/bin/env bash
# Every GPU check in one go, inside 10 minutes on one H100/H200: the benchmark of every algorithm
# (product vs reference, peak memory) and the time-to-accuracy runs on Omniglot.
#
# A GPU machine cannot reach ../shared/data, so the Omniglot files travel with the working tree:
#   here, once:   bash scripts/gpu_check.sh --prepare      (copies them into .gpu_data/, ignored)
#   on the GPU:   the library's device tool, command "bash scripts/gpu_check.sh",
#                 carry [".gpu_data"], timeout_s 600
# Results land in $OUT (the device tool brings them back) or ./gpu_out: one JSON file per run,
# the benchmark rows, and benchmarks.md (the GPU section to paste into docs/benchmarks.md).
set -uo pipefail
cd "$(dirname "$0")/.."
DATA=.gpu_data

if [ "${1:-}" = "--prepare" ]; then
    src=${METALEARN_DATA:-../shared/data}
    mkdir -p "$DATA/omniglot-py"
    cp -r "$src/omniglot-py/images_background.zip" "$src/omniglot-py/images_evaluation.zip" \
        "$src/omniglot-py/splits" "$DATA/omniglot-py/"
    grep -qx '/.gpu_data/' .git/info/exclude 2>/dev/null || echo '/.gpu_data/' >>.git/info/exclude
    du -sh "$DATA"
    exit 0
fi

OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 METALEARN_HOME=/tmp/metalearn_gpu_runs METALEARN_CACHE=/tmp/metalearn_gpu_cache
PY=${PYTHON:-python3}
started=$(date +%s)
stamp() { echo "== $(($(date +%s) - started)) s: $*" | tee -a "$OUT/log.txt"; }

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/device.txt"
$PY -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())" | tee -a "$OUT/device.txt"

train() {  # name, then flags; the run's JSON result goes to $OUT/name.json
    local name=$1
    shift
    stamp "train $name"
    $PY -m metalearn train --dataset omniglot --data-root $DATA --device cuda --json \
        --no-progress "$@" >"$OUT/$name.json" 2>>"$OUT/log.txt"
    cat "$OUT/$name.json"
}
evaluate() {  # name of a trained run, n_way, n_shot
    local run
    run=$($PY -c "import json,sys; print(json.load(open(sys.argv[1]))['run_id'])" "$OUT/$1.json")
    $PY -m metalearn eval --run "$run" --n-way "$2" --n-shot "$3" --json 2>>"$OUT/log.txt" |
        tee -a "$OUT/protonet_settings.jsonl"
}

# 1. ProtoNet, Vinyals split, 60-way training (paper: 98.8 / 99.7 / 96.0 / 98.9 for
#    5-way 1-shot / 5-way 5-shot / 20-way 1-shot / 20-way 5-shot). 60 s of training each.
train protonet_1shot --algorithm protonet --n-way 5 --n-shot 1 --n-query 15 --train-way 60 \
    --train-shot 1 --train-query 5 --episodes 1000000 --max-seconds 60 --val-every 0
train protonet_5shot --algorithm protonet --n-way 5 --n-shot 5 --n-query 15 --train-way 60 \
    --train-shot 5 --train-query 5 --episodes 1000000 --max-seconds 60 --val-every 0
stamp "protonet: the four standard settings"
evaluate protonet_1shot 20 1
evaluate protonet_5shot 20 5

# 2. MAML, 5-way 1-shot, second order, meta-batch 32, 120 s of training (vmapped path measured
#    against the loop on the first updates; forced to vmap would skip that).
train maml_5w1s --algorithm maml --n-way 5 --n-shot 1 --n-query 15 --meta-batch 32 \
    --inner-steps 1 --inner-steps-test 3 --inner-lr 0.4 --episodes 10000000 --max-seconds 120 \
    --val-every 0

# 3. Throughput of every algorithm, product vs reference, peak memory (the GPU section).
stamp "benchmarks"
$PY scripts/benchmarks.py --device cuda --dataset omniglot --data-root $DATA \
    --out "$OUT/benchmarks.md" >"$OUT/bench.jsonl" 2>>"$OUT/log.txt"
cat "$OUT/benchmarks.md"
stamp "done"
