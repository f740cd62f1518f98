"""What watching a run in the dashboard costs that run (issue 5), measured inside one run.

A run is launched from the Train page in a real browser (ProtoNet on the built-in glyphs data).
Then the browser alternates: `--window` seconds watching it live on the Train page, and
`--window` seconds with the page's JavaScript paused (the DevTools protocol's
`Debugger.pause`: like a background tab the browser has suspended - no timers, no rendering, so
no live-panel reruns on the server either), which leaves the worker as alone as a CLI run.
(`Page.setWebLifecycleState` "frozen" would be the natural call, but this headless Chromium kept
running the page's timers under it.) Closing and
reopening the page instead would add a full app load to every watched window (measured: that
halves the run's speed for the seconds it takes - a cost of opening the dashboard, not of
watching it).

Alternating many times within one run makes the machine's own slow swings in speed (identical
CLI runs here differ by up to 40%) hit both kinds of window alike, which separate dashboard and
CLI runs cannot. Training speed per window comes from the run's own log (episodes and training
seconds at every log point).

    python scripts/watch_cost.py --episodes 4000 --window 8

Prints one JSON object: episodes/s watched and unwatched, the ratio with a 95% CI over the
alternation cycles, and the share of a core the browser and the server used in each kind of
window.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from metalearn.config import SPEC  # noqa: E402
from metalearn.store import Store  # noqa: E402
from scripts.dashboard_vs_cli import cpu_seconds  # noqa: E402
from tests.e2e.browser import ARGS, CHROMIUM, streamlit_server  # noqa: E402
from tests.e2e.test_browser import set_number  # noqa: E402


def main() -> None:
    home = tempfile.mkdtemp(prefix="ml-watch-")
    try:
        measure(home)
    finally:  # workers outlive the dashboard by design: end this one if it is still training
        subprocess.run(["pkill", "-f", home], check=False)


def measure(home: str) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--episodes", type=int, default=4000)
    p.add_argument("--window", type=float, default=8.0)
    args = p.parse_args()
    from playwright.sync_api import sync_playwright

    windows: list[tuple[str, float, float]] = []  # (kind, start, end) in wall-clock seconds
    cpu_by_kind = {"watched": {}, "unwatched": {}}
    seconds_by_kind = {"watched": 0.0, "unwatched": 0.0}
    with streamlit_server({"METALEARN_HOME": home}) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)
        page.goto(url + "/train")
        page.get_by_text("Launch a run to watch it train here.").wait_for()
        set_number(page, SPEC["episodes"].label, args.episodes)
        set_number(page, SPEC["val_every"].label, 0)
        set_number(page, SPEC["eval_episodes"].label, 100)
        page.get_by_role("button", name="Launch").click()
        page.get_by_text("episodes ·").first.wait_for()
        page.get_by_text("Updated ").first.wait_for()
        cdp = page.context.new_cdp_session(page)
        cdp.send("Debugger.enable")
        store = Store(home)
        (run,) = store.list_runs()
        kind = "watched"
        while True:
            cpu, start = cpu_seconds(), time.time()
            if kind == "unwatched":
                cdp.send("Debugger.pause")
            elif windows:  # every watched window but the first follows a paused one
                cdp.send("Debugger.resume")
            time.sleep(args.window)
            end = time.time()
            windows.append((kind, start, end))
            seconds_by_kind[kind] += end - start
            for name, used in cpu_seconds().items():
                cpu_by_kind[kind][name] = cpu_by_kind[kind].get(name, 0.0) + used - cpu[name]
            if store.get_run(run["id"])["status"] not in ("queued", "running"):
                break
            kind = "unwatched" if kind == "watched" else "watched"
        if kind == "unwatched":
            cdp.send("Debugger.resume")
        page.get_by_text("Test accuracy").wait_for()  # the page caught up after the last pause
        browser.close()
    rows = store.metrics(run["id"])
    store.close()
    print(json.dumps(summarise(rows, windows, cpu_by_kind, seconds_by_kind)))


def summarise(rows, windows, cpu_by_kind, seconds_by_kind) -> dict:
    """Episodes per training second in each window, from consecutive log points whose midpoint
    falls inside it; ratio per cycle = watched window / mean of the unwatched ones beside it."""
    points = sorted(
        (r["step"], r["time"], r["value"]) for r in rows if r["name"] == "train_seconds"
    )
    rates = []
    for kind, start, end in windows:
        steps = secs = 0.0
        for (s0, t0, v0), (s1, t1, v1) in zip(points, points[1:], strict=False):
            if start <= (t0 + t1) / 2 < end:
                steps, secs = steps + s1 - s0, secs + v1 - v0
        rates.append((kind, steps / secs if secs > 0 else None))
    ratios = []
    for i, (kind, rate) in enumerate(rates):
        if kind != "watched" or rate is None:
            continue
        beside = [r for k, r in rates[max(0, i - 1) : i + 2] if k == "unwatched" and r]
        if beside:
            ratios.append(rate / statistics.mean(beside))
    mean = statistics.mean(ratios)
    half = 1.96 * statistics.stdev(ratios) / len(ratios) ** 0.5 if len(ratios) > 1 else None
    by_kind = {
        k: statistics.mean([r for kk, r in rates if kk == k and r])
        for k in ("watched", "unwatched")
    }
    return {
        "episodes_per_second": {k: round(v, 2) for k, v in by_kind.items()},
        "ratio_watched_over_unwatched": round(mean, 3),
        "ratio_ci95": round(half, 3) if half else None,
        "cycles": len(ratios),
        "per_cycle": [round(r, 3) for r in ratios],
        "core_share": {
            k: {name: round(v / seconds_by_kind[k], 3) for name, v in used.items()}
            for k, used in cpu_by_kind.items()
        },
    }


if __name__ == "__main__":
    main()
