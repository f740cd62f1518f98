"""Algorithms by name. Importing this package registers every algorithm module."""

# Registration order is menu order: the metric-based quick start first.
from metalearn.algorithms import protonet  # noqa: F401, I001  (registers)
from metalearn.algorithms import finetune  # noqa: F401  (registers)
from metalearn.algorithms import maml  # noqa: F401  (registers)
from metalearn.algorithms import anil, metasgd  # noqa: F401  (registers)
from metalearn.algorithms import meta_lstm  # noqa: F401  (registers)
from metalearn.algorithms import mann  # noqa: F401  (registers)
from metalearn.algorithms.base import ALGORITHMS, Algorithm, accuracy, register

__all__ = ["ALGORITHMS", "Algorithm", "accuracy", "register"]
