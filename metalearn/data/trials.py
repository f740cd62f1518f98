"""One-shot trials in the manner of Lake et al. 2015 (Science, "Human-level concept learning
through probabilistic program induction"): one drawing of a new character, and 20 candidate
drawings of different characters from the same alphabet, one of which is the same character as
drawn by somebody else. The task: pick the match.

The trials are drawn from the data, as Lake et al. drew theirs, rather than copied from their 20
published runs: Omniglot's test characters (its evaluation alphabets; with the Vinyals split,
the unrotated test characters, which all come from those alphabets), so no run trained on that
data root's training split has seen them. Without Omniglot the embedded `glyphs` test classes
stand in, cut into sets of 30 ("alphabets" of one style) so that candidates still come from one
set. A trial set is a pure function of (source, seed, count): a person and a model given the same
seed answer the very same trials.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from metalearn.data.base import DataError

N_WAY = 20  # candidates per trial, as in Lake et al. 2015
GLYPH_SET = 30  # test glyph classes per stand-in "alphabet"


@dataclass(frozen=True)
class Trial:
    """One trial.

    Attributes:
        alphabet: the alphabet (or glyph set) the candidates come from.
        candidates: uint8 [n_way, 1, H, W], one drawer's drawing of each candidate character,
            ink = 255.
        query: uint8 [1, H, W], another drawer's drawing of candidate `answer`'s character.
        answer: index of the matching candidate.
    """

    alphabet: str
    candidates: torch.Tensor
    query: torch.Tensor
    answer: int


@dataclass(frozen=True)
class TrialSet:
    """Trials drawn from one source with one seed.

    Attributes:
        source: "omniglot" or "glyphs".
        description: where the trials come from, in words, for the screen and the README.
        seed: the seed that drew them.
        trials: the trials, in order.
        n_sets: how many alphabets (or glyph sets) the trials were drawn from.
    """

    source: str
    description: str
    seed: int
    trials: list[Trial]
    n_sets: int = 0


# Where trials come from, in words ({n}: the number of alphabets or sets).
SOURCES = {
    "omniglot": "Omniglot's test characters: {n} evaluation alphabets, never seen in training",
    "glyphs": "the built-in glyphs' test classes in {n} sets of 30 (Omniglot was not found)",
}


def _omniglot_pool(root: str | None) -> dict[str, torch.Tensor]:
    """Alphabet -> uint8 [characters, drawers, 1, 28, 28] of Omniglot's test characters."""
    from metalearn.data.omniglot import Omniglot, _decode_all

    images, keys = _decode_all(root)
    index = {k: i for i, k in enumerate(keys)}
    test = Omniglot._class_lists(root)["test"]
    chars = sorted(
        {n.rsplit("/rot", 1)[0] for n in test if "/rot" not in n or n.endswith("rot000")}
    )
    by_alphabet: dict[str, list[int]] = {}
    for c in chars:
        by_alphabet.setdefault(c.split("/")[0], []).append(index[c])
    return {a: images[torch.tensor(rows)] for a, rows in sorted(by_alphabet.items())}


def _glyph_pool() -> dict[str, torch.Tensor]:
    """Set name -> uint8 [30, 20, 1, 28, 28] of the glyphs test classes."""
    from metalearn.data.glyphs import SPLIT_CLASSES, all_images

    lo, hi = SPLIT_CLASSES["test"]
    images = all_images()[lo:hi]
    return {
        f"glyph set {i // GLYPH_SET + 1}": images[i : i + GLYPH_SET]
        for i in range(0, hi - lo - GLYPH_SET + 1, GLYPH_SET)
    }


def source_for(root: str | None) -> str:
    """ "omniglot" when the data root holds it, else "glyphs"."""
    from metalearn.data.omniglot import _sources

    try:
        _sources(root)
    except DataError:
        return "glyphs"
    return "omniglot"


def draw_trials(
    n_trials: int, seed: int, source: str | None = None, root: str | None = None
) -> TrialSet:
    """Draws `n_trials` seeded 20-way one-shot trials.

    Each trial: an alphabet uniformly among those with at least 20 characters, 20 of its
    characters, two different drawers (one draws the candidates, the other the query), and the
    query's character uniformly among the 20. Trial k depends only on (source, seed, k), so the
    first 20 of 400 trials are the 20 trials of a 20-trial set with the same seed.

    Args:
        n_trials: how many trials (at least 1).
        seed: the seed; the same seed gives the same trials.
        source: "omniglot", "glyphs", or None for Omniglot where the data root has it.
        root: the data root (None: $METALEARN_DATA, else ./data).

    Raises:
        DataError: an unknown source, or fewer than 1 trial.
    """
    if n_trials < 1:
        raise DataError(f"the number of trials must be at least 1, got {n_trials}")
    source = source or source_for(root)
    if source == "omniglot":
        pool = _omniglot_pool(root)
    elif source == "glyphs":
        pool = _glyph_pool()
    else:
        raise DataError(f"trial source {source!r} is unknown; choose omniglot or glyphs")
    alphabets = [a for a, imgs in pool.items() if imgs.shape[0] >= N_WAY]
    if not alphabets:
        raise DataError(f"{source}: no alphabet has {N_WAY} characters to draw trials from")
    trials = []
    for k in range(n_trials):
        g = torch.Generator().manual_seed(seed * 1_000_003 + k)
        alphabet = alphabets[int(torch.randint(len(alphabets), (1,), generator=g))]
        imgs = pool[alphabet]
        chars = torch.randperm(imgs.shape[0], generator=g)[:N_WAY]
        drawer_a, drawer_b = torch.randperm(imgs.shape[1], generator=g)[:2].tolist()
        answer = int(torch.randint(N_WAY, (1,), generator=g))
        trials.append(Trial(alphabet, imgs[chars, drawer_a], imgs[chars[answer], drawer_b], answer))
    n_sets = len(alphabets)
    return TrialSet(source, SOURCES[source].format(n=n_sets), seed, trials, n_sets)
