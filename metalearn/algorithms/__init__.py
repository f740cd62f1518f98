"""Algorithms by name. Importing this package imports every module in it, which registers the
algorithms they define (`@register`): a new algorithm is one new file here."""

import importlib
import pkgutil

from metalearn.algorithms.base import ALGORITHMS, Algorithm, accuracy, register

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
# Menu order (`order`), as the catalogue lists them.
_ordered = sorted(ALGORITHMS.items(), key=lambda item: (item[1].order, item[0]))
ALGORITHMS.clear()
ALGORITHMS.update(_ordered)

__all__ = ["ALGORITHMS", "Algorithm", "accuracy", "register"]
