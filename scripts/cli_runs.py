"""What the result scripts share: one CLI training run as a result row, and the files they write."""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def train_row(cmd: list[str], **row) -> dict:
    """Runs `python -m metalearn train ... --json` (cmd in full); the row holds the command and
    the run's result (or the error's tail), plus the given fields."""
    start = time.time()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    row["command"] = " ".join(cmd[1:])
    if proc.returncode != 0:
        row["error"] = proc.stderr[-2000:]
    else:
        row["result"] = json.loads(proc.stdout.splitlines()[-1])
        row["wall_seconds"] = round(time.time() - start, 1)
    print(json.dumps(row), flush=True)
    return row


def run_arguments(parser, max_seconds: float, out: str) -> None:
    """The flags every method-table script takes: training budget, device, data root, test
    episodes, seed, extra train flags, and where the rows go."""
    parser.add_argument("--max-seconds", type=float, default=max_seconds)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--data-root", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--eval-episodes", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0, help="training seed (test episodes fixed)")
    parser.add_argument(
        "--extra", nargs=argparse.REMAINDER, default=[], help="more train flags for every run"
    )
    parser.add_argument("--out", default=str(REPO / "docs" / "results" / out))


def append(out: Path, rows: list[dict], table: list[str]) -> None:
    """Appends the rows to OUT.jsonl and the markdown table to OUT.md (and prints the table)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.with_suffix(".jsonl").open("a") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    with out.with_suffix(".md").open("a") as f:
        f.write("\n".join(table) + "\n\n")
    print("\n".join(table))
