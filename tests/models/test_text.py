"""Text encoders: MiniLM as sentence-transformers runs it, which of its weights train, the
from-scratch bag of embeddings, and the input form each reads."""

from types import SimpleNamespace

import pytest
import torch

from metalearn.config import RunConfig
from metalearn.data import DatasetInfo
from metalearn.models import build_backbone
from metalearn.models.text import (
    METRIC_SCALE,
    TOP_LAYERS,
    BagOfEmbeddings,
    MiniLM,
    encode,
    input_form,
    tokenize,
)

SENTENCES = ["please book me a flight to paris", "what is my balance", "play some jazz"]
TEXT = DatasetInfo("t", "classification", 0, 0, modality="text")


def test_input_forms():
    assert input_form({"backbone": "minilm", "finetune_encoder": "none"}) == "features"
    assert input_form({}) == "features"  # the MAML family's heads: frozen features
    assert input_form({"backbone": "minilm", "finetune_encoder": "top"}) == "tokens"
    assert input_form({"backbone": "bag", "finetune_encoder": "none"}) == "tokens"


@pytest.mark.parametrize("finetune", ["top", "all"])
def test_minilm_on_tokens_is_the_sentence_pipeline(finetune):
    """Before any training, the fine-tunable encoder on token ids gives exactly the frozen
    features (times the metric scale): the same pooling and normalisation as the package."""
    net = MiniLM(finetune).eval()
    with torch.no_grad():
        mine = net(tokenize(SENTENCES))
    frozen = MiniLM("none")(encode(SENTENCES)).detach()
    assert torch.allclose(mine, frozen, atol=1e-4)
    assert torch.allclose(mine.norm(dim=1), torch.full((3,), METRIC_SCALE), atol=1e-4)


def test_which_weights_train_and_at_what_rate():
    from metalearn.algorithms import ALGORITHMS
    from metalearn.engine.validate import resolve

    top = MiniLM("top")
    trainable = {n for n, p in top.named_parameters() if p.requires_grad}
    layers = {n.split(".")[3] for n in trainable if n.startswith("bert.encoder.layer.")}
    assert layers == {str(6 - k) for k in range(1, TOP_LAYERS + 1)}
    assert "log_scale" in trainable and not any("embeddings" in n for n in trainable)
    assert all(p.requires_grad for p in MiniLM("all").parameters())
    assert [n for n, _ in MiniLM("none").named_parameters()] == ["log_scale"]

    cfg = resolve(RunConfig(algorithm="protonet", dataset="clinc150", backbone="minilm"))
    cfg.hyper.update(finetune_encoder="all", encoder_lr=3e-5, lr=1e-3)
    algo = ALGORITHMS["protonet"](cfg, TEXT, 3)
    own, encoder = algo.make_optimizer().param_groups
    assert own["lr"] == 1e-3 and encoder["lr"] == 3e-5
    assert [id(p) for p in encoder["params"]] == [id(p) for p in algo.backbone.bert.parameters()]
    assert len(own["params"]) == 1  # the metric scale


def test_bag_of_embeddings_ignores_padding():
    net = build_backbone(SimpleNamespace(backbone="bag"), TEXT, RunConfig())
    assert isinstance(net, BagOfEmbeddings) and net.out_dim == 128
    x = tokenize(SENTENCES)
    padded = torch.cat([x, torch.zeros(3, 2, 5, dtype=x.dtype)], dim=2)
    assert torch.allclose(net(x), net(padded), atol=1e-6)
    assert net(x).shape == (3, 128)
