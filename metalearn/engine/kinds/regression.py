"""Few-shot regression: fit a new function from K points; scored by query MSE after a number of
adaptation steps. The tasks are generated (sinusoids here); a subclass that overrides the task
family (`parameters`, `function`, `x_range`) and names the dataset it `generates` is a new kind of
regression run in one file (see `docs/adding-a-run-kind.md`)."""

from __future__ import annotations

import math

from metalearn.engine.kinds.base import Draw, RunKind, Scores

REGRESSION_STEPS = (0, 1, 10)  # adaptation steps reported (Finn et al. 2017, figure 2)
TEST_POINTS = 100  # query points of each test task


class Regression(RunKind):
    """Tasks are generated, not drawn from a split: training tasks from the run's seed, test
    and validation tasks from a stream fixed by K (and Q). The per-task score is the MSE after
    `inner_steps_test` steps, so only runs tested after the same number of steps pair up."""

    name = "regression"
    label = "Few-shot regression"
    task = "regression"
    metric = "test_mse"
    ci_key = "test_mse_ci95"
    metric_label = "Test MSE"
    higher_is_better = False
    val_metric = "val_mse"
    curves = ("val_mse",)
    unit = "tasks"
    hidden = frozenset({"n_way", "train_way", "image_size", "data_root", "train_classes"})
    artifacts = ("checkpoint", "regression_curves")
    steps_key = "test_mse_by_steps"
    x_range = (-5.0, 5.0)  # inputs x ~ U[x_range]
    # The MAML paper's sinusoid set-up (Finn et al. 2017, section 5.1): K = 10 points per task,
    # 25 tasks per meta-update, inner step size 0.01 (classification's 0.4 blows up here).
    spec_defaults = {"n_way": 1, "n_shot": 10, "n_query": 10, "meta_batch": 25}
    hyper_defaults = {"inner_lr": 0.01}

    # -- the task family: sinusoids y = A sin(x - phase) (Finn et al. 2017, section 5.1) --------
    def parameters(self, generator):
        """One task's parameters, a float tensor [P], drawn from `generator`."""
        from metalearn.data.sinusoid import sinusoid_parameters

        return sinusoid_parameters(generator)

    def function(self, params, x):
        """The task's targets: params [P], x [N, 1] -> y [N, 1]."""
        from metalearn.data.sinusoid import sinusoid

        return sinusoid(params, x)

    def tasks(self, n_shot: int, n_query: int, seed: int, device):
        """A seeded sampler of this family's tasks (K support, Q query points each)."""
        from metalearn.data import TaskSampler

        return TaskSampler(
            n_shot,
            n_query,
            seed,
            device,
            parameters=self.parameters,
            function=self.function,
            x_range=self.x_range,
        )

    def describe(self, cfg):
        from metalearn.data import DatasetInfo

        unlimited = (1, 10**9)  # tasks are generated: every split has as many as asked
        splits = dict.fromkeys(("train", "val", "test"), unlimited)
        return DatasetInfo(cfg.dataset, self.task, 1, 1, splits)

    def stream(self, cfg, split: str) -> str:
        points = TEST_POINTS if split == "test" else cfg.n_query
        return f"{cfg.dataset}|{split}|1|{cfg.n_shot}|{points}"

    def pairing_key(self, cfg) -> str | None:
        return f"mse@{test_steps(cfg)}|{self.stream(cfg, 'test')}"

    def shape_label(self, cfg) -> str:
        return f"K={cfg['n_shot']}"

    def summary(self, result) -> str:
        if self.metric not in result:
            return ""
        steps = ", ".join(f"{k} steps {v:.3f}" for k, v in result["test_mse_by_steps"].items())
        return (
            f"Test MSE {result['test_mse']:.3f} ± {result['test_mse_ci95']:.3f} "
            f"({result['eval_episodes']} tasks) · by adaptation steps: {steps}"
        ) + (f" · {result['diverged']}" if result.get("diverged") else "")

    def problems(self, cfg, info, same_way) -> list[str]:
        if same_way and cfg.train_shape[0] != cfg.n_way:
            return [f"train_way must equal n_way ({cfg.n_way}), got {cfg.train_shape[0]}"]
        return []

    def training_data(self, cfg, train, device):
        _, shot, query = cfg.train_shape
        sampler = self.tasks(shot, query, cfg.seed, device)
        return Draw(sampler, lambda: sampler.sample_many(cfg.meta_batch))

    def evaluate(self, algo, cfg, split, device, n, name, steps=None, progress=None) -> Scores:
        from metalearn.engine.evaluate import evaluate_regression, mean_ci95

        at = test_steps(cfg)
        points = TEST_POINTS if name == "test" else cfg.n_query
        steps = steps or tuple(sorted({*REGRESSION_STEPS, at}))
        tasks = self.tasks(cfg.n_shot, points, self.seed(cfg, name), device)
        by_steps = evaluate_regression(algo, tasks, n, steps, progress)
        means = {str(s): mean_ci95(v)[0] for s, v in by_steps.items()}
        extra: dict = {"test_mse_by_steps": means}
        blown = [s for s, v in means.items() if not math.isfinite(v)]
        if blown:  # adaptation at test time ran away: say so rather than report NaN quietly
            extra["diverged"] = (
                f"adaptation diverged: test MSE {means[blown[0]]} after {blown[0]} steps; "
                f"lower the inner step size (inner_lr, now {cfg.hyper.get('inner_lr')})"
            )
        return Scores(by_steps[at], extra)

    def validate(self, algo, cfg, val, device) -> dict:
        from metalearn.engine.evaluate import mean_ci95

        at = (test_steps(cfg),)
        scores = self.evaluate(algo, cfg, None, device, cfg.val_episodes, "val", steps=at)
        return {self.val_metric: mean_ci95(scores.values)[0]}

    def load(self, cfg, split, progress=None):
        return None  # tasks are generated

    def n_train_classes(self, splits) -> int:
        return 1

    def snapshots(self, algo, cfg, test, ctx):
        return None

    def run(self, ctx):
        result = super().run(ctx)
        result.pop("load_seconds", None)  # nothing is loaded: tasks are generated
        return result

    def write_artifacts(self, algo, cfg, test, ctx) -> None:
        import json

        from metalearn.engine.evaluate import regression_curves

        path = ctx.store.artifact(ctx.run_id, "regression_curves")
        tasks = self.tasks(cfg.n_shot, 1, self.seed(cfg, "test"), ctx.device)
        path.write_text(json.dumps(regression_curves(algo, tasks)))
        ctx.store.add_artifact(ctx.run_id, "regression_curves", path)


def test_steps(cfg) -> int:
    """Adaptation steps the per-task test score is taken after."""
    return int(cfg.hyper.get("inner_steps_test", 3))
