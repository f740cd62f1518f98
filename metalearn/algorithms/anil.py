"""ANIL: MAML with an inner loop on the head alone."""

from __future__ import annotations

from torch.func import functional_call

from metalearn.algorithms.base import register
from metalearn.algorithms.maml import MAML


@register
class ANIL(MAML):
    """Almost No Inner Loop (Raghu, Raghu, Bengio & Vinyals, ICLR 2020, arXiv:1909.09157).

    Same outer loop as MAML, but the inner loop adapts only the last (output) layer: the body is
    shared by all tasks and its features are reused rather than re-learned. The paper shows this
    matches MAML's accuracy at a fraction of the inner-loop cost. Since the body does not change
    during the inner loop, its features of the support and query sets are computed once per task
    and the inner steps run on the head alone (the same maths as re-running the whole network).
    """

    name = "anil"
    summary = "ANIL: MAML that adapts only the output layer per task."
    formula = (
        r"w_i' = w - \alpha \nabla_w \mathcal{L}_{S_i}\left(w;\ f_\phi\right), \quad (\phi, w) "
        r"\leftarrow (\phi, w) - \beta \nabla \sum_i \mathcal{L}_{Q_i}\left(w_i';\ "
        r"f_\phi\right)"
    )
    pseudocode = """\
like MAML, but the inner steps change only the output layer w;
the body phi is adapted by the outer update alone (its features are reused)
"""
    seed_family = "model"  # the article: it learns an initial model
    order = 40
    modalities = ("image", "text")
    kinds = {"classification": "episodes", "regression": "regression"}

    def adapted_names(self) -> list[str]:
        names = [n for n, _ in self.learner.named_parameters()]
        head = names[-1].rsplit(".", 1)[0]  # the last module with parameters: the output layer
        return [n for n in names if n.rsplit(".", 1)[0] == head]

    def adapted_query_loss(
        self, params, xs, ys, xq, yq, steps: int, first_order: bool, batched: bool = False
    ):
        if self.regression:  # the sinusoid MLP has no separate body module
            return super().adapted_query_loss(params, xs, ys, xq, yq, steps, first_order, batched)
        body, head = self.net[0], self.net[1]  # build_learner: Sequential(body, linear)
        part = lambda prefix: {n[2:]: p for n, p in params.items() if n.startswith(prefix)}  # noqa: E731
        # Separate passes: batch norm uses the statistics of the batch at hand, as the full
        # network's forward passes on the support and on the query set do.
        fs = functional_call(body, part("0."), (xs,))  # [S, D]
        fq = functional_call(body, part("0."), (xq,))  # [Q, D]
        fast = part("1.")

        def support_loss(w):
            return self.task_loss(functional_call(head, w, (fs,)), ys)

        fast = self.sgd_steps(support_loss, fast, steps, first_order, batched, prefix="1.")
        out = functional_call(head, fast, (fq,))
        return self.task_loss(out, yq), out
