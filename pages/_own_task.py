"""The Task explorer's "Bring your own task": upload a few example photos per class and photos to
classify (or type sentences), and a model says which class each is. With no trained run the
pretrained network classifies at once; then it can fine-tune on the examples, and the page shows
what changed (predictions, leave-one-out accuracy on the examples)."""

import hashlib
import time

import streamlit as st

from metalearn import catalog
from metalearn.data import DataError
from metalearn.engine.own_task import (
    PRETRAINED_MODEL,
    TUNE_LR,
    TUNE_STEPS,
    PretrainedPrototypes,
    read_task,
)
from metalearn.engine.predict import add_rows, classify, pretrained_model
from metalearn.models.pretrained import BackboneMissing
from metalearn.store import Store
from pages._access import can_control, viewer_notice
from pages._i18n import t, tc
from pages._ui import label
from pages._widgets import best_first

RESULT = "own-task-result"  # {"key": the inputs' digest, "before": ..., "after": ...}


def _digest(run_id: str, support: dict, queries: list) -> str:
    h = hashlib.blake2b(run_id.encode(), digest_size=12)
    for name, items in support.items():
        h.update(name.encode())
        for file_name, data in items:
            h.update(file_name.encode())
            h.update(data if isinstance(data, bytes) else str(data).encode())
    for file_name, data in queries:
        h.update(file_name.encode())
        h.update(data if isinstance(data, bytes) else str(data).encode())
    return h.hexdigest()


def _table(out: dict, text: bool, after: dict | None = None) -> list[dict]:
    """One row per query: the prediction (and after fine-tuning, the new one) and a score
    column per class, named so no class can replace another."""
    what = t("sentence") if text else t("image")
    rows = []
    for k, v in out.items():
        row = {what: k, t("predicted"): v["class"]}
        if after is not None:
            row[t("after fine-tuning")] = after[k]["class"]
            v = after[k]
        rows.append(row | {f"P({c})": p for c, p in v["scores"].items()})
    return rows


def _captions(out: dict, after: dict | None) -> list[str]:
    """Under each query photo: the class said and its probability (and after fine-tuning)."""

    def said(v: dict) -> str:
        return f"{v['class']} ({v['scores'][v['class']]:.0%})"

    return [
        t("→ {said}", said=said(v))
        + ("" if after is None else " · " + t("tuned: {said}", said=said(after[k])))
        for k, v in out.items()
    ]


def _model_label(run_id: str, finished: list[dict]) -> str:
    if run_id == PRETRAINED_MODEL:
        return t("Pretrained network (EfficientNet-Lite0, ImageNet): no training needed")
    return label(next(r for r in finished if r["id"] == run_id))


def _inputs(text: bool) -> tuple[dict, list, list[str]]:
    """The classes' names and examples, and the queries, as the user gave them."""
    n_classes = st.number_input(t("Classes"), 2, 10, 2)
    support, named = {}, []
    for k in range(n_classes):
        c1, c2 = st.columns([1, 3])
        name = c1.text_input(t("Class name"), t("class {k}", k=k + 1), key=f"name{k}")
        if text:  # one support sentence per line
            lines = c2.text_area(t("Sentences of {name} (one per line)", name=name), key=f"say{k}")
            items = [(f"{name}, {j + 1}", s) for j, s in enumerate(lines.splitlines())]
            support[name.strip()] = [(n, s.strip()) for n, s in items if s.strip()]
        else:
            files = c2.file_uploader(
                t("Support images of {name}", name=name),
                ["png", "jpg", "jpeg"],
                accept_multiple_files=True,
                key=f"up{k}",
            )
            support[name.strip()] = [(f.name, f.getvalue()) for f in files or []]
        named.append(name.strip())
    if text:
        typed = st.text_area(t("Sentences to classify (one per line)"), key="say-query")
        queries = [(s.strip(), s.strip()) for s in typed.splitlines() if s.strip()]
    else:
        files = st.file_uploader(
            t("Query images"), ["png", "jpg", "jpeg"], accept_multiple_files=True, key="up-query"
        )
        queries = [(f.name, f.getvalue()) for f in files or []]
    return support, queries, named


def _fine_tune(support: dict, queries: list, steps: int) -> dict:
    """The pretrained network fine-tuned on the examples (a fresh copy, with a progress bar):
    its predictions and its leave-one-out accuracy."""
    bar = st.progress(0.0, text=t("Fine-tuning on your examples…"))

    def progress(step: int, total: int, loss: float) -> None:
        bar.progress(
            step / total,
            text=t(
                "Fine-tuning: step {step} of {total}, loss {loss:.3f}",
                step=step,
                total=total,
                loss=loss,
            ),
        )

    start = time.perf_counter()
    task = read_task(support, queries)
    tuned = PretrainedPrototypes()
    losses = tuned.fine_tune(task, steps, TUNE_LR, progress=progress)
    seconds = time.perf_counter() - start
    bar.empty()
    out: dict = {}
    add_rows(out, task.query_names, task.names, tuned.probabilities(task))
    return {
        "out": out,
        "loo": tuned.support_accuracy(task),
        "losses": losses,
        "steps": steps,
        "seconds": seconds,
    }


def _accuracy(value: float | None) -> str:
    return t("not measurable (one example per class)") if value is None else f"{value:.0%}"


def own_task_tab(finished: list[dict]) -> None:
    """The tab: inputs, guard, action, result."""
    if not can_control():
        viewer_notice(t("uploading images"))
        return
    choices = [PRETRAINED_MODEL, *(r["id"] for r in best_first(finished))]
    run_id = st.selectbox(
        t("Model"), choices, format_func=lambda i: _model_label(i, finished), key="own-model"
    )
    pretrained = run_id == PRETRAINED_MODEL
    if pretrained:
        st.caption(
            t(
                "Preselected: the pretrained network, which reads any photos with no training; "
                "your trained runs follow, best test score first."
            )
        )
        st.caption(
            t(
                "Each image to classify goes to the class whose examples it resembles most in "
                "the features of a network pretrained on ImageNet's photos (cosine similarity "
                "to the class mean). Nothing is trained until you fine-tune below."
            )
        )
        text = False
    else:
        data_of_run = next(r for r in finished if r["id"] == run_id)["config"]["dataset"]
        text = catalog.datasets()[data_of_run].modality == "text"
    support, queries, named = _inputs(text)
    twice = sorted({n for n in named if named.count(n) > 1})
    if twice or "" in named:
        st.error(
            t("Give each class its own, non-empty name.")
            + (" " + t("Used twice: {names}.", names=", ".join(map(repr, twice))) if twice else "")
        )
    key = _digest(run_id, support, queries)
    result = st.session_state.get(RESULT)
    if result is not None and result["key"] != key:
        result = None  # the inputs changed: the old predictions are not theirs
    if st.button(t("Classify"), disabled=not queries or bool(twice) or "" in named):
        try:
            with st.spinner(t("Reading your images…")):
                before = classify(Store(), run_id, support, queries)
                loo = None
                if pretrained:
                    loo = pretrained_model().support_accuracy(read_task(support, []))
            result = {"key": key, "before": before, "loo": loo, "after": None}
            st.session_state[RESULT] = result
        except (DataError, BackboneMissing) as err:
            st.error(tc(str(err)))
            result = None
    if result is None:
        return
    after = result["after"]
    if not text:  # each photo with what the model says
        st.image(
            [data for _, data in queries],
            caption=_captions(result["before"], after["out"] if after else None),
            width=140,
        )
    st.dataframe(_table(result["before"], text, after["out"] if after else None), hide_index=True)
    if not pretrained:
        return
    st.markdown(
        t(
            "**Accuracy on your examples** (each classified by the others): {acc}.",
            acc=_accuracy(result["loo"]),
        )
        + (
            " "
            + t(
                "After {steps} fine-tuning steps ({seconds:.1f} s): {acc}.",
                steps=after["steps"],
                seconds=after["seconds"],
                acc=_accuracy(after["loo"]),
            )
            if after
            else ""
        )
    )
    c1, c2 = st.columns([1, 3])
    steps = c1.number_input(t("Fine-tuning steps"), 1, 200, TUNE_STEPS, key="own-steps")
    c2.caption(
        t(
            "Fine-tuning trains the network's last layers on your examples for a few steps, "
            "with shifted and recoloured copies of them as practice questions (P>M>F's last "
            "stage, Hu et al. 2022). Your examples are not changed; the model is a fresh copy."
        )
    )
    if st.button(t("Fine-tune on my examples"), key="own-tune"):
        try:
            result["after"] = _fine_tune(support, queries, int(steps))
            st.session_state[RESULT] = result
            st.rerun()
        except (DataError, BackboneMissing) as err:
            st.error(tc(str(err)))
