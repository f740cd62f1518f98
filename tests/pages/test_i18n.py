"""The translation tables (`pages/_i18n.py`): every text the pages show is in every table, with
the same placeholders, and no page passes English straight to a Streamlit element."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from pages import _i18n

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([ROOT / "app.py", *(ROOT / "pages").rglob("*.py")])
OTHERS = [lang for lang in _i18n.LANGUAGES if lang != _i18n.DEFAULT]

# Streamlit calls whose first argument (or these keywords) a person reads.
SHOWN = {
    "title", "header", "subheader", "markdown", "caption", "info", "warning", "error",
    "success", "toast", "button", "selectbox", "multiselect", "radio", "number_input",
    "text_input", "text_area", "slider", "select_slider", "checkbox", "toggle", "expander",
    "page_link", "download_button", "file_uploader", "metric", "write", "progress",
    "form_submit_button", "segmented_control", "spinner", "status", "popover", "Page", "tabs",
    "image", "ProgressColumn", "NumberColumn", "TextColumn", "LinkColumn", "Column",
    "model_picker", "viewer_notice",
}  # fmt: skip
LOGGERS = {"log", "logger", "logging"}  # log.warning(...) is for the server's log, in English
KEYWORDS = {"label", "help", "text", "placeholder", "title", "caption"}
# What may stay as written: markup, icons, and names of things.
NOT_WORDS = re.compile(
    r":material/[a-z_]+:|-badge\[|`[^`]*`?|\$[^$]*\$|https?://\S+|\*\*|[_*#>~\-]"
)


def english(text: str) -> bool:
    """Whether a literal carries English words (two or more Latin letters in a row)."""
    return bool(re.search(r"[A-Za-z]{2,}", NOT_WORDS.sub(" ", text)))


def literal_texts(node: ast.AST) -> list[str]:
    """The literal text of an argument: a string, an f-string's fixed parts, a list's strings."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.Constant)]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [s for e in node.elts for s in literal_texts(e)]
    if isinstance(node, ast.BinOp):
        return literal_texts(node.left) + literal_texts(node.right)
    return []


def shown_arguments(tree: ast.AST):
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in SHOWN or (
            isinstance(node.func.value, ast.Name) and node.func.value.id in LOGGERS
        ):
            continue
        args = node.args[:1] if node.func.attr not in ("Page", "page_link") else []
        yield node, [*args, *(k.value for k in node.keywords if k.arg in KEYWORDS)]


def translated_calls(tree: ast.AST):
    """The literal first argument of every t(...), tt(...) and N_(...) call."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("t", "tt", "N_")
            and node.args
        ):
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                yield arg.value
            elif isinstance(arg, ast.JoinedStr):
                raise AssertionError(f"t() of an f-string at line {node.lineno}: pass values")


def used_texts() -> set[str]:
    return {s for path in SOURCES for s in translated_calls(ast.parse(path.read_text()))}


def declared_texts() -> set[str]:
    """Texts the pages show that are declared in the library: settings' labels and helps (as
    each run kind relabels them), methods' and datasets' one-liners, lessons, run statuses."""
    from metalearn import catalog
    from metalearn.config import SPEC
    from metalearn.data.trials import SOURCES
    from metalearn.engine.claims import (
        CLAIMS,
        CONTRADICTED,
        INCONCLUSIVE,
        SUPPORTED,
        UNMEASURED,
    )
    from metalearn.engine.kinds import KINDS
    from metalearn.engine.presets import PRESETS
    from metalearn.engine.recipes import DEMO, PAPERS, demo
    from metalearn.engine.trackers import TRACKING
    from metalearn.engine.versus import PUBLISHED

    texts: set[str] = set()
    settings = list(SPEC.values()) + list(TRACKING)
    for algo in catalog.algorithms().values():
        settings += list(algo.settings)
        texts |= {algo.summary}
    for kind in KINDS.values():
        settings += [kind.setting(s) for s in SPEC.values()]
        texts |= {kind.label, kind.metric_label} | ({kind.description} - {""})
    for s in settings:
        texts |= {s.label} | ({s.help} - {""})
    for data in catalog.datasets().values():
        texts |= {data.summary, data.how_to_get}
    for p in PRESETS:
        texts |= {p.title, p.duration, p.explain}
    for r in [*(demo(n) for n in DEMO), *PAPERS]:  # the Train page's recipes
        texts |= {r.name, r.source} | ({r.differs} - {""})
    texts |= set(catalog.FAMILY_NAMES.values()) | set(SOURCES.values())
    texts |= {p.who for p in PUBLISHED}
    for c in CLAIMS:
        texts |= {c.claim, c.test} | ({c.duration} - {""})
    texts |= {SUPPORTED, CONTRADICTED, INCONCLUSIVE, UNMEASURED}
    return texts | {"queued", "running", "completed", "failed", "stopped", "lost"}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_no_page_passes_english_to_streamlit_without_the_table():
    bypass = []
    for path in SOURCES:
        lines = path.read_text().splitlines()
        for node, args in shown_arguments(ast.parse(path.read_text())):
            span = lines[node.lineno - 1 : node.end_lineno]
            if any("# same in every language" in x for x in span):
                continue
            for text in (s for a in args for s in literal_texts(a)):
                if english(text):
                    bypass.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text!r}")
    assert not bypass, "English shown without t():\n" + "\n".join(bypass)


@pytest.mark.parametrize("lang", OTHERS)
def test_every_text_the_pages_use_is_in_the_table(lang):
    table = _i18n.table(lang)["text"]
    missing = sorted({_i18n.key(x) for x in used_texts() | declared_texts()} - set(table))
    assert not missing, f"{len(missing)} texts missing from {lang}.toml:\n" + "\n".join(
        f"{m!r} = " for m in missing
    )


@pytest.mark.parametrize("lang", OTHERS)
def test_translations_keep_the_placeholders_and_say_something(lang):
    wrong = [
        k
        for k, v in _i18n.table(lang)["text"].items()
        if placeholders(k) != placeholders(v) or (k.strip() and not v.strip())
    ]
    assert not wrong, wrong


@pytest.mark.parametrize("lang", OTHERS)
def test_every_method_has_its_idea_in_the_table(lang):
    from metalearn import catalog

    missing = set(catalog.algorithms()) - set(_i18n.table(lang)["idea"])
    assert not missing, missing


def test_the_check_catches_english_literals():
    """The check itself: it flags an English literal and an f-string's English part, and lets
    t(), names, icons and markup through."""
    code = (
        'st.button("Launch")\nst.caption(f"Device: {d}")\nst.title(t("Train"))\n'
        'st.markdown(f"**{name}** — {t(status)}")\nst.caption(":material/lock:")\n'
    )
    flagged = [
        s
        for node, args in shown_arguments(ast.parse(code))
        for a in args
        for s in literal_texts(a)
        if english(s)
    ]
    assert flagged == ["Launch", "Device: "]


def test_every_chart_goes_through_the_table():
    """Each plotly chart a page shows is passed through `_i18n.figure` (its titles, axes,
    legend and trace names translated)."""
    raw = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "plotly_chart"
            ):
                arg = node.args[0]
                if not (isinstance(arg, ast.Call) and getattr(arg.func, "id", "") == "figure"):
                    raw.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not raw, raw


def test_figure_translates_titles_axes_legends_and_composed_texts():
    """A chart's words through the table: whole texts, a template with a metric's name in it,
    "run · metric" labels (the run's name stays), the animation's controls."""
    import plotly.graph_objects as go

    fig = go.Figure(go.Scatter(x=[0], y=[1], name="protonet · glyphs 5w1s · a1b2c3 · val_accuracy"))
    fig.update_layout(
        title="test accuracy (95% CI)",
        xaxis_title="training episodes",
        yaxis2={"title": {"text": "loss"}},
        updatemenus=[{"type": "buttons", "buttons": [{"label": "▶ Play", "method": "animate"}]}],
    )
    table = _i18n.table("zh")["text"]
    got = _i18n.translate_figure(fig, "zh")
    assert got.layout.title.text == "测试准确率（95% 置信区间）"
    assert got.layout.xaxis.title.text == table["training episodes"]
    assert got.layout.yaxis2.title.text == table["loss"]
    assert got.data[0].name == "protonet · glyphs 5w1s · a1b2c3 · " + table["val_accuracy"]
    assert got.layout.updatemenus[0].buttons[0].label == table["▶ Play"]
    assert (
        _i18n.translate_figure(go.Figure(fig), "en").layout.title.text
        == "测试准确率（95% 置信区间）"
    )


def test_progress_and_results_the_library_words_are_translated():
    """The live panel's progress line and a run's result line come from the library in
    English; the table's templates turn them into Chinese, numbers and names kept."""
    progress = (
        "120/600 training episodes · 7.5 episodes/s · about 64 s of training left, then 600 "
        "test episodes"
    )
    result = "Test accuracy 0.953 ± 0.004 (95% CI, 600 episodes) · trained 79 s at 7.6 ep/s"
    assert _i18n.translate_composed(progress, "zh") == (
        "120/600 个训练情景 · 每秒 7.5 个情景 · 训练约剩 64 秒，之后测试 600 个情景"
    )
    assert _i18n.translate_composed(result, "zh") == (
        "测试准确率 0.953 ± 0.004（95% 置信区间，600 个情景） · 训练 79 秒，每秒 7.6 个情景"
    )


def test_the_validators_problems_are_worded_in_chinese():
    """Problems the validator finds with a form's values, as the Train page shows them: in
    Chinese through the table's templates, the settings' and datasets' names kept."""
    from metalearn.config import ConfigError
    from metalearn.engine.validate import make_config, notices, validate

    shown = []
    for settings in (
        {"n_way": 1000},
        {"n_shot": 30, "n_query": 15},
        {"algorithm": "maml", "train_way": 10},
        {"n_way": 1},
        {"image_size": 8},
    ):
        with pytest.raises(ConfigError) as err:
            validate(make_config(settings))
        shown += err.value.problems
    shown += [n[0].upper() + n[1:] + "." for n in notices(make_config({"episodes": 0}))]
    for problem in shown:
        text = _i18n.translate_composed(problem, "zh")
        left = set(re.findall(r"[A-Za-z][A-Za-z_]+", text)) - {"glyphs", "maml", "None"}
        left = {w for w in left if "_" not in w}  # settings' names stay (n_way, image_size)
        assert not left, (problem, text)


def test_every_chart_is_drawn_in_the_projector_style():
    """Streamlit's chart theme (small grey text) is off for every chart, so the lab's
    projector template (`metalearn.viz.style`) applies."""
    themed = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if getattr(getattr(node, "func", None), "attr", "") == "plotly_chart":
                theme = next((k.value for k in node.keywords if k.arg == "theme"), "absent")
                if not (isinstance(theme, ast.Constant) and theme.value is None):
                    themed.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not themed, themed


# Where the library's own words for a failure are written (the CLI stays English; the registry's
# errors are for whoever adds a method; viz/ composes markup, not messages).
LIBRARY = sorted(
    p
    for p in (ROOT / "metalearn").rglob("*.py")
    if p.name not in ("cli.py", "catalog.py") and "viz" not in p.parts
)


def message_shape(node: ast.AST) -> tuple[str, ...] | None:
    """An f-string's or string's fixed parts, in order (its values are holes): how a message
    written in the source and a table's template with named placeholders are compared."""
    if isinstance(node, ast.JoinedStr):
        parts, current = [], ""
        for v in node.values:
            if isinstance(v, ast.Constant):
                current += v.value
            else:
                parts.append(current)
                current = ""
        return tuple(re.sub(r"\s+", " ", p) for p in [*parts, current])
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (re.sub(r"\s+", " ", node.value),)
    return None


def library_messages() -> dict[tuple[str, ...], str]:
    """Every message the library words for a person: what it raises, what its exceptions say,
    the problems its validators list, the reasons it stores with a failed or lost run."""
    found = {}
    for path in LIBRARY:
        for node in ast.walk(ast.parse(path.read_text())):
            args: list[ast.AST] = []
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
                first = node.exc.args[0]
                args = list(first.elts) if isinstance(first, ast.List) else [first]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                name, owner = node.func.attr, getattr(node.func.value, "id", "")
                if name == "append" and owner in ("out", "problems"):
                    args = node.args[:1]
                elif name == "__init__":
                    args = node.args[:1]
                elif name in ("mark_lost", "finish_run"):
                    args = node.args[1:]
            if isinstance(node, ast.Call):
                args += [k.value for k in node.keywords if k.arg == "error"]
            for arg in args:  # `note or "worker lost: ..."`: each operand that is a text
                if isinstance(arg, ast.BoolOp):
                    args += [v for v in arg.values if isinstance(v, ast.Constant)]
                shape = message_shape(arg)
                if shape and re.search(r"[A-Za-z]{2,}", "".join(shape)):
                    found[shape] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return found


def template_shape(text: str) -> tuple[str, ...]:
    parts, current = [], ""
    for literal, name, _, _ in string.Formatter().parse(text):
        current += literal
        if name is not None:
            parts.append(current)
            current = ""
    return tuple([*parts, current])


def test_the_message_finder_sees_raises_problems_and_failure_reasons():
    """The finder itself, on the shapes it must recognise."""
    messages = library_messages()
    where = {v.split(":")[0] for v in messages.values()}
    assert {"metalearn/data/text.py", "metalearn/engine/validate.py", "metalearn/store.py"} <= where
    assert ("worker lost: its process ended without finishing the run",) in messages  # mark_lost
    assert ("training diverged at episode ", ": the loss became ", ". Lower the learning rate "
            "(lr) or the inner step size (inner_lr), then launch it again") in messages  # fmt: skip
    assert ("stopped while queued",) in messages  # finish_run(error=...)


@pytest.mark.parametrize("lang", OTHERS)
def test_every_message_the_library_words_has_a_template(lang):
    """A data, upload, checkpoint or store error reaches the page as the library worded it
    (`tc(str(err))`); each has a template in every table, so it is shown in that language."""
    shapes = {template_shape(k) for k in _i18n.table(lang)["text"]}
    missing = [
        f"{where}: {'{}'.join(shape)!r}"
        for shape, where in library_messages().items()
        if shape not in shapes
    ]
    assert not missing, f"{len(missing)} messages without a template:\n" + "\n".join(missing)


def test_no_page_shows_an_error_untranslated():
    """`st.error(str(err))` would show the library's English: pages pass it through `tc`."""
    raw = []
    for path in SOURCES:
        for node, args in shown_arguments(ast.parse(path.read_text())):
            for a in args:
                if (
                    isinstance(a, ast.Call)
                    and getattr(a.func, "id", "") in ("str", "repr")
                    and isinstance(a.args[0], ast.Name)  # str(err), not str(i + 1)
                ):
                    raw.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not raw, raw


def test_library_errors_come_out_in_chinese(tmp_path):
    """Real errors, raised by the library on bad input, through the page's path (`tc`): no
    English word left but names of files, settings and formats."""
    from metalearn.data.folder import Folder
    from metalearn.data.text import read_rows
    from metalearn.engine.run import describe_failure
    from metalearn.engine.trainer import Diverged
    from metalearn.engine.validate import make_config

    shown = []
    (tmp_path / "a").mkdir()
    for attempt in (
        lambda: Folder.describe(str(tmp_path / "nothing")),
        lambda: Folder.describe(str(tmp_path)),
        lambda: read_rows(tmp_path / "intents.txt", need_labels=True),
    ):
        with pytest.raises(Exception) as err:
            attempt()
        shown.append(str(err.value))
    cfg = make_config({})
    shown += [
        describe_failure(Diverged(120, float("nan")), cfg),
        describe_failure(MemoryError("can't allocate memory"), cfg),
    ]
    for text in shown:
        zh = _i18n.translate_composed(text, "zh").replace(str(tmp_path), "")
        left = set(re.findall(r"[A-Za-z][A-Za-z_]+", zh)) - {"folder", "png", "jpg", "root",
            "nothing", "intents", "txt", "csv", "json", "nan", "cpu", "can", "allocate",
            "memory", "MemoryError", "auto", "lr", "t"}  # fmt: skip
        left = {w for w in left if "_" not in w}
        assert not left, (text, zh)


def test_hover_boxes_are_translated_and_keep_their_values():
    """Every hover template the lab's charts carry (embeddings, the drawing's landing, MANN's
    memory, a sweep's lines, the score board) comes out in Chinese, plotly's values kept."""
    import numpy as np
    import pandas as pd

    from metalearn.viz import embeddings, learners, sweeps, versus

    rng = np.random.default_rng(0)
    labels = np.array([0, 1, 0, 1])
    figs = [
        embeddings.embedding_figure(
            rng.normal(size=(4, 8)), rng.normal(size=(4, 8)), labels, labels,
            np.array([0, 0, 0, 1]), ["Futurama/c1", "Futurama/c2"],
        ),
        embeddings.drawing_landing(rng.normal(size=(4, 8)), rng.normal(size=(1, 8)), labels, 1,
                                   ["a", "b"]),
        learners.memory_figure(rng.random((4, 1, 6)), labels, labels, np.array([1, 1, 2, 2])),
        sweeps.score_vs_shots(pd.DataFrame({
            "method": ["protonet"] * 2, "n_shot": [1, 5], "seeds": [2, 2], "mean": [0.9, 0.95],
            "ci95_seeds": [0.01, 0.01], "ci95_episodes": [0.01, 0.01],
            "metric": ["Test accuracy"] * 2,
        })),
        versus.scoreboard([
            {"who": "You", "group": "you", "error": 0.1, "trials": 20},
            {"who": "People", "group": "published", "error": 0.045},
        ]),
    ]  # fmt: skip
    hovers = []
    for fig in figs:
        english = [tr.hovertemplate for tr in fig.data if tr.hovertemplate]
        assert english, fig.layout.title.text
        chinese = [
            tr.hovertemplate for tr in _i18n.translate_figure(fig, "zh").data if tr.hovertemplate
        ]
        for en, zh in zip(english, chinese, strict=True):
            values = re.findall(r"%\{[^}]*\}", en)
            assert re.findall(r"%\{[^}]*\}", zh) == values, (en, zh)  # the values kept
            words = set(re.findall(r"[A-Za-z]{2,}", re.sub(r"%\{[^}]*\}|<[^>]*>", "", zh)))
            assert words <= {"Futurama", "c1", "c2", "protonet"}, (en, zh)
            hovers.append(zh)
    assert any("时间步" in h for h in hovers) and any("原型" in h for h in hovers)


def test_durations_of_estimates_are_worded_in_the_pages_language(monkeypatch):
    """A full suite's Train page in Chinese once showed "5.5 min": an estimate over 90 s."""
    from pages import _estimate

    monkeypatch.setattr(_i18n, "lang", lambda: "zh")
    assert [_estimate.duration(s) for s in (40, 330, 7200)] == ["40 秒", "5.5 分钟", "2.0 小时"]
    monkeypatch.setattr(_i18n, "lang", lambda: "en")
    assert [_estimate.duration(s) for s in (40, 330, 7200)] == ["40 s", "5.5 min", "2.0 h"]
