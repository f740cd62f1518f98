#!/usr/bin/env bash
# Installs what the tests need (Python packages; Debian's chromium and a Chinese font for the
# browser tests, which look at the dashboard in English and in Chinese; g++ for the `compile`
# tests) and runs the whole suite: every tier (plain `pytest` runs only the fast one).
# The README's test command and .ci/run both call this.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v g++ >/dev/null 2>&1 || missing+=(g++)  # torch.compile builds its kernels with it
fc-list 2>/dev/null | grep -qi -E "wqy|noto.*cjk" || missing+=(fonts-wqy-microhei)
if [ ${#missing[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        (apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null) ||
            echo "warning: could not install ${missing[*]}; the browser tests need them" >&2
    else
        echo "warning: ${missing[*]} missing; as root: apt-get install -y ${missing[*]}" >&2
    fi
fi
pip install -q -r requirements-dev.txt
python -m pytest --all-tiers "$@"
