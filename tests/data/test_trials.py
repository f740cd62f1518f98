"""Lake-style one-shot trials drawn from the data: Omniglot's test alphabets (both splits), or
glyph sets without Omniglot; seeded, and the same for a person and a model."""

import pytest
import torch

from metalearn.data import DataError
from metalearn.data.omniglot import _decode_all
from metalearn.data.trials import N_WAY, draw_trials, source_for
from tests.formats import write_omniglot

BACKGROUND = {"Latin": 21, "Greek": 5}
EVALUATION = {"Atlantean": 24, "Tiny": 8, "Kannada": 20}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    write_omniglot(
        root, {"images_background": BACKGROUND, "images_evaluation": EVALUATION}, as_zip=True
    )
    return str(root)


def trial_chars(trial, images, keys):
    """(character key, the drawers whose drawing it is) of each candidate and of the query,
    found by their pixels (two drawers of the generated data may draw alike)."""

    def find(img):
        hits = [
            (keys[c], d)
            for c in range(len(keys))
            for d in range(20)
            if torch.equal(images[c, d], img)
        ]
        assert len({c for c, _ in hits}) == 1, "a drawing must be of exactly one character"
        return hits[0][0], {d for _, d in hits}

    return [find(c) for c in trial.candidates], find(trial.query)


def test_trials_come_from_one_test_alphabet_with_two_drawers(root):
    got = draw_trials(12, seed=3, root=root)
    assert got.source == "omniglot" and "2 evaluation alphabets" in got.description
    images, keys = _decode_all(root)
    for t in got.trials:
        assert t.candidates.shape == (N_WAY, 1, 28, 28) and t.query.shape == (1, 28, 28)
        cands, (query_char, query_drawers) = trial_chars(t, images, keys)
        chars = [c for c, _ in cands]
        assert len(set(chars)) == N_WAY  # 20 different characters
        assert {c.split("/")[0] for c in chars} == {t.alphabet}  # from one alphabet
        assert t.alphabet in ("Atlantean", "Kannada")  # never the background or a small one
        drawer = set.intersection(*(d for _, d in cands))
        assert drawer  # one drawer draws every candidate...
        assert query_char == chars[t.answer] and not query_drawers <= drawer  # ...another the query


def test_the_same_seed_gives_the_same_trials_and_a_longer_set_extends_a_shorter(root):
    short, long = draw_trials(20, 7, root=root), draw_trials(60, 7, root=root)
    other = draw_trials(20, 8, root=root)
    for a, b in zip(short.trials, long.trials, strict=False):
        assert torch.equal(a.query, b.query) and torch.equal(a.candidates, b.candidates)
        assert a.answer == b.answer
    assert [t.answer for t in short.trials] != [t.answer for t in other.trials]
    answers = [t.answer for t in long.trials]
    assert len(set(answers)) > 10  # the match is not always in the same place


def test_the_vinyals_split_uses_its_unrotated_test_characters(root, tmp_path):
    import shutil

    vroot = tmp_path / "v"
    shutil.copytree(root, vroot)
    folder = vroot / "omniglot-py" / "splits" / "vinyals"
    folder.mkdir(parents=True)
    test = [f"Atlantean/character{c:02d}/rot{r:03d}" for c in range(1, 25) for r in (0, 90, 180)]
    (folder / "test.txt").write_text("\n".join(test))
    (folder / "train.txt").write_text("Latin/character01/rot000\nKannada/character01/rot000")
    (folder / "val.txt").write_text("Greek/character01/rot000")
    got = draw_trials(5, 0, root=str(vroot))
    assert {t.alphabet for t in got.trials} == {"Atlantean"}
    images, keys = _decode_all(str(vroot))
    for t in got.trials:  # unrotated: every drawing is found as stored
        trial_chars(t, images, keys)


def test_without_omniglot_glyph_sets_stand_in(tmp_path):
    assert source_for(str(tmp_path)) == "glyphs"
    got = draw_trials(3, 0, root=str(tmp_path))
    assert got.source == "glyphs" and "Omniglot was not found" in got.description
    assert all(t.alphabet.startswith("glyph set ") for t in got.trials)


def test_bad_requests_are_clear_errors(root):
    with pytest.raises(DataError, match="at least 1"):
        draw_trials(0, 0, root=root)
    with pytest.raises(DataError, match="choose omniglot or glyphs"):
        draw_trials(3, 0, source="mnist", root=root)
