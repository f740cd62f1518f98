"""You vs the model: a run answers trials through the same path the page uses; which runs can
answer; the error and its interval; the CLI's `versus`."""

import json

import pytest
import torch

from metalearn.cli import main
from metalearn.data import DataError
from metalearn.data.trials import N_WAY, Trial, TrialSet, draw_trials
from metalearn.engine.versus import answer, misfit, score
from metalearn.store import NoSuchRun


@pytest.fixture
def run(tiny_run):
    """An (almost untrained) ProtoNet on glyphs, shared by the session (tests/conftest.py)."""
    return tiny_run


def copies(trials: TrialSet) -> TrialSet:
    """The same trials with each query replaced by its matching candidate itself."""
    same = [
        Trial(t.alphabet, t.candidates, t.candidates[t.answer], t.answer) for t in trials.trials
    ]
    return TrialSet(trials.source, trials.description, trials.seed, same)


def test_a_query_identical_to_a_candidate_is_matched_to_it(run):
    """Any embedding puts an exact copy at distance 0, so a wrong pick here would mean the
    images, their order or the pick's index were mixed up on the way."""
    store, run_id = run
    trials = copies(draw_trials(60, 1, source="glyphs"))  # more than one batch of 50
    picks = answer(store, run_id, trials)
    assert picks == [t.answer for t in trials.trials]
    assert score(picks, trials)["errors"] == 0


def test_real_trials_get_an_answer_each(run):
    store, run_id = run
    trials = draw_trials(20, 0, source="glyphs")
    picks = answer(store, run_id, trials)
    assert len(picks) == 20 and all(0 <= p < N_WAY for p in picks)


def test_score_counts_errors_with_an_exact_binomial_interval():
    trials = draw_trials(20, 0, source="glyphs")
    picks = [t.answer for t in trials.trials]
    picks[0] = (picks[0] + 1) % N_WAY
    picks[5] = (picks[5] + 1) % N_WAY
    got = score(picks, trials)
    assert (got["trials"], got["errors"], got["error"]) == (20, 2, 0.1)
    assert got["ci_low"] == pytest.approx(0.01235, abs=1e-4)  # Clopper-Pearson, 2 of 20
    assert got["ci_high"] == pytest.approx(0.31698, abs=1e-4)
    assert score([None] * 20, trials)["error"] is None  # nothing answered yet


def test_which_runs_can_answer():
    def stored(status="completed", **cfg):
        return {"id": "r1", "status": status, "config": {"algorithm": "protonet", **cfg}}

    assert misfit(stored(dataset="glyphs", n_way=5)) is None  # ProtoNet takes any number
    assert "only a completed run" in misfit(stored("running", dataset="glyphs"))
    assert "not trained on drawings" in misfit(stored(dataset="sinusoid"))
    assert "not trained on drawings" in misfit(stored(dataset="cifar10"))
    maml = {"id": "r2", "status": "completed", "config": {"algorithm": "maml", "dataset": "glyphs"}}
    assert "train it with 20 classes" in misfit({**maml, "config": {**maml["config"], "n_way": 5}})
    assert misfit({**maml, "config": {**maml["config"], "n_way": 20}}) is None


def test_an_image_run_of_the_wrong_kind_is_refused(run, monkeypatch):
    from metalearn.engine import versus

    store, run_id = run
    real = versus.kind_of

    class InColour:  # the run's kind, as if its data were 3-channel images (CIFAR)
        def __init__(self, cfg):
            self.kind = real(cfg)
            self.task = self.kind.task

        def describe(self, cfg):
            info = self.kind.describe(cfg)
            info.channels = 3
            return info

    monkeypatch.setattr(versus, "kind_of", InColour)
    with pytest.raises(DataError, match="3-channel image data"):
        answer(store, run_id, draw_trials(2, 0, source="glyphs"))


def test_cli_versus_reports_the_error_on_seeded_trials(run, capsys, tmp_path):
    store, run_id = run
    args = ["--home", str(store.home), "versus", "--run", run_id, "--trials", "30", "--json"]
    assert main([*args, "--data-root", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["run_id"] == run_id and out["trials"] == 30 and out["source"] == "glyphs"
    assert 0 <= out["errors"] <= 30 and out["ci_low"] <= out["error"] <= out["ci_high"]
    assert out["published"]["People"] == 0.045
    assert main(["--home", str(store.home), "versus", "--run", "nope"]) == 2
    assert "nope" in capsys.readouterr().err


def test_a_missing_run_is_no_such_run(run):
    store, _ = run
    with pytest.raises(NoSuchRun):
        answer(store, "nope", draw_trials(1, 0, source="glyphs"))
    assert torch.is_tensor(draw_trials(1, 0, source="glyphs").trials[0].query)
