"""The transfer baseline: pre-train on all training classes, then fine-tune a new head per task."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from metalearn.algorithms.base import Algorithm, accuracy, register
from metalearn.algorithms.policy_gradient import PolicyLearner, per_task, sample, surrogate
from metalearn.data import Episode
from metalearn.models import MLP, build_backbone
from metalearn.models.policy import GaussianPolicy
from metalearn.settings import (
    BATCH_SIZE,
    INNER_STEPS_TEST,
    LR,
    LR_DECAY_EVERY,
    NETWORK,
    Setting,
)

HEAD = Setting(
    "head",
    str,
    "cosine",
    "Classifier head",
    "cosine = Baseline++ (cosine similarity with a scale), linear = Baseline, logistic = RFS "
    "(pre-trained like Baseline; at test, logistic regression on L2-normalised features)",
    choices=("cosine", "linear", "logistic"),
)
FINETUNE_EPOCHS = Setting(
    "finetune_epochs",
    int,
    100,
    "Fine-tuning passes per episode",
    "passes over the support set when fitting a new head (regression: SGD steps)",
    0,
    10_000,
)
FINETUNE_LR = Setting(
    "finetune_lr", float, 0.01, "Fine-tuning learning rate", "of the new head", 0, 10, True
)
FINETUNE_MODE = Setting(
    "finetune_mode",
    str,
    "episodic",
    "Mode",
    'episodic: few-shot episodes; seed: the CIFAR-10 pipeline of the article "Meta-learning '
    'with fine-tuned models" (train on the '
    "whole training set, fine-tune on 1000 images, test on the test set)",
    choices=("episodic", "seed"),
    advanced=True,
)

FINETUNE_SUBSET = Setting(
    "finetune_subset",
    str,
    "random",
    "Fine-tuning images (article's pipeline)",
    "the 1000 training images the article's pipeline fine-tunes on: random (seeded, from all), "
    "balanced (100 per class), first (the article's Subset(range(1000)); in the image-folder copy "
    "of CIFAR-10 those are 1000 airplanes)",
    choices=("random", "balanced", "first"),
    advanced=True,
)


def cosine_scores(features: torch.Tensor, weight: torch.Tensor, scale: float) -> torch.Tensor:
    """scale * cos(f, w). features [..., N, D], weight [..., C, D] -> [..., N, C]."""
    return scale * F.normalize(features, dim=-1) @ F.normalize(weight, dim=-1).transpose(-1, -2)


def logistic_scores(
    support: torch.Tensor, labels: torch.Tensor, query: torch.Tensor, n_way: int
) -> torch.Tensor:
    """Per episode, scikit-learn's logistic regression (L2, C = 1, L-BFGS, multinomial) fitted
    on the L2-normalised support features; the query's log-probabilities. support [E, S, D],
    labels [E, S], query [E, Q, D] -> [E, Q, n_way]."""
    from sklearn.linear_model import LogisticRegression

    xs = F.normalize(support, dim=-1).cpu().double().numpy()
    xq = F.normalize(query, dim=-1).cpu().double().numpy()
    ys = labels.cpu().numpy()
    out = torch.full((*query.shape[:2], n_way), -torch.inf, dtype=torch.float64)
    for i in range(len(xs)):
        clf = LogisticRegression(C=1.0, max_iter=1000, random_state=0).fit(xs[i], ys[i])
        out[i][:, torch.as_tensor(clf.classes_)] = torch.as_tensor(clf.predict_log_proba(xq[i]))
    return out.to(query.device, query.dtype)


def cosine_scale(n_classes: int) -> float:
    # Chen et al.'s choice: a small temperature for few classes, a larger one for many.
    return 2.0 if n_classes <= 200 else 10.0


@register
class FineTune(PolicyLearner, Algorithm):
    """Baseline and Baseline++ (Chen, Liu, Kira, Wang & Huang, "A Closer Look at Few-shot
    Classification", ICLR 2019, arXiv:1904.04232).

    Pre-training: a backbone and a classifier over all training classes, trained on ordinary
    labelled batches with cross-entropy. Per test episode: the backbone is frozen, a new classifier
    for the episode's classes is fitted on the support features (SGD, momentum 0.9, weight decay
    1e-3, mini-batches of 4, `finetune_epochs` passes), and classifies the query. `head="linear"` is
    Baseline; `head="cosine"` is Baseline++ (cosine similarity to weight vectors, with a scale).
    Episodes are fitted in parallel (a batch of heads), which changes nothing per episode.

    `head="logistic"` is the "simple" baseline of Tian, Wang, Krishnan, Tenenbaum & Isola
    ("Rethinking Few-Shot Image Classification: a Good Embedding Is All You Need?", ECCV 2020,
    arXiv:2003.11539), without its self-distillation: pre-trained as Baseline, then per episode
    the support features are L2-normalised and scikit-learn's multinomial logistic regression
    (L2 penalty, C = 1, L-BFGS) is fitted on them, as the paper's code does.

    On sinusoid regression (the baseline of Finn et al. 2017): the 1-40-40-1 MLP is pre-trained on
    the points of all training tasks jointly (MSE), then fine-tuned per task with plain SGD steps
    (`finetune_lr`) on the K support points.

    On reinforcement-learning tasks (the "pretrained" baseline of Finn et al. 2017, section
    5.3): one Gaussian policy is trained on the training goals jointly (REINFORCE on K
    trajectories of each, Adam), then adapted per test goal with the same policy-gradient steps
    as MAML (`finetune_lr`). With no training (`episodes` 0) it is the paper's randomly
    initialised policy under the same steps.
    """

    name = "finetune"
    family = "transfer"
    summary = "Transfer baseline: pre-train a classifier, fine-tune a new head on the support set."
    formula = (
        r"\min_{W}\ \sum_{(x, y) \in S} \mathcal{L}\left(W f_{\phi^*}(x), y\right), \quad "
        r"\phi^* = \arg\min_\phi \sum_{(x, y) \in \mathcal{D}_{base}} "
        r"\mathcal{L}\left(h(f_\phi(x)), y\right)"
    )
    pseudocode = """\
pre-train f and a classifier on all training classes (batches)
for a test episode:
    freeze f; fit a new head on the support features (SGD)
    classify the queries with it
"""
    order = 20
    modalities = ("image", "text")
    kinds = {
        "classification": "transfer",
        "regression": "regression",
        "reinforcement": "rollouts",
        "seed": "pipeline",
    }
    mode_setting = "finetune_mode"
    settings = (
        *NETWORK,
        LR,
        LR_DECAY_EVERY,
        HEAD,
        BATCH_SIZE,
        FINETUNE_EPOCHS,
        FINETUNE_LR,
        FINETUNE_MODE,
        FINETUNE_SUBSET,
        INNER_STEPS_TEST.but(help="SGD steps on a regression task's support points at test time"),
    )

    def __init__(self, cfg, info, n_train_classes):
        super().__init__(cfg, info, n_train_classes)
        self.regression = info.task == "regression"
        self.reinforcement = info.task == "reinforcement"
        if self.regression:
            self.net = MLP()
            return
        if self.reinforcement:
            self.policy = GaussianPolicy(d_obs=4 if self.observe_goal else 2)
            return
        self.backbone = build_backbone(self.hp, info, cfg)
        d = self.backbone.out_dim
        self.classifier = nn.Linear(d, n_train_classes, bias=self.hp.head != "cosine")

    def policy_step_size(self, name: str, step: int) -> float:
        return self.hp.finetune_lr

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        if self.regression or self.reinforcement:
            raise NotImplementedError
        return self.backbone(x)

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        if self.hp.head == "cosine":
            return cosine_scores(
                features, self.classifier.weight, cosine_scale(self.n_train_classes)
            )
        return self.classifier(features)

    def loss(self, batch):
        if self.reinforcement:  # batch: goals; REINFORCE on K trajectories of each
            params = per_task(self.policy.params(), len(batch))
            trajectories = sample(
                self.policy, params, batch, self.cfg.train_shape[1], self.observe_goal
            )
            loss = surrogate(self.policy, params, trajectories).mean()
            return loss, {"loss": loss.detach(), "return": trajectories.returns.mean()}
        if self.regression:  # batch: a list of tasks, pooled into one regression problem
            x = torch.cat([torch.cat([e.support, e.query]) for e in batch])
            y = torch.cat([torch.cat([e.support_labels, e.query_labels]) for e in batch])
            loss = F.mse_loss(self.net(x), y)
            return loss, {"loss": loss.detach()}
        images, labels = batch  # [B, C, H, W], [B]
        logits = self.logits(self.backbone(images))
        loss = F.cross_entropy(logits, labels)
        return loss, {"loss": loss.detach(), "accuracy": accuracy(logits.detach(), labels)}

    def predict(self, episode: Episode, steps: int | None = None) -> torch.Tensor:
        if self.regression:
            return self._finetune_regression(
                episode, self.hp.finetune_epochs if steps is None else steps
            )
        return self.predict_many([episode])[0]

    def _finetune_regression(self, e: Episode, steps: int) -> torch.Tensor:
        """SGD on a copy of the pre-trained MLP, on the support points; predictions [Q, 1]."""
        params = {n: p.detach().clone().requires_grad_() for n, p in self.net.named_parameters()}
        with torch.enable_grad():
            for _ in range(steps):
                loss = F.mse_loss(functional_call(self.net, params, (e.support,)), e.support_labels)
                grads = torch.autograd.grad(loss, list(params.values()))
                params = {
                    n: (p - self.hp.finetune_lr * g).detach().requires_grad_()
                    for (n, p), g in zip(params.items(), grads, strict=True)
                }
        with torch.no_grad():
            return functional_call(self.net, params, (e.query,))

    def predict_many(self, episodes: list[Episode]) -> list[torch.Tensor]:
        shapes = {(e.n_way, len(e.support), len(e.query)) for e in episodes}
        if len(shapes) > 1:  # heads are fitted as one batch; mixed shapes go one by one
            return [self.predict_many([e])[0] for e in episodes]
        n_way = episodes[0].n_way
        with torch.no_grad():
            feats = self.backbone(torch.cat([torch.cat([e.support, e.query]) for e in episodes]))
        n_s = len(episodes[0].support)
        feats = feats.view(len(episodes), -1, feats.shape[-1])  # [E, S + Q, D]
        support, query = feats[:, :n_s], feats[:, n_s:]
        labels = torch.stack([e.support_labels for e in episodes])  # [E, S]
        if self.hp.head == "logistic":
            return list(logistic_scores(support, labels, query, n_way).unbind(0))
        weight, bias = self._fit_heads(support, labels, n_way)
        scores = self._head_scores(query, weight, bias, n_way)
        return list(scores.unbind(0))

    def _head_scores(self, feats, weight, bias, n_way):
        if self.hp.head == "cosine":
            return cosine_scores(feats, weight, cosine_scale(n_way))
        return feats @ weight.transpose(1, 2) + bias[:, None, :]

    def _fit_heads(self, support: torch.Tensor, labels: torch.Tensor, n_way: int):
        """Fits one head per episode, all at once. support [E, S, D], labels [E, S]."""
        n_ep, n_s, d = support.shape
        g = torch.Generator().manual_seed(self.cfg.seed)
        weight = (torch.randn(n_ep, n_way, d, generator=g) / d**0.5).to(support.device)
        bias = torch.zeros(n_ep, n_way, device=support.device)
        params = [weight.requires_grad_(), bias.requires_grad_()]
        opt = torch.optim.SGD(
            params, lr=self.hp.finetune_lr, momentum=0.9, dampening=0.9, weight_decay=1e-3
        )
        with torch.enable_grad():
            for _ in range(self.hp.finetune_epochs):
                order = torch.randperm(n_s, generator=g).to(support.device)
                for start in range(0, n_s, 4):
                    idx = order[start : start + 4]
                    scores = self._head_scores(support[:, idx], weight, bias, n_way)  # [E, b, N]
                    # Sum over episodes: each head's gradient is its own episode's mean loss.
                    loss = F.cross_entropy(
                        scores.reshape(-1, n_way), labels[:, idx].reshape(-1), reduction="sum"
                    ) / len(idx)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
        return weight.detach(), bias.detach()
