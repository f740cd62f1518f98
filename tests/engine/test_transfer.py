import pytest

from metalearn.config import RunConfig
from metalearn.engine.run import execute
from metalearn.store import Store
from tests.formats import write_cifar10


@pytest.mark.slow
def test_seed_pipeline_end_to_end_on_generated_cifar10(tmp_path):
    """The seed's section 4: SimpleCNN on CIFAR-10, fine-tuned on 1000 images, scored on the test
    set. The generated classes differ in colour and stripes, so it must beat chance (0.1)
    clearly."""
    write_cifar10(tmp_path, per_class_train=100, per_class_test=20)
    store = Store(tmp_path / "runs")
    cfg = RunConfig(
        algorithm="finetune",
        dataset="cifar10",
        data_root=str(tmp_path),
        finetune_mode="seed",
        episodes=1500,
        batch_size=100,
        log_every=50,
        device="cpu",
    )
    run_id = store.create_run(cfg.to_json())
    result = execute(cfg, store, run_id)
    assert result["test_images"] == 200
    assert result["test_accuracy"] > 0.4, result
    assert store.get_run(run_id)["status"] == "completed"
    assert [m["step"] for m in store.metrics(run_id) if m["name"] == "loss"][:2] == [50, 100]
