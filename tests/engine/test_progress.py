"""Where a run is: the phases a live panel shows, and the test's progress a run reports."""

import pytest
import torch

from metalearn.config import RunConfig
from metalearn.engine.progress import phase
from metalearn.engine.run import execute
from metalearn.store import Store

CFG = {"episodes": 300, "eval_episodes": 600, "dataset": "glyphs"}


def test_queued_and_starting_runs_say_so():
    assert phase(CFG, "queued", {}).name == "queued"
    start = phase(CFG, "running", {})
    assert start.name == "preparing" and "on its first use" in start.text
    assert "compiling" not in start.text
    compiled = phase({**CFG, "hyper": {"compile": True}}, "running", {})
    assert compiled.name == "preparing" and "compiling it on the first episodes" in compiled.text


def test_training_shows_its_time_left_and_what_follows():
    now = phase(CFG, "running", {"episodes_per_second": (10.0, 100), "loss": (1.2, 100)})
    assert now.name == "training" and now.fraction == 100 / 300
    assert "100/300 training episodes" in now.text and "about 20 s of training left" in now.text
    assert now.text.endswith("then 600 test episodes")


def test_under_a_time_budget_the_bar_count_and_time_left_follow_the_budget():
    """A 40 s lesson run with a ceiling of 100,000 episodes showed "125/100000 training
    episodes ... about 2 h 00 min of training left"; training stops at the budget."""
    cfg = {**CFG, "episodes": 100_000, "max_seconds": 40}
    latest = {"episodes_per_second": (3.1, 125), "train_seconds": (12.0, 125)}
    now = phase(cfg, "running", latest)
    assert now.name == "training" and now.fraction == 12 / 40
    assert now.text == (
        "125 training episodes · 40 s budget · 3.1 episodes/s · about 28 s of training left, "
        "then 600 test episodes"
    )
    done = phase(cfg, "completed", {**latest, "train_seconds": (40.3, 130)})
    assert done.fraction == 1.0 and done.text == "125 training episodes · 40 s budget"
    stopped = phase(cfg, "stopped", latest)  # stopped by hand at 12 s of 40
    assert stopped.fraction == 12 / 40
    # A ceiling reached before the budget: the count decides, as without one.
    quick = phase({**cfg, "episodes": 200}, "running", {**latest, "episodes_per_second": (30, 125)})
    assert quick.text.startswith("125/200 training episodes") and "about 2 s" in quick.text


def test_a_budget_in_words():
    from metalearn.engine.progress import training_budget

    assert training_budget({"episodes": 300}) == "300 episodes"
    assert training_budget({"episodes": 100_000, "max_seconds": 480}) == (
        "8 min budget (at most 100,000 episodes)"
    )


def test_testing_has_its_own_bar_and_time_left():
    latest = {
        "episodes_per_second": (10.0, 300),
        "test_done": (200, 300),
        "test_seconds": (10.0, 300),
    }
    now = phase(CFG, "running", latest)
    assert now.name == "testing" and now.fraction == 200 / 600
    assert now.text == "Testing: 200/600 test episodes, about 20 s left"
    long = {**latest, "test_seconds": (400.0, 300)}
    assert "about 13 min left" in phase(CFG, "running", long).text
    assert phase(CFG, "running", {**latest, "test_done": (0, 300)}).text.endswith("episodes")
    assert phase(CFG, "completed", latest).name == "ended"


def test_a_run_reports_its_test_as_it_goes(tmp_path):
    store = Store(tmp_path)
    cfg = RunConfig(algorithm="protonet", episodes=4, eval_episodes=120, val_every=0, device="cpu")
    run_id = store.create_run(cfg.to_json())
    seen = []
    execute(cfg, store, run_id, progress=lambda step, values: seen.append((step, dict(values))))
    reports = [v["test_done"] for step, v in seen if "test_done" in v]
    assert reports == [0, 50, 100, 120]  # before the first chunk, then chunk by chunk
    assert all(step == 4 for step, v in seen if "test_done" in v)  # at the last training step
    rows = {m["name"]: m for m in store.metrics(run_id) if m["name"].startswith("test_")}
    assert rows["test_done"]["value"] == 120 and rows["test_seconds"]["value"] > 0


def test_a_first_decode_shows_its_own_progress_then_the_start_as_before():
    cfg = {"episodes": 100, "eval_episodes": 10, "dataset": "miniimagenet"}
    now = phase(cfg, "running", {"load_done": (12000.0, 0), "load_total": (60000.0, 0)})
    assert (now.name, now.fraction) == ("preparing", 0.2)
    assert now.text == "Starting: decoding the images once (then cached): 12,000/60,000"
    done = phase(cfg, "running", {"load_done": (60000.0, 0), "load_total": (60000.0, 0)})
    assert done.name == "preparing" and done.text.startswith("Starting: loading the data")
    training = {
        "load_done": (60000.0, 0),
        "load_total": (60000.0, 0),
        "episodes_per_second": (2.0, 10),
    }
    assert phase(cfg, "running", training).name == "training"


def test_a_first_read_by_the_frozen_pretrained_network_says_so():
    cfg = {
        "episodes": 0,
        "eval_episodes": 600,
        "dataset": "miniimagenet",
        "hyper": {"backbone": "efficientnet_lite0", "finetune_encoder": "none"},
    }
    now = phase(cfg, "running", {"load_done": (640.0, 0), "load_total": (12800.0, 0)})
    assert now.fraction == 0.05
    assert now.text == (
        "Starting: the pretrained network reads every image once (then cached): 640/12,800"
    )
    cfg["hyper"]["finetune_encoder"] = "top"  # the frozen trunk's maps: read once as well
    top = phase(cfg, "running", {"load_done": (640.0, 0), "load_total": (12800.0, 0)})
    assert top.text.startswith("Starting: the pretrained network reads every image once")
    cfg["augment"] = True  # new views every step: the network reads images, decoded once only
    loading = {"load_done": (1.0, 0), "load_total": (9.0, 0)}
    assert "decoding the images once" in phase(cfg, "running", loading).text


def test_the_cli_shows_a_slow_first_load_as_a_bar_of_its_own(cli, tmp_path, monkeypatch):
    """The pipeline on the pretrained network: the features of 250 images are computed first;
    the CLI's stderr shows a 'reading images' bar that reaches 250/250."""
    from tests.formats import write_cifar10_images

    monkeypatch.setenv("METALEARN_CACHE", str(tmp_path / "cache"))
    write_cifar10_images(tmp_path, per_class_train=20, per_class_test=5)
    res = cli(
        "train", "--algorithm", "finetune", "--finetune-mode", "seed", "--dataset", "cifar10",
        "--data-root", str(tmp_path), "--backbone", "efficientnet_lite0", "--input-size", "32",
        "--episodes", "5", "--batch-size", "50", "--device", "cpu",
        home=tmp_path / "home",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "reading images" in res.stderr and "250/250" in res.stderr


def test_a_first_text_encoding_shows_its_progress():
    """The first text run sat 75 s on "Starting: loading the data" with an empty bar while the
    encoder read 22,500 utterances: now the bar counts them."""
    cfg = {"episodes": 300, "eval_episodes": 600, "dataset": "clinc150", "hyper": {}}
    now = phase(cfg, "running", {"load_done": (2048.0, 0), "load_total": (22500.0, 0)})
    assert now.name == "preparing" and now.fraction == 2048 / 22500
    assert now.text == (
        "Starting: the pretrained encoder reads every utterance once (then cached): 2,048/22,500"
    )


@pytest.mark.integration
def test_the_text_encoder_reports_as_it_encodes(monkeypatch):
    """The real encoder, read in chunks: a report after each, the same features as in one go."""
    from metalearn.models import text

    texts = [f"please book a table for {i} people" for i in range(10)]
    whole = text.encode(texts)
    monkeypatch.setattr(text, "PROGRESS_EVERY", 4)
    seen = []
    out = text.encode(texts, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(4, 10), (8, 10), (10, 10)]
    assert out.shape == (10, text.MINILM_DIM) and torch.allclose(out, whole, atol=1e-5)
