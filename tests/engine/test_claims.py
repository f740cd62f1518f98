"""The article's claims and their judges (`metalearn.engine.claims`): verdicts from runs' results
and per-episode scores, which runs a claim rests on, and the reasons worded for every language."""

import random
import re

import pytest

from metalearn.engine import claims
from metalearn.engine.claims import (
    CLAIMS,
    CONTRADICTED,
    INCONCLUSIVE,
    SUPPORTED,
    UNMEASURED,
    assess,
)
from pages._i18n import translate_composed


def row(run_id, algorithm, group="group-a", status="completed", **result):
    config = {"algorithm": algorithm, "dataset": "glyphs", "n_shot": 1, "hyper": {}}
    return {
        "id": run_id,
        "status": status,
        "group_id": group,
        "config": config,
        "result": {"test_accuracy": 0.5, "test_ci95": 0.01, **result},
    }


def scores_of(means: dict[str, float], n: int = 200):
    """Per-episode accuracies: a shared difficulty per episode plus each run's own level."""
    rng = random.Random(0)
    hard = [rng.gauss(0, 0.1) for _ in range(n)]
    noise = {k: [rng.gauss(0, 0.02) for _ in range(n)] for k in means}
    return lambda run_id: [means[run_id] + h + e for h, e in zip(hard, noise[run_id], strict=True)]


def test_compute_claim_compares_time_per_episode_and_peak_memory():
    maml = row("m", "maml", episodes_per_second=2.0, train_memory_mb=90.0)
    proto = row("p", "protonet", episodes_per_second=20.0, train_memory_mb=70.0)
    found = claims.judge_compute([proto, maml], scores_of({"m": 0.5, "p": 0.5}))
    assert found.verdict == SUPPORTED
    assert found.values == pytest.approx({"time_ratio": 10.0, "memory_ratio": 90 / 70})
    assert {r["run"] for r in found.rows} == {"m", "p"}
    lighter = row("m", "maml", episodes_per_second=30.0, train_memory_mb=60.0)
    assert claims.judge_compute([proto, lighter], None).verdict == CONTRADICTED
    mixed = row("m", "maml", episodes_per_second=2.0, train_memory_mb=60.0)
    assert claims.judge_compute([proto, mixed], None).verdict == INCONCLUSIVE
    unmeasured = row("m", "maml", episodes_per_second=2.0)  # made before runs kept their peak
    assert claims.judge_compute([proto, unmeasured], None).verdict == UNMEASURED


@pytest.mark.parametrize(
    ("levels", "verdict"),
    [
        ({"p": 0.8, "m": 0.6, "f": 0.7}, SUPPORTED),  # better than both, paired
        ({"p": 0.8, "m": 0.9, "f": 0.7}, CONTRADICTED),  # one is better
        ({"p": 0.8, "m": 0.8, "f": 0.7}, INCONCLUSIVE),  # a tie with one
    ],
)
def test_a_best_of_claim_is_judged_by_paired_differences(levels, verdict):
    runs = [row("p", "protonet"), row("m", "maml"), row("f", "finetune")]
    assert claims.judge_best(runs, scores_of(levels)).verdict == verdict


def test_suits_means_no_other_method_is_significantly_better():
    runs = [row("m", "maml"), row("p", "protonet"), row("f", "finetune")]
    tie = scores_of({"m": 0.8, "p": 0.8, "f": 0.7})
    assert claims.judge_not_worse(runs, tie).verdict == SUPPORTED
    beaten = scores_of({"m": 0.7, "p": 0.8, "f": 0.7})
    assert claims.judge_not_worse(runs, beaten).verdict == CONTRADICTED


def test_a_claim_rests_on_the_newest_complete_group_made_with_its_settings():
    claim = claims.find("small_data")
    made = [dict(s) for s in claim.runs]

    def stored(run_id, settings, group, status="completed"):
        config = {k: v for k, v in settings.items()}
        return {"id": run_id, "status": status, "group_id": group, "config": config}

    old = [stored(f"o{i}", s, "group-old") for i, s in enumerate(made)]
    new = [stored(f"n{i}", s, "group-new") for i, s in enumerate(made)]
    unfinished = [stored(f"u{i}", s, "group-u", "running") for i, s in enumerate(made)]
    assert [r["id"] for r in claim.matching(unfinished + new + old)] == ["n0", "n1", "n2"]
    other = [stored("x", {**made[0], "n_shot": 5}, "group-x")] + new[1:]  # another shape
    assert claim.matching(other) is None
    found, used = assess(claim, [], lambda i: [])
    assert found.verdict == UNMEASURED and used == []
    assert assess(claims.find("large_data"), new, lambda i: [])[0].verdict == UNMEASURED


def test_every_check_is_a_valid_group_of_runs():
    """Each check's runs pass the validator and share their test episodes (one group)."""
    from metalearn.engine.kinds import kind_of
    from metalearn.engine.validate import make_config, validate

    for claim in (c for c in CLAIMS if c.runs):
        configs = [validate(make_config(s)) for s in claim.runs]
        if claim.paired_within_method:  # each method's runs on the same episodes
            groups = {c.algorithm for c in configs}
            assert len(groups) > 1, claim.key
        else:
            groups = {None}
        for method in groups:
            keys = {kind_of(c).pairing_key(c) for c in configs if method in (None, c.algorithm)}
            assert len(keys) == 1 and None not in keys, (claim.key, method)


def test_every_reason_is_worded_in_chinese_too():
    """The judges' reasons, as the page shows them, through the table's templates: no English
    word left but the methods' names."""
    runs = [row("p", "protonet"), row("m", "maml"), row("f", "finetune")]
    reasons = [
        claims.judge_best(runs, scores_of(levels)).because
        for levels in (
            {"p": 0.8, "m": 0.6, "f": 0.7},
            {"p": 0.8, "m": 0.9, "f": 0.95},
            {"p": 0.8, "m": 0.8, "f": 0.7},
        )
    ]
    reasons.append(claims.judge_not_worse(runs, scores_of({"p": 0.8, "m": 0.8, "f": 0.7})).because)
    maml = row("m", "maml", episodes_per_second=2.0, train_memory_mb=90.0)
    proto = row("p", "protonet", episodes_per_second=20.0, train_memory_mb=70.0)
    reasons.append(claims.judge_compute([proto, maml], None).because)
    reasons.append(assess(claims.find("compute"), [], None)[0].because)
    for levels in ({"mb": 0.6, "ms": 0.5, "pb": 0.9, "ps": 0.85}, {"mb": 0.2, "ms": 0.2}):
        reasons.append(claims.judge_gain(*gain_runs({"pb": 0.9, "ps": 0.85} | levels)).because)
    for because in reasons:
        shown = translate_composed(because, "zh")
        left = set(re.findall(r"[A-Za-z]{2,}", shown)) - {"protonet", "maml", "finetune", "mann"}
        assert not left, (because, shown)


def gain_runs(levels: dict[str, float]):
    """MANN and ProtoNet, each on the large (all classes) and the small training set."""
    runs = [
        row("mb", "mann"),
        row("ms", "mann", train_classes=20),
        row("pb", "protonet"),
        row("ps", "protonet", train_classes=20),
    ]
    for r in runs:
        r["config"]["train_classes"] = r["result"].pop("train_classes", None)
        r["result"]["test_accuracy"] = levels.get(r["id"], 0.5)
    return runs, scores_of(levels)


@pytest.mark.parametrize(
    ("levels", "verdict"),
    [
        ({"mb": 0.7, "ms": 0.5, "pb": 0.9, "ps": 0.85}, SUPPORTED),  # MANN +0.20, ProtoNet +0.05
        ({"mb": 0.55, "ms": 0.5, "pb": 0.9, "ps": 0.7}, CONTRADICTED),
        ({"mb": 0.6, "ms": 0.5, "pb": 0.9, "ps": 0.8}, INCONCLUSIVE),  # equal gains
    ],
)
def test_the_large_data_claim_compares_what_each_method_gains_from_more_classes(levels, verdict):
    found = claims.judge_gain(*gain_runs(levels))
    assert found.verdict == verdict, found.because
    assert found.values["gain"] == pytest.approx(levels["mb"] - levels["ms"], abs=0.01)
    assert [r["training_classes"] for r in found.rows] == ["all", 20, "all", 20]


def test_a_method_near_chance_makes_the_large_data_check_inconclusive():
    """MANN at 0.27 of 5-way (chance 0.2) has not learned in its budget: whatever its gain, the
    check says it cannot tell, and why."""
    found = claims.judge_gain(*gain_runs({"mb": 0.27, "ms": 0.4, "pb": 0.96, "ps": 0.9}))
    assert found.verdict == INCONCLUSIVE
    assert "near chance" in found.because and "mann" in found.because


def test_the_large_data_check_finds_its_large_and_small_runs_apart():
    """The check's large-set run is told from its small-set run by `train_classes` (None is a
    value the stored config must have), whatever order the store lists them in."""
    runs, _ = gain_runs({})
    check = claims.find("large_data")
    for r, settings in zip(runs, check.runs, strict=True):
        r["config"].update(settings)
    for order in (runs, runs[::-1]):
        assert [r["id"] for r in check.matching(order)] == ["mb", "ms", "pb", "ps"]
