#!/usr/bin/env bash
# Every GPU check in one go, inside 10 minutes on one H100/H200: the benchmark of every algorithm
# (product vs reference, peak memory) and the time-to-accuracy runs on Omniglot.
#
# A GPU machine cannot reach ../shared/data, so the Omniglot files travel with the working tree:
#   here, once:   bash scripts/gpu_check.sh --prepare      (copies them into .gpu_data/, ignored)
#   on the GPU:   the library's device tool, command "bash scripts/gpu_check.sh",
#                 carry [".gpu_data"], timeout_s 600
#   issue 36:     miniImageNet's zip (141 MB) is over the tree's 64 MiB: "--prepare miniimagenet"
#                 cuts it into three 50 MiB parts under .gpu_mini/ (ignored). Call 1 carries
#                 [".gpu_mini/p0"], command "mkdir -p /tmp/mini && mv .gpu_mini/p0 /tmp/mini/";
#                 call 2 the same with p1; call 3 carries [".gpu_mini/p2", ".gpu_mini/p2.names"],
#                 command "mv .gpu_mini/p2 /tmp/mini/ && bash scripts/gpu_check.sh --only
#                 miniimagenet" (it joins the parts into .gpu_data's zip; ~8 min). Each call
#                 within 30 s of the last, while the machine is warm.
#   issue 19:     "bash scripts/gpu_check.sh --only peers" (the peer race at meta-batch 32 and
#                 the torch.compile check, ~4 min), then "... --only accuracy" (ProtoNet 150 s
#                 and MAML 300 s of training on Omniglot to the papers' 98.8 / 98.7, ~8 min)
# Results land in $OUT (the device tool brings them back) or ./gpu_out: results.jsonl (each
# run's JSON), bench.jsonl, benchmarks.md (the GPU section for docs/benchmarks.md), log.txt.
# The steps and budgets are in scripts/gpu_check.py.
set -uo pipefail
cd "$(dirname "$0")/.."
DATA=.gpu_data

if [ "${1:-}" = "--prepare" ] && [ "${2:-}" = "miniimagenet" ]; then
    src=${METALEARN_DATA:-../shared/data}/miniimagenet-images
    mkdir -p .gpu_mini
    split -b 50M -d -a 1 "$src/miniimagenet-images.zip" .gpu_mini/p
    cp "$src/class_names.tsv" .gpu_mini/p2.names  # travels with the last part
    git check-ignore -q .gpu_mini || echo ".gpu_mini/ is not ignored: add it to .gitignore" >&2
    ls -la .gpu_mini
    exit 0
fi
if [ "${2:-}" = "miniimagenet" ] && [ -e /tmp/mini/p0 ]; then  # on the GPU: join the parts
    mkdir -p "$DATA/miniimagenet-images"
    cat /tmp/mini/p0 /tmp/mini/p1 /tmp/mini/p2 > "$DATA/miniimagenet-images/miniimagenet-images.zip"
    cp .gpu_mini/p2.names "$DATA/miniimagenet-images/class_names.tsv" 2>/dev/null || true
fi

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
