"""Every algorithm that does regression, on sinusoid tasks (Finn et al. 2017)."""

import pytest
import torch

from metalearn.algorithms import ALGORITHMS
from metalearn.config import RunConfig
from metalearn.data import DATASETS, SinusoidSampler
from metalearn.engine.evaluate import evaluate_regression
from metalearn.engine.kinds import episode_seed

TEST = episode_seed("sinusoid|test|1|10|100")  # the regression kind's test tasks for K = 10

REGRESSORS = [n for n, a in ALGORITHMS.items() if "regression" in a.tasks]


def test_regressors_are_registered():
    assert {"maml", "anil", "metasgd", "finetune", "reptile"} <= set(REGRESSORS)


@pytest.mark.learning
@pytest.mark.parametrize("name", REGRESSORS)
def test_training_lowers_the_adapted_mse(name):
    updates = 1500 if name == "cnp" else 300  # a CNP learns no adaptation: it needs more updates
    cfg = RunConfig(
        algorithm=name,
        dataset="sinusoid",
        n_way=1,
        n_shot=10,
        n_query=10,
        inner_lr=0.01,
        finetune_lr=0.01,
        meta_batch=10,
        episodes=updates * 10,  # the run's length, which Reptile's and MAML++'s schedules span
    )
    torch.manual_seed(0)
    algo = ALGORITHMS[name](cfg, DATASETS["sinusoid"].describe(None), 1)
    before = evaluate_regression(algo, SinusoidSampler(10, 100, TEST), 50, (0, 1, 10))
    assert set(before) == {0, 1, 10} and len(before[10]) == 50
    sampler = SinusoidSampler(10, 10, seed=0)
    opt = algo.make_optimizer()
    for _ in range(updates):
        metrics = algo.train_step([sampler.sample() for _ in range(10)], opt)
    assert torch.isfinite(metrics["loss"])
    after = evaluate_regression(algo, SinusoidSampler(10, 100, TEST), 50, (0, 1, 10))
    mean = lambda v: sum(v) / len(v)  # noqa: E731
    # One step: what every method is trained for (Meta-SGD's learned step sizes are tuned to a
    # single step and may diverge over ten).
    assert mean(after[1]) < mean(before[1]) * 0.8, (before[1][:5], after[1][:5])
    e = SinusoidSampler(10, 100, seed=5).sample()
    assert algo.predict(e, steps=1).shape == (100, 1)
