"""How long a run or a sweep will take here, said in words (`metalearn.engine.estimate`): what is
known (a time budget, a finished run of the same shape on this device) and what is not."""

from __future__ import annotations

import dataclasses

from metalearn.config import RunConfig
from metalearn.engine.estimate import Estimate, estimate, past_rates
from pages._i18n import t
from pages._ui import device_label, runs


def duration(seconds: float) -> str:
    """Seconds as a person reads them: "40 s", "5.5 min", "1.3 h"."""
    if seconds < 90:
        return t("{n} s", n=f"{seconds:.0f}")
    if seconds < 5400:
        return t("{n} min", n=f"{seconds / 60:.1f}")
    return t("{n} h", n=f"{seconds / 3600:.1f}")


def device_name(choice: str) -> str:
    """The device a run set to `choice` (auto, cpu, cuda, mps) trains on here, named as the store
    records it ("cpu", "cuda (NVIDIA H100 80GB HBM3)")."""
    label = device_label()
    if choice in ("auto", "cuda") and label.startswith("GPU: "):
        return f"cuda ({label.removeprefix('GPU: ')})"
    return "mps" if choice == "mps" else "cpu"


def estimate_run(cfg: RunConfig) -> tuple[Estimate, str]:
    """The run's estimate on the device it would train on here, and that device's name."""
    device = device_name(cfg.device)
    return estimate(cfg, device, past_rates(runs())), device


def probe(cfg: RunConfig, seconds: int, tests: int) -> RunConfig:
    """A short run of `cfg` that measures its pace here: the same shape and device (so the same
    `shape_key`), trained for `seconds`, tested on `tests` episodes, no validation."""
    return dataclasses.replace(
        cfg, max_seconds=seconds, eval_episodes=min(tests, cfg.eval_episodes), val_every=0
    )


def estimate_line(cfg: RunConfig) -> tuple[str, bool]:
    """One sentence: how long `cfg` takes here, and what that rests on; and whether no finished
    run of its shape here gives its pace (a short run would tell)."""
    est, device = estimate_run(cfg)
    return _sentence(est, device), not est.exact


def _sentence(est: Estimate, device: str) -> str:
    if est.basis is None:
        if est.train is None:
            return t(
                "No time estimate yet on {device}: no run of this method on this data and image "
                "side has finished here. A time budget (Advanced settings) bounds the training.",
                device=device,
            )
        return t(
            "Training stops at its time budget, {train}; loading and testing time not known yet "
            "on {device} (no run of this method on this data has finished here).",
            train=duration(est.train),
            device=device,
        )
    parts = t(
        "loading {load}, training {train}, testing {test}",
        load=duration(est.load),
        train=duration(est.train) + (" " + t("(its time budget)") if est.budgeted else ""),
        test=duration(est.test),
    )
    basis = (
        t("at the pace of run {run}, the same shape on this device", run=est.basis[-6:])
        if est.exact
        else t(
            "rough: at the pace of run {run}, the same method and data in another episode shape",
            run=est.basis[-6:],
        )
    )
    return t(
        "About {total} on {device}: {parts} ({basis}).",
        total=duration(est.total),
        device=device,
        parts=parts,
        basis=basis,
    )
