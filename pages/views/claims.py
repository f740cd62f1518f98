"""The article's claims, tested by the lab: each claim of its FAQ beside what the lab's own runs
measure, a verdict, the runs behind each figure linked, and a button that launches the check's
runs as one group (`metalearn.engine.claims`)."""

import streamlit as st

from metalearn.config import ConfigError
from metalearn.engine.claims import CLAIMS, CONTRADICTED, SUPPORTED, UNMEASURED, assess, made_with
from pages._access import can_control, viewer_notice
from pages._i18n import N_, t, tc
from pages._ui import ACTIVE, episodes, jobs, refresh_runs, runs

BADGES = {SUPPORTED: "green", CONTRADICTED: "red", UNMEASURED: "gray"}  # inconclusive: orange
COLUMNS = {
    "run": N_("Run"),
    "algorithm": N_("Algorithm"),
    "family": N_("Family (the article's)"),
    "score": N_("Test score"),
    "ci95": N_("± (95% CI)"),
    "seconds_per_episode": N_("Seconds per training episode"),
    "training_memory_mb": N_("Training memory (MB)"),
    "training_classes": N_("Training classes"),
}
FORMATS = {"score": "%.3f", "ci95": "± %.3f", "seconds_per_episode": "%.3f s"}


def figures(rows: list[dict]) -> None:
    """The runs a verdict rests on, each linked to its page in Runs and Compare."""
    shown = [
        {**r, "run": f"/runs?runs={r['run']}", "family": t(r["family"])}
        | ({"training_classes": t(str(r["training_classes"]))} if "training_classes" in r else {})
        for r in rows  # a link per run
    ]
    config = {
        t(COLUMNS["run"]): st.column_config.LinkColumn(display_text=r"runs=(.*)$"),
        t(COLUMNS["training_memory_mb"]): st.column_config.NumberColumn(format="%.0f MB"),
    }
    config |= {t(COLUMNS[c]): st.column_config.NumberColumn(format=f) for c, f in FORMATS.items()}
    st.dataframe(
        [{t(COLUMNS[k]): v for k, v in r.items() if k in COLUMNS} for r in shown],
        hide_index=True,
        column_config=config,
    )


def in_progress(claim, rows: list[dict]) -> set[str]:
    """Ids of the check's runs queued or training now: launched by hand (as the store last
    listed them) or by this session's button (read afresh: a launch is newer than the list)."""
    found = {
        r["id"] for r in rows if r["status"] in ACTIVE and any(made_with(r, s) for s in claim.runs)
    }
    for run_id in st.session_state.get(f"check-runs-{claim.key}", []):
        row = jobs().store.get_run(run_id)
        if row is not None and row["status"] in ACTIVE:
            found.add(run_id)
    return found


@st.fragment(run_every=3.0)
def waiting(claim, started: int) -> None:
    """While a check runs: how many of its runs are still going; the page is drawn afresh with
    the verdict when none is."""
    going = len(in_progress(claim, runs()))
    if going == 0:
        st.session_state.pop(f"check-runs-{claim.key}", None)
        refresh_runs()
        st.rerun(scope="app")
    st.info(t("Checking: {n} of {total} runs still training or queued.", n=going, total=started))


st.title(t("The article's claims, tested"))
st.markdown(
    t(
        'The FAQ (section 8.2) of the article "Meta-learning with fine-tuned models" says which '
        "family of meta-learning suits what. Each claim "
        "is below with how the lab tests it, what its runs measured and a verdict: supported, "
        "contradicted, inconclusive (measured, no clear difference) or not measured yet. A "
        "check's runs share their test episodes; **Run this check** launches them as one group."
    )
)
locked = not can_control()
if locked:
    viewer_notice(t("launching checks"))
rows = runs()
for claim in CLAIMS:
    finding, used = assess(claim, rows, episodes)
    with st.container(border=True, key=f"claim-{claim.key}"):
        head, side = st.columns([4, 1])
        head.subheader(t(claim.claim))
        head.caption(t(claim.test))
        colour = BADGES.get(finding.verdict, "orange")  # a heading's size: read from the back
        side.markdown(f"#### :{colour}-badge[{t(finding.verdict)}]")
        if used:
            head.markdown(tc(finding.because))
            figures(finding.rows)
            st.page_link(
                "pages/views/runs.py",
                label=t("Open these runs in Runs and Compare"),
                query_params={"runs": ",".join(r["id"] for r in used)},
            )
        going = in_progress(claim, rows) if claim.runs else []
        if going:
            waiting(claim, len(going))
        elif claim.runs:
            label = t("Run it again") if used else t("Run this check")
            clicked = side.button(label, key=f"check-{claim.key}", disabled=locked)
            side.caption(t(claim.duration))
            if clicked and can_control():
                from metalearn.engine.validate import make_config

                try:
                    _, ids = jobs().launch_group([make_config(s) for s in claim.runs])
                    st.session_state[f"check-runs-{claim.key}"] = ids
                    st.rerun()
                except ConfigError as err:
                    st.error("\n".join(tc(p) for p in err.problems))
