"""Home: what meta-learning is, the families at a glance, and one-click quick starts."""

import streamlit as st

from pages._access import can_control
from pages._i18n import N_, t
from pages._presets import preset_buttons
from pages._ui import jobs

# Durations measured on a 2-core CPU from launch to result, the 600-episode test included
# (2026-12-05: ProtoNet 79 s on a cold machine, 9.7 s of it generating glyphs; Baseline++ 68 s;
# MANN 252 s). A GPU takes a fraction of that.
QUICK_STARTS = {
    N_("ProtoNet, 5-way 1-shot"): (
        {"algorithm": "protonet"},
        N_("about {n} s on a 2-core CPU"),
        80,
    ),
    N_("Baseline++ fine-tuning, 5-way 1-shot"): (
        {"algorithm": "finetune", "head": "cosine", "episodes": 300, "val_every": 100},
        N_("about {n} s on a 2-core CPU"),
        70,
    ),
    N_("Memory network (MANN), 5 classes x 10 presentations"): (
        {"algorithm": "mann", "n_shot": 10, "meta_batch": 16, "episodes": 24000, "val_every": 0},
        N_("about {n} minutes on a 2-core CPU"),
        4,
    ),
}

st.title("metalearn · " + t("a meta-learning lab"))  # same in every language
st.markdown(
    t(
        """
**Learning to learn.** An ordinary classifier needs thousands of labelled images per class. A
person can recognise a new letter after seeing it once. Meta-learning closes part of that gap: a
model is trained on *many small tasks* - each a few-shot problem with its own classes - so that
what it learns is how to pick up a *new* task from a handful of examples.

**The episode.** Every task here is an *N-way K-shot* episode: N classes never seen in training,
K labelled examples of each (the *support set*), and some unlabelled *query* images to classify.
Accuracy on many such test episodes, with its confidence interval, is the honest score.
"""
    )
)
# The article's five groups, as the Learn page tells them (MAML where the article puts it).
families = [
    (
        N_("Model-based"),
        N_(
            "A meta-model turns a task's few examples into a model for it. The article files "
            "MAML here: it learns an initial model that a few gradient steps adapt (most "
            "surveys call MAML optimization-based)."
        ),
    ),
    (
        N_("Optimization-based"),
        N_("Learn the optimiser itself: how gradients become updates (the LSTM meta-learner)."),
    ),
    (
        N_("Metric-based"),
        N_("Learn an embedding where a nearest-class-mean rule works (ProtoNet)."),
    ),
    (
        N_("Memory-based"),
        N_("Bind examples to labels in an external memory and read them back (MANN)."),
    ),
    (
        N_("Transfer (fine-tuning)"),
        N_(
            "Pre-train one classifier on all training classes, then fit a "
            "new head on the few labelled examples: a strong baseline."
        ),
    ),
]
cols = st.columns(len(families))
for col, (name, text) in zip(cols, families, strict=True):
    col.markdown(f"**{t(name)}**\n\n{t(text)}")

st.subheader(t("Quick starts on the built-in glyphs data"))
st.caption(t("No download needed: `glyphs` is generated on this machine."))
for name, (settings, duration, n) in QUICK_STARTS.items():
    c1, c2 = st.columns([3, 1])
    c1.markdown(f"**{t(name)}** — {t(duration, n=n)}")
    if c2.button(t("Run it"), key=f"quick-{name}", disabled=not can_control()) and can_control():
        from metalearn.engine.validate import make_config
        from pages._live import watch

        run_id = jobs().launch(make_config(settings))
        watch([run_id])  # this browser's runs (a demo reset deletes them)
        st.switch_page("pages/views/train.py", query_params={"watch": run_id})
st.subheader(t("Lessons: one question, a few runs, one click"))
preset_buttons("home")
st.page_link("pages/views/learn.py", label=t("Learn how each method works →"))
