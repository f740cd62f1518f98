"""Meta-reinforcement learning: a task is an environment (a goal in 2D navigation); a learner
adapts its policy with a few policy-gradient steps on K trajectories of the task, and is scored
by the return it reaches, and by how fast (the article's convergence-speed criterion)."""

from __future__ import annotations

from metalearn.engine.kinds.base import Draw, RunKind, Scores

ADAPTATION_STEPS = 3  # returns reported after 0..3 steps (Finn et al. 2017, figure 5)
RETURN_THRESHOLD = -20.0  # "converged": a mean return of at least this (see `convergence`)
PATH_GOALS = 4  # test goals whose trajectories the adaptation viewer draws
PATHS_PER_GOAL = 5


class Rollouts(RunKind):
    """Training: `meta_batch` goals per update, drawn from the run's seed (never near a test or
    validation goal). Test: a fixed set of `eval_episodes` goals from the kind's own stream,
    the same for every run, with the same action noise; the per-goal score is the mean return
    of K fresh trajectories after `inner_steps_test` adaptation steps (or `finetune` steps), so
    only runs adapted for as many steps, with as many trajectories, pair up."""

    name = "rollouts"
    label = "Meta-reinforcement learning"
    task = "reinforcement"
    metric = "test_return"
    ci_key = "test_return_ci95"
    metric_label = "Test return"
    val_metric = "val_return"
    curves = ("return", "val_return")
    unit = "test goals"
    scored_on = "rollouts"
    hidden = frozenset({"n_way", "train_way", "image_size", "data_root", "train_classes"})
    artifacts = ("checkpoint", "rollouts")
    steps_key = "test_return_by_steps"
    steps_ci_key = "test_return_ci95_by_steps"
    target_range = (-150.0, 0.0, RETURN_THRESHOLD)
    uses_image_size = False
    generates = "nav2d"
    dataset_summary = (
        "2D navigation (Finn et al. 2017): a point agent must reach a goal it cannot see; "
        "each task is a new goal."
    )
    description = (
        "Each task is a goal the agent cannot see; it adapts its policy with policy-gradient "
        "steps on K trajectories (K = the examples setting) and is scored by its return."
    )
    # The paper's 2D-navigation set-up: 20 trajectories per step, 20 tasks per meta-update,
    # inner step size 0.1; 40 test goals.
    spec_defaults = {
        "n_shot": 20,
        "n_query": 20,
        "meta_batch": 20,
        "episodes": 2000,
        "eval_episodes": 40,
        "val_episodes": 20,
        "val_every": 500,
        "log_every": 100,
    }
    # Plain Adam on the meta-gradient (no trust region): the learning rate halves every 3000
    # tasks, or a long run drifts off its best (measured: -16.8 after one step at 8000 tasks,
    # -48 at 98,000 with a constant rate).
    hyper_defaults = {
        "inner_lr": 0.1,
        "finetune_lr": 0.1,
        "inner_steps_test": 3,
        "lr_decay_every": 3000,
    }
    relabel = {
        "n_shot": (
            "Trajectories per adaptation step (K)",
            "rollouts a task's policy is adapted on",
        ),
        "n_query": ("Trajectories after adaptation", "rollouts the meta-update scores (training)"),
        "train_shot": ("Trajectories per step in training", "None: as at test time"),
        "train_query": ("Trajectories after adaptation in training", "None: as at test time"),
        "episodes": ("Training tasks", "goals seen in training (meta-batch per update)"),
        "meta_batch": ("Tasks per update (meta-batch)", "goals per update"),
        "eval_episodes": ("Test goals", "fixed goals, the same for every run"),
        "val_episodes": ("Validation goals", "goals per validation pass"),
    }

    # -- goals ---------------------------------------------------------------------------------
    def stream(self, cfg, split: str) -> str:
        return f"{cfg.dataset}|{split}|K={cfg.n_shot}"

    def goals(self, cfg, split: str, n: int):
        """The first n goals [n, 2] of a split: goal i depends on the dataset, split and i
        alone, so every run (and any number of goals) sees the same ones."""
        import torch

        from metalearn.data.nav2d import draw_goals
        from metalearn.engine.kinds.base import episode_seed

        seeds = [episode_seed(f"{cfg.dataset}|{split}|goal {i}") for i in range(n)]
        return torch.cat([draw_goals(1, torch.Generator().manual_seed(s)) for s in seeds])

    def tasks(self, cfg, split: str, n: int, device):
        """The first n goals with their own action noise (goal i's: from the stream and i)."""
        import torch

        from metalearn.data.nav2d import NavTasks
        from metalearn.engine.kinds.base import episode_seed

        stream = self.stream(cfg, split)
        noise = [torch.Generator().manual_seed(episode_seed(f"{stream}|{i}")) for i in range(n)]
        return NavTasks(self.goals(cfg, split, n).to(device), noise)

    def pairing_key(self, cfg) -> str | None:
        return f"return@{test_steps(cfg)}|{self.stream(cfg, 'test')}"

    def shape_label(self, cfg) -> str:
        return f"K={cfg['n_shot']}"

    # -- what a user sees ----------------------------------------------------------------------
    def summary(self, result) -> str:
        if self.metric not in result:
            return ""
        steps = ", ".join(f"{k} steps {v:.1f}" for k, v in result["test_return_by_steps"].items())
        return (
            f"Test return {result['test_return']:.1f} ± {result['test_return_ci95']:.1f} "
            f"({result['eval_episodes']} goals) · by adaptation steps: {steps}"
        )

    def describe(self, cfg):
        from metalearn.data import DatasetInfo

        unlimited = (1, 10**9)  # goals are generated: every split has as many as asked
        return DatasetInfo(
            cfg.dataset, self.task, 1, 1, dict.fromkeys(("train", "val", "test"), unlimited)
        )

    def problems(self, cfg, info, same_way) -> list[str]:
        return []

    # -- training ------------------------------------------------------------------------------
    def training_data(self, cfg, train, device):
        import torch

        from metalearn.data.nav2d import GoalSampler

        held_out = [self.goals(cfg, "test", cfg.eval_episodes)]
        if cfg.val_every:
            held_out.append(self.goals(cfg, "val", cfg.val_episodes))
        sampler = GoalSampler(cfg.seed, torch.cat(held_out), device)
        return Draw(sampler, lambda: sampler.sample_many(cfg.meta_batch))

    # -- evaluation ----------------------------------------------------------------------------
    def evaluate(self, algo, cfg, split, device, n, name, steps=None, progress=None) -> Scores:
        from metalearn.engine.evaluate import mean_ci95

        at = test_steps(cfg)
        steps = max(ADAPTATION_STEPS, at) if steps is None else steps
        batches = algo.adaptation_rollouts(self.tasks(cfg, name, n, device), cfg.n_shot, steps)
        per_goal = [b.returns.mean(1).tolist() for b in batches]  # [steps + 1][n]
        if progress:  # the goals are adapted to as one batch: done all at once
            progress(n)
        stats = {str(k): mean_ci95(v) for k, v in enumerate(per_goal)}
        means = {k: m for k, (m, _) in stats.items()}
        extra = {
            "test_return_by_steps": means,
            "test_return_ci95_by_steps": {k: c for k, (_, c) in stats.items()},
            **convergence(means, cfg.n_shot * batches[0].rewards.shape[-1]),
        }
        return Scores(per_goal[at], extra)

    def validate(self, algo, cfg, val, device) -> dict:
        from metalearn.engine.evaluate import mean_ci95

        at = test_steps(cfg)
        scores = self.evaluate(algo, cfg, None, device, cfg.val_episodes, "val", steps=at)
        return {self.val_metric: mean_ci95(scores.values)[0]}

    # -- a whole run ---------------------------------------------------------------------------
    def load(self, cfg, split, progress=None):
        return None  # goals are generated

    def n_train_classes(self, splits) -> int:
        return 1

    def snapshots(self, algo, cfg, test, ctx):
        return None

    def run(self, ctx):
        result = super().run(ctx)
        result.pop("load_seconds", None)
        if "train_episodes" in result:  # environment steps spent in meta-training
            result["train_env_steps"] = result["train_episodes"] * train_samples(ctx.cfg)
        return result

    def write_artifacts(self, algo, cfg, test, ctx) -> None:
        """The adaptation viewer's data: trajectories on a few test goals at each step."""
        import json

        n = min(PATH_GOALS, cfg.eval_episodes)
        batches = algo.adaptation_rollouts(
            self.tasks(cfg, "test", n, ctx.device),
            cfg.n_shot,
            max(ADAPTATION_STEPS, test_steps(cfg)),
        )
        paths = {
            "goals": self.goals(cfg, "test", n).tolist(),
            "steps": {
                str(k): b.positions[:, :PATHS_PER_GOAL].round(decimals=4).tolist()
                for k, b in enumerate(batches)
            },
            "returns": {str(k): b.returns.mean(1).tolist() for k, b in enumerate(batches)},
        }
        path = ctx.store.artifact(ctx.run_id, "rollouts")
        path.write_text(json.dumps(paths))
        ctx.store.add_artifact(ctx.run_id, "rollouts", path)


def test_steps(cfg) -> int:
    """Adaptation steps the per-goal test score is taken after."""
    return int(cfg.hyper.get("inner_steps_test", 3))


def train_samples(cfg) -> int:
    """Environment steps one training task costs: K trajectories per adaptation step and the
    trajectories after it (a pre-training task: K), of the horizon's length each."""
    from metalearn.data.nav2d import HORIZON

    _, shot, query = cfg.train_shape
    inner = int(cfg.hyper.get("inner_steps", 0))
    return (shot * inner + query if inner else shot) * HORIZON


def convergence(means: dict[str, float], samples_per_step: int) -> dict:
    """The article's convergence speed on test tasks: the fewest adaptation steps after which the
    mean return reaches `RETURN_THRESHOLD`, and the environment steps per task spent on the
    way (K trajectories x horizon per step). None: not within the steps measured."""
    reached = [int(k) for k, v in means.items() if v >= RETURN_THRESHOLD]
    first = min(reached) if reached else None
    return {
        "return_threshold": RETURN_THRESHOLD,
        "steps_to_threshold": first,
        "samples_to_threshold": None if first is None else first * samples_per_step,
    }
