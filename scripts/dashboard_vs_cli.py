"""Does a run launched from the dashboard train as fast as the same run from the CLI? (issue 5)

Each round: the Home page's "ProtoNet, 5-way 1-shot" quick start clicked in a real browser and
watched live on the Train page until its test result shows (the server, the browser and the live
curves all on this machine), and the same RunConfig run by `python -m metalearn train --config`
with nothing else running. The order alternates between rounds. Prints each pair's training
episodes/s and the ratio dashboard / CLI; also the longest gap between live-panel updates.

    python scripts/dashboard_vs_cli.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from metalearn.store import Store  # noqa: E402
from tests.e2e.browser import ARGS, CHROMIUM, streamlit_server  # noqa: E402


def dashboard_run(browser) -> tuple[dict, float]:
    """Quick start from Home, watched on Train. Returns (the run, longest update gap in s)."""
    home = tempfile.mkdtemp(prefix="ml-dash-")
    with streamlit_server({"METALEARN_HOME": home}) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(600_000)
        page.goto(url + "/")
        page.get_by_role("button", name="Run it").first.click()
        page.get_by_text("episodes ·").first.wait_for()
        last, last_change, gap = None, time.time(), 0.0
        while not page.get_by_text("Test accuracy").count():
            stamp = page.get_by_text("Updated ").first.inner_text()
            if stamp != last:
                now = time.time()
                if last is not None:
                    gap = max(gap, now - last_change)
                last, last_change = stamp, now
            time.sleep(0.05)
        page.close()
    store = Store(home)
    (run,) = store.list_runs()
    store.close()
    return run, gap


def cli_run(config: dict) -> dict:
    home = tempfile.mkdtemp(prefix="ml-cli-")
    cfg = Path(home) / "config.json"
    cfg.write_text(json.dumps(config))
    out = subprocess.run(
        [sys.executable, "-m", "metalearn", "train", "--config", str(cfg), "--json"],
        cwd=REPO,
        env={**os.environ, "METALEARN_HOME": home},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    from playwright.sync_api import sync_playwright

    ratios, config = [], None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for r in range(args.rounds):
            order = ("dashboard", "cli") if r % 2 == 0 else ("cli", "dashboard")
            got = {}
            for which in order:
                if which == "dashboard":
                    run, gap = dashboard_run(browser)
                    config = run["config"]
                    got["dashboard"] = run["result"]["episodes_per_second"]
                    got["gap"] = gap
                else:
                    # The CLI runs the config the dashboard launched (round 0 is dashboard first).
                    got["cli"] = cli_run(config)["episodes_per_second"]
            ratio = got["dashboard"] / got["cli"]
            ratios.append(ratio)
            print(
                json.dumps(
                    {
                        "round": r,
                        "order": order,
                        "dashboard_eps": round(got["dashboard"], 2),
                        "cli_eps": round(got["cli"], 2),
                        "ratio": round(ratio, 3),
                        "longest_live_update_gap_s": round(got["gap"], 2),
                    }
                ),
                flush=True,
            )
        browser.close()
    print(f"ratio dashboard / CLI: median {statistics.median(ratios):.3f}, all {ratios}")


if __name__ == "__main__":
    main()
