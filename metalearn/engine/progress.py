"""Where a run is, in words and as a fraction: waiting, preparing its data, training (with the
time left), or testing (the test can take longer than training: it has its own bar and time
left). Read by the live panel; torch-free."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
        config: the stored configuration (`episodes`, `eval_episodes`, `dataset`).
        status: the run's status.
        latest: its latest value of each metric (`episodes_per_second`, `test_done`,
            `test_seconds`, ...).
        unit: what one test score is of ("episodes", "tasks").
    """
    total, tests = max(int(config["episodes"]), 1), int(config.get("eval_episodes") or 0)
    eps, step = latest.get("episodes_per_second", (None, 0))
    trained = f"{step}/{config['episodes']} training episodes"
    if status == "queued":
        return Phase("queued", 0.0, "waiting in the queue")
    if status != "running":
        return Phase("ended", min(step / total, 1.0), trained)
    if "test_done" in latest:
        done = int(latest["test_done"][0])
        seconds = latest.get("test_seconds", (0.0, 0))[0]
        left = f", about {_duration((tests - done) * seconds / done)} left" if done else ""
        return Phase(
            "testing", min(done / max(tests, 1), 1.0), f"Testing: {done}/{tests} test {unit}{left}"
        )
    loading = "load_done" in latest and "episodes_per_second" not in latest
    if loading and latest["load_done"][0] < latest.get("load_total", (0.0, 0))[0]:
        done, total = int(latest["load_done"][0]), int(latest["load_total"][0])
        hyper = config.get("hyper") or {}
        text = f"Starting: decoding the images once (then cached): {done:,}/{total:,}"
        if hyper.get("backbone") == LITE0 and hyper.get("finetune_encoder", "none") == "none":
            text = (
                "Starting: the pretrained network reads every image once (then cached): "
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
        text += f" · about {_duration((total - step) / eps)} of training left"
    if tests:
        text += f", then {tests} test {unit}"
    return Phase("training", min(step / total, 1.0), text)


def _duration(seconds: float) -> str:
    """ "45 s", "3 min", "1 h 05 min"."""
    seconds = max(seconds, 0.0)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
