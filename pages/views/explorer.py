"""Task explorer: sample an episode, see it, and see how trained runs classify it; or bring your
own task by uploading images."""

import inspect

import streamlit as st
import torch

from metalearn import catalog
from metalearn.data import DATASETS, DataError, EpisodeSampler
from metalearn.engine.run import restore
from metalearn.store import Store
from metalearn.viz import score_by_steps
from pages._episodes import draw_query, draw_support, test_split
from pages._i18n import N_, figure, t, tc
from pages._navigation import navigation_viewer
from pages._own_task import own_task_tab
from pages._regression import regression_viewer
from pages._ui import availability, kind, label, runs
from pages._widgets import best_first


@st.cache_resource(show_spinner=False, max_entries=4)
def test_split_as(dataset: str, form: str):
    """A text dataset's test split in the form a run's encoder reads (the same rows, in the
    same order, as `test_split`'s)."""
    return DATASETS[dataset].load(None, "test", form=form)


def episode_for(run_cfg, dataset: str, classes, idx, episode):
    """The sampled episode as this run reads it: images at the side it trained on (the same
    photos from its own data root); utterances as its encoder's features or tokens. classes
    [n_way] and idx [n_way, n_shot + n_query] are the draw `episode` was built from."""
    shot = episode.n_shot  # the same shape, from the episode itself
    if catalog.datasets()[dataset].modality != "text":
        if run_cfg.image_size in (None, episode.support.shape[-1]):  # as drawn: the dataset's side
            return episode
        split = test_split(dataset, run_cfg.data_root, run_cfg.image_size)
        return EpisodeSampler(split, len(classes), shot, idx.shape[1] - shot, 0).build(classes, idx)
    from metalearn.models.text import input_form

    with st.spinner(t("Loading data…")):
        split = test_split_as(dataset, input_form(run_cfg.hyper))
    return EpisodeSampler(split, len(classes), shot, idx.shape[1] - shot, 0).build(classes, idx)


@st.cache_resource(show_spinner=False, max_entries=8)
def _model(run_id: str):
    return restore(Store(), run_id)


def model(run_id: str):
    with st.spinner(t("Loading model…")):
        return _model(run_id)


def adapts(algo) -> bool:
    """Whether the run's method takes inner steps at test time (`predict(..., steps=k)`)."""
    return "steps" in inspect.signature(algo.predict).parameters


def step_predictions(algo, episode, most: int = 10) -> list[torch.Tensor]:
    """The query predictions [Q] after 0, 1, ..., `most` inner steps on the support set."""
    with torch.no_grad():
        return [algo.predict(episode, steps=k).argmax(-1).cpu() for k in range(most + 1)]


st.title(t("Task explorer"))
completed = [r for r in runs() if r["status"] == "completed"]
# Runs whose model classifies an episode: classification kinds that keep a checkpoint.
finished = [
    r for r in completed if kind(r).task == "classification" and "checkpoint" in kind(r).artifacts
]
tab_sample, tab_own, tab_sine, tab_nav = st.tabs(
    [
        t(x)
        for x in (
            N_("Sample an episode"),
            N_("Bring your own task"),
            N_("Few-shot regression"),
            N_("Navigation (meta-RL)"),
        )
    ]
)
with tab_sample:
    avail = availability()
    datasets = catalog.datasets()
    names = [n for n, d in datasets.items() if d.task == "classification" and avail.get(n)]
    c = st.columns(5)
    dataset = c[0].selectbox(t("Dataset"), names, key="explore-dataset")
    n_way = c[1].number_input(t("Classes per episode (N-way)"), 2, 10, 5, key="explore-n-way")
    n_shot = c[2].number_input(t("Examples per class (K-shot)"), 1, 5, 1, key="explore-n-shot")
    n_query = c[3].number_input(t("Query examples per class"), 1, 5, 2, key="explore-n-query")
    seed = c[4].number_input(t("Episode seed"), 0, 10**6, 0, key="explore-seed")
    try:
        sampler = EpisodeSampler(test_split(dataset), n_way, n_shot, n_query, seed)
    except DataError as err:
        st.error(tc(str(err)))
        st.stop()
    classes, idx = sampler.sample_indices()
    episode = sampler.build(classes, idx)
    split = test_split(dataset)
    text = datasets[dataset].modality == "text"
    draw_support(split, classes, idx, n_shot, text)
    candidates = [r for r in finished if r["config"]["dataset"] == dataset]
    chosen = st.multiselect(
        t("Predictions of runs"),
        [r["id"] for r in best_first(candidates)],  # best test score first
        format_func=lambda i: label(next(r for r in runs() if r["id"] == i)),
        placeholder=t("Choose options"),
    )
    captions = [[t("true {label}", label=int(y))] for y in episode.query_labels]
    by_steps: dict[str, tuple[dict[str, float], None]] = {}  # adapting runs: accuracy per step
    predicted: dict[str, torch.Tensor] = {}
    for run_id in chosen:
        try:
            algo, cfg, device = model(run_id)
        except DataError as err:  # a truncated or mismatched checkpoint: said, the rest works
            st.error(tc(str(err)))
            continue
        seen = episode_for(cfg, dataset, classes, idx, episode).to(device)
        if adapts(algo):  # every inner step's predictions, 0..10
            steps = step_predictions(algo, seen)
            truth = episode.query_labels
            by_steps[label(next(r for r in runs() if r["id"] == run_id))] = (
                {str(k): float((p == truth).float().mean()) for k, p in enumerate(steps)},
                None,
            )
            predicted[run_id] = steps
        else:
            with torch.no_grad():
                predicted[run_id] = algo.predict(seen).argmax(-1).cpu()[None]
    shown_step = None
    if by_steps:
        st.markdown(t("**Adaptation, step by step**: the query accuracy after each inner step."))
        st.plotly_chart(
            figure(score_by_steps(by_steps, "query accuracy", "This episode, step by step")),
            theme=None,
            key=f"episode-steps-{seed}",
        )
        shown_step = st.slider(t("Show the predictions after this many inner steps"), 0, 10, 10)
    for run_id, steps in predicted.items():
        pred = steps[min(shown_step, len(steps) - 1) if len(steps) > 1 else 0]
        for cap, p, y in zip(captions, pred, episode.query_labels, strict=True):
            cap.append(f"{t('right') if p == y else t('WRONG')} {run_id[-6:]}: {int(p)}")
    draw_query(split, idx, n_shot, text, captions)
with tab_own:
    own_task_tab(finished)


with tab_sine:
    regression_viewer(completed)
with tab_nav:
    navigation_viewer(completed)
