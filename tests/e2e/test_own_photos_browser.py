"""Your own photos at once, in a real browser: on a dashboard with no run at all, a teacher uploads
3 classes x 3 generated photos and 4 photos to classify; the pretrained network's predictions
appear within 15 s, then the fine-tune button runs and the page shows the new predictions."""

import time

import pytest
from PIL import Image

from tests.e2e.browser import SHOTS, chromium_page, english_words, missing, streamlit_server
from tests.formats import pattern

pytestmark = [pytest.mark.skipif(bool(missing), reason=missing or "")]
CLASSES = ("grey stripes", "blue stripes", "green stripes")


def test_your_own_photos_classified_with_no_trained_run_then_fine_tuned(tmp_path):
    files = {}
    for c, name in enumerate(CLASSES):
        files[name] = []
        for i in range(3):
            path = tmp_path / f"{name.replace(' ', '-')}-{i}.png"
            Image.fromarray(pattern(c, i, 96)).save(path)
            files[name].append(str(path))
    queries = []
    for k in range(4):
        path = tmp_path / f"query-{k}.png"
        Image.fromarray(pattern(k % 3, 50 + k, 96)).save(path)
        queries.append(str(path))
    home = tmp_path / "home"
    with streamlit_server({"METALEARN_HOME": str(home)}) as url, chromium_page(1400) as page:
        page.goto(url + "/explorer")
        page.get_by_role("tab", name="Bring your own task").click()
        page.get_by_text("Nothing is trained until you fine-tune below").wait_for()
        classes = page.get_by_label("Classes", exact=True)
        classes.fill("3")
        classes.press("Enter")
        page.get_by_text("Support images of class 3").wait_for()
        for k, name in enumerate(CLASSES):
            box = page.get_by_label("Class name").nth(k)
            box.fill(name)
            box.press("Enter")
            page.get_by_text(f"Support images of {name}").wait_for()
        captions = page.locator('[data-testid="stImageCaption"]').filter(has_text="→")
        uploaders = page.locator('[data-testid="stFileUploader"]')
        for k, name in enumerate(CLASSES):
            uploaders.nth(k).locator("input[type=file]").set_input_files(files[name])
        uploaders.nth(3).locator("input[type=file]").set_input_files(queries)
        page.get_by_text("query-3.png").wait_for()
        started = time.perf_counter()
        page.get_by_role("button", name="Classify").click()
        page.get_by_text("Accuracy on your examples").wait_for(timeout=60_000)
        seconds = time.perf_counter() - started
        said = captions.all_inner_texts()
        assert [s.split(" (")[0] for s in said] == [f"→ {CLASSES[k % 3]}" for k in range(4)], said
        page.screenshot(path=str(SHOTS / "own-photos-at-once.png"), full_page=True)
        assert seconds < 15, f"predictions took {seconds:.1f} s"
        print(f"\npredictions {seconds:.1f} s after the click (weights loaded, 13 photos read)")

        steps = page.get_by_label("Fine-tuning steps", exact=True)
        steps.fill("10")
        steps.press("Enter")
        time.sleep(0.5)
        page.get_by_role("button", name="Fine-tune on my examples").click()
        page.get_by_text("After 10 fine-tuning steps").wait_for(timeout=120_000)
        said = captions.all_inner_texts()
        assert len(said) == 4 and all("tuned: " in s for s in said), said
        page.screenshot(path=str(SHOTS / "own-photos-fine-tuned.png"), full_page=True)
        assert not page.locator('[data-testid="stException"]').count()

        # The same tab in Chinese: every word of ours translated (the upload boxes' own words
        # are Streamlit's, which a page cannot translate).
        page.goto(url + "/explorer?lang=zh")
        page.get_by_role("tab", name="用你自己的任务").click()
        page.get_by_text("在你点击下方的微调之前").wait_for()
        page.screenshot(path=str(SHOTS / "zh-own-photos.png"), full_page=True)
        assert not english_words(page)
