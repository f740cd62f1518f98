"""Viewer mode in a real browser: with METALEARN_VIEWER=1 nothing that launches, stops, deletes or
uploads can be used, until the presenter password unlocks this one browser session."""

import time
import uuid

import pytest
import requests

from metalearn.config import RunConfig
from metalearn.engine.jobs import JobManager
from metalearn.engine.run import execute
from metalearn.store import Store
from tests.e2e.browser import ARGS, CHROMIUM, SHOTS, missing, streamlit_server

pytestmark = [pytest.mark.skipif(bool(missing), reason=missing or "")]

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
        page.session_ids = []  # each page load's Streamlit session, read off its websocket
        page.on("websocket", lambda ws: ws.on("framereceived", _session_id(page.session_ids)))
        yield page
        browser.close()


def _session_id(ids: list[str]):
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    def read(payload) -> None:
        if isinstance(payload, bytes):
            msg = ForwardMsg.FromString(payload)
            if msg.WhichOneof("type") == "new_session":
                ids.append(msg.new_session.initialize.session_id)

    return read


def put_upload(page, url: str, size: int) -> int:
    """What a hostile viewer does: PUTs a file to Streamlit's upload endpoint with this page's
    session id and xsrf cookie, no uploader needed. Returns the HTTP status."""
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    answer = requests.put(
        f"{url}/_stcore/upload_file/{page.session_ids[-1]}/{uuid.uuid4()}",
        files={"file": ("big.png", b"\0" * size, "image/png")},
        headers={"X-Xsrftoken": cookies["_streamlit_xsrf"]},
        cookies=cookies,
        timeout=60,
    )
    return answer.status_code


def settled_rss_mb(pid: int) -> float:
    """Resident memory once it has stopped moving (1 MB over 2 s)."""
    last = rss_mb(pid)
    for _ in range(60):
        time.sleep(2)
        now = rss_mb(pid)
        if abs(now - last) < 1:
            return now
        last = now
    raise AssertionError("the server's memory kept changing for 2 minutes")


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


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


def test_a_viewer_cannot_upload_over_http(page, setup):
    """The adversary's route around the missing uploader: 20 PUTs of 9 MB from a viewer session
    are refused (403), and the server does not keep them (resident memory stays near where it
    was; kept, they were ~180 MB)."""
    url = setup[0]
    page.goto(url + "/explorer")
    page.get_by_text("View-only mode").wait_for()
    assert page.session_ids
    before = settled_rss_mb(url.pid)  # after the server's warm-up (torch) import is done
    statuses = [put_upload(page, url, 9 * 2**20) for _ in range(20)]
    assert statuses == [403] * 20
    grew = settled_rss_mb(url.pid) - before
    assert grew < 40, f"the server grew by {grew:.0f} MB over 20 refused uploads"


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
    assert put_upload(page, url, 2**20) == 204  # the presenter's session may upload again


def test_the_sixth_wrong_password_within_a_minute_waits(page, setup):
    """Against the real server: five wrong guesses are answered, the sixth is refused unread
    (the right password too, while the wait lasts). Last in this file: the wait holds for this
    client from here on."""
    url, _, _ = setup
    page.goto(url + "/train")
    page.get_by_text("View-only mode").wait_for()
    if page.get_by_role("button", name="Lock controls").count():  # a reload may keep the session
        page.get_by_role("button", name="Lock controls").click()
    page.get_by_label("Presenter password").wait_for()
    assert put_upload(page, url, 2**20) == 403  # locked (again): no uploads
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
