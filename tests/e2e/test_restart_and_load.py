"""The dashboard under stress, in a real browser: restarted mid-run, and ten viewers at once
while four runs train. Figures are printed (run with -s to see them)."""

import os
import statistics
import time

import pytest

from metalearn.config import RunConfig
from metalearn.engine.jobs import JobManager
from tests.e2e.browser import ARGS, CHROMIUM, SHOTS, missing, streamlit_server

pytestmark = [pytest.mark.slow, pytest.mark.skipif(bool(missing), reason=missing or "")]

LOAD_SECONDS = float(os.environ.get("METALEARN_LOAD_SECONDS", "120"))


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def progress(page) -> str:
    return page.get_by_text("episodes ·").first.inner_text()


def test_a_dashboard_restart_mid_run_loses_nothing(browser, tmp_path):
    jobs = JobManager(tmp_path)
    run_id = jobs.launch(
        RunConfig(episodes=3000, log_every=10, val_every=500, eval_episodes=100, device="cpu")
    )
    env = {"METALEARN_HOME": str(tmp_path)}
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(90_000)
    with streamlit_server(env) as url:
        page.goto(url + "/train")
        page.get_by_text("episodes ·").first.wait_for(timeout=120_000)
        before = progress(page)
    # The server is gone; the worker is not. A new dashboard shows the run live.
    assert jobs.store.get_run(run_id)["status"] == "running"
    rows_before = len(jobs.store.metrics_of([run_id]))
    with streamlit_server(env) as url:
        page.goto(url + "/train")
        page.get_by_text("episodes ·").first.wait_for(timeout=120_000)
        seen = progress(page)
        deadline = time.time() + 60
        while progress(page) == seen and time.time() < deadline:
            time.sleep(0.5)
        assert progress(page) != seen, "the run is not live after the restart"
        assert progress(page) != before
        page.screenshot(path=str(SHOTS / "10-after-restart.png"), full_page=True)
    assert len(jobs.store.metrics_of([run_id])) > rows_before
    jobs.stop(run_id)
    page.close()


def test_ten_viewers_while_four_runs_train(browser, tmp_path, monkeypatch):
    monkeypatch.setenv("METALEARN_MAX_RUNS_CPU", "4")
    jobs = JobManager(tmp_path)
    runs = [
        jobs.launch(
            RunConfig(
                algorithm=algo,
                episodes=10**6,
                log_every=10,
                val_every=0,
                eval_episodes=20,
                max_seconds=LOAD_SECONDS + 120,
                seed=i,
                device="cpu",
            )
        )
        for i, algo in enumerate(("protonet", "protonet", "maml", "finetune"))
    ]
    env = {"METALEARN_HOME": str(tmp_path), "METALEARN_MAX_RUNS_CPU": "4"}
    targets = [
        ("/", "Quick starts on the built-in glyphs data"),
        ("/train", "episodes ·"),
        ("/runs", "Export table as CSV"),
        ("/learn", "Reading a comparison"),
    ]
    times: list[float] = []
    errors: list[str] = []
    with streamlit_server(env) as url:
        contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(10)]
        pages = [c.new_page() for c in contexts]
        for p in pages:
            p.set_default_timeout(60_000)
            p.on("pageerror", lambda exc: errors.append(str(exc)))
        started = time.time()
        rounds = 0
        while time.time() - started < LOAD_SECONDS:
            # All ten viewers ask for a page at once, then each waits for its own content.
            asked = []
            for i, p in enumerate(pages):
                path, marker = targets[(i + rounds) % len(targets)]
                asked.append((p, marker, time.perf_counter()))
                p.goto(url + path, wait_until="commit")
            for p, marker, t0 in asked:
                p.get_by_text(marker).first.wait_for()
                times.append(time.perf_counter() - t0)
                if p.locator('[data-testid="stException"]').count():
                    errors.append(p.locator('[data-testid="stException"]').first.inner_text())
            rounds += 1
        statuses = [jobs.store.get_run(r)["status"] for r in runs]
        for c in contexts:
            c.close()
    for r in runs:
        jobs.stop(r)
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    print(
        f"\n10 viewers x {rounds} rounds ({len(times)} page loads) while 4 runs trained: "
        f"median {statistics.median(times):.2f} s, p95 {p95:.2f} s, max {times[-1]:.2f} s, "
        f"{len(errors)} errors; runs: {statuses}"
    )
    assert not errors, errors[:3]
    assert statuses.count("running") == 4, statuses
    # The goal is 2 s; here ten headless browsers share the 2 cores with the runs and the server,
    # so this bound only catches a dashboard that stops answering.
    assert p95 < 120, f"p95 page time {p95:.1f} s"
