"""An episode drawn on screen: its support set (a row per class) and its query set, from a
dataset's test split; the Task explorer and the Train page's preview draw them alike."""

from __future__ import annotations

import numpy as np
import streamlit as st

from pages._i18n import t, tc

SIDE = 72  # pixels per drawn image: readable on a projector


@st.cache_resource(show_spinner=False, max_entries=6)
def _test_split(dataset: str, root: str | None, image_size: int | None):
    from metalearn.data import DATASETS  # loads torch: only when an episode is drawn

    return DATASETS[dataset].load(root, "test", image_size)


def test_split(dataset: str, root: str | None = None, image_size: int | None = None):
    """A dataset's test split from `root` (None: the default data roots) at `image_size` (None:
    the dataset's own), loaded once per server."""
    with st.spinner(t("Loading data…")):
        return _test_split(dataset, root or None, image_size)


def class_caption(split, class_index: int, row: int) -> str:
    """A support row's caption: its place in the episode, and the class's name where the
    dataset has readable ones ("class 2 · house finch")."""
    name = split.class_names[class_index]
    return t("class {row}", row=row) + (f" · {name}" if name else "")


def show(img: np.ndarray) -> np.ndarray:
    """An image tensor's array [C, H, W] as an image to show [H, W] or [H, W, C]."""
    img = img.transpose(1, 2, 0)
    return img[..., 0] if img.shape[-1] == 1 else img


def draw_support(split, classes, idx, n_shot: int, text: bool) -> None:
    """The support set: `classes` [n_way] and `idx` [n_way, n_shot + n_query] as sampled, one
    row per class."""
    st.markdown(t("**Support set** (one row per class)"))
    if text:
        st.dataframe(
            [
                {t("class"): row, t("intent"): split.class_names[int(classes[row])]}
                | {
                    t("example {k}", k=k + 1): split.texts[int(i)]
                    for k, i in enumerate(idx[row, :n_shot])
                }
                for row in range(len(classes))
            ],
            hide_index=True,
        )
        return
    for row in range(len(classes)):
        st.image(
            [show(split.images[int(i)].numpy()) for i in idx[row, :n_shot]],
            width=SIDE,
            caption=[class_caption(split, int(classes[row]), row)] * n_shot,
        )


def draw_query(split, idx, n_shot: int, text: bool, captions: list[list[str]]) -> None:
    """The query set, in the sampled order, each with its caption's parts."""
    query_idx = idx[:, n_shot:].flatten()
    st.markdown(t("**Query set**"))
    if text:
        st.dataframe(
            [
                {t("utterance"): split.texts[int(i)], t("runs"): " · ".join(c)}
                for i, c in zip(query_idx, captions, strict=True)
            ],
            hide_index=True,
        )
        return
    st.image(
        [show(split.images[int(i)].numpy()) for i in query_idx],
        width=SIDE,
        caption=[" · ".join(c) for c in captions],
    )


def preview(
    dataset: str, n_way: int, n_shot: int, n_query: int, seed: int, root: str | None = None
) -> None:
    """One test episode of this shape from the data under `root` (None: the default roots),
    drawn before anything is launched (seeded: the same numbers, the same episode); says why
    when the dataset cannot give one."""
    from metalearn import catalog
    from metalearn.data import DataError, EpisodeSampler

    try:
        split = test_split(dataset, root)
        sampler = EpisodeSampler(split, n_way, n_shot, n_query, seed)
    except DataError as err:
        st.error(tc(str(err)))
        return
    classes, idx = sampler.sample_indices()
    text = catalog.datasets()[dataset].modality == "text"
    draw_support(split, classes, idx, n_shot, text)
    truth = [[t("class {row}", row=row)] for row in range(n_way) for _ in range(n_query)]
    draw_query(split, idx, n_shot, text, truth)
