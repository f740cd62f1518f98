"""Bring-your-own-task prediction on hostile or large input: crafted files, FIFOs, repeated
names, and many queries scored a batch at a time."""

import io
import os
import threading

import pytest
from PIL import Image

from metalearn.config import RunConfig
from metalearn.data import DataError
from metalearn.data.images import decode
from metalearn.engine import predict
from metalearn.engine.run import execute
from metalearn.store import Store
from tests.formats import pattern


def png(array) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def test_a_crafted_png_is_a_clean_error():
    """The issue's reproducer: a valid 28x28 PNG with byte 59 replaced by 0xCD (Pillow raises
    SyntaxError: broken PNG file); the message names no Python object."""
    data = bytearray(png(pattern(0, 0, 28)))
    data[59] = 0xCD
    for bad in (bytes(data), b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"GIF89a" + b"\xff" * 30):
        with pytest.raises(DataError) as err:
            decode(bad, 1, 28)
        assert "BytesIO" not in str(err.value) and "object at 0x" not in str(err.value)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    store = Store(home)
    cfg = RunConfig(algorithm="protonet", episodes=5, eval_episodes=5, val_every=0, device="cpu")
    run_id = store.create_run(cfg.to_json())
    execute(cfg, store, run_id)
    return store, run_id


def test_many_queries_are_scored_in_batches_and_every_file_keeps_its_row(run, monkeypatch):
    store, run_id = run
    support = {f"c{c}": [(f"s{i}.png", png(pattern(c, i, 40))) for i in range(2)] for c in range(5)}
    queries = [("same.png", png(pattern(c % 5, 10 + c, 40))) for c in range(7)]
    whole = predict.classify(store, run_id, support, queries)
    monkeypatch.setattr(predict, "QUERY_BATCH", 3)
    batched = predict.classify(store, run_id, support, queries)
    assert list(whole) == ["same.png"] + [f"same.png ({k})" for k in range(2, 8)]
    assert batched == whole  # ProtoNet scores each query alone: batching changes nothing


def test_a_fifo_named_like_an_image_does_not_block_predict(run, tmp_path):
    store, run_id = run
    for c in range(5):
        (tmp_path / "support" / f"c{c}").mkdir(parents=True)
        Image.fromarray(pattern(c, 0, 40)).save(tmp_path / "support" / f"c{c}" / "a.png")
    (tmp_path / "query").mkdir()
    Image.fromarray(pattern(1, 3, 40)).save(tmp_path / "query" / "q.png")
    os.mkfifo(tmp_path / "query" / "blocks.png")
    result = {}
    worker = threading.Thread(
        target=lambda: result.update(
            predict.predict_folder(
                store, run_id, str(tmp_path / "support"), str(tmp_path / "query")
            )
        ),
        daemon=True,
    )
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "predict blocked on the FIFO"
    assert list(result) == ["q.png"]


def test_a_checkpoint_that_does_not_fit_its_model_is_a_clean_error(run, tmp_path):
    import torch

    from metalearn.engine.run import restore

    store, run_id = run
    path = store.artifact(run_id, "checkpoint")
    good = path.read_bytes()
    state = torch.load(path, weights_only=True)
    try:
        for damage in ("missing key", "wrong shape", "truncated"):
            broken = {**state, "model": dict(state["model"])}
            name = next(iter(broken["model"]))
            if damage == "missing key":
                del broken["model"][name]
            else:
                broken["model"][name] = torch.zeros(3, 1, 7)
            torch.save(broken, path)
            if damage == "truncated":
                path.write_bytes(good[: len(good) // 2])
            with pytest.raises(DataError, match="checkpoint"):
                restore(store, run_id)
    finally:
        path.write_bytes(good)
    restore(store, run_id)  # the real one still loads
