"""Bring-your-own-task prediction on hostile or large input: crafted files, FIFOs, repeated
names, and many queries scored a batch at a time."""

import io
import os
import threading

import pytest
from PIL import Image

from metalearn.data import DataError
from metalearn.data.images import decode
from metalearn.engine import predict
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


@pytest.fixture
def run(tiny_run):
    """An (almost untrained) ProtoNet on glyphs, shared by the session (tests/conftest.py)."""
    return tiny_run


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


def test_drawings_go_the_upload_path_and_a_copy_of_an_example_is_its_symbol(run, monkeypatch):
    """The "Draw your own" page's path with known drawings: canvas -> `drawing_png` ->
    `classify` / `features`. A query drawn exactly like symbol 2's example has that example's
    features, so it lands on symbol 2's prototype and is classified as symbol 2."""
    from metalearn.algorithms.protonet import ProtoNet
    from metalearn.data.drawings import drawing_png
    from tests.data.test_drawings import canvas

    store, run_id = run
    strokes = {
        "symbol 1": [(40, 140, 240, 140)],
        "symbol 2": [(140, 40, 140, 240), (60, 60, 220, 60)],
        "symbol 3": [(40, 40, 240, 240)],
    }
    support = {n: [(n, drawing_png(canvas(s)))] for n, s in strokes.items()}
    query = [("your drawing", drawing_png(canvas(strokes["symbol 2"])))]
    out = predict.classify(store, run_id, support, query)["your drawing"]
    assert out["class"] == "symbol 2"
    assert out["scores"]["symbol 2"] == max(out["scores"].values())
    z = predict.features(store, run_id, support, query)
    assert z["support"].shape[0] == 3 and z["query"].shape == (1, z["support"].shape[1])
    assert list(z["support_labels"]) == [0, 1, 2]
    assert abs(z["query"][0] - z["support"][1]).max() < 1e-5
    monkeypatch.setattr(
        ProtoNet, "embed", lambda self, x: (_ for _ in ()).throw(NotImplementedError)
    )
    with pytest.raises(DataError, match="no feature space"):
        predict.features(store, run_id, support, query)


def test_which_runs_can_read_drawings():
    def stored(status="completed", **cfg):
        return {"id": "r1", "status": status, "config": {"algorithm": "protonet", **cfg}}

    assert predict.drawing_misfit(stored(dataset="omniglot", n_way=5), 3) is None
    assert "only a completed run" in predict.drawing_misfit(stored("failed", dataset="glyphs"), 3)
    assert "not trained on drawings" in predict.drawing_misfit(stored(dataset="cifar10"), 3)
    maml = {"id": "r2", "status": "completed", "config": {"algorithm": "maml", "dataset": "glyphs"}}
    assert "not 3" in predict.drawing_misfit({**maml, "config": {**maml["config"], "n_way": 5}}, 3)
