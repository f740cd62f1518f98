"""Where a run is, in words and as a fraction: waiting, preparing its data, training (with the
time left), or testing (the test can take longer than training: it has its own bar and time
left). Read by the live panel; torch-free."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from metalearn import catalog
from metalearn.settings import LITE0

Latest = dict[str, tuple[float, int]]  # metric name -> (its latest value, that value's step)


@dataclass(frozen=True)
class Phase:
    """What a progress bar shows.

    Attributes:
        name: "queued", "preparing", "training", "testing" or "ended".
        fraction: how far the phase is, 0..1.
        text: the bar's words.
    """

    name: str
    fraction: float
    text: str


def phase(config: dict[str, Any], status: str, latest: Latest, unit: str = "episodes") -> Phase:
    """The phase of a run from its configuration, status and latest metrics.

    Args:
        config: the stored configuration (`episodes`, `max_seconds`, `eval_episodes`,
            `dataset`). Under a time budget that ends training before `episodes`, the bar,
            the count and the time left follow the budget (`train_seconds` spent).
        status: the run's status.
        latest: its latest value of each metric (`episodes_per_second`, `test_done`,
            `test_seconds`, ...).
        unit: what one test score is of ("episodes", "tasks").
    """
    total, tests = max(int(config["episodes"]), 1), int(config.get("eval_episodes") or 0)
    eps, step = latest.get("episodes_per_second", (None, 0))
    budget = config.get("max_seconds")  # training stops at whichever comes first
    spent = latest.get("train_seconds", (0.0, 0))[0]
    by_budget = bool(budget) and (not eps or (total - step) / eps > budget - spent)
    if by_budget:
        trained = f"{step} training episodes · {duration(budget)} budget"
        done = min(max(step / total, spent / budget), 1.0)
    else:
        trained, done = f"{step}/{config['episodes']} training episodes", min(step / total, 1.0)
    if status == "queued":
        return Phase("queued", 0.0, "waiting in the queue")
    if status != "running":
        return Phase("ended", done, trained)
    if "test_done" in latest:
        done = int(latest["test_done"][0])
        seconds = latest.get("test_seconds", (0.0, 0))[0]
        left = f", about {duration((tests - done) * seconds / done)} left" if done else ""
        return Phase(
            "testing", min(done / max(tests, 1), 1.0), f"Testing: {done}/{tests} test {unit}{left}"
        )
    loading = "load_done" in latest and "episodes_per_second" not in latest
    if loading and latest["load_done"][0] < latest.get("load_total", (0.0, 0))[0]:
        done, total = int(latest["load_done"][0]), int(latest["load_total"][0])
        hyper = config.get("hyper") or {}
        text = f"Starting: decoding the images once (then cached): {done:,}/{total:,}"
        tuned = hyper.get("finetune_encoder", "none")
        reads = tuned == "none" or (tuned == "top" and not config.get("augment"))  # cached_input
        if hyper.get("backbone") == LITE0 and reads:
            text = (
                "Starting: the pretrained network reads every image once (then cached): "
                f"{done:,}/{total:,}"
            )
        entry = catalog.datasets().get(str(config.get("dataset")))
        if entry is not None and entry.modality == "text":
            text = (
                "Starting: the pretrained encoder reads every utterance once (then cached): "
                f"{done:,}/{total:,}"
            )
        return Phase("preparing", done / max(total, 1), text)
    if not latest or loading:
        if (config.get("hyper") or {}).get("compile"):  # compiled on the first episodes
            return Phase(
                "preparing",
                0.0,
                "Starting: loading the data (generated or decoded on its first use, then "
                "cached), building the model, compiling it on the first episodes (torch.compile: "
                "about half a minute)",
            )
        return Phase(
            "preparing",
            0.0,
            "Starting: loading the data (generated or decoded on its first use, then cached), "
            "building the model, the first episodes",
        )
    text = trained + (f" · {eps:.1f} episodes/s" if eps else "")
    if eps:
        left = budget - spent if by_budget else (total - step) / eps
        text += f" · about {duration(left)} of training left"
    if tests:
        text += f", then {tests} test {unit}"
    return Phase("training", done, text)


def validation_interval(config: dict[str, Any]) -> int:
    """Episodes between a run's validation passes as the trainer keeps them: at the first log
    point at or past each `val_every` (0: never), so a `val_every` under `log_every` validates
    every `log_every` episodes."""
    every, log = int(config.get("val_every") or 0), max(int(config.get("log_every") or 1), 1)
    return -(-every // log) * log if every else 0


def training_budget(config: dict[str, Any]) -> str:
    """What bounds a run's training, in words: "300 episodes", or with a time budget "40 s
    budget (at most 100,000 episodes)"."""
    episodes = f"{int(config['episodes']):,} episodes"
    if config.get("max_seconds"):
        return f"{duration(config['max_seconds'])} budget (at most {episodes})"
    return episodes


def duration(seconds: float) -> str:
    """ "45 s", "3 min", "1 h 05 min"."""
    seconds = max(seconds, 0.0)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
