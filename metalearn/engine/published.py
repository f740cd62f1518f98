"""The papers' own accuracies for the lab's methods, on the benchmarks the lab runs: what a
result table shows beside the lab's numbers (the Sweeps page, `scripts/miniimagenet_table.py`,
`scripts/omniglot_methods.py`). Each figure was checked against its paper. Torch-free.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

# (dataset, method) -> {(n_way, n_shot): accuracy in %}, and the source of the row. A "method"
# is an algorithm name, or a named variant of one (`method_of`).
PUBLISHED: dict[tuple[str, str], tuple[dict[tuple[int, int], float], str]] = {
    ("miniimagenet", "matching"): (
        {(5, 1): 43.56, (5, 5): 55.31},
        "Vinyals et al. 2016, as reported by Ravi & Larochelle 2017",
    ),
    ("miniimagenet", "meta_lstm"): ({(5, 1): 43.44, (5, 5): 60.60}, "Ravi & Larochelle 2017"),
    ("miniimagenet", "maml"): ({(5, 1): 48.70, (5, 5): 63.11}, "Finn et al. 2017 (32 filters)"),
    ("miniimagenet", "fomaml"): (
        {(5, 1): 48.07, (5, 5): 63.15},
        "Finn et al. 2017, first-order approximation",
    ),
    ("miniimagenet", "protonet"): ({(5, 1): 49.42, (5, 5): 68.20}, "Snell et al. 2017"),
    ("miniimagenet", "relation"): ({(5, 1): 50.44, (5, 5): 65.32}, "Sung et al. 2018"),
    ("miniimagenet", "reptile"): (
        {(5, 1): 49.97, (5, 5): 65.99},
        "Nichol et al. 2018 (transductive; 47.07 / 62.74 without)",
    ),
    ("miniimagenet", "metasgd"): ({(5, 1): 50.47, (5, 5): 64.03}, "Li et al. 2017"),
    ("miniimagenet", "maml_pp"): ({(5, 1): 52.15, (5, 5): 68.32}, "Antoniou et al. 2019"),
    ("miniimagenet", "anil"): ({(5, 1): 46.7, (5, 5): 61.5}, "Raghu et al. 2020"),
    ("miniimagenet", "snail"): (
        {(5, 1): 55.71, (5, 5): 68.88},
        "Mishra et al. 2018 (a ResNet encoder)",
    ),
    ("miniimagenet", "r2d2"): (
        {(5, 1): 51.8, (5, 5): 68.4},
        "Bertinetto et al. 2019 (a wider 4-layer network)",
    ),
    ("miniimagenet", "baseline"): ({(5, 1): 42.11, (5, 5): 62.53}, "Chen et al. 2019 (Conv4)"),
    ("miniimagenet", "baseline_pp"): (
        {(5, 1): 48.24, (5, 5): 66.43},
        "Chen et al. 2019 (Conv4)",
    ),
    ("miniimagenet", "simpleshot"): (
        {(5, 1): 49.69, (5, 5): 66.92},
        "Wang et al. 2019 (Conv4, CL2N)",
    ),
    ("miniimagenet", "rfs"): (
        {(5, 1): 62.02, (5, 5): 79.64},
        "Tian et al. 2020 (ResNet-12, RFS-simple)",
    ),
    ("omniglot", "matching"): (
        {(5, 1): 98.1, (5, 5): 98.9, (20, 1): 93.8, (20, 5): 98.5},
        "Vinyals et al. 2016, table 1 (no FCE)",
    ),
    ("omniglot", "relation"): (
        {(5, 1): 99.6, (5, 5): 99.8, (20, 1): 97.6, (20, 5): 99.1},
        "Sung et al. 2018, table 1",
    ),
    ("omniglot", "r2d2"): (
        {(5, 1): 98.6, (5, 5): 99.7, (20, 1): 94.7, (20, 5): 98.9},
        "Bertinetto et al. 2019, table 1",
    ),
    ("omniglot", "reptile"): (
        {(5, 1): 95.39, (5, 5): 98.90, (20, 1): 88.14, (20, 5): 96.65},
        "Nichol et al. 2018, table 1 (non-transductive)",
    ),
    ("omniglot", "snail"): (
        {(5, 1): 99.07, (5, 5): 99.78, (20, 1): 97.64, (20, 5): 99.36},
        "Mishra et al. 2018, table 1",
    ),
    ("omniglot", "cnp"): (
        {(5, 1): 95.3, (5, 5): 98.5, (20, 1): 89.9, (20, 5): 96.8},
        "Garnelo et al. 2018, table 2",
    ),
    ("omniglot", "maml"): (
        {(5, 1): 98.7, (5, 5): 99.9, (20, 1): 95.8, (20, 5): 98.9},
        "Finn et al. 2017, table 1",
    ),
    ("omniglot", "maml_pp"): (
        {(5, 1): 99.47, (5, 5): 99.93, (20, 1): 97.65, (20, 5): 99.33},
        "Antoniou et al. 2019, table 1",
    ),
}


# Runs of an algorithm that the papers name as a method of their own: (algorithm, setting, value)
# -> the method. The fine-tuning baseline with a linear head is Chen et al.'s "Baseline", with a
# cosine head (its default) "Baseline++", with a logistic-regression head Tian et al.'s "RFS"
# (its simple form); MAML without second derivatives is "FOMAML".
VARIANTS: dict[tuple[str, str, Any], str] = {
    ("finetune", "head", "linear"): "baseline",
    ("finetune", "head", "cosine"): "baseline_pp",
    ("finetune", "head", "logistic"): "rfs",
    ("maml", "first_order", True): "fomaml",
}


def method_of(algorithm: str, hyper: dict[str, Any]) -> str:
    """The method a run is, as the papers name it (`VARIANTS`), else its algorithm's name."""
    named = (VARIANTS.get((algorithm, k, v)) for k, v in hyper.items() if isinstance(v, Hashable))
    return next((m for m in named if m), algorithm)


def published(dataset: str, method: str, n_way: int, n_shot: int) -> tuple[float, str] | None:
    """The paper's accuracy (%) for `method` (`method_of`) on this dataset and episode shape,
    and its source; None if the paper reports none."""
    figures, source = PUBLISHED.get((dataset, method), ({}, ""))
    figure = figures.get((n_way, n_shot))
    return None if figure is None else (figure, source)
