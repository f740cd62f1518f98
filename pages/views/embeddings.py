"""Embeddings: one fixed test episode's support and query features in 2-D, snapshot by snapshot
during training, to watch class clusters form."""

import os

import numpy as np
import streamlit as st

from metalearn.viz import aligned_pca, embedding_figure, episode_points
from pages._i18n import figure, t
from pages._ui import artifact, has_artifact, label, read_npz, runs


@st.cache_data(show_spinner=False)
def aligned(run_id: str, mtime: float, _z: dict) -> tuple[list, tuple]:
    """Every snapshot's PCA turned onto the last one's, and axis ranges that hold them all."""
    z = _z
    snaps = [
        episode_points(z["support"][i], z["query"][i], z["support_labels"])
        for i in range(len(z["steps"]))
    ]
    flat = aligned_pca(snaps)
    everything = np.concatenate(flat)
    pad = 0.05 * (everything.max(0) - everything.min(0))
    low, high = everything.min(0) - pad, everything.max(0) + pad
    return flat, ((low[0], high[0]), (low[1], high[1]))


@st.cache_data(show_spinner=False)
def projected(run_id: str, mtime: float, index: int, method: str, _z: dict):
    z = _z  # the arrays (not hashed: the run and the file's version key the cache)
    points, ranges = aligned(run_id, mtime, z) if method == "pca" else (None, None)
    return embedding_figure(
        z["support"][index],
        z["query"][index],
        z["support_labels"],
        z["query_labels"],
        z["predictions"][index],
        [str(n) for n in z["class_names"]],
        method,
        title=f"{method.upper()} after {int(z['steps'][index])} training episodes",
        texts=texts_of(z),
        points=None if points is None else points[index],
        ranges=ranges,
    )


def texts_of(z: dict) -> list[str] | None:
    """A text run's support then query utterances (None for images)."""
    if "support_texts" not in z:
        return None
    return [str(x) for x in np.concatenate([z["support_texts"], z["query_texts"]])]


st.title(t("Embeddings"))
with_snapshots = {r["id"]: r for r in runs() if has_artifact(r, "embeddings")}
if not with_snapshots:
    st.info(t("No run with embedding snapshots yet. Train ProtoNet or the fine-tuning baseline."))
    st.stop()
# The choice is a run id (kept in the URL), never a list position: a run that gains its first
# snapshot meanwhile must not move the page to another run.
ids = list(with_snapshots)
wanted = st.query_params.get("run")
run_id = st.selectbox(
    t("Run"),
    ids,
    index=ids.index(wanted) if wanted in with_snapshots else len(ids) - 1,
    format_func=lambda i: label(with_snapshots[i]),
    key="embeddings-run",
)
if run_id != wanted:
    st.query_params["run"] = run_id
run = with_snapshots[run_id]
path = str(artifact(run, "embeddings"))
mtime = os.path.getmtime(path)
z = read_npz(run, "embeddings")
if z is None:  # truncated or overwritten: said above; other runs stay selectable
    st.stop()
steps = [int(s) for s in z["steps"]]
c1, c2 = st.columns([3, 1])
step = c1.select_slider(t("Snapshot (training episodes)"), steps, value=steps[-1])
method = c2.radio(
    t("Projection"),
    ["pca", "tsne"],
    horizontal=True,
    format_func=lambda m: {"pca": "PCA", "tsne": "t-SNE"}[m],
)
with st.spinner(t("Projecting…")):
    fig = projected(run["id"], mtime, steps.index(step), method, z)
event = st.plotly_chart(
    figure(fig), theme=None, on_select="rerun", selection_mode="points", key="emb"
)
st.caption(
    t(
        "Circles: support · stars: class prototypes (support means) · crosses: queries "
        "classified right · open X: wrong. Select a point to see its image (or sentence)."
    )
)
points = (event or {}).get("selection", {}).get("points", []) if event else []
shown = [p["customdata"] for p in points if isinstance(p.get("customdata"), int)][:8]
said = texts_of(z)
if shown and said is not None:  # text: the selected utterances
    n_support = len(z["support_texts"])
    st.dataframe(
        [{"part": "support" if i < n_support else "query", "utterance": said[i]} for i in shown],
        hide_index=True,
    )
elif shown:
    images = np.concatenate([z["support_images"], z["query_images"]])
    labels = np.concatenate([z["support_labels"], z["query_labels"]])
    cols = st.columns(len(shown))
    for col, i in zip(cols, shown, strict=True):
        img = images[i].transpose(1, 2, 0)
        part = t("support") if i < len(z["support_images"]) else t("query")
        col.image(
            img.squeeze(-1) if img.shape[-1] == 1 else img,
            width=84,
            caption=f"{part} · {z['class_names'][int(labels[i])]}",  # its class's readable name
        )
