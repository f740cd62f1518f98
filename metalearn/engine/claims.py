"""The article's claims, tested by the lab. The FAQ (section 8.2) of the article
"Meta-learning with fine-tuned models" says which family of
meta-learning suits what: model-based methods image classification, optimization-based ones
reinforcement learning, metric-based ones small data, memory-based ones large data, and that
model-based methods need more compute than metric-based ones. Each claim here says how the lab
puts it to the test (a check: a group of runs on identical test episodes) and judges it from
those runs: supported, contradicted, inconclusive (measured, no clear difference) or not
measured yet. Torch-free: the judges read stored results and per-episode scores.

"Model-based" is the article's sense (it files MAML there, see `catalog.Algorithm.family_in_seed`);
the literature's sense (SNAIL, neural processes) is named where it differs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from metalearn import catalog
from metalearn.viz.compare import paired_difference

SUPPORTED, CONTRADICTED, INCONCLUSIVE, UNMEASURED = (
    "supported",
    "contradicted",
    "inconclusive",
    "not measured yet",
)
IMAGES = {"dataset": "glyphs", "eval_episodes": 200, "val_every": 0}
BUDGET = 40  # seconds of training per run where runs get the same time (a CPU's fair race)
SMALL_SET = 20  # training classes of the large-data check's small training set
MANN_BUDGET = 150  # MANN needs about this long on a CPU to leave the chance plateau
NEAR_CHANCE = 0.1  # accuracy within this of chance (1 / n_way): the method has not learned

Scores = Callable[[str], list[float]]  # a run's id -> its per-test-episode scores


@dataclass(frozen=True)
class Finding:
    """What the lab's runs say about a claim.

    Attributes:
        verdict: one of SUPPORTED, CONTRADICTED, INCONCLUSIVE, UNMEASURED.
        because: the measured reason, a sentence with its numbers.
        values: the numbers `because` is worded from, for the screen's own words.
        rows: one per run: id, algorithm, family, and the figures the verdict rests on.
    """

    verdict: str
    because: str
    values: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Claim:
    """One claim of the article and the lab's test of it.

    Attributes:
        key: a short name ("compute").
        claim: the claim, in our words.
        test: how the lab tests it.
        duration: how long the check takes on a 2-core CPU, launch to verdict (measured by
            scripts/claims.py, docs/results/claims.jsonl).
        runs: the check's runs (settings over nothing: each complete), launched as one group.
        judge: the verdict from the check's finished runs (in `runs`' order) and their scores.
        paired_within_method: the check pairs each method's runs with each other (on their
            kind's test episodes), not methods with methods.
    """

    key: str
    claim: str
    test: str
    duration: str = ""
    runs: tuple[dict[str, Any], ...] = ()
    judge: Callable[[list[dict], Scores], Finding] | None = None
    paired_within_method: bool = False  # runs share test episodes only with their own method's

    def matching(self, rows: list[dict]) -> list[dict] | None:
        """The newest group of completed runs made with this check's settings (launched by its
        button or by hand), in the check's order; None when there is none."""
        groups: dict[str, list[dict]] = {}
        for row in rows:  # newest first, as the store lists them
            if row["status"] == "completed" and row.get("group_id"):
                groups.setdefault(row["group_id"], []).append(row)
        for members in groups.values():
            found = [next((r for r in members if made_with(r, s)), None) for s in self.runs]
            if self.runs and all(found):
                return found
        return None


def made_with(row: dict, settings: dict[str, Any]) -> bool:
    """Whether a stored run was made with these settings (spec fields or hyperparameters)."""
    config = row["config"]
    hyper = config.get("hyper") or {}
    return all(config.get(k, hyper.get(k)) == v for k, v in settings.items())


def _family(row: dict) -> str:
    return catalog.algorithms()[row["config"]["algorithm"]].family_in_seed


def _score(row: dict) -> tuple[float, float]:
    result = row["result"]
    metric = next(k for k in ("test_accuracy", "test_return", "test_mse") if k in result)
    ci = {"test_accuracy": "test_ci95"}.get(metric, metric + "_ci95")
    return float(result[metric]), float(result.get(ci, float("nan")))


def _rows(runs: list[dict], **extra: Callable[[dict], Any]) -> list[dict[str, Any]]:
    rows = []
    for r in runs:
        score, ci = _score(r)
        rows.append(
            {
                "run": r["id"],
                "algorithm": r["config"]["algorithm"],
                "family": catalog.FAMILY_NAMES[_family(r)],
                "score": score,
                "ci95": ci,
                **{name: f(r) for name, f in extra.items()},
            }
        )
    return rows


def judge_compute(runs: list[dict], scores: Scores) -> Finding:
    """Model-based (the article's: MAML) against metric-based (ProtoNet) on the same episodes:
    seconds per training episode and the memory training held."""
    model = [r for r in runs if _family(r) == "model"]
    metric = [r for r in runs if _family(r) == "metric"]

    def per_episode(r: dict) -> float:
        return 1.0 / r["result"]["episodes_per_second"]

    def memory(r: dict) -> float | None:
        """What training held: on a GPU its tensors' peak, else the resident memory it added
        (the process's own share, the same for both methods, left out)."""
        result = r["result"]
        return result.get("train_peak_gpu_mb", result.get("train_memory_mb"))

    rows = _rows(runs, seconds_per_episode=per_episode, training_memory_mb=memory)
    if not model or not metric or any(memory(r) is None for r in runs):
        return Finding(UNMEASURED, "The check's runs lack a time or a peak memory.", rows=rows)
    time_ratio = min(per_episode(m) for m in model) / max(per_episode(m) for m in metric)
    memory_ratio = min(memory(m) for m in model) / max(memory(m) for m in metric)
    values = {"time_ratio": time_ratio, "memory_ratio": memory_ratio}
    because = (
        f"Model-based took {time_ratio:.1f}x the time per training episode of metric-based "
        f"and {memory_ratio:.2f}x its training memory."
    )
    if time_ratio > 1 and memory_ratio > 1:
        return Finding(SUPPORTED, because, values, rows)
    if time_ratio < 1 and memory_ratio < 1:
        return Finding(CONTRADICTED, because, values, rows)
    return Finding(INCONCLUSIVE, because, values, rows)


def judge_best(runs: list[dict], scores: Scores) -> Finding:
    """Is the check's first run (the method the claim is about) better than every other, paired
    on identical test episodes (higher is better), worse than one, or neither?"""
    ours = runs[0]
    rows = _rows(runs)
    better, worse = [], []
    for other in (r for r in runs if r is not ours):
        diff = paired_difference(scores(ours["id"]), scores(other["id"]))
        if not diff.get("significant"):
            continue
        ahead = diff["mean_difference"] > 0
        (better if ahead else worse).append(other["config"]["algorithm"])
    name = ours["config"]["algorithm"]
    values = {"method": name, "better": better, "worse": worse, "others": len(runs) - 1}
    if worse:
        because = f"{', '.join(worse)} scored significantly better than {name}."
        return Finding(CONTRADICTED, because, values, rows)
    if len(better) == len(runs) - 1:
        because = f"{name} scored significantly better than every other method."
        return Finding(SUPPORTED, because, values, rows)
    because = f"{name} was not significantly better than every other method, nor worse."
    return Finding(INCONCLUSIVE, because, values, rows)


def judge_not_worse(runs: list[dict], scores: Scores) -> Finding:
    """Is the check's first run at least as good as every other (none significantly better on
    identical test episodes)? What "suits" asks of a method, at the least."""
    found = judge_best(runs, scores)
    if found.verdict == INCONCLUSIVE:
        because = f"No method scored significantly better than {found.values['method']}."
        return Finding(SUPPORTED, because, found.values, found.rows)
    return found


def gain_difference(a: list[float], b: list[float]) -> dict[str, Any]:
    """Mean of `a` minus mean of `b`, two independent samples (each a per-episode gain, on
    episodes of its own), with its 95% CI (normal approximation, as `paired_difference`)."""

    def mean_var(x: list[float]) -> tuple[float, float]:
        m = sum(x) / len(x)
        return m, sum((v - m) ** 2 for v in x) / max(len(x) - 1, 1)

    (ma, va), (mb, vb) = mean_var(a), mean_var(b)
    ci = 1.96 * math.sqrt(va / len(a) + vb / len(b))
    return {"mean_difference": ma - mb, "ci95": ci, "significant": abs(ma - mb) > ci}


def judge_gain(runs: list[dict], scores: Scores) -> Finding:
    """Does the first method gain more from a larger training set than the second? Runs: the
    first method on the large then the small set, the second method the same. Each method's
    gain is paired on its own test episodes (large minus small, episode by episode); the two
    gains are compared as independent samples."""
    rows = _rows(runs, training_classes=lambda r: r["config"].get("train_classes") or "all")
    for run in runs:  # a method that has not learned says nothing about what data suits it
        score, chance = _score(run)[0], 1 / run["config"].get("n_way", 5)
        if score < chance + NEAR_CHANCE:
            name = run["config"]["algorithm"]
            because = (
                f"{name} scored {score:.3f}, near chance ({chance:.2f}): it has not learned in "
                "its budget, so the check cannot tell."
            )
            return Finding(INCONCLUSIVE, because, {}, rows)
    big_a, small_a, big_b, small_b = runs
    per_a, per_b = (
        [x - y for x, y in zip(scores(big["id"]), scores(small["id"]), strict=False)]
        for big, small in ((big_a, small_a), (big_b, small_b))
    )
    a, b = big_a["config"]["algorithm"], big_b["config"]["algorithm"]
    gain_a, gain_b = sum(per_a) / len(per_a), sum(per_b) / len(per_b)
    values = {"method": a, "other": b, "gain": gain_a, "other_gain": gain_b}
    because = f"From the larger training set {a} gained {gain_a:+.3f} and {b} {gain_b:+.3f}."
    versus = gain_difference(per_a, per_b)
    if not versus["significant"]:
        return Finding(INCONCLUSIVE, because, values, rows)
    ahead = versus["mean_difference"] > 0
    return Finding(SUPPORTED if ahead else CONTRADICTED, because, values, rows)


THREE_FAMILIES = (
    {"algorithm": "protonet"},
    {"algorithm": "maml"},
    {"algorithm": "finetune"},
)


def _budgeted(*runs: dict[str, Any], **shape: Any) -> tuple[dict[str, Any], ...]:
    timed = {**IMAGES, "episodes": 100_000, "max_seconds": BUDGET, **shape}
    return tuple({**timed, **r} for r in runs)


CLAIMS = (
    Claim(
        "compute",
        "Model-based methods need more compute than metric-based methods.",
        "MAML (the article's model-based method) and ProtoNet (metric-based) train for the same "
        "150 episodes of 5-way 1-shot glyphs and are tested on the same 200 episodes. "
        "Compute: seconds per training episode and the memory training held (on a GPU its "
        "tensors' peak; on a CPU the resident memory it added).",
        "about 40 s on a 2-core CPU",
        tuple({**IMAGES, "episodes": 150, **r} for r in THREE_FAMILIES[:2]),
        judge_compute,
    ),
    Claim(
        "small_data",
        "Metric-based methods suit small data.",
        f"One labelled example per class (5-way 1-shot glyphs): ProtoNet (metric-based), MAML "
        f"and the fine-tuning baseline, {BUDGET} s of training each, paired on the same 200 "
        "test episodes. Supported if ProtoNet is significantly more accurate than both.",
        "about 150 s on a 2-core CPU",
        _budgeted(*THREE_FAMILIES, n_shot=1),
        judge_best,
    ),
    Claim(
        "images",
        "Model-based methods suit image classification.",
        f"5-way 5-shot glyph images: MAML (the article's model-based method), ProtoNet and the "
        f"fine-tuning baseline, {BUDGET} s each, paired on the same 200 test episodes. "
        "Supported if no method is significantly more accurate than MAML.",
        "about 170 s on a 2-core CPU",
        _budgeted(*(THREE_FAMILIES[i] for i in (1, 0, 2)), n_shot=5),
        judge_not_worse,
    ),
    Claim(
        "reinforcement",
        "Optimization-based methods suit reinforcement learning.",
        "2D navigation to unseen goals: MAML (optimization-based in the literature) against "
        "the pre-trained baseline, same training tasks, paired on the same 20 test goals by "
        "the return after adaptation. Supported if MAML's return is significantly higher.",
        "about 10 s on a 2-core CPU",
        tuple(
            {
                "dataset": "nav2d",
                "episodes": 300,
                "n_shot": 10,
                "n_query": 10,
                "meta_batch": 10,
                "eval_episodes": 20,
                "val_every": 0,
                **r,
            }
            for r in ({"algorithm": "maml"}, {"algorithm": "finetune"})
        ),
        judge_best,
    ),
    Claim(
        "large_data",
        "Memory-based methods suit large data.",
        f"MANN (memory-based, {MANN_BUDGET} s of training: it starts slowly) and ProtoNet "
        f"(metric-based, {BUDGET} s) each train on all 2400 training classes of glyphs and on "
        f"{SMALL_SET} of them (the same test episodes for a method's two runs). Supported if "
        "MANN gains significantly more accuracy from the larger training set than ProtoNet "
        "does; contradicted if significantly less; inconclusive if a method has not learned.",
        "about 7 minutes on a 2-core CPU",
        _budgeted(
            {"algorithm": "mann", "train_classes": None, "max_seconds": MANN_BUDGET},
            {"algorithm": "mann", "train_classes": SMALL_SET, "max_seconds": MANN_BUDGET},
            {"algorithm": "protonet", "n_shot": 1, "train_classes": None},
            {"algorithm": "protonet", "n_shot": 1, "train_classes": SMALL_SET},
        ),
        judge_gain,
        paired_within_method=True,
    ),
)


def find(key: str) -> Claim:
    return next(c for c in CLAIMS if c.key == key)


def assess(claim: Claim, rows: list[dict], scores: Scores) -> tuple[Finding, list[dict]]:
    """The claim's finding from the store's runs (newest first) and the runs it rests on."""
    runs = claim.matching(rows) if claim.judge else None
    if not runs:
        return Finding(UNMEASURED, "No finished run of its check yet."), []
    return claim.judge(runs, scores), runs
