"""Algorithms by name. Importing this package registers every algorithm module."""

from metalearn.algorithms import finetune, protonet  # noqa: F401  (registers)
from metalearn.algorithms.base import ALGORITHMS, Algorithm, accuracy, register

__all__ = ["ALGORITHMS", "Algorithm", "accuracy", "register"]
