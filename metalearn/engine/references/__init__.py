"""Straightforward reference implementations of each algorithm's training step, for `bench`.

Each does the same maths as the product's `train_step` on the same module (same parameters, data
and optimiser), written the way a tutorial would: one task after another, separate forward passes,
no precomputation. The benchmark times both in one process, so the ratio shows what the product's
choices buy (or cost) on the device at hand.
"""

from __future__ import annotations

from collections.abc import Callable

from metalearn.engine.references.memory import mann_step
from metalearn.engine.references.metric import (
    matching_step,
    protonet_step,
    r2d2_step,
    relation_step,
)
from metalearn.engine.references.model import cnp_step, snail_step
from metalearn.engine.references.optimization import (
    maml_family_step,
    maml_pp_step,
    meta_lstm_step,
    protomaml_step,
    reptile_step,
)
from metalearn.engine.references.reinforcement import policy_step
from metalearn.engine.references.transfer import finetune_step, simpleshot_step

# Algorithms without a reference are timed alone by `bench`.
REFERENCES: dict[str, Callable] = {
    "protonet": protonet_step,
    "finetune": finetune_step,
    "maml": maml_family_step,
    "anil": maml_family_step,
    "metasgd": maml_family_step,
    "meta_lstm": meta_lstm_step,
    "mann": mann_step,
    "matching": matching_step,
    "relation": relation_step,
    "r2d2": r2d2_step,
    "simpleshot": simpleshot_step,
    "protomaml": protomaml_step,
    "reptile": reptile_step,
    "snail": snail_step,
    "cnp": cnp_step,
    "maml_pp": maml_pp_step,
    "oracle": policy_step,
}
