#!/usr/bin/env bash
# Every GPU check in one go, inside 10 minutes on one H100/H200: the benchmark of every algorithm
# (product vs reference, peak memory) and the time-to-accuracy runs on Omniglot.
#
# A GPU machine cannot reach ../shared/data, so the Omniglot files travel with the working tree:
#   here, once:   bash scripts/gpu_check.sh --prepare      (copies them into .gpu_data/, ignored)
#   on the GPU:   the library's device tool, command "bash scripts/gpu_check.sh",
#                 carry [".gpu_data"], timeout_s 600
#   issue 19:     "bash scripts/gpu_check.sh --only peers" (the peer race at meta-batch 32 and
#                 the torch.compile check, ~4 min), then "... --only accuracy" (ProtoNet 150 s
#                 and MAML 300 s of training on Omniglot to the papers' 98.8 / 98.7, ~8 min)
# Results land in $OUT (the device tool brings them back) or ./gpu_out: results.jsonl (each
# run's JSON), bench.jsonl, benchmarks.md (the GPU section for docs/benchmarks.md), log.txt.
# The steps and budgets are in scripts/gpu_check.py.
set -uo pipefail
cd "$(dirname "$0")/.."
DATA=.gpu_data

if [ "${1:-}" = "--prepare" ]; then
    src=${METALEARN_DATA:-../shared/data}
    mkdir -p "$DATA/omniglot-py"
    cp -r "$src/omniglot-py/images_background.zip" "$src/omniglot-py/images_evaluation.zip" \
        "$src/omniglot-py/splits" "$DATA/omniglot-py/"
    # The peers of issue 19's race (no network on the GPU machine): installed here first
    # (bash scripts/install_peers.sh), copied with their pure-Python dependencies.
    if python3 -c "import learn2learn, higher, easyfsl" 2>/dev/null; then
        pip install -q --no-deps --target "$DATA/peers" higher==0.2.1 easyfsl==1.5.0 \
            gym==0.26.2 gym-notices cloudpickle
        cp -r "$(python3 -c 'import learn2learn, os; print(os.path.dirname(learn2learn.__file__))')" \
            "$DATA/peers/"
    else
        echo "peers not installed here (bash scripts/install_peers.sh): --only peers will skip them" >&2
    fi
    git check-ignore -q "$DATA" || echo "$DATA/ is not ignored: add it to .gitignore" >&2
    du -sh "$DATA"
    exit 0
fi

exec "${PYTHON:-python3}" scripts/gpu_check.py --data-root "$DATA" "$@"
