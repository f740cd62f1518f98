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


def test_logistic_head_is_sklearns_regression_on_normalised_features():
    """RFS's test-time classifier: per episode, the same log-probabilities as scikit-learn's
    LogisticRegression fitted on the L2-normalised support; feature scale does not matter."""
    from sklearn.linear_model import LogisticRegression

    from metalearn.algorithms.finetune import logistic_scores

    g = torch.Generator().manual_seed(0)
    centres = torch.randn(2, 5, 16, generator=g) * 3  # two episodes, five classes each
    labels = torch.arange(5).repeat(3).expand(2, -1)  # [2, 15]: three shots
    support = centres.gather(1, labels[..., None].expand(-1, -1, 16))
    support = support + torch.randn(2, 15, 16, generator=g)
    query_labels = torch.arange(5).repeat(4)
    query = centres[:, query_labels] + torch.randn(2, 20, 16, generator=g)
    scores = logistic_scores(support, labels, query, 5)
    assert scores.shape == (2, 20, 5)
    assert (scores.argmax(-1) == query_labels).float().mean() > 0.9
    x = torch.nn.functional.normalize(support[1], dim=-1).double().numpy()
    clf = LogisticRegression(C=1.0, max_iter=1000, random_state=0).fit(x, labels[1].numpy())
    q = torch.nn.functional.normalize(query[1], dim=-1).double().numpy()
    expected = torch.as_tensor(clf.predict_log_proba(q)).float()
    assert torch.allclose(scores[1], expected, atol=1e-5)
    assert torch.allclose(logistic_scores(support * 9, labels, query, 5), scores, atol=1e-5)


def test_finetune_with_the_logistic_head_pretrains_linear_and_predicts_an_episode():
    from metalearn.config import RunConfig
    from metalearn.data import DATASETS, EpisodeSampler
    from metalearn.engine.build import build_algorithm

    split = DATASETS["glyphs"].load(None, "test")
    algo = build_algorithm(RunConfig(algorithm="finetune", head="logistic"), 64)
    assert algo.classifier.bias is not None  # pre-trained as Baseline: a linear layer
    episode = EpisodeSampler(split, 5, 1, 5, seed=0).sample()
    scores = algo.predict(episode)
    assert scores.shape == (len(episode.query), 5) and torch.isfinite(scores).all()
    assert torch.allclose(scores.exp().sum(-1), torch.ones(len(episode.query)), atol=1e-4)


def test_protonet_with_cosine_scores_learns_its_scale_and_ignores_feature_norm():
    """distance="cosine" (P>M>F's scoring): scores bounded by a learned scale that starts at
    10, unchanged by the features' norm (Euclidean scores of a pretrained network's large
    features start overconfident); the scale trains with the network."""
    from metalearn.algorithms.protonet import COSINE_SCALE
    from metalearn.config import RunConfig
    from metalearn.data import DATASETS, EpisodeSampler
    from metalearn.engine.build import build_algorithm

    cfg = RunConfig(algorithm="protonet", dataset="glyphs", distance="cosine", lr=3e-3)
    split = DATASETS["glyphs"].load(None, "train")
    torch.manual_seed(0)
    algo = build_algorithm(cfg, split.n_classes)
    assert float(algo.scale) == COSINE_SCALE
    q, c = torch.randn(6, 8), torch.randn(3, 8)
    assert torch.allclose(algo._logits(q * 50, c), algo._logits(q, c), atol=1e-4)
    assert algo._logits(q, c).abs().max() <= COSINE_SCALE + 1e-4
    episode = EpisodeSampler(split, 5, 1, 5, seed=0).sample()
    opt = algo.make_optimizer()
    losses = [float(algo.train_step([episode], opt)["loss"]) for _ in range(15)]
    assert losses[-1] < 0.5 * losses[0], losses
    assert float(algo.scale) != COSINE_SCALE  # learned
