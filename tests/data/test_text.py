"""Text datasets: CLINC150's file format, its fixed class split, token and feature forms, the
feature cache, episodes of utterances."""

import json
import random

import pytest
import torch

from metalearn.data import DATASETS, DataError, EpisodeSampler
from metalearn.data import text as text_data
from metalearn.data.clinc150 import split_intents
from tests.conftest import REAL_DATA
from tests.formats import INTENTS, write_clinc150

CLINC = DATASETS["clinc150"]


def test_split_is_the_documented_seeded_thirds():
    names = [f"intent{i:03d}" for i in range(150)]
    split = split_intents(list(reversed(names)))  # the order given does not matter
    assert [len(split[s]) for s in ("train", "val", "test")] == [50, 50, 50]
    assert set(split["train"]) | set(split["val"]) | set(split["test"]) == set(names)
    order = sorted(names)
    random.Random(0).shuffle(order)  # the rule the docs and the plain reference script state
    assert split["test"] == order[100:150] and split["train"] == order[:50]
    small = split_intents([f"i{k}" for k in range(10)])
    assert [len(small[s]) for s in ("train", "val", "test")] == [4, 3, 3]


def test_describe_and_load_tokens(tmp_path):
    write_clinc150(tmp_path, per_intent=12)
    info = CLINC.describe(str(tmp_path))
    assert info.modality == "text" and info.task == "classification"
    assert info.splits == {"train": (3, 12), "val": (3, 12), "test": (3, 12)}  # oos left out
    test = CLINC.load(str(tmp_path), "test")
    assert test.images.dtype == torch.long and test.images.shape[:2] == (36, 2)
    assert len(test.texts) == 36 and torch.bincount(test.labels).tolist() == [12, 12, 12]
    assert set(test.class_names) <= set(INTENTS) and "oos" not in test.class_names
    for text, label in zip(test.texts, test.labels.tolist(), strict=True):
        assert any(w in text for w in INTENTS[test.class_names[label]])  # rows keep their class
    from metalearn.models.text import tokenizer

    ids, mask = test.images[0]
    decoded = tokenizer().decode(ids[mask.bool()], skip_special_tokens=True)
    assert decoded == test.texts[0]  # lower-case ASCII round-trips through WordPiece
    assert test.to_float(test.images) is test.images  # token ids stay integers


def test_features_are_the_encoders_and_cached(tmp_path, monkeypatch):
    write_clinc150(tmp_path, per_intent=6)
    first = CLINC.load(str(tmp_path), "train", form="features")
    assert first.images.shape == (18, 384) and first.images.dtype == torch.float32
    assert torch.allclose(first.images.norm(dim=1), torch.ones(18), atol=1e-4)
    from sentence_transformers import SentenceTransformer

    from metalearn.models.text import model_dir

    theirs = SentenceTransformer(str(model_dir()), device="cpu").encode(
        first.texts[:4], normalize_embeddings=True, convert_to_tensor=True
    )
    assert torch.allclose(first.images[:4], theirs.cpu(), atol=1e-5)

    def refuse(*args, **kwargs):
        raise AssertionError("encoded again instead of reading the cache")

    monkeypatch.setattr("metalearn.models.text.encode", refuse)
    again = CLINC.load(str(tmp_path), "test", form="features")  # every split from one cache
    assert again.images.shape == (18, 384)
    assert torch.equal(CLINC.load(str(tmp_path), "train", form="features").images, first.images)


def test_text_episodes(tmp_path):
    write_clinc150(tmp_path, per_intent=12)
    split = CLINC.load(str(tmp_path), "train")
    e = EpisodeSampler(split, n_way=3, n_shot=2, n_query=4, seed=0).sample()
    assert e.support.shape[:2] == (6, 2) and e.query.shape[:2] == (12, 2)
    assert e.support_labels.tolist() == [0, 0, 1, 1, 2, 2]
    row = int(torch.nonzero((split.images == e.support[0]).all(-1).all(-1))[0])
    assert split.labels[row] == e.class_ids[0]  # an episode's rows are its classes' utterances


@pytest.mark.parametrize(
    "content,message",
    [
        ("{not json", "not valid JSON"),
        ('{"train": [], "val": []}', "must be an object with lists"),
        ('{"train": [["hi", "a"], ["x"]], "val": [], "test": []}', r"train\[1\] must be a pair"),
        ('{"train": [["  ", "a"]], "val": [], "test": []}', "empty utterance"),
        ('{"train": [["hi", "a"], ["yo", "b"]], "val": [], "test": []}', "at least 3 needed"),
    ],
)
def test_bad_files_are_named(tmp_path, content, message):
    (tmp_path / "clinc150").mkdir()
    (tmp_path / "clinc150" / "data_full.json").write_text(content)
    with pytest.raises(DataError, match=message):
        CLINC.describe(str(tmp_path))


def test_missing_file_says_where_to_put_it(tmp_path):
    with pytest.raises(DataError, match="`clinc150/` folder of the data root"):
        CLINC.describe(str(tmp_path))
    assert not CLINC.available(str(tmp_path))


def test_unknown_form_refused(tmp_path):
    write_clinc150(tmp_path, per_intent=6)
    with pytest.raises(ValueError, match="form must be one of"):
        CLINC.load(str(tmp_path), "train", form="pixels")
    assert text_data.FORMS == ("tokens", "features")


@pytest.mark.realdata
@pytest.mark.skipif(
    not (REAL_DATA / "clinc150" / "data_full.json").is_file(), reason="needs ../shared/data"
)
def test_real_clinc150_split():
    info = CLINC.describe(str(REAL_DATA))
    assert info.splits == {"train": (50, 150), "val": (50, 150), "test": (50, 150)}
    data = json.loads((REAL_DATA / "clinc150" / "data_full.json").read_text())
    assert len({label for _, label in data["train"]}) == 150
