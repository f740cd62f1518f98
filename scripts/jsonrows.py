"""How the measuring scripts report: one JSON row per result, printed, and appended to a file
when one is given (docs/results/*.jsonl keep the rows the README quotes)."""

from __future__ import annotations

import json


def emit(row: dict, out: str | None = None) -> None:
    """Prints `row` as one JSON line and, with `out`, appends it to that file."""
    line = json.dumps(row)
    print(line, flush=True)
    if out:
        with open(out, "a") as f:
            f.write(line + "\n")
