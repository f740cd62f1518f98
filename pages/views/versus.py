"""You vs the model: a person plays 20 one-shot trials (one drawing, 20 candidates from its
alphabet, pick the match, as in Lake et al. 2015), then a trained run answers the very same
trials, and the score board sets both beside the published figures."""

import streamlit as st

from metalearn.data import DataError
from metalearn.data.trials import N_WAY, TrialSet, draw_trials
from metalearn.engine.versus import CITATION, PUBLISHED, answer, misfit, score
from metalearn.store import Store
from metalearn.viz.versus import on_paper, scoreboard
from pages._ui import runs
from pages._widgets import model_picker

TRIALS = 20  # a person's game
LONG = 400  # the model's longer test, the README's figure


@st.cache_resource(show_spinner="Drawing the trials…", max_entries=8)
def trials(n: int, seed: int) -> TrialSet:
    return draw_trials(n, seed)


@st.cache_data(show_spinner="The model is answering…", max_entries=32)
def model_picks(run_id: str, n: int, seed: int) -> list[int]:
    return answer(Store(), run_id, trials(n, seed))


def pick(seed: int, index: int) -> None:
    st.session_state.setdefault(f"versus-{seed}", []).append(index)


st.title("You vs the model")
st.markdown(
    f"Each trial shows **one drawing of a character you have never seen** and **{N_WAY} "
    "characters from the same alphabet**, drawn by somebody else. Pick the one that is the same "
    "character. This is the one-shot test of Lake et al. (2015): people made 4.5% errors. Then a "
    "trained model answers the very same trials."
)
c1, c2, _ = st.columns([1, 1, 2])
seed = int(
    c1.number_input("Trial set number", 0, 10**6, 0, help="the same number, the same trials")
)
picks: list[int] = st.session_state.setdefault(f"versus-{seed}", [])
if c2.button("Start over", disabled=not picks):
    picks.clear()
    st.rerun()
try:
    game = trials(TRIALS, seed)
except DataError as err:
    st.error(str(err))
    st.stop()
st.caption(f"Trials drawn from {game.description}.")

if len(picks) < TRIALS:
    trial = game.trials[len(picks)]
    st.progress(len(picks) / TRIALS, text=f"Trial {len(picks) + 1} of {TRIALS}")
    q1, q2 = st.columns([1.4, 5])
    q1.markdown("#### This character…")
    q1.image(on_paper(trial.query.numpy()), width=112)
    q2.markdown(f"#### …is which of these {N_WAY}?")
    q2.caption("Click the number under your choice.")
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
    f"You got **{TRIALS - mine['errors']} of {TRIALS}** right: "
    f"**{100 * mine['error']:.0f}% error** "
    f"(95% interval {100 * mine['ci_low']:.0f}–{100 * mine['ci_high']:.0f}%)."
)
board = [{"who": "You", "group": "you", **mine}]
run_id = model_picker(
    [r for r in runs() if misfit(r) is None],
    "No trained model to answer yet: train a run on drawings (ProtoNet on omniglot or glyphs, "
    "for instance) and come back.",
)
try:
    theirs = model_picks(run_id, TRIALS, seed)
except DataError as err:
    st.error(str(err))
    st.stop()
it = score(theirs, game)
board.append({"who": "The model, same 20 trials", "group": "model", **it})
if st.button(f"Test the model on {LONG} trials"):
    st.session_state[f"versus-long-{run_id}-{seed}"] = True
if st.session_state.get(f"versus-long-{run_id}-{seed}"):
    try:
        long = score(model_picks(run_id, LONG, seed), trials(LONG, seed))
        board.append({"who": f"The model, {LONG} trials", "group": "model", **long})
    except DataError as err:
        st.error(str(err))
board += [
    {"who": f"{p.who} (Lake 2015)", "group": "published", "error": p.error} for p in PUBLISHED
]
st.plotly_chart(scoreboard(board))
st.caption(
    f"Published: {CITATION}, on Omniglot's evaluation alphabets. Intervals: 95% (Clopper-Pearson)."
)
st.subheader("Trial by trial")
st.dataframe(
    [
        {
            "trial": k + 1,
            "alphabet": t.alphabet,
            "answer": t.answer + 1,
            "you": f"{p + 1} {'✓' if p == t.answer else '✗'}",
            "model": f"{m + 1} {'✓' if m == t.answer else '✗'}",
        }
        for k, (t, p, m) in enumerate(zip(game.trials, picks, theirs, strict=True))
    ],
    hide_index=True,
)
