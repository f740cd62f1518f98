"""The Sweeps page of a finished sweep in a real browser: accuracy vs K with bands, the paper
table with the best in bold, paired verdicts, and exports equal to the table shown."""

import time
from pathlib import Path

import pytest

from metalearn.engine.records import RunRecord
from metalearn.engine.sweep_stats import (
    across_seeds,
    paper_table,
    sweep_frame,
    table_csv,
    table_latex,
)
from metalearn.store import Store
from tests.e2e.browser import ARGS, CHROMIUM, SHOTS, missing, streamlit_server

pytestmark = [pytest.mark.skipif(bool(missing), reason=missing or "")]


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory):
    """2 methods x 2 seeds x 2 shots on glyphs, tiny budgets, recorded as `sweep` records them
    and trained in this process (the page is what is tested here; sweeps through worker
    processes and Ray are tested in tests/engine and tests/pages)."""
    from metalearn.engine.run import execute
    from metalearn.engine.sweep import SweepPlan, describe_grid

    home = tmp_path_factory.mktemp("home")
    plan = SweepPlan(
        axes={"algorithm": ["protonet", "matching"], "seed": [0, 1], "n_shot": [1, 3]},
        settings={"episodes": 20, "eval_episodes": 60, "val_every": 10, "val_episodes": 10},
    )
    store = Store(home)
    sweep_id = store.create_sweep(describe_grid(plan), plan.to_dict())
    for cfg in plan.configs():
        execute(cfg, store, store.create_run(cfg.to_json(), sweep_id))
    return home, sweep_id


@pytest.fixture(scope="module")
def page(finished_sweep):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(exist_ok=True)
    home, _ = finished_sweep
    with streamlit_server({"METALEARN_HOME": str(home)}) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
        page.set_default_timeout(90_000)
        page.base_url = url
        yield page
        browser.close()


def test_the_sweep_page_shows_curves_table_verdicts_and_exports(page, finished_sweep):
    home, sweep_id = finished_sweep
    page.goto(f"{page.base_url}/sweeps?sweep={sweep_id}")
    page.get_by_text("8 of 8 runs completed").wait_for()
    page.get_by_text("Score vs shots per class").wait_for()
    chart = page.locator(".js-plotly-plot").first
    chart.wait_for()
    time.sleep(1)
    assert chart.locator("path.js-fill").count() == 2  # one band per method
    page.screenshot(path=str(SHOTS / "sweep-1-curves.png"))
    page.get_by_text("Results table").scroll_into_view_if_needed()
    time.sleep(1)
    store = Store(home)
    frame = sweep_frame([RunRecord.from_row(r) for r in store.group_runs(sweep_id)])
    cells, best = paper_table(across_seeds(frame))
    table = page.locator("table").filter(has_text="5-way 1-shot").first
    shown = table.inner_text()
    for text in cells.stack().tolist():
        assert text in shown
    bold = [b.inner_text() for b in table.locator("strong").all()]
    want_bold = [cells.loc[m, c] for m in cells.index for c in cells.columns if best.loc[m, c]]
    assert sorted(bold) == sorted(want_bold)
    page.screenshot(path=str(SHOTS / "sweep-2-table.png"))
    caption = f"{store.get_sweep(sweep_id)['name']} (sweep {sweep_id})"
    for name, want in (("CSV", table_csv(cells)), ("LaTeX", table_latex(cells, best, caption))):
        with page.expect_download() as got:
            page.get_by_role("button", name=name, exact=True).click()
        assert Path(got.value.path()).read_text() == want
    page.get_by_text("Paired comparisons on identical test episodes").scroll_into_view_if_needed()
    time.sleep(1)
    verdicts = page.locator('[data-testid="stDataFrame"]').first
    verdicts.wait_for()
    page.screenshot(path=str(SHOTS / "sweep-3-verdicts.png"))
