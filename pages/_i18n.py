"""The dashboard's two languages, English and 中文, through one translation table per language.

The English words are written where they are used, and are the keys (the msgid convention of
gettext): `t("Launch")`. Each other language has one table, `pages/locale/<lang>.toml`: section
`[text]` maps an English text to its translation; section `[idea]` holds each method's
"how it works" paragraph for the Learn page (in English, its class docstring). A text with values
is a template, formatted after the lookup: `t("{n} runs", n=3)`.

The language comes from the URL (`?lang=zh`, so a shared link opens in it), else the session's
choice, else English; the sidebar switch keeps it in the URL. Formulas (LaTeX), code, paper
references, method and dataset names stay as written.

`tests/pages/test_i18n.py` fails when a text the pages show is missing from a table, when a
table's template has other placeholders than its English key, or when a page passes English
straight to a Streamlit element instead of through `t`.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import string
from pathlib import Path

import streamlit as st
import tomllib

LANGUAGES = {"en": "English", "zh": "中文"}
DEFAULT = "en"
LOCALE = Path(__file__).resolve().parent / "locale"
KEY = "lang"  # the URL parameter and the sidebar switch's session key
log = logging.getLogger(__name__)


@functools.cache
def table(lang: str) -> dict[str, dict[str, str]]:
    """A language's table: {"text": {english: translation}, "idea": {method: paragraph}}
    (English: empty sections, its texts are the keys)."""
    if lang == DEFAULT:
        return {"text": {}, "idea": {}}
    with open(LOCALE / f"{lang}.toml", "rb") as f:
        data = tomllib.load(f)
    return {"text": {key(k): v for k, v in data.get("text", {}).items()}, "idea": data["idea"]}


def key(text: str) -> str:
    """A text as the tables know it: its whitespace collapsed (a paragraph's line breaks in the
    source do not matter; the translation brings its own)."""
    return " ".join(text.split())


def lang() -> str:
    """The language of this run of the page: the sidebar switch, else `?lang=`, else English."""
    chosen = st.session_state.get(KEY)
    if chosen in LANGUAGES:
        return chosen
    asked = st.query_params.get(KEY)
    return asked if asked in LANGUAGES else DEFAULT


def translate(text: str, language: str, **params) -> str:
    """`text` in `language` (unchanged when the table lacks it; the tests keep that from
    happening), formatted with `params`."""
    got = table(language)["text"].get(key(text), text) if language != DEFAULT else text
    if got is text and language != DEFAULT:
        _missing(text)
    return got.format(**params) if params else got


def _missing(text: str) -> None:
    """With $METALEARN_I18N_MISSING set to a file, appends each text a table lacked (how the
    texts charts compose at run time are found)."""
    path = os.environ.get("METALEARN_I18N_MISSING")
    if path and re.search(r"[A-Za-z]{2,}", text):
        with open(path, "a", encoding="utf-8") as f:
            f.write(key(text) + "\n")


SEPARATORS = (" · ", ", ", " / ")  # how charts join metric and run names into one label
# Values of these names are one word (a number, a ratio, a run id), so "{metric} {value}" finds
# "Test accuracy" and "0.953" in "Test accuracy 0.953".
NUMBERS = {"value", "ci", "n", "k", "done", "total", "eps", "step", "seconds", "low", "high"}
WORD = r"\S+"
# A time budget's value is a duration as `metalearn.engine.progress` writes it ("40 s", "3 min",
# "1 h 05 min"), so "{budget} budget" never takes the texts before it as its value.
DURATION = r"\d+ s|\d+ min|\d+ h \d+ min"


def _value_pattern(name: str) -> str:
    if name == "budget":
        return DURATION
    return WORD if name in NUMBERS else ".+?"


@functools.cache
def templates(language: str) -> list[tuple[re.Pattern, str]]:
    """The table's texts with values ("{metric} vs shots per class") as patterns that find the
    values in a finished text, most specific first."""
    found = []
    for english, translated in table(language)["text"].items():
        parts = list(string.Formatter().parse(english))
        names = [name for _, name, _, _ in parts if name]
        fixed = sum(len(literal) for literal, _, _, _ in parts)
        if not names or len(set(names)) != len(names) or fixed < 2:
            continue
        pattern = "".join(
            re.escape(literal) + (f"(?P<{name}>{_value_pattern(name)})" if name else "")
            for literal, name, _, _ in parts
        )
        found.append((fixed, re.compile(pattern), translated))
    return [(p, tr) for _, p, tr in sorted(found, key=lambda f: -f[0])]


def translate_composed(text: str, language: str) -> str:
    """A text a chart put together (a title with a metric's name in it, "run · metric"): the
    table's text if it has it, else a table template whose values are translated in turn, else
    its " · ", ", " or " / " separated parts translated one by one; names stay."""
    if language == DEFAULT or not text:
        return text
    words = table(language)["text"]
    if key(text) in words:
        return words[key(text)]
    for pattern, translated in templates(language):
        if match := pattern.fullmatch(key(text)):
            values = {n: translate_composed(v, language) for n, v in match.groupdict().items()}
            return translated.format(**values)
    for sep in SEPARATORS:
        if sep in text:
            return sep.join(translate_composed(part, language) for part in text.split(sep))
    _missing(text)
    return text


# A hover template's pieces that are not words: plotly's values (%{y:.1f}), markup, separators.
HOVER_TOKENS = re.compile(r"(%\{[^}]*\}|<[^>]*>| · |: )")


def translate_hover(text: str, language: str) -> str:
    """A chart's hover template in `language`: its words between plotly's values and markup
    translated piece by piece ("time step %{x}<br>weight %{z:.3f}"), the values kept."""
    pieces = HOVER_TOKENS.split(text)
    for i in range(0, len(pieces), 2):  # the even pieces are the words
        words = pieces[i].strip()
        if re.search(r"[A-Za-z]{2,}", words):
            lead = pieces[i][: len(pieces[i]) - len(pieces[i].lstrip())]
            trail = pieces[i][len(pieces[i].rstrip()) :]
            pieces[i] = lead + translate_composed(words, language) + trail
    return "".join(pieces)


def t(text: str, **params) -> str:
    """`text` in this page's language, formatted with `params`."""
    return translate(text, lang(), **params)


def N_(text: str) -> str:
    """Marks a text for the tables where it is written (a menu, a dict of texts) and returns it
    unchanged; it is translated where it is shown, with `t` (gettext's N_ convention)."""
    return text


def tc(text: str) -> str:
    """A text the library put together (a run's progress, its result, a problem with its
    settings), in this page's language as far as the table's templates reach, with the
    settings it names by their code names (`n_way`, `--n-way`) named as the page's widgets are."""
    return with_labels(translate_composed(text, lang()))


# A setting's code name in a message: a snake_case name or a CLI flag (two or more parts, so
# plain words stay words).
SETTING_NAME = re.compile(r"(?<![\w-])(?:--)?([a-z][a-z0-9]*(?:[_-][a-z0-9]+)+)(?![\w-])")


@functools.cache
def _settings_by_name() -> dict[str, str]:
    from metalearn import catalog
    from metalearn.config import SPEC

    labels = {name: s.label for name, s in SPEC.items()}
    for algo in catalog.algorithms().values():
        for s in algo.settings:
            labels.setdefault(s.name, s.label)
    return labels


def with_labels(text: str) -> str:
    """`text` with each setting's code name ("n_way=2000", "--n-way") replaced by its label
    in this page's language, quoted ("“Classes per episode (N-way)”=2000"): a page's user
    knows the form's words, not the code's or the CLI's."""
    labels = _settings_by_name()

    def swap(match: re.Match) -> str:
        label = labels.get(match.group(1).replace("-", "_"))
        return f"“{t(label)}”" if label else match.group(0)

    return SETTING_NAME.sub(swap, text)


def tt(text: str | None) -> str | None:
    """A text that may be absent (an optional help), in this page's language."""
    return t(text) if text else text


def idea(name: str, english: str) -> str:
    """A method's "how it works" paragraph in this page's language (`english`: its docstring's)."""
    return table(lang())["idea"].get(name, english)


def language_switch() -> None:
    """The sidebar's language switch. Its value is kept in the URL (`?lang=`), so a reload or a
    shared link opens in it; switching reruns the same page, whose widgets keep their values
    (their keys do not depend on the language)."""
    if st.session_state.get(KEY) not in LANGUAGES:
        st.session_state[KEY] = lang()
    st.radio(
        "Language · 语言",  # same in every language
        list(LANGUAGES),
        key=KEY,
        format_func=LANGUAGES.get,
        horizontal=True,
        label_visibility="collapsed",
    )
    st.query_params[KEY] = st.session_state[KEY]


def figure(fig):
    """A plotly figure from `metalearn.viz` with its words in this page's language, enlarged
    in projector mode (`pages._projector`)."""
    fig = translate_figure(fig, lang())
    if fig is not None and st.session_state.get("projector"):
        from metalearn.viz.style import for_projector

        fig = for_projector(fig)
    return fig


def translate_figure(fig, language: str):
    """The figure's title, axis titles, legend title, annotations, trace names, hover templates
    and colour bars' titles in `language` (names of runs and methods, absent from the table,
    stay; data shown on hover stays as it is)."""
    if language == DEFAULT or fig is None:
        return fig

    def tr(text: str) -> str:
        return translate_composed(text, language)

    layout = fig.layout
    if layout.title and layout.title.text:
        layout.title.text = tr(layout.title.text)
    for name in list(layout.to_plotly_json()):
        if name.startswith(("xaxis", "yaxis")):
            axis = layout[name]
            if axis.title and axis.title.text:
                axis.title.text = tr(axis.title.text)
    if layout.legend and layout.legend.title and layout.legend.title.text:
        layout.legend.title.text = tr(layout.legend.title.text)
    for note in layout.annotations or ():
        if note.text:
            note.text = tr(note.text)
    for trace in [*fig.data, *(d for frame in fig.frames or () for d in frame.data)]:
        if getattr(trace, "name", None):
            trace.name = tr(trace.name)
        if getattr(trace, "hovertemplate", None):
            trace.hovertemplate = translate_hover(trace.hovertemplate, language)
        bar = getattr(trace, "colorbar", None)
        if bar is not None and bar.title and bar.title.text:
            bar.title.text = tr(bar.title.text)
    for slider in layout.sliders or ():
        if slider.currentvalue and slider.currentvalue.prefix:
            slider.currentvalue.prefix = tr(slider.currentvalue.prefix.strip()) + " "
    for menu in layout.updatemenus or ():
        for button in menu.buttons or ():
            if button.label:
                button.label = tr(button.label)
    return fig
