#!/usr/bin/env bash
# Installs what the tests need (Python packages; Debian's chromium for the browser tests) and runs
# the whole suite. The README's test command and .ci/run both call this.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) ||
            echo "warning: could not install chromium; the browser tests will not run" >&2
    else
        echo "warning: chromium missing; as root: apt-get install -y chromium" >&2
    fi
fi
pip install -q -r requirements-dev.txt
python -m pytest "$@"
