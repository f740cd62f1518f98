"""Viewer mode in a real browser: with METALEARN_VIEWER=1 nothing that launches, stops, deletes or
uploads can be used, until the presenter password unlocks this one browser session."""

import time

import pytest

from metalearn.config import RunConfig
from metalearn.engine.jobs import JobManager
from metalearn.engine.run import execute
from metalearn.store import Store
from tests.e2e.browser import ARGS, CHROMIUM, SHOTS, missing, streamlit_server

pytestmark = [pytest.mark.slow, pytest.mark.skipif(bool(missing), reason=missing or "")]

PASSWORD = "lecture-hall-7"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A finished run (for delete and uploads) and a running one (for Stop), then the server."""
    home = tmp_path_factory.mktemp("viewer-home")
    store = Store(home)
    done = RunConfig(episodes=20, eval_episodes=20, val_every=0, device="cpu")
    execute(done, store, store.create_run(done.to_json()))
    jobs = JobManager(home)
    running = jobs.launch(RunConfig(episodes=10**6, val_every=0, device="cpu"))
    env = {
        "METALEARN_HOME": str(home),
        "METALEARN_VIEWER": "1",
        "METALEARN_PRESENTER_PASSWORD": PASSWORD,
    }
    try:
        with streamlit_server(env) as url:
            yield url, store, running
    finally:
        jobs.stop(running)


@pytest.fixture(scope="module")
def page(setup):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(90_000)
        yield page
        browser.close()


def test_no_control_is_usable_by_a_viewer(page, setup):
    url, store, running = setup
    page.goto(url)
    page.get_by_text("View-only mode").wait_for()
    runs = page.get_by_role("button", name="Run it")
    runs.first.wait_for()
    assert runs.count() >= 2 and all(runs.nth(i).is_disabled() for i in range(runs.count()))

    page.goto(url + "/train")
    page.get_by_text("launching runs is switched off").wait_for()
    assert page.get_by_role("button", name="Launch").is_disabled()
    assert page.get_by_role("button", name="Compare", exact=True).is_disabled()
    page.get_by_text("Curves for every run in progress").click()  # the full card, with Stop
    stop = page.get_by_role("button", name="Stop")
    stop.first.wait_for(timeout=60_000)  # the running run's card
    assert all(stop.nth(i).is_disabled() for i in range(stop.count()))
    page.screenshot(path=str(SHOTS / "9-viewer-train.png"), full_page=True)

    page.goto(url + "/runs")
    page.get_by_text("Export table as CSV").wait_for()
    assert page.get_by_text("Delete runs…").count() == 0
    assert page.get_by_role("button", name="Delete selected").count() == 0

    page.goto(url + "/explorer")
    page.get_by_role("tab", name="Bring your own task").click()
    page.get_by_text("uploading images is switched off").wait_for()
    assert page.locator('[data-testid="stFileUploader"]').count() == 0
    time.sleep(1)
    assert store.get_run(running)["status"] in ("queued", "running")  # nobody stopped it


def test_the_presenter_password_unlocks_one_session(page, setup):
    url, _, _ = setup
    page.goto(url + "/train")
    box = page.get_by_label("Presenter password")
    box.fill("not-it")
    box.press("Enter")
    page.get_by_text("Wrong password.").wait_for()
    assert page.get_by_role("button", name="Launch").is_disabled()
    box = page.get_by_label("Presenter password")
    box.fill(PASSWORD)
    box.press("Enter")
    page.get_by_role("button", name="Lock controls").wait_for()
    from playwright.sync_api import expect

    expect(page.get_by_role("button", name="Launch")).to_be_enabled(timeout=30_000)


def test_the_sixth_wrong_password_within_a_minute_waits(page, setup):
    """Against the real server: five wrong guesses are answered, the sixth is refused unread
    (the right password too, while the wait lasts). Last in this file: the wait holds for this
    client from here on."""
    url, _, _ = setup
    page.goto(url + "/train")
    page.get_by_text("View-only mode").wait_for()
    if page.get_by_role("button", name="Lock controls").count():
        page.get_by_role("button", name="Lock controls").click()
    for i in range(5):
        box = page.get_by_label("Presenter password")
        box.fill(f"guess-{i}")
        box.press("Enter")
        page.get_by_text("Wrong password.").wait_for()
        time.sleep(1.5)  # each guess its own rerun (the message stays up from the last one)
    box = page.get_by_label("Presenter password")
    box.fill(PASSWORD)
    box.press("Enter")
    page.get_by_text("Too many wrong passwords").wait_for()
    assert page.get_by_role("button", name="Launch").is_disabled()
    page.screenshot(path=str(SHOTS / "9-viewer-password-backoff.png"), full_page=True)
