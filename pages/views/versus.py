"""You vs the model: a person plays 20 one-shot trials (one drawing, 20 candidates from its
alphabet, pick the match, as in Lake et al. 2015), then a trained run answers the very same
trials, and the score board sets both beside the published figures."""

import streamlit as st

from metalearn.data import DataError
from metalearn.data.trials import N_WAY, SOURCES, TrialSet, draw_trials
from metalearn.engine.versus import CITATION, PUBLISHED, answer, misfit, score
from metalearn.store import Store
from metalearn.viz.versus import on_paper, scoreboard
from pages._i18n import figure, t, tc
from pages._ui import runs
from pages._widgets import model_picker

TRIALS = 20  # a person's game
LONG = 400  # the model's longer test, the README's figure


@st.cache_resource(show_spinner=False, max_entries=8)
def _trials(n: int, seed: int) -> TrialSet:
    return draw_trials(n, seed)


def trials(n: int, seed: int) -> TrialSet:
    with st.spinner(t("Drawing the trials…")):
        return _trials(n, seed)


@st.cache_data(show_spinner=False, max_entries=32)
def _model_picks(run_id: str, n: int, seed: int) -> list[int]:
    return answer(Store(), run_id, _trials(n, seed))


def model_picks(run_id: str, n: int, seed: int) -> list[int]:
    with st.spinner(t("The model is answering…")):
        return _model_picks(run_id, n, seed)


def pick(seed: int, index: int) -> None:
    st.session_state.setdefault(f"versus-{seed}", []).append(index)


st.title(t("You vs the model"))
st.markdown(
    t(
        "Each trial shows **one drawing of a character you have never seen** and **{n} "
        "characters from the same alphabet**, drawn by somebody else. Pick the one that is the "
        "same character. This is the one-shot test of Lake et al. (2015): people made 4.5% "
        "errors. Then a trained model answers the very same trials.",
        n=N_WAY,
    )
)
c1, c2, _ = st.columns([1, 1, 2])
seed = int(
    c1.number_input(
        t("Trial set number"),
        0,
        10**6,
        0,
        help=t("the same number, the same trials"),
        key="versus-seed",
    )
)
picks: list[int] = st.session_state.setdefault(f"versus-{seed}", [])
if c2.button(t("Start over"), disabled=not picks):
    picks.clear()
    st.rerun()
try:
    game = trials(TRIALS, seed)
except DataError as err:
    st.error(tc(str(err)))
    st.stop()
st.caption(t("Trials drawn from {what}.", what=t(SOURCES[game.source], n=game.n_sets)))

if len(picks) < TRIALS:
    trial = game.trials[len(picks)]
    st.progress(len(picks) / TRIALS, text=t("Trial {k} of {n}", k=len(picks) + 1, n=TRIALS))
    q1, q2 = st.columns([1.4, 5])
    q1.markdown(t("#### This character…"))
    q1.image(on_paper(trial.query.numpy()), width=112)
    q2.markdown("#### " + t("…is which of these {n}?", n=N_WAY))
    q2.caption(t("Click the number under your choice."))
    for row in range(2):
        cols = st.columns(N_WAY // 2)
        for j, col in enumerate(cols):
            i = row * (N_WAY // 2) + j
            col.image(on_paper(trial.candidates[i].numpy()), width=72)
            col.button(
                str(i + 1),
                key=f"pick-{seed}-{len(picks)}-{i}",
                on_click=pick,
                args=(seed, i),
                width="stretch",
            )
    st.stop()

mine = score(picks, game)
st.success(
    t(
        "You got **{right} of {n}** right: **{error}% error** (95% interval {low}–{high}%).",
        right=TRIALS - mine["errors"],
        n=TRIALS,
        error=f"{100 * mine['error']:.0f}",
        low=f"{100 * mine['ci_low']:.0f}",
        high=f"{100 * mine['ci_high']:.0f}",
    )
)
board = [{"who": t("You"), "group": "you", **mine}]
run_id = model_picker(
    [r for r in runs() if misfit(r) is None],
    t(
        "No trained model to answer yet: train a run on drawings (ProtoNet on omniglot or "
        "glyphs, for instance) and come back."
    ),
)
try:
    theirs = model_picks(run_id, TRIALS, seed)
except DataError as err:
    st.error(tc(str(err)))
    st.stop()
it = score(theirs, game)
board.append({"who": t("The model, same {n} trials", n=TRIALS), "group": "model", **it})
if st.button(t("Test the model on {n} trials", n=LONG), key="versus-long"):
    st.session_state[f"versus-long-{run_id}-{seed}"] = True
if st.session_state.get(f"versus-long-{run_id}-{seed}"):
    try:
        long = score(model_picks(run_id, LONG, seed), trials(LONG, seed))
        board.append({"who": t("The model, {n} trials", n=LONG), "group": "model", **long})
    except DataError as err:
        st.error(tc(str(err)))
board += [
    {"who": f"{t(p.who)} (Lake 2015)", "group": "published", "error": p.error} for p in PUBLISHED
]
st.plotly_chart(figure(scoreboard(board)), theme=None)
st.container(key="references-versus").caption(  # the citation stays as published
    t(
        "Published: {citation}, on Omniglot's evaluation alphabets. Intervals: 95% "
        "(Clopper-Pearson).",
        citation=CITATION,
    )
)
st.subheader(t("Trial by trial"))
st.dataframe(
    [
        {
            t("trial"): k + 1,
            t("alphabet"): trial.alphabet,
            t("answer"): trial.answer + 1,
            t("you"): f"{p + 1} {'✓' if p == trial.answer else '✗'}",
            t("model"): f"{m + 1} {'✓' if m == trial.answer else '✗'}",
        }
        for k, (trial, p, m) in enumerate(zip(game.trials, picks, theirs, strict=True))
    ],
    hide_index=True,
)
