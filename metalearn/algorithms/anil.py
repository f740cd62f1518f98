"""ANIL: MAML with an inner loop on the head alone."""

from __future__ import annotations

from metalearn.algorithms.base import register
from metalearn.algorithms.maml import MAML


@register
class ANIL(MAML):
    """Almost No Inner Loop (Raghu, Raghu, Bengio & Vinyals, ICLR 2020, arXiv:1909.09157).

    Same outer loop as MAML, but the inner loop adapts only the last (output) layer: the body is
    shared by all tasks and its features are reused rather than re-learned. The paper shows this
    matches MAML's accuracy at a fraction of the inner-loop cost.
    """

    name = "anil"
    summary = "ANIL: MAML that adapts only the output layer per task."

    def adapted_names(self) -> list[str]:
        names = [n for n, _ in self.learner.named_parameters()]
        head = names[-1].rsplit(".", 1)[0]  # the last module with parameters: the output layer
        return [n for n in names if n.rsplit(".", 1)[0] == head]
