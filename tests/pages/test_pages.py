"""Every page under Streamlit's AppTest, with a real run store and real worker processes."""

import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from metalearn.config import SPEC, RunConfig
from metalearn.engine.jobs import JobManager
from metalearn.settings import BACKBONE
from metalearn.store import Store

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGES = [
    "pages/views/home.py",
    "pages/views/train.py",
    "pages/views/runs.py",
    "pages/views/sweeps.py",
    "pages/views/embeddings.py",
    "pages/views/explorer.py",
    "pages/views/learn.py",
    "pages/views/claims.py",
    "pages/views/versus.py",
    "pages/views/draw.py",
    "pages/views/inside.py",  # listed before any run has something to show inside
]


def app(page: str | None = None) -> AppTest:
    """The dashboard at `page`, reading the store afresh: the pages cache store reads for a
    second, and a run executed in-process can finish inside that second."""
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, at.exception
    return at


def compare_page(run_ids) -> AppTest:
    """The Runs and Compare page with these runs selected (as a shared link selects them)."""
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/views/runs.py")
    at.query_params["runs"] = ",".join(run_ids)
    at.run()
    assert not at.exception, at.exception
    return at


def widget(elements, label):
    return next(w for w in elements if w.label == label)


def wait_finished(store: Store, run_ids, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        statuses = [store.get_run(r)["status"] for r in run_ids]
        if all(s not in ("queued", "running") for s in statuses):
            return statuses
        time.sleep(1)
    raise AssertionError(f"runs still active after {timeout} s: {statuses}")


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_with_no_runs(home, page):
    at = app(page)
    assert at.title, f"{page} shows no title"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_in_chinese(home, page):
    """?lang=zh: the page's title and the navigation in Chinese, no error."""
    import re

    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "zh"
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    title = at.title[0].value
    assert re.search(r"[\u4e00-\u9fff]", title), title
    assert not re.search(r"[A-Za-z]{2,}", title.replace("metalearn", "")), title


def test_the_train_form_in_chinese_keeps_its_values_and_groups(home):
    """The Train form in Chinese: grouped (episode, training, the method's own, advanced
    folded), labels from the table; a value set in English survives the switch."""
    at = app("pages/views/train.py")
    widget(at.number_input, SPEC["n_way"].label).set_value(7).run()
    at.session_state["lang"] = "zh"
    at.run()
    assert not at.exception
    assert widget(at.number_input, "每个情景的类别数（N-way）").value == 7
    assert "启动" in [b.label for b in at.button]  # Launch
    texts = " ".join(m.value for m in at.markdown)
    assert "**情景** · 小样本分类情景" in texts and "**训练**" in texts
    assert "**protonet 的设置**" in texts
    assert any(e.label == "高级设置" for e in at.expander)


def test_learn_page_shows_the_seeds_four_families_with_every_method(home):
    """Each registered method under the article's family, with formula and pseudo-code; MAML in
    the article's model-based family, its usual name (optimization-based) said beside it."""
    from metalearn import catalog

    at = app("pages/views/learn.py")
    headers = [h.value for h in at.header]
    assert headers[:5] == [
        "Model-based",
        "Optimization-based",
        "Metric-based",
        "Memory-based",
        "Transfer baseline",
    ]
    labels = [e.label for e in at.expander]
    algorithms = catalog.algorithms()
    assert len(labels) == len(algorithms)
    assert all(any(f"**{n}**" in label for label in labels) for n in algorithms)
    assert len(at.latex) >= len(algorithms) and len(at.code) >= len(algorithms)
    table = at.dataframe[0].value.set_index("method")
    assert table.loc["maml", "article's family"] == "Model-based"
    assert table.loc["maml", "usual family in the literature"] == "Optimization-based"
    assert any("The literature: optimization-based" in i.value for i in at.info)


def test_train_page_starts_on_the_declared_default_algorithm(home):
    """Not the first of the menu (SNAIL, model-based, comes first in the article's order)."""
    at = app("pages/views/train.py")
    assert widget(at.selectbox, "Algorithm").value == SPEC["algorithm"].default == "protonet"


def test_train_page_shows_validation_before_launch(home):
    at = app("pages/views/train.py")
    widget(at.number_input, SPEC["n_way"].label).set_value(1000)
    at.run()
    # named as the form names it (the library's "n_way=1000" is the CLI's words)
    said = [e.value for e in at.error]
    assert any("“Classes per episode (N-way)”=1000 is more than the 600 classes" in e for e in said)
    assert not any("n_way" in e for e in said), said
    assert widget(at.button, "Launch").disabled


def test_train_page_says_when_a_run_would_not_train(home):
    at = app("pages/views/train.py")
    assert not at.warning
    widget(at.number_input, SPEC["episodes"].label).set_value(0)
    at.run()
    assert any("No training (0 episodes)" in w.value for w in at.warning)
    assert not widget(at.button, "Launch").disabled  # allowed (a pretrained encoder as is)


def test_a_recipe_fills_the_train_form_and_the_preview_shows_named_photos(
    home, tmp_path, monkeypatch
):
    """miniImageNet (generated, in its real layout): the CPU demo and each paper's settings
    fill the form; the estimate says what it rests on; the preview's photos carry their class
    names; a run of the same shape finished here makes the estimate exact."""
    from metalearn.engine.validate import make_config
    from tests.formats import write_miniimagenet_images

    write_miniimagenet_images(tmp_path, {"train": 30, "val": 5, "test": 5}, per_class=16, side=8)
    monkeypatch.setenv("METALEARN_DATA", str(tmp_path))
    st.cache_resource.clear()
    at = app("pages/views/train.py")
    assert not [s for s in at.selectbox if s.label == "Start from"]  # glyphs: no recipes
    widget(at.selectbox, "Dataset").set_value("miniimagenet").run()
    start = widget(at.selectbox, "Start from")
    assert start.options[:3] == ["your own settings", "miniImageNet, CPU demo", "ProtoNet, "
                                 "1-shot (Snell et al. 2017)"]  # fmt: skip
    start.set_value("miniImageNet, CPU demo").run()
    assert not at.exception and not at.error
    number = {w.label: w.value for w in at.number_input}
    assert number[SPEC["image_size"].label] == 42 and number[SPEC["train_way"].label] == 20
    assert number[SPEC["max_seconds"].label] == 480
    assert any("Training stops at its time budget, 8.0 min" in c.value for c in at.caption)
    assert widget(at.button, "Time it here")
    widget(at.selectbox, "Start from").set_value("ProtoNet, 1-shot (Snell et al. 2017)").run()
    number = {w.label: w.value for w in at.number_input}
    assert number[SPEC["image_size"].label] == 84 and number[SPEC["train_way"].label] == 30
    assert number[SPEC["max_seconds"].label] is None  # the paper's episodes, no budget
    # The preview: photos, each support row with its class's name.
    widget(at.toggle, "Draw one").set_value(True).run()
    images = [e for e in at.main if type(e).__name__ == "Image"]
    captions = [i.caption for e in images for i in e.proto.imgs]
    named = sorted(c for c in captions if " · " in c)  # the support set: test classes 35..39
    assert [c.split(" · ")[1] for c in named] == [f"thing {c}" for c in (39, 35, 36, 38, 37)]
    assert len(captions) == 5 + 5 * 15
    # A finished run of this very shape on this device: the estimate goes by its pace.
    store = Store(home)
    cfg = make_config({"algorithm": "protonet", "dataset": "miniimagenet", "image_size": 84,
                       "n_shot": 1, "train_way": 30, "train_query": 15, "lr_decay_every": 2000,
                       "episodes": 30_000, "val_every": 1000})  # fmt: skip
    run_id = store.create_run(cfg.to_json())
    store.start_run(run_id, "cpu")
    result = {"train_seconds": 3.0, "train_episodes": 10, "load_seconds": 1.0, "eval_episodes": 5}
    store.finish_run(run_id, "completed", result=result)
    st.cache_data.clear()  # the pages read the store at most a second late
    at.run()
    line = next(c.value for c in at.caption if c.value.startswith("About "))
    assert "training 2.5 h" in line and run_id[-6:] in line and "same shape" in line


@pytest.mark.integration
def test_launch_from_the_train_page_runs_a_real_worker(home):
    at = app("pages/views/train.py")
    for name, value in {"episodes": 40, "eval_episodes": 30, "val_every": 20}.items():
        widget(at.number_input, SPEC[name].label).set_value(value)
    at.run()
    widget(at.button, "Launch").click()
    at.run()
    store = Store(home)
    [run] = store.list_runs()
    assert run["config"]["episodes"] == 40
    assert wait_finished(store, [run["id"]]) == ["completed"]
    at.run()
    assert not at.exception
    assert any("Test accuracy" in s.value for s in at.success)
    assert {"loss", "accuracy", "val_accuracy"} <= {m["name"] for m in store.metrics(run["id"])}


@pytest.mark.integration
def test_a_sweep_from_the_form_to_its_statistics(home):
    """The Sweep form counts the runs before launch, launches real workers, and the finished
    sweep's table, curve and paired comparisons appear."""
    at = app("pages/views/sweeps.py")
    assert any("12 runs" in i.value for i in at.info)  # 2 methods x 3 seeds x K 1, 5
    widget(at.number_input, "Seeds per setting").set_value(2)
    widget(at.multiselect, "Shots per class (K)").set_value([1])
    for name, value in {"episodes": 10, "eval_episodes": 20, "val_every": 0}.items():
        widget(at.number_input, SPEC[name].label).set_value(value)
    at.run()
    assert any("4 runs" in i.value for i in at.info)
    widget(at.button, "Launch sweep").click()
    at.run()
    assert not at.exception, at.exception
    store = Store(home)
    [sweep] = store.list_sweeps()
    runs = store.group_runs(sweep["id"])
    assert sweep["plan"]["axes"]["n_shot"] == [1] and len(runs) == 4
    assert wait_finished(store, [r["id"] for r in runs]) == ["completed"] * 4
    st.cache_data.clear()
    at.run()
    assert not at.exception, at.exception
    table = next(m.value for m in at.markdown if "| method | 5-way 1-shot |" in m.value)
    assert "| protonet |" in table and "| matching |" in table and "**" in table
    pairs = next(t.value for t in at.dataframe if "verdict" in t.value.columns)
    assert list(pairs["seeds"]) == [2]


@pytest.mark.integration
def test_compare_page_on_a_finished_group(home):
    jobs = JobManager(home)
    base = RunConfig(episodes=30, eval_episodes=30, val_every=10, val_episodes=10, log_every=10)
    configs = [base, RunConfig(**{**base.to_dict(), "algorithm": "finetune"})]
    _, ids = jobs.launch_group(configs)
    assert wait_finished(jobs.store, ids) == ["completed", "completed"]
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["runs"] = ",".join(ids)
    at.run()
    at.switch_page("pages/views/runs.py")
    at.query_params["runs"] = ",".join(ids)
    at.run()
    assert not at.exception
    assert len(widget(at.multiselect, "Runs to compare").value) == 2
    tables = [t.value for t in at.dataframe]
    assert any("mean A − B" in t.columns for t in tables)  # the paired comparison
    at.switch_page("pages/views/embeddings.py")
    at.run()
    assert not at.exception and not at.info  # snapshots exist, so no "no run" notice


def test_regression_and_inside_views(home):
    from metalearn.engine.run import execute

    store = Store(home)
    for cfg in (
        RunConfig(
            algorithm="maml",
            dataset="sinusoid",
            n_way=1,
            n_shot=10,
            n_query=10,
            meta_batch=5,
            episodes=50,
            inner_lr=0.01,
            eval_episodes=10,
            val_every=0,
        ),
        RunConfig(  # the fine-tuning baseline on the same test tasks
            algorithm="finetune",
            dataset="sinusoid",
            n_way=1,
            n_shot=10,
            n_query=10,
            episodes=20,
            eval_episodes=10,
            val_every=0,
        ),
        RunConfig(
            algorithm="meta_lstm",
            n_query=3,
            inner_steps=2,
            inner_steps_test=2,
            episodes=6,
            log_every=2,
            eval_episodes=5,
            val_every=0,
        ),
        RunConfig(
            algorithm="mann",
            n_shot=3,
            meta_batch=4,
            episodes=8,
            log_every=4,
            eval_episodes=6,
            val_every=0,
        ),
    ):
        execute(cfg, store, store.create_run(cfg.to_json()))
    at = app("pages/views/explorer.py")
    assert any("test MSE after 0 / 1 / 10 steps" in m.value for m in at.markdown)
    assert "Adaptation, step by step" in [h.value for h in at.subheader]
    [steps] = [c for c in at.get("plotly_chart") if '"frames"' in c.proto.spec]
    spec = steps.proto.spec
    assert "maml" in spec and "finetune" in spec  # the baseline on the same tasks, animated
    # An image run that adapts: the sampled episode's accuracy after each inner step.
    maml = RunConfig(algorithm="maml", episodes=2, eval_episodes=4, val_every=0, device="cpu")
    maml_id = store.create_run(maml.to_json())
    execute(maml, store, maml_id)
    at = app("pages/views/explorer.py")
    widget(at.multiselect, "Predictions of runs").set_value([maml_id]).run()
    assert not at.exception
    [steps] = [c for c in at.get("plotly_chart") if "This episode, step by step" in c.proto.spec]
    assert '"x":[0,1,2,3,4,5,6,7,8,9,10]' in steps.proto.spec.replace(" ", "")
    widget(at.slider, "Show the predictions after this many inner steps").set_value(0).run()
    assert not at.exception
    at = app("pages/views/inside.py")
    assert not at.info  # the newest run, mann: training and test curves, write and read maps
    assert len(at.get("plotly_chart")) == 4
    at.selectbox[0].select_index(1).run()  # the meta_lstm run: its two gates
    assert not at.exception and len(at.get("plotly_chart")) == 2
    at = app("pages/views/runs.py")
    assert not at.exception


def test_reinforcement_runs_on_every_page(home):
    """Train page words for RL; two finished nav2d runs: the adaptation viewer draws their
    paths per step, Compare draws return against adaptation steps and pairs them."""
    from metalearn.engine.run import execute
    from metalearn.engine.validate import make_config

    at = app("pages/views/train.py")
    widget(at.selectbox, "Algorithm").set_value("maml").run()
    widget(at.selectbox, "Dataset").set_value("nav2d").run()
    assert not at.exception and not at.error
    labels = {w.label for w in at.number_input}
    assert "Trajectories per adaptation step (K)" in labels and "Test goals" in labels
    assert SPEC["n_way"].label not in labels  # no classes in RL
    assert any("Episode** · Meta-reinforcement learning" in m.value for m in at.markdown)

    store = Store(home)
    small = {"dataset": "nav2d", "n_shot": 3, "n_query": 3, "meta_batch": 2, "episodes": 4}
    ids = []
    for algorithm in ("maml", "finetune"):
        cfg = make_config({"algorithm": algorithm, **small, "eval_episodes": 6, "val_every": 0})
        ids.append(store.create_run(cfg.to_json()))
        execute(cfg, store, ids[-1])
    at = app("pages/views/explorer.py")
    charts = at.get("plotly_chart")
    assert len(charts) == 2 * 4  # two runs x (0, 1, 2, 3 steps), for the first test goal
    at = compare_page(ids)
    assert any("mean A − B" in t.value.columns for t in at.dataframe)
    assert [s.value for s in at.slider if s.label.startswith("Target")] == [-20.0]
    from pages._compare import steps_curves

    [(title, curves)] = steps_curves([store.get_run(i) for i in ids]).items()
    assert title == "Test return" and len(curves) == 2  # the return-vs-steps chart's lines
    assert all(set(means) == {"0", "1", "2", "3"} and cis for means, cis in curves.values())
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert any("average return vs adaptation steps" in spec for spec in specs)


def test_damaged_artifacts_are_named_and_the_rest_of_the_page_works(home):
    """A truncated embeddings.npz on the Embeddings page, a truncated checkpoint chosen in the
    Task explorer: an error naming the file, no exception, the page still drawn."""
    from metalearn.engine.run import execute

    store = Store(home)
    cfg = RunConfig(episodes=6, eval_episodes=5, val_every=0, log_every=3, device="cpu")
    run_id = store.create_run(cfg.to_json())
    execute(cfg, store, run_id)
    for name in ("embeddings", "checkpoint"):
        path = store.artifact(run_id, name)
        path.write_bytes(path.read_bytes()[:100])
    at = app("pages/views/embeddings.py")
    assert not at.exception
    assert any("embeddings.npz of run" in e.value for e in at.error)
    at = app("pages/views/explorer.py")
    at.multiselect[0].select(run_id).run()
    assert not at.exception
    assert any("checkpoint" in e.value and "corrupt" in e.value for e in at.error)
    assert at.get("imgs") or at.title  # the sampled episode is still drawn


def test_learn_page_shows_the_first_1000_trap_of_the_seed_pipeline(home):
    at = app("pages/views/learn.py")
    assert "Fine-tuning a pre-trained model, and a trap" in [h.value for h in at.header]
    table = at.table[0].value
    assert list(table["after"]) == [0.414, 0.108]  # docs/results/cifar_pipeline.md
    assert any("Fine-tuning images (article's pipeline)" in c.value for c in at.caption)


def test_text_runs_on_every_page(home, tmp_path, monkeypatch):
    """Text on the dashboard: the Train page offers the text encoders and hides the image side;
    the Task explorer shows a sampled episode's utterances and a run's predictions, and
    classifies sentences typed in; the Embeddings page and Compare work for text runs."""
    from metalearn.engine.run import execute
    from metalearn.engine.validate import make_config
    from tests.formats import write_clinc150

    write_clinc150(tmp_path, per_intent=12)
    monkeypatch.setenv("METALEARN_DATA", str(tmp_path))
    st.cache_resource.clear()
    at = app("pages/views/train.py")
    widget(at.selectbox, "Dataset").set_value("clinc150").run()
    assert not at.exception
    backbone = widget(at.selectbox, BACKBONE.label)
    assert list(backbone.options) == ["minilm", "bag"] and backbone.value == "minilm"
    assert widget(at.selectbox, "Fine-tune the pretrained encoder").value == "none"
    assert SPEC["image_size"].label not in {w.label for w in at.number_input}
    compare = next(m for m in at.multiselect if m.label.startswith("Compare in one click"))
    assert "relation" not in compare.options and "finetune" in compare.value
    widget(at.selectbox, "Algorithm").set_value("relation").run()  # an image-only method
    assert not at.exception
    assert any("relation does not classify text" in e.value for e in at.error)

    store = Store(home)
    shape = {"dataset": "clinc150", "n_way": 3, "n_query": 4, "eval_episodes": 8, "val_every": 0}
    ids = []
    for algorithm, episodes in (("protonet", 0), ("finetune", 6)):
        cfg = make_config({"algorithm": algorithm, "episodes": episodes, **shape})
        ids.append(store.create_run(cfg.to_json()))
        execute(cfg, store, ids[-1])
    assert [store.get_run(i)["status"] for i in ids] == ["completed", "completed"]

    at = app("pages/views/explorer.py")
    widget(at.selectbox, "Dataset").set_value("clinc150").run()
    widget(at.number_input, SPEC["n_way"].label).set_value(3).run()
    at.multiselect[0].select(ids[0]).run()
    assert not at.exception and not at.error
    support, query = (t.value for t in at.dataframe[:2])
    assert "example 1" in support.columns and len(support) == 3
    assert len(query) == 6 and query["runs"].str.contains(ids[0][-6:]).all()

    # The "Bring your own task" tab (AppTest draws every tab): type sentences, classify.
    widget(at.selectbox, "Model").set_value(ids[0]).run()
    areas = {a.label: a for a in at.text_area}
    areas["Sentences of class 1 (one per line)"].input("book a flight\nplane tickets please")
    areas["Sentences of class 2 (one per line)"].input("play some jazz\nput on a song")
    at.text_area(key="say-query").input("i want to fly to rome\nplay my playlist")
    at.run()
    next(b for b in at.button if b.label == "Classify").click().run()
    assert not at.exception and not at.error
    table = next(t.value for t in at.dataframe if "sentence" in t.value.columns)
    assert list(table["predicted"]) == ["class 1", "class 2"]
    # A background run finishes meanwhile (it joins the model menu, best first): the chosen
    # model and the typed sentences stay.
    late = make_config({"algorithm": "protonet", "episodes": 0, **shape, "seed": 5})
    late_id = store.create_run(late.to_json())
    execute(late, store, late_id)
    st.cache_data.clear()
    at.run()
    assert not at.exception
    assert widget(at.selectbox, "Model").value == ids[0]
    assert len(widget(at.selectbox, "Model").options) == 4  # the pretrained network and 3 runs
    assert at.text_area(key="say-query").value == "i want to fly to rome\nplay my playlist"

    at = app("pages/views/embeddings.py")
    assert not at.exception and not at.info
    at = compare_page(ids)
    assert any("mean A − B" in t.value.columns for t in at.dataframe)  # paired on one set


def test_learn_page_shows_what_a_pretrained_text_encoder_buys(home):
    at = app("pages/views/learn.py")
    assert "Text: what a pretrained encoder buys" in [h.value for h in at.header]
    table = next(t.value for t in at.table if "10-way 1-shot" in t.value.columns)
    assert list(table["10-way 1-shot"]) == [0.920, 0.950, 0.529]  # docs/results/clinc_text.md


def test_the_embeddings_page_stays_on_its_run_when_another_gains_snapshots(home):
    """The chosen run is an id (and in the URL), not a list position: a run created earlier that
    gets its first snapshot meanwhile does not move the page to another run."""
    from metalearn.engine.run import execute

    store = Store(home)
    tiny = {"episodes": 10, "eval_episodes": 5, "val_every": 0}
    late, first, second = (store.create_run(RunConfig(**tiny, seed=s).to_json()) for s in (3, 1, 2))
    for run_id, seed in ((first, 1), (second, 2)):
        execute(RunConfig(**tiny, seed=seed), store, run_id)
    at = app("pages/views/embeddings.py")
    assert widget(at.selectbox, "Run").value == second  # the newest by default
    widget(at.selectbox, "Run").set_value(first)
    at.run()
    assert first in str(at.query_params["run"])  # a shareable link to this run's view
    execute(RunConfig(**tiny, seed=3), store, late)  # sorts first in the list now
    st.cache_data.clear()
    at.run()
    assert not at.exception, at.exception
    assert widget(at.selectbox, "Run").value == first
    assert len(widget(at.selectbox, "Run").options) == 3


def test_a_watched_run_survives_a_reload_through_the_url_and_links_to_its_result(home):
    """The Train page's live panel reads the runs to watch from the URL as well as the session:
    a reload (a new session) still shows the run's card, finished, with a link to its result."""
    from metalearn.engine.run import execute

    store = Store(home)
    cfg = RunConfig(algorithm="protonet", episodes=3, eval_episodes=5, val_every=0, device="cpu")
    run_id = store.create_run(cfg.to_json())
    execute(cfg, store, run_id)
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/views/train.py")
    at.query_params["watch"] = f"{run_id},no-such-run"
    at.run()
    assert not at.exception
    assert any("Test accuracy" in s.value for s in at.success)  # the finished run's card
    links = [e for e in at.get("page_link") if "Open in Runs and Compare" in e.proto.label]
    assert len(links) == 1 and run_id in str(links[0].proto.query_string or links[0].proto)
    at.query_params.clear()
    at.run()  # the same session: it was never launched here, so the card is gone
    assert not any("Test accuracy" in s.value for s in at.success)


@pytest.mark.integration
def test_a_lesson_preset_launches_its_runs_as_one_group_and_watches_them(home, monkeypatch):
    from metalearn.engine import presets
    from pages import _presets

    tiny = presets.Preset(
        "Tiny lesson",
        "two methods",
        "seconds",
        [{"algorithm": "protonet"}, {"algorithm": "simpleshot"}],
    )
    monkeypatch.setattr(_presets, "PRESETS", (tiny,))
    monkeypatch.setattr(presets, "SHARED", {**presets.SHARED, "max_seconds": 1, "eval_episodes": 5})
    at = app("pages/views/home.py")
    [button] = [b for b in at.button if b.key == "preset-home-0"]
    button.click().run()
    assert not at.exception
    store = Store(home)
    launched = store.list_runs()
    assert [r["config"]["algorithm"] for r in launched] == ["protonet", "simpleshot"]
    assert len({r["group_id"] for r in launched}) == 1 and launched[0]["group_id"]
    assert {r["config"]["max_seconds"] for r in launched} == {1}
    assert at.query_params["watch"] == ",".join(r["id"] for r in launched)
    assert wait_finished(store, [r["id"] for r in launched]) == ["completed", "completed"]


def test_claims_page_shows_verdicts_with_their_runs_linked(home):
    """The compute check's two runs in the store (results as a finished run stores them): the
    Claims page gives its verdict with the measured ratio and links both runs; a claim with no
    runs says not measured yet and offers its check; in Chinese, the same in Chinese."""
    import random

    from metalearn.engine.claims import find
    from metalearn.engine.validate import make_config

    store = Store(home)
    claim = find("compute")
    measured = {"maml": (2.0, 95.0), "protonet": (25.0, 70.0)}
    ids = []
    rng = random.Random(0)
    for settings in claim.runs:
        cfg = make_config(settings)
        run_id = store.create_run(cfg.to_json(), "group-check")
        eps, peak = measured[settings["algorithm"]]
        result = {"test_accuracy": 0.6, "test_ci95": 0.02, "eval_episodes": 200}
        result |= {"episodes_per_second": eps, "train_memory_mb": peak, "train_seconds": 150 / eps}
        store.start_run(run_id, "cpu")
        store.save_episodes(run_id, [rng.random() for _ in range(200)])
        store.finish_run(run_id, "completed", result)
        ids.append(run_id)
    at = app("pages/views/claims.py")
    texts = " ".join(m.value for m in at.markdown)
    assert "Model-based took 12.5x the time per training episode" in texts
    assert "1.36x its training memory" in texts
    shown = [d.value for d in at.dataframe]
    links = {v for frame in shown for v in frame.iloc[:, 0]}
    assert {f"/runs?runs={i}" for i in ids} <= links
    assert texts.index(":green-badge[supported]") < texts.index(":gray-badge[not measured yet]")
    labels = [b.label for b in at.button]
    assert "Run it again" in labels and "Run this check" in labels  # measured, and not yet

    at.session_state["lang"] = "zh"
    at.run()
    assert not at.exception, at.exception
    texts = " ".join(m.value for m in at.markdown)
    assert "基于模型的方法每个训练情景用时是基于度量方法的 12.5 倍" in texts
    assert ":green-badge[得到支持]" in texts and ":gray-badge[尚未测量]" in texts


@pytest.mark.integration
def test_one_click_compare_gives_each_method_its_own_settings_and_the_same_time(home):
    """Compare from the Train page: each method keeps its own (its paper's) hyperparameters,
    not the shown algorithm's; with a time budget every run gets the same seconds."""
    at = app("pages/views/train.py")
    budget = "Same training time for each (seconds; 0: the same number of episodes)"
    widget(at.number_input, budget).set_value(30)
    widget(at.number_input, "Learning rate").set_value(0.005)  # ProtoNet's, shown
    at.run()
    next(b for b in at.button if b.label == "Compare").click().run()
    assert not at.exception, at.exception
    store = Store(home)
    launched = store.list_runs()
    jobs = JobManager(home)
    for r in launched:
        jobs.stop(r["id"])
    by_algorithm = {r["config"]["algorithm"]: r["config"] for r in launched}
    assert set(by_algorithm) == {"protonet", "finetune"}
    assert all(c["max_seconds"] == 30 and c["episodes"] == 100_000 for c in by_algorithm.values())
    assert by_algorithm["finetune"]["hyper"]["lr"] != 0.005  # its own default, not ProtoNet's
    assert len({r["group_id"] for r in launched}) == 1


def test_draw_your_own_needs_no_trained_run(home):
    """An empty store: Draw your own offers the pretrained network (before, it stopped with
    "train a run first"); the Task explorer's own-task tab is checked in the browser."""
    from metalearn.engine.own_task import PRETRAINED_MODEL

    at = app("pages/views/draw.py")
    assert [s.value for s in at.selectbox if s.label == "The model"] == [PRETRAINED_MODEL]
    assert not at.info and not at.exception


def test_the_runs_table_shows_the_episodes_trained_and_the_budget(home):
    """A run under a time budget trains far fewer episodes than its ceiling: the table shows
    the episodes it trained (its result's `train_episodes`) and what bounded it, never the
    ceiling as if trained (it showed 100000 for runs that trained a few hundred)."""
    from metalearn.engine.run import execute

    store = Store(home)
    cfg = RunConfig(episodes=100_000, max_seconds=1, eval_episodes=10, val_every=0)
    run_id = store.create_run(cfg.to_json())
    trained = execute(cfg, store, run_id)["train_episodes"]
    assert 0 < trained < 100_000
    at = app("pages/views/runs.py")
    row = at.dataframe[0].value.iloc[0]
    assert row["Training episodes"] == trained
    assert row["Training budget"] == "1 s budget (at most 100,000 episodes)"
    at.sidebar.radio[0].set_value("zh").run()
    row = at.dataframe[0].value.iloc[0]
    assert row["训练预算"] == "时间预算 1 秒（最多 100,000 个情景）"


@pytest.fixture(scope="module")
def three_schedules(tmp_path_factory):
    """Three finished runs validated every 5, every 10 and never: (runs directory, ids)."""
    from metalearn.engine.run import execute

    runs_home = tmp_path_factory.mktemp("schedules")
    store = Store(runs_home)
    ids = []
    for every in (5, 10, 0):
        cfg = RunConfig(episodes=20, eval_episodes=10, val_every=every, val_episodes=3, log_every=5)
        ids.append(store.create_run(cfg.to_json()))
        execute(cfg, store, ids[-1])
    store.close()
    return runs_home, ids


def test_compare_says_when_runs_were_validated_on_different_schedules(three_schedules, monkeypatch):
    """Convergence speed ranked the one run validated often as the only one reaching the
    target, the others showing None: now each run's schedule is shown, a warning says the
    schedules differ, and no cell says None; a run with one validation point says why."""
    runs_home, ids = three_schedules
    monkeypatch.setenv("METALEARN_HOME", str(runs_home))
    at = compare_page(ids)
    table = next(t.value for t in at.dataframe if "validated every" in t.value.columns)
    assert set(table["validated every"]) == {"5 episodes", "10 episodes", ""}
    cells = table.astype(str).to_numpy().ravel().tolist()
    assert not any(c in ("None", "nan", "NaN") for c in cells), cells
    assert "not measured (no validation)" in table["episodes to target"].tolist()
    assert any("validated on different schedules" in w.value for w in at.warning)
    assert any("no validation (validate every 0)" in c.value for c in at.caption)


def test_compare_in_chinese_has_no_english_table_words(three_schedules, monkeypatch):
    """The paired table's headers and verdicts stayed English in Chinese mode."""
    runs_home, ids = three_schedules
    monkeypatch.setenv("METALEARN_HOME", str(runs_home))
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["lang"] = "zh"
    at.run()
    at.switch_page("pages/views/runs.py")
    at.query_params["runs"] = ",".join(ids[:2])
    at.run()
    assert not at.exception
    pairs = next(t.value for t in at.dataframe if "结论" in t.value.columns)
    assert {"平均差 A − B", "95% 置信区间 ±", "情景"} <= set(pairs.columns)
    assert set(pairs["结论"]) <= {"A 更好", "B 更好", "无显著差异"}
    headers = " ".join(str(c) for t in at.dataframe for c in t.value.columns)
    assert "verdict" not in headers and "episodes" not in headers


def test_the_article_pipeline_starts_from_its_recipe_on_the_train_page(home):
    """Fine-tuning's "seed" mode (the article's CIFAR-10 pipeline) launched with the form's
    defaults trained 300 batches of 64 and scored chance: switching to it now fills the form
    with its recipe, 5000 batches of 100, and switching back restores the episodic defaults."""
    at = app("pages/views/train.py")
    widget(at.selectbox, "Algorithm").set_value("finetune").run()
    widget(at.selectbox, "Dataset").set_value("cifar10").run()
    assert at.number_input(key="spec-transfer-episodes").value < 5000
    at.selectbox(key="finetune-finetune_mode").set_value("seed").run()
    assert not at.exception
    assert at.number_input(key="spec-pipeline-episodes").value == 5000
    assert at.number_input(key="finetune-seed-batch_size").value == 100
    at.selectbox(key="finetune-finetune_mode").set_value("episodic").run()
    assert at.number_input(key="finetune-batch_size").value == 64


def test_model_pickers_start_at_the_best_run_and_say_why(home):
    """Draw your own started at the newest run, however poor: now at the run with the best
    test score among those that fit, with a caption saying so."""
    from metalearn.engine.run import execute

    store = Store(home)
    scores = {}
    for episodes in (30, 1):  # the newest trained least
        cfg = RunConfig(episodes=episodes, eval_episodes=10, val_every=0)
        run_id = store.create_run(cfg.to_json())
        scores[run_id] = execute(cfg, store, run_id)["test_accuracy"]
    best = max(scores, key=scores.get)
    at = app("pages/views/draw.py")
    assert widget(at.selectbox, "The model").value == best
    assert any(c.value.startswith("Preselected:") and best[-6:] in c.value for c in at.caption)


def test_the_train_form_says_what_an_empty_optional_setting_means(home):
    """Training way, shot and query showed a bare 0 meaning "as the test episodes": now an
    empty field that says so (and gives None)."""
    at = app("pages/views/train.py")
    way = at.number_input(key="spec-episodes-train_way")
    assert way.value is None and way.placeholder == "same as test"
    budget = at.number_input(key="spec-episodes-max_seconds")
    assert budget.value is None and budget.placeholder == "no budget"
    at.session_state["lang"] = "zh"
    at.run()
    assert at.number_input(key="spec-episodes-train_way").placeholder == "与测试相同"


@pytest.mark.integration
def test_a_quick_start_lands_on_its_live_run_above_the_form(home):
    """ "Run it" on Home opened the Train form with the live panel below the fold: now the run's
    live panel leads the page, the form follows under "Start another run"."""
    at = app("pages/views/home.py")
    next(b for b in at.button if b.label == "Run it").click().run()
    assert not at.exception
    headers = [h.value for h in at.subheader]
    assert headers[:2] == ["Live", "Start another run"], headers
    jobs = JobManager(home)
    ids = [r["id"] for r in jobs.store.list_runs()]
    assert len(ids) == 1
    wait_finished(jobs.store, ids)


def test_messages_on_a_page_name_settings_as_the_form_does():
    """A problem the library words with a code name ("n_way=2000") or a CLI flag ("--n-way")
    shows the form's label on a page."""
    from pages._i18n import with_labels

    text = "n_way=2000 is more than the 10 classes; give it at least one (--n-shot ...)"
    shown = with_labels(text)
    assert "“Classes per episode (N-way)”=2000" in shown
    assert "--n-shot" not in shown and "n_way" not in shown
    assert with_labels("data_full.json and cifar-10-batches-py stay") == (
        "data_full.json and cifar-10-batches-py stay"
    )
