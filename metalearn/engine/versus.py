"""You vs the model: a trained run answers the one-shot trials a person plays
(`metalearn.data.trials`), and both are set beside the figures Lake et al. 2015 published for the
same kind of task.

`python -m metalearn versus --run RUN_ID --trials 400 --seed 0 --json` reports a run's error on
seeded trials; the dashboard's "You vs the model" page uses the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from metalearn.data import DataError, Episode
from metalearn.data.base import resize
from metalearn.data.trials import N_WAY, TrialSet, draw_trials
from metalearn.engine.kinds import kind_of
from metalearn.engine.predict import drawing_misfit
from metalearn.engine.run import restore
from metalearn.store import NoSuchRun, Store

BATCH = 50  # trials scored at once


@dataclass(frozen=True)
class Published:
    """A published error rate on Omniglot's 20-way one-shot trials (Lake et al. 2015, Fig. 2)."""

    who: str
    error: float  # a fraction


PUBLISHED = (
    Published("People", 0.045),
    Published("Bayesian Program Learning", 0.033),
    Published("Deep convolutional network", 0.135),
)
CITATION = (
    "Lake, Salakhutdinov & Tenenbaum (2015), Human-level concept learning through probabilistic "
    "program induction, Science 350(6266)"
)


def misfit(run: dict[str, Any]) -> str | None:
    """Why a stored run cannot answer the 20-way trials (None: it can)."""
    return drawing_misfit(run, N_WAY)


def answer(store: Store, run_id: str, trials: TrialSet) -> list[int]:
    """The run's pick (a candidate index) for each trial.

    Raises:
        NoSuchRun: no run has this id.
        DataError: the run does not read 1-channel images, or cannot take 20 classes at once.
    """
    algo, cfg, device = restore(store, run_id)
    kind = kind_of(cfg)
    info = kind.describe(cfg)
    if kind.task != "classification" or info.modality != "image" or info.channels != 1:
        raise DataError(
            f"run {run_id} reads {info.channels}-channel {info.modality} data ({cfg.dataset}); "
            "the trials are drawings: pick a run trained on omniglot, glyphs or other drawings"
        )
    if algo.same_way and cfg.n_way != N_WAY:
        raise DataError(
            f"run {run_id} ({cfg.algorithm}) has an output layer for exactly {cfg.n_way} "
            f"classes; the trials have {N_WAY} candidates"
        )
    size = cfg.image_size or info.image_size

    def inputs(images: torch.Tensor) -> torch.Tensor:  # uint8 [B, 1, H, W] -> normalised float
        x = resize(images, size).float() / 255
        return ((x - info.mean) / info.std).to(device)

    picks: list[int] = []
    labels = torch.arange(N_WAY, device=device)
    for start in range(0, len(trials.trials), BATCH):
        episodes = [
            Episode(
                inputs(t.candidates),
                labels,
                inputs(t.query[None]),
                torch.tensor([t.answer], device=device),
                labels,
                N_WAY,
            )
            for t in trials.trials[start : start + BATCH]
        ]
        with torch.no_grad():
            scores = algo.predict_many(episodes)
        picks += [int(s[0].argmax()) for s in scores]
    return picks


def score(picks: list[int | None], trials: TrialSet) -> dict[str, Any]:
    """Errors among answered trials, with a 95% Clopper-Pearson interval on the error rate."""
    from scipy.stats import binomtest

    answered = [(p, t.answer) for p, t in zip(picks, trials.trials, strict=False) if p is not None]
    n = len(answered)
    wrong = sum(p != a for p, a in answered)
    if n == 0:
        return {"trials": 0, "errors": 0, "error": None, "ci_low": None, "ci_high": None}
    ci = binomtest(wrong, n).proportion_ci(0.95)
    return {
        "trials": n,
        "errors": wrong,
        "error": wrong / n,
        "ci_low": float(ci.low),
        "ci_high": float(ci.high),
    }


def model_error(
    store: Store, run_id: str, n_trials: int, seed: int, root: str | None = None
) -> dict[str, Any]:
    """A run's error on `n_trials` seeded trials, for the CLI and the README."""
    run = store.get_run(run_id)
    if run is None:
        raise NoSuchRun(run_id)
    trials = draw_trials(n_trials, seed, root=root or run["config"].get("data_root"))
    result = score(answer(store, run_id, trials), trials)
    return {
        "run_id": run_id,
        "algorithm": run["config"]["algorithm"],
        "dataset": run["config"]["dataset"],
        "source": trials.source,
        "trials_from": trials.description,
        "seed": seed,
        **result,
        "published": {p.who: p.error for p in PUBLISHED},
    }
