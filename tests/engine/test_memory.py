"""The memory a run needs, estimated from its settings before it starts, against what is free."""

import pytest

from metalearn.config import RunConfig
from metalearn.engine import memory
from metalearn.engine.kinds import kind_of
from metalearn.engine.validate import make_config, validate


def test_the_inputs_estimate_is_the_bytes_of_one_sampled_update():
    cfg = validate(make_config({"meta_batch": 3, "n_way": 4, "n_shot": 2, "n_query": 3}))
    kind = kind_of(cfg)
    info = kind.describe(cfg)
    need = kind.memory(cfg, info)
    draw = kind.training_data(cfg, kind.load(cfg, "train"), "cpu")
    episodes = draw()
    sampled = sum(e.support.nbytes + e.query.nbytes for e in episodes)
    assert need.inputs == sampled
    assert need.data == sum(c * n for c, n in info.splits.values()) * info.channels * 28 * 28


def test_second_order_adaptation_keeps_one_graph_per_inner_step():
    def activations(**values):
        cfg = validate(make_config({"algorithm": "maml", **values}))
        kind = kind_of(cfg)
        return kind.memory(cfg, kind.describe(cfg)).activations

    base = activations(inner_steps=1, first_order=True)
    assert activations(inner_steps=4, first_order=False) == 5 * base
    assert activations(inner_steps=4, first_order=True) == base


def test_a_transfer_run_scales_with_its_batch():
    def need(batch):
        cfg = validate(make_config({"algorithm": "finetune", "batch_size": batch}))
        kind = kind_of(cfg)
        return kind.memory(cfg, kind.describe(cfg))

    small, big = need(16), need(64)
    assert big.inputs == 4 * small.inputs and big.activations == 4 * small.activations
    assert big.data == small.data


def test_a_run_that_cannot_fit_is_refused_with_both_figures(monkeypatch):
    monkeypatch.setattr(memory, "available", lambda device: 2**30)  # 1 GiB free
    fits = make_config({"image_size": 28, "meta_batch": 4})
    assert validate(fits).image_size == 28
    with pytest.raises(Exception) as refused:
        validate(make_config({"image_size": 256, "meta_batch": 64}))
    text = str(refused.value)
    assert "needs at least" in text and "1.0 GiB free there" in text and "image_size" in text


def test_kinds_without_images_of_the_spec_size_estimate_nothing():
    for values in ({"algorithm": "maml", "dataset": "sinusoid"}, {"algorithm": "mann"}):
        cfg = validate(make_config(values))
        kind = kind_of(cfg)
        assert kind.memory(cfg, kind.describe(cfg)) is None, values


def test_nothing_is_refused_where_the_free_memory_is_unknown(monkeypatch):
    need = memory.Estimate(data=2**50, inputs=0, activations=0)
    assert memory.available("cpu") > 0
    assert memory.memory_problems(need, "cpu")  # a petabyte does not fit here
    assert memory.memory_problems(None, "cpu") == []
    monkeypatch.setattr(memory, "available", lambda device: None)  # CUDA not started here
    assert memory.memory_problems(need, "cuda") == []


def test_auto_plans_the_cpu_without_a_gpu():
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert memory.planned_device("auto") == "cpu" and memory.planned_device("cpu") == "cpu"
    assert RunConfig().device in ("auto", "cpu")


def test_a_runs_peak_memory_is_its_own_and_is_recorded(tmp_path):
    """reset_peak starts the measurement afresh (memory freed before it does not count); a
    run's result records its peak resident memory."""
    import mmap

    from metalearn.config import RunConfig
    from metalearn.engine.memory import peak_memory, reset_peak
    from metalearn.engine.run import execute
    from metalearn.store import Store

    def resident(mib: int) -> mmap.mmap:
        """Memory of its own mapping (malloc keeps what it frees: `keep_freed_memory`)."""
        block = mmap.mmap(-1, mib * 2**20)
        for i in range(0, len(block), mmap.PAGESIZE):
            block[i] = 1
        return block

    big = resident(305)
    before = peak_memory()["peak_rss_mb"]
    big.close()
    reset_peak()
    after = peak_memory()["peak_rss_mb"]
    assert after < before - 250, (before, after)
    grown = resident(153)
    assert peak_memory()["peak_rss_mb"] > after + 120
    grown.close()

    store = Store(tmp_path)
    cfg = RunConfig(
        algorithm="maml", dataset="sinusoid", n_way=1, episodes=4, eval_episodes=2, val_every=0
    )
    run_id = store.create_run(cfg.to_json())
    result = execute(cfg, store, run_id)
    assert 50 < result["peak_rss_mb"] < 20_000
    assert 0 <= result["train_memory_mb"] < result["peak_rss_mb"]  # training's own share
    assert store.get_run(run_id)["result"]["peak_rss_mb"] == result["peak_rss_mb"]


def test_freed_activations_are_kept_for_the_next_step():
    """After `keep_freed_memory` (the conftest calls it, as every run's process does), freeing
    and allocating a 64 MB tensor again costs no page faults: the memory was kept."""
    import resource

    import torch

    from metalearn.engine.memory import keep_freed_memory

    assert keep_freed_memory()  # Linux with glibc, as this suite runs
    torch.ones(16 * 2**20).sum()  # the block, faulted in once
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        torch.ones(16 * 2**20).sum()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert faults < 1000, faults  # by default: about 16,000 per 64 MB block, each time
