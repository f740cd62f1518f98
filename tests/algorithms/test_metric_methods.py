"""The metric-based learners' maths, each against its definition."""

import torch
import torch.nn.functional as F

from metalearn.algorithms.matching import ContextEmbeddings, attention, label_probabilities
from metalearn.algorithms.r2d2 import ridge_woodbury
from metalearn.algorithms.relation import class_maps
from metalearn.algorithms.simpleshot import transform


def test_r2d2_closed_form_equals_solving_the_primal_system():
    """W = X^T (X X^T + lam I)^-1 Y is the ridge solution (X^T X + lam I)^-1 X^T Y."""
    torch.manual_seed(0)
    x, y = torch.randn(5, 65, dtype=torch.float64), torch.randn(5, 5, dtype=torch.float64)
    lam = torch.tensor(0.7, dtype=torch.float64)
    primal = torch.linalg.solve(x.T @ x + lam * torch.eye(65, dtype=torch.float64), x.T @ y)
    assert torch.allclose(ridge_woodbury(x, y, lam), primal, atol=1e-10)
    # and it is what it claims: the gradient of the ridge objective vanishes there
    w = ridge_woodbury(x, y, lam)
    assert (x.T @ (x @ w - y) + lam * w).abs().max() < 1e-10


def test_matching_probabilities_are_attention_over_support_labels():
    torch.manual_seed(0)
    q, s = torch.randn(4, 8), torch.randn(6, 8)
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    p = label_probabilities(attention(q, s), labels, 3)
    assert torch.allclose(p.sum(1), torch.ones(4))
    cos = F.cosine_similarity(q[:, None], s[None], dim=-1)  # [4, 6]
    a = cos.exp() / cos.exp().sum(1, keepdim=True)
    expected = torch.stack([a[:, 0] + a[:, 1], a[:, 2] + a[:, 3], a[:, 4] + a[:, 5]], 1)
    assert torch.allclose(p, expected, atol=1e-6)


def test_full_context_embeddings_see_the_whole_support_set():
    torch.manual_seed(0)
    fce = ContextEmbeddings(8, steps=3)
    s, q = torch.randn(5, 8), torch.randn(4, 8)
    g = fce.support(s)
    assert g.shape == (5, 8) and fce.query(q, g).shape == (4, 8)
    changed = s.clone()
    changed[4] += 1.0
    # the bidirectional LSTM: the first support item's embedding depends on the last item
    assert not torch.allclose(fce.support(changed)[0], g[0])


def test_relation_class_maps_sum_each_class():
    maps = torch.arange(4 * 2 * 3 * 3, dtype=torch.float32).view(4, 2, 3, 3)
    out = class_maps(maps, torch.tensor([1, 0, 1, 0]), 2)
    assert torch.equal(out[0], maps[1] + maps[3]) and torch.equal(out[1], maps[0] + maps[2])


def test_simpleshot_cl2n_centres_then_normalises():
    torch.manual_seed(0)
    f, mean = torch.randn(6, 5) + 3.0, torch.full((5,), 3.0)
    out = transform(f, mean, "cl2n")
    assert torch.allclose(out.norm(dim=1), torch.ones(6))
    assert torch.allclose(out, F.normalize(f - mean, dim=1))
    assert torch.equal(transform(f, mean, "un"), f)


def test_simpleshot_tracks_the_training_features_mean():
    from metalearn.algorithms import ALGORITHMS
    from metalearn.data import DATASETS
    from metalearn.engine.validate import make_config

    info = DATASETS["glyphs"].describe(None)
    cfg = make_config({"algorithm": "simpleshot", "batch_size": 8})
    algo = ALGORITHMS["simpleshot"](cfg, info, 10)
    images, labels = torch.rand(8, 1, 28, 28), torch.randint(0, 10, (8,))
    algo.train()  # batch norm on the batch's statistics, as in the training step
    with torch.no_grad():
        features = algo.embed(images).mean(0)
    algo.loss((images, labels))
    assert torch.allclose(algo.base_mean, 0.01 * features, atol=1e-3)
