"""The oracle of meta-reinforcement learning: a policy that is told the goal."""

from __future__ import annotations

from metalearn.algorithms.base import register
from metalearn.algorithms.finetune import FINETUNE_LR, FineTune
from metalearn.settings import INNER_STEPS_TEST, LR


@register
class Oracle(FineTune):
    """The "oracle" reference of Finn et al. 2017 (section 5.3, ICML 2017, arXiv:1703.03400).

    A Gaussian policy whose observation holds the goal as well as the position, trained on the
    training goals jointly like the pre-trained baseline. It needs no adaptation, so its return
    before any step is an upper reference for what adapting to an unseen goal can reach; the
    same policy-gradient steps are still taken at test time, so its curve has the same steps.
    """

    name = "oracle"
    family = "transfer"
    summary = "Oracle (RL reference): a policy that sees the goal; an upper bound to adapt toward."
    formula = r"\pi_\theta(a \mid s, g)"
    pseudocode = """\
train one policy on all training goals, with the goal in its observation
at test: it knows the goal; adaptation has nothing to find
"""
    order = 95
    kinds = {"reinforcement": "rollouts"}
    mode_setting = None
    settings = (LR, FINETUNE_LR, INNER_STEPS_TEST)
    observe_goal = True
