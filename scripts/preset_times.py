"""How long each teaching preset (`metalearn.engine.presets`) takes, as the dashboard runs it: the
runs launched as one group through the job manager (real worker processes, queued one at a time
on a CPU), timed from launch to the last result. Also each run's test score.

    python scripts/preset_times.py --out docs/results/presets.jsonl
    # the photo lesson, with miniImageNet under the data root:
    METALEARN_DATA=../shared/data python scripts/preset_times.py --only photos --out ...

Run it with nothing else training on the machine.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from jsonrows import emit  # noqa: E402  (scripts/)

from metalearn.engine.jobs import JobManager  # noqa: E402
from metalearn.engine.presets import PRESETS  # noqa: E402
from metalearn.engine.validate import make_config  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", help="append one JSON line per preset")
    parser.add_argument("--only", help="only the presets whose title contains this")
    args = parser.parse_args()
    for preset in [p for p in PRESETS if not args.only or args.only in p.title]:
        jobs = JobManager(tempfile.mkdtemp(prefix="preset-"))
        started = time.perf_counter()
        _, ids = jobs.launch_group([make_config(s) for s in preset.settings()])
        while any(jobs.store.get_run(i)["status"] in ("queued", "running") for i in ids):
            time.sleep(1)
        runs = [jobs.store.get_run(i) for i in ids]
        row = {
            "preset": preset.title,
            "said": preset.duration,
            "seconds": round(time.perf_counter() - started, 1),
            "runs": [
                {
                    "settings": r["config"]["algorithm"]
                    + (" first-order" if r["config"]["hyper"].get("first_order") else "")
                    + f" {r['config']['n_way']}-way {r['config']['n_shot']}-shot",
                    "status": r["status"],
                    "train_episodes": (r["result"] or {}).get("train_episodes"),
                    "test_accuracy": (r["result"] or {}).get("test_accuracy"),
                    "test_ci95": (r["result"] or {}).get("test_ci95"),
                    "wall_seconds": (r["result"] or {}).get("wall_seconds"),
                }
                for r in runs
            ],
        }
        emit(row, args.out)


if __name__ == "__main__":
    main()
