"""What a teacher and a researcher asked for, in a real browser: named runs, a run taken to
another lab and brought back, a comparison report that opens offline, projector mode and
resetting the demo."""

import re
import time

import pytest

from metalearn.config import RunConfig
from metalearn.engine.run import evaluate_run, execute
from metalearn.store import Store
from tests.e2e.browser import SHOTS, chromium_page, missing, streamlit_server

pytestmark = [pytest.mark.skipif(bool(missing), reason=missing or ""), pytest.mark.e2e]


def _two_runs(home) -> list[str]:
    store = Store(home)
    ids = []
    for algorithm in ("protonet", "matching"):
        cfg = RunConfig(algorithm=algorithm, episodes=20, eval_episodes=30, val_every=10)
        ids.append(store.create_run(cfg.to_json()))
        execute(cfg, store, ids[-1])
    store.close()
    return ids


def test_name_export_import_report_projector_and_reset(tmp_path):
    home = tmp_path / "home"
    ids = _two_runs(home)
    with streamlit_server({"METALEARN_HOME": str(home)}) as url, chromium_page(1200) as page:
        # 9. A name (and a note) given to a run on the Runs page, shown in the table and in a
        # shared link's comparison.
        page.goto(url + "/runs")
        page.get_by_text("Name a run, or note what it is for").click()
        box = page.get_by_label("Name", exact=True)
        box.fill("lesson 2 baseline")
        box.press("Enter")
        page.get_by_label("Note", exact=True).fill("the one to beat")
        page.get_by_role("button", name="Save").click()
        deadline = time.time() + 30
        while time.time() < deadline and not Store(home).get_run(ids[-1])["name"]:
            time.sleep(0.5)
        named = Store(home).get_run(ids[-1])
        assert (named["name"], named["note"]) == ("lesson 2 baseline", "the one to beat")
        page.goto(url + "/runs?runs=" + ",".join(ids))
        page.get_by_text("Paired comparison on identical test episodes").wait_for()
        assert page.get_by_text(re.compile("lesson 2 baseline · matching")).count()
        page.locator(".js-plotly-plot").first.wait_for()  # drawn, not the loading skeleton
        page.wait_for_timeout(1500)
        page.screenshot(path=str(SHOTS / "lab-named-compare.png"), full_page=True)

        # 11. The comparison report: downloaded, then opened offline in the browser.
        with page.expect_download() as got:
            page.get_by_role("button", name="Download a report of these runs (HTML)").click()
        report = tmp_path / "report.html"
        got.value.save_as(report)
        offline = page.context.browser.new_context(
            offline=True, viewport={"width": 1200, "height": 900}
        )
        view = offline.new_page()
        view.goto(report.as_uri())
        view.locator(".main-svg").first.wait_for()
        assert view.locator(".js-plotly-plot").count() >= 3  # charts drawn with no network
        assert view.get_by_text("lesson 2 baseline").count()
        view.screenshot(path=str(SHOTS / "lab-report-offline.png"), full_page=True)
        offline.close()

        # 10. The named run downloaded as one file, brought back as a new run.
        page.goto(url + "/runs")
        page.get_by_text("Take a run to another lab, or bring one here").click()
        with page.expect_download() as got:
            page.get_by_role("button", name="Download it (one file)").click()
        exported = tmp_path / got.value.suggested_filename
        got.value.save_as(exported)
        assert exported.name.endswith(".metalearn.zip")
        page.locator('[data-testid="stFileUploader"] input[type=file]').set_input_files(
            str(exported)
        )
        page.get_by_role("button", name="Add it to this lab").click()
        page.get_by_text(re.compile("Added as run .*: it tests, predicts and compares")).wait_for()
        store = Store(home)
        brought = [r for r in store.list_runs() if r["id"] not in ids]
        assert len(brought) == 1 and brought[0]["name"] == "lesson 2 baseline"
        ours = evaluate_run(store, brought[0]["id"])["test_accuracy"]
        assert ours == pytest.approx(evaluate_run(store, ids[-1])["test_accuracy"], abs=1e-6)
        page.screenshot(path=str(SHOTS / "lab-imported.png"), full_page=True)

        # 12. Projector mode, kept in the URL: larger text and chart text.
        page.goto(url + "/runs?runs=" + ",".join(ids))
        page.get_by_text("Paired comparison on identical test episodes").wait_for()
        small = page.evaluate("getComputedStyle(document.documentElement).fontSize")
        page.get_by_text("Projector mode").click()
        page.wait_for_url(re.compile("projector=1"))
        time.sleep(2)
        large = page.evaluate("getComputedStyle(document.documentElement).fontSize")
        assert float(large.rstrip("px")) > 1.3 * float(small.rstrip("px")), (small, large)
        tick = page.locator(".js-plotly-plot .xtick text").first
        assert float(tick.evaluate("t => getComputedStyle(t).fontSize").rstrip("px")) >= 20
        page.screenshot(path=str(SHOTS / "lab-projector.png"), full_page=True)
        page.reload()
        page.get_by_text("Paired comparison on identical test episodes").wait_for()
        assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == large

        # The presenter resets the demo: the run this browser launched goes, the others stay.
        page.goto(url + "/")
        page.get_by_role("button", name="Run it").first.click()
        page.get_by_text("Start another run").wait_for()  # the Train page, its run on top
        launched = [r for r in Store(home).list_runs() if r["config"]["dataset"] == "glyphs"]
        launched = [r for r in launched if r["id"] not in {*ids, brought[0]["id"]}]
        assert len(launched) == 1
        page.get_by_role("link", name="Runs and Compare", exact=True).click()  # same session
        reset = page.get_by_role("button", name=re.compile(r"Reset the demo \(1 runs?\)"))
        try:
            reset.wait_for(timeout=30_000)
        finally:
            page.screenshot(path=str(SHOTS / "lab-before-reset.png"), full_page=True)
        pid, deadline = None, time.time() + 30
        while not pid and time.time() < deadline:  # its worker, once started
            pid = Store(home).get_run(launched[0]["id"])["pid"]
            time.sleep(0.2)
        assert pid
        reset.click()
        page.get_by_role("button", name="Delete them").click()
        page.get_by_text("Runs and Compare").first.wait_for()
        deadline = time.time() + 60
        while time.time() < deadline and len(Store(home).list_runs()) != 3:
            time.sleep(1)
        assert {r["id"] for r in Store(home).list_runs()} == {*ids, brought[0]["id"]}
        # ... and its worker has stopped (nothing keeps training in the background)
        from metalearn.engine.jobs import pid_alive

        deadline = time.time() + 60
        while pid and time.time() < deadline and pid_alive(pid):
            time.sleep(0.5)
        assert not (pid and pid_alive(pid)), "the reset run's worker is still running"
