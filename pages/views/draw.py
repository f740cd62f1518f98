"""Draw your own task: a person draws K examples of N new symbols on a canvas, then a query; a
trained run classifies it, and the embedding view shows where the drawing lands among the
symbols' prototypes."""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from metalearn.data import DataError
from metalearn.data.drawings import drawing_png, read_canvas
from metalearn.engine.own_task import PRETRAINED_MODEL
from metalearn.engine.predict import classify, drawing_misfit, features
from metalearn.store import Store
from metalearn.viz import drawing_landing
from pages._i18n import figure, t, tc
from pages._ui import runs
from pages._widgets import model_picker

EXAMPLES, CANVAS, QUERY = "draw-examples", "draw-canvas", "draw-query"


def add(symbol: int, png: bytes) -> None:
    st.session_state[EXAMPLES].setdefault(symbol, []).append(png)
    st.session_state[CANVAS] += 1  # a fresh canvas for the next drawing
    st.session_state.pop(QUERY, None)


def ask(png: bytes) -> None:
    st.session_state[QUERY] = png
    st.session_state[CANVAS] += 1


def clear() -> None:
    st.session_state[EXAMPLES] = {}
    st.session_state[CANVAS] += 1
    st.session_state.pop(QUERY, None)


st.title(t("Draw your own task"))
st.markdown(
    t(
        "Invent **N symbols** nobody has trained on, draw **K examples** of each, then draw one "
        "more and let a model say which symbol it is: a run trained on drawings, or, with no "
        "training at all, a network pretrained on photos. This is a few-shot task of your own "
        "making: the model has never seen your symbols."
    )
)
st.session_state.setdefault(EXAMPLES, {})
st.session_state.setdefault(CANVAS, 0)
c1, c2, c3 = st.columns([1, 1, 3])
n_way = int(c1.number_input(t("Symbols (N)"), 2, 5, 3, on_change=clear, key="draw-n-way"))
n_shot = int(
    c2.number_input(t("Examples of each (K)"), 1, 3, 1, on_change=clear, key="draw-n-shot")
)
run_id = model_picker(
    [r for r in runs() if drawing_misfit(r, n_way) is None],
    "",
    c3,
    {PRETRAINED_MODEL: t("Pretrained network (EfficientNet-Lite0, ImageNet): no training needed")},
)
examples: dict[int, list[bytes]] = st.session_state[EXAMPLES]
missing = [s for s in range(n_way) if len(examples.get(s, [])) < n_shot]

left, right = st.columns([1, 2])
with left:
    drawn = st_canvas(
        stroke_width=14,
        stroke_color="#000000",
        background_color="#ffffff",
        height=280,
        width=280,
        key=f"canvas-{st.session_state[CANVAS]}",
        return_image_data=True,
    )
    rgba = read_canvas(drawn.image_bytes if drawn is not None else None)
    png = drawing_png(rgba) if rgba is not None else None
with right:
    if missing:
        st.markdown(
            t(
                "**Step 1 of 2.** Draw an example of a symbol on the canvas, then add it. "
                "Still to draw: {n}.",
                n=sum(n_shot - len(examples.get(s, [])) for s in missing),
            )
        )
        cols = st.columns(n_way)
        for s, col in enumerate(cols):
            have = len(examples.get(s, []))
            col.button(
                t("Add to symbol {s} ({have}/{n_shot})", s=s + 1, have=have, n_shot=n_shot),
                key=f"add-{s}",
                on_click=add,
                args=(s, png),
                disabled=png is None or have >= n_shot,
                width="stretch",
            )
    else:
        st.markdown(t("**Step 2 of 2.** Draw one more (a query) and ask the model which it is."))
        st.button(
            t("Classify this drawing"),
            type="primary",
            on_click=ask,
            args=(png,),
            disabled=png is None,
        )
    st.button(t("Clear all"), on_click=clear, disabled=not examples)
    for s in range(n_way):
        mine = examples.get(s, [])
        row = st.columns([1, 4])
        row[0].markdown("**" + t("Symbol {s}", s=s + 1) + "**")
        if mine:
            row[1].image(mine, width=72)

query = st.session_state.get(QUERY)
if query and not missing:
    names = [t("symbol {s}", s=s + 1) for s in range(n_way)]
    support = {
        names[s]: [(f"{names[s]}, {k + 1}", png) for k, png in enumerate(examples[s])]
        for s in range(n_way)
    }
    yours = t("your drawing")
    asked = [(yours, query)]
    try:
        out = classify(Store(), run_id, support, asked)[yours]
    except DataError as err:
        st.error(tc(str(err)))
        st.stop()
    st.subheader(t("The model says: {name}", name=out["class"]))
    a, b = st.columns([1, 2])
    a.image(query, width=112, caption=yours)
    symbol, probability = t("symbol"), t("probability")
    a.dataframe(
        [{symbol: n, probability: p} for n, p in out["scores"].items()],
        hide_index=True,
        column_config={
            probability: st.column_config.ProgressColumn(
                probability, min_value=0.0, max_value=1.0, format="percent"
            )
        },
    )
    try:
        z = features(Store(), run_id, support, asked)
        landing = drawing_landing(
            z["support"], z["query"], z["support_labels"], names.index(out["class"]), names
        )
        b.plotly_chart(figure(landing), theme=None, key="draw-embedding")
    except DataError as err:
        b.info(tc(str(err)))
