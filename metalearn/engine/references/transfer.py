"""References of the batch-trained learners."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from metalearn.engine.references.reinforcement import policy_step


def finetune_step(algo, batch, optimizer) -> None:
    """Pre-training of the transfer baseline: one labelled batch, cross-entropy."""
    if algo.reinforcement:
        return policy_step(algo, batch, optimizer)
    optimizer.zero_grad(set_to_none=True)
    if algo.regression:
        x = torch.cat([torch.cat([e.support, e.query]) for e in batch])
        y = torch.cat([torch.cat([e.support_labels, e.query_labels]) for e in batch])
        loss = F.mse_loss(algo.net(x), y)
    else:
        images, labels = batch
        loss = F.cross_entropy(algo.logits(algo.backbone(images)), labels)
    loss.backward()
    optimizer.step()


def simpleshot_step(algo, batch, optimizer) -> None:
    """SimpleShot's training: an ordinary classifier over all training classes."""
    images, labels = batch
    optimizer.zero_grad(set_to_none=True)
    F.cross_entropy(algo.classifier(algo.backbone(images)), labels).backward()
    optimizer.step()
