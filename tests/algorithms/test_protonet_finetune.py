import torch

from metalearn.algorithms.finetune import cosine_scores
from metalearn.algorithms.protonet import neg_sq_distances, prototypes


def test_prototypes_are_class_means():
    feats = torch.tensor([[0.0, 0.0], [2.0, 2.0], [1.0, 5.0], [3.0, 1.0]])
    labels = torch.tensor([0, 0, 1, 1])
    assert torch.allclose(prototypes(feats, labels, 2), torch.tensor([[1.0, 1.0], [2.0, 3.0]]))


def test_distances_match_the_definition():
    q, c = torch.randn(7, 4), torch.randn(3, 4)
    expected = -((q[:, None] - c[None]) ** 2).sum(-1)
    assert torch.allclose(neg_sq_distances(q, c), expected, atol=1e-5)


def test_cosine_scores_ignore_feature_norm():
    f, w = torch.randn(4, 8), torch.randn(3, 8)
    assert torch.allclose(cosine_scores(f * 7, w, 2.0), cosine_scores(f, w, 2.0), atol=1e-5)
    assert cosine_scores(f, w, 2.0).abs().max() <= 2.0 + 1e-5


def test_protonet_learns_in_bf16_too():
    """precision="bf16" (what "auto" picks on a GPU) trains: the loss falls on a fixed episode,
    with fp32 parameters, gradients and scores."""
    from metalearn.config import RunConfig
    from metalearn.data import DATASETS, EpisodeSampler
    from metalearn.engine.build import build_algorithm

    cfg = RunConfig(algorithm="protonet", dataset="glyphs", precision="bf16", lr=3e-3)
    split = DATASETS["glyphs"].load(None, "train")
    torch.manual_seed(0)
    algo = build_algorithm(cfg, split.n_classes)
    episode = EpisodeSampler(split, 5, 1, 5, seed=0).sample()
    opt = algo.make_optimizer()
    losses = [float(algo.train_step([episode], opt)["loss"]) for _ in range(15)]
    assert losses[-1] < 0.5 * losses[0], losses
    assert algo.predict(episode).dtype == torch.float32
    assert all(p.dtype == torch.float32 for p in algo.parameters())
