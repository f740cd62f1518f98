import torch

from metalearn.config import RunConfig
from metalearn.data import DATASETS
from metalearn.engine.build import build_algorithm
from metalearn.engine.kinds import kind_of
from metalearn.engine.trainer import Trainer


def make(cfg, tmp_path, name):
    train = DATASETS["glyphs"].load(None, "train")
    algo = build_algorithm(cfg, train.n_classes)
    logged = []
    trainer = Trainer(
        cfg,
        algo,
        kind_of(cfg),
        train,
        None,
        torch.device("cpu"),
        on_metrics=lambda step, v: logged.append((step, v)),
        checkpoint_path=tmp_path / f"{name}.pt",
    )
    return trainer, logged


def test_logs_at_the_requested_interval(tmp_path):
    cfg = RunConfig(episodes=12, log_every=4, val_every=0, n_query=2)
    trainer, logged = make(cfg, tmp_path, "a")
    stats = trainer.fit()
    assert [s for s, _ in logged] == [4, 8, 12]
    assert {"loss", "accuracy", "episodes_per_second", "train_seconds"} <= set(logged[0][1])
    assert stats.episodes == 12 and stats.train_seconds > 0


def test_resume_from_checkpoint_matches_an_uninterrupted_run(tmp_path):
    full_cfg = RunConfig(episodes=8, log_every=2, val_every=0, n_query=3)
    full, _ = make(full_cfg, tmp_path, "full")
    full.fit()

    half_cfg = RunConfig(episodes=4, log_every=2, val_every=0, n_query=3)
    first, _ = make(half_cfg, tmp_path, "part")
    first.fit()  # writes part.pt at episode 4
    second, _ = make(full_cfg, tmp_path, "part")
    second.load_checkpoint(tmp_path / "part.pt")
    assert second.stats.episodes == 4
    second.fit()
    for a, b in zip(
        full.algo.state_dict().values(), second.algo.state_dict().values(), strict=True
    ):
        assert torch.allclose(a.float(), b.float(), atol=1e-5)


def test_stop_request_ends_training_early(tmp_path):
    cfg = RunConfig(episodes=100, log_every=2, val_every=0, n_query=2)
    trainer, _ = make(cfg, tmp_path, "s")
    trainer.should_stop = lambda: True
    stats = trainer.fit()
    assert stats.stopped and stats.episodes < 100  # stops at the first poll, ~0.5 s in
    assert (tmp_path / "s.pt").exists()


def test_time_budget_ends_training(tmp_path):
    cfg = RunConfig(episodes=100000, log_every=2, val_every=0, n_query=2, max_seconds=1.0)
    trainer, _ = make(cfg, tmp_path, "t")
    stats = trainer.fit()
    assert not stats.stopped and 2 <= stats.episodes < 100000
    assert 1.0 <= stats.train_seconds < 10.0


def test_schedules_over_the_run_follow_the_time_budget(tmp_path):
    """A run ended by `max_seconds` (episodes set far beyond reach) still anneals: Reptile's
    meta step size falls from `outer_step` toward 0 as the budget is spent."""
    cfg = RunConfig(
        algorithm="reptile",
        episodes=10**8,
        log_every=5,
        val_every=0,
        n_query=2,
        meta_batch=1,
        max_seconds=2.0,
        hyper={"inner_steps": 1},
    )
    trainer, _ = make(cfg, tmp_path, "anneal")
    seen = []
    step = trainer.algo.train_step
    trainer.algo.train_step = lambda data, opt: (
        seen.append(trainer.algo.epsilon()),
        step(data, opt),
    )[1]
    trainer.fit()
    outer = trainer.algo.hp.outer_step
    assert len(seen) >= 4 and seen[0] > 0.9 * outer
    assert seen[-1] < 0.25 * outer  # by episodes alone it would still be `outer_step`
    assert all(a >= b for a, b in zip(seen, seen[1:], strict=False))  # it only falls


def test_lr_halves_every_lr_decay_every_episodes_and_resumes_on_schedule(tmp_path):
    cfg = RunConfig(episodes=7, log_every=1, val_every=0, n_query=2, lr=0.008, lr_decay_every=2)
    trainer, _ = make(cfg, tmp_path, "decay")
    seen = []
    step = trainer.algo.train_step
    trainer.algo.train_step = lambda data, opt: (
        seen.append(opt.param_groups[0]["lr"]),
        step(data, opt),
    )[1]
    trainer.fit()
    # Updates start at episodes 0..6: halved after 2, 4 and 6 episodes.
    assert seen == [0.008, 0.008, 0.004, 0.004, 0.002, 0.002, 0.001]
    resumed, _ = make(cfg, tmp_path, "decay")
    resumed.load_checkpoint(tmp_path / "decay.pt")
    resumed.stats.episodes = 4  # as if stopped at episode 4
    resumed._decay_lr()
    assert resumed.optimizer.param_groups[0]["lr"] == 0.002


def test_sinusoid_training_tasks_take_train_query_points_and_adaptation_keeps_k():
    """`train_query` sets the meta-loss points of a training task; adaptation still sees K."""
    cfg = RunConfig(
        algorithm="maml",
        dataset="sinusoid",
        n_way=1,
        n_shot=10,
        n_query=10,
        train_query=100,
        meta_batch=3,
        episodes=6,
        val_every=0,
    )
    algo = build_algorithm(cfg, 1)
    trainer = Trainer(cfg, algo, kind_of(cfg), None, None, torch.device("cpu"))
    tasks = trainer.sampler()
    assert len(tasks) == 3
    assert {tuple(t.support.shape) for t in tasks} == {(10, 1)}
    assert {tuple(t.query.shape) for t in tasks} == {(100, 1)}
