"""Runs the checks of the article's claims (`metalearn.engine.claims`) as the Claims page's
"Run this check" button does - each check one group of worker processes, on identical test
episodes - and prints each claim's verdict, with the runs it rests on, as one JSON row.

    python scripts/claims.py --home runs/claims [--only compute small_data] [--out FILE]

With --out the rows are appended to FILE (docs/results/claims.jsonl holds the README's).
A claim whose check already finished in that home is judged again without new runs.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from jsonrows import emit  # noqa: E402  (scripts/)

from metalearn.engine.claims import CLAIMS, assess  # noqa: E402
from metalearn.engine.jobs import JobManager  # noqa: E402
from metalearn.engine.validate import make_config  # noqa: E402


def wait(store, run_ids: list[str], timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(store.get_run(r)["status"] not in ("queued", "running") for r in run_ids):
            return
        time.sleep(2)
    raise TimeoutError(f"runs still going after {timeout:.0f} s: {run_ids}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", required=True, help="the run store to use (created if new)")
    parser.add_argument("--only", nargs="*", help="claim keys (default: every claim with a check)")
    parser.add_argument("--out", help="append the JSON rows to this file")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per check")
    args = parser.parse_args()
    jobs = JobManager(args.home)
    for claim in CLAIMS:
        if args.only and claim.key not in args.only:
            continue
        started = time.perf_counter()
        finding, used = assess(claim, jobs.store.list_runs(), jobs.store.episodes)
        if claim.runs and not used:
            _, ids = jobs.launch_group([make_config(s) for s in claim.runs])
            wait(jobs.store, ids, args.timeout)
            finding, used = assess(claim, jobs.store.list_runs(), jobs.store.episodes)
        row = {
            "claim": claim.key,
            "says": claim.claim,
            "verdict": finding.verdict,
            "because": finding.because,
            "values": finding.values,
            "runs": finding.rows,
            "check_seconds": round(time.perf_counter() - started, 1),
            "machine": f"{platform.machine()}, {platform.system()}",
            "date": time.strftime("%Y-%m-%d"),
        }
        emit(row, args.out)


if __name__ == "__main__":
    main()
