"""Inside the learners: what learned optimisers and memories do, from their runs' records."""

import streamlit as st

from metalearn import catalog
from metalearn.viz import (
    gates_figure,
    instance_accuracy_figure,
    instance_training_figure,
    memory_figure,
)
from pages._i18n import figure, t
from pages._ui import has_artifact, label, metrics, read_npz, runs


def views(run: dict) -> tuple[str, ...]:
    """What this page can show of a run: its algorithm's declared views ("gates", "memory")."""
    algo = catalog.algorithms().get(run["config"]["algorithm"])
    return algo.views if algo else ()


def show_memory(run: dict) -> None:
    st.markdown(
        t(
            "The memory-augmented network sees each image together with the label of the "
            "*previous* image, so it must guess a class before being told. It can beat chance on a "
            "class's second appearance only by storing image and label together in its external "
            "memory and finding them again by similarity. Accuracy by presentation shows whether "
            "it does."
        )
    )
    df = metrics((run["id"],))
    c1, c2 = st.columns(2)
    c1.plotly_chart(figure(instance_training_figure(df)), theme=None, key="instances")
    result = run.get("result") or {}
    if result.get("instance_accuracy"):
        c2.plotly_chart(
            figure(instance_accuracy_figure(result["instance_accuracy"], result["instance_ci95"])),
            theme=None,
            key="instance_test",
        )
    else:
        c2.info(t("The test curve appears when the run has finished."))
    if not has_artifact(run, "memory"):
        st.info(t("Memory heat maps appear when the run has finished."))
        return
    z = read_npz(run, "memory")
    if z is None:  # truncated or overwritten: said; the curves above still show
        return
    n = len(z["labels"])
    which = st.radio(
        t("Test sequence"), list(range(n)), horizontal=True, format_func=lambda i: str(i + 1)
    )
    for kind in ("write", "read"):
        st.plotly_chart(
            figure(
                memory_figure(
                    z[kind][which],
                    z["labels"][which],
                    z["predictions"][which],
                    z["instance"][which],
                    kind,
                )
            ),
            theme=None,
            key=f"memory_{kind}",
        )


st.title(t("Inside the learners"))
chosen = [r for r in runs() if views(r)]
if not chosen:
    st.info(
        t(
            "Nothing to look inside yet. Train the LSTM meta-learner (`meta_lstm`) to see its "
            "learned learning rate here, or the memory-augmented network (`mann`) to see how it "
            "uses its memory."
        )
    )
    st.page_link("pages/views/train.py", label=t("Train one →"))
    st.stop()
run = st.selectbox(t("Run"), chosen[::-1], format_func=label)
if "memory" in views(run):
    show_memory(run)
    st.stop()
df = metrics((run["id"],))
st.markdown(
    t(
        "The LSTM meta-learner updates the learner's parameters as "
        "`theta = f * theta - i * grad`. Its **input gate** `i` acts as a learning rate chosen per "
        "parameter and per step, its **forget gate** `f` as a shrinkage of the weights. Both start "
        "as plain gradient descent (i ≈ 0.01, f ≈ 1) and are learned from the tasks."
    )
)
c1, c2 = st.columns(2)
c1.plotly_chart(figure(gates_figure(df, "input")), theme=None, key="input")
c2.plotly_chart(figure(gates_figure(df, "forget")), theme=None, key="forget")
