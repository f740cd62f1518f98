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

# In the page, not over the DevTools protocol: every 100 ms note when the live panel's "Updated"
# stamp changes and whether the test result is on screen. (Polling from Python, as an earlier
# version did 20 times a second, costs the browser and Playwright's driver more CPU than
# the page itself and slowed the run it measures.)
WATCH = """() => {
  window.__changes = []; window.__done = false;
  let last = null;
  const find = (text) => document.evaluate(
      `//*[contains(text(), '${text}')]`, document, null,
      XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
  window.__watch = setInterval(() => {
    const stamp = find('Updated ');
    const text = stamp ? stamp.textContent : null;
    if (text !== last) { window.__changes.push(performance.now()); last = text; }
    if (find('Test accuracy')) { window.__done = true; clearInterval(window.__watch); }
  }, 100);
}"""
PROCESSES = {"browser": "chromium", "server": "streamlit", "playwright driver": "playwright"}


def cpu_seconds() -> dict[str, float]:
    """CPU time (user + system) used so far by the browser, the server and Playwright's driver."""
    tick = os.sysconf("SC_CLK_TCK")
    out = dict.fromkeys(PROCESSES, 0.0)
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        for name, needle in PROCESSES.items():
            if needle in cmd:
                out[name] += (int(fields[11]) + int(fields[12])) / tick
                break
    return out


def dashboard_run(browser) -> tuple[dict, float, dict[str, float]]:
    """Quick start from Home, watched on Train. Returns (the run, the longest gap between live
    updates in s, the share of one core that the browser, server and driver used meanwhile)."""
    home = tempfile.mkdtemp(prefix="ml-dash-")
    with streamlit_server({"METALEARN_HOME": home}) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(600_000)
        page.goto(url + "/")
        page.get_by_role("button", name="Run it").first.click()
        page.get_by_text("episodes ·").first.wait_for()
        page.evaluate(WATCH)
        cpu, start = cpu_seconds(), time.time()
        while not page.evaluate("window.__done"):
            time.sleep(1.0)
        used = {k: (v - cpu[k]) / (time.time() - start) for k, v in cpu_seconds().items()}
        changes = page.evaluate("window.__changes")
        gap = max((b - a for a, b in zip(changes, changes[1:], strict=False)), default=0.0) / 1000
        page.close()
    store = Store(home)
    (run,) = store.list_runs()
    store.close()
    return run, gap, used


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
                    run, gap, used = dashboard_run(browser)
                    config = run["config"]
                    got["dashboard"] = run["result"]["episodes_per_second"]
                    got["gap"], got["cpu"] = gap, used
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
                        "core_share_while_watching": {
                            k: round(v, 3) for k, v in got["cpu"].items()
                        },
                    }
                ),
                flush=True,
            )
        browser.close()
    print(f"ratio dashboard / CLI: median {statistics.median(ratios):.3f}, all {ratios}")


if __name__ == "__main__":
    main()
