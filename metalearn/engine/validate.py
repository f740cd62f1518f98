"""A configuration completed and checked: the algorithm's defaults applied (one function, for the
CLI and the dashboard alike), every setting against its declaration, the episode shapes against
the dataset. Every problem is reported at once, before any data is loaded or a worker starts.

`resolve` and `problems` need no torch (the catalogue is read statically); `validate` also asks
the chosen dataset to describe its splits, which imports the data package.
"""

from __future__ import annotations

import dataclasses
import os
import shutil

from metalearn import catalog
from metalearn.config import ConfigError, RunConfig
from metalearn.engine.kinds import KINDS, RunKind, kind_of
from metalearn.settings import BACKBONE, LITE0, backbone_modality, with_defaults


def resolve(cfg: RunConfig, drop_unknown: bool = False) -> RunConfig:
    """A copy of `cfg` whose `hyper` holds every hyperparameter its algorithm declares: the
    given value, else the algorithm's default.

    Args:
        drop_unknown: forget values the algorithm does not declare (runs stored before
            hyperparameters belonged to algorithms held every setting of every algorithm);
            otherwise they stay, and `problems` reports them.
    """
    algo = catalog.algorithms().get(cfg.algorithm) if isinstance(cfg.algorithm, str) else None
    if algo is None:  # unknown (or not even a name): `problems` says so
        return cfg
    names = {s.name for s in algo.settings}
    given = {k: v for k, v in cfg.hyper.items() if k in names or not drop_unknown}
    return dataclasses.replace(cfg, hyper=with_defaults(algo.settings, given))


def make_config(values: dict) -> RunConfig:
    """A configuration from the values a user gave (CLI flags, the Train page's widgets, a
    quick start): where the user gave none, the algorithm's own starting spec values
    (`spec_defaults`, e.g. MANN's 10 instances per class), then its run kind's (e.g. 20
    trajectories per step in reinforcement learning), then the hyperparameters' defaults (the
    kind's and the dataset's first: MAML's 0.1 inner step size on navigation, the pretrained
    text encoder on a text dataset)."""
    default = RunConfig()
    name = values.get("algorithm", default.algorithm)
    algo = catalog.algorithms().get(name) if isinstance(name, str) else None
    start = dict(algo.spec_defaults) if algo is not None else {}
    try:
        kind = kind_of({"dataset": default.dataset, **values, "algorithm": name})
    except (ConfigError, KeyError, TypeError):
        kind = None  # unknown names: `validate` says so
    if kind is not None and algo is not None:
        declared = {s.name for s in algo.settings}
        data = catalog.datasets()[values.get("dataset", default.dataset)]
        given = {**kind.hyper_defaults, **data.extra.get("hyper_defaults", {})}
        hyper = {k: v for k, v in given.items() if k in declared}
        start = {**kind.spec_defaults, **hyper, **start}
    return resolve(RunConfig.from_dict({**start, **values}))


def stored(data: dict) -> RunConfig:
    """The configuration of a stored run or checkpoint, in today's or an older form."""
    return resolve(RunConfig.from_dict(data), drop_unknown=True)


def problems(cfg: RunConfig) -> list[str]:
    """Checks that need no dataset: types, bounds and names of the spec and the hyperparameters.
    Returns the problems found."""
    out = cfg.problems()
    algorithms, datasets = catalog.algorithms(), catalog.datasets()
    if isinstance(cfg.algorithm, str) and cfg.algorithm not in algorithms:
        out.append(f"algorithm {cfg.algorithm!r} is unknown; choose one of {', '.join(algorithms)}")
    if isinstance(cfg.dataset, str) and cfg.dataset not in datasets:
        out.append(f"dataset {cfg.dataset!r} is unknown; choose one of {', '.join(datasets)}")
    algo = algorithms.get(cfg.algorithm) if isinstance(cfg.algorithm, str) else None
    if algo is None:  # still check the values any algorithm declares
        known = {s.name: s for a in algorithms.values() for s in a.settings}
        return out + [p for k, v in cfg.hyper.items() if k in known for p in known[k].problems(v)]
    declared = {s.name: s for s in algo.settings}
    for name, value in cfg.hyper.items():
        if name not in declared:
            out.append(
                f"{name!r} is not a setting of {algo.name}; its settings: "
                f"{', '.join(declared) or 'none'}"
            )
        else:
            out += declared[name].problems(value)
    if cfg.hyper.get("compile") is True and not cxx_compiler():
        out.append(
            "compile needs a C++ compiler (torch.compile builds its kernels with one), and none "
            "was found (g++, c++, clang++ or $CXX); install one (e.g. apt-get install g++) or "
            "turn compile off"
        )
    path = cfg.hyper.get("maml_path")
    if cfg.hyper.get("compile") is True and path in ("vmap", "threads"):
        out.append(
            f"compile runs the tasks of a meta-batch one after another (maml_path loop, or auto, "
            f"which times that against the others), not on maml_path {path!r}; choose loop or "
            f"auto, or turn compile off"
        )
    data = datasets.get(cfg.dataset) if isinstance(cfg.dataset, str) else None
    return out if out or data is None else out + modality_problems(cfg, algo, data)


def cxx_compiler() -> str | None:
    """The C++ compiler torch.compile would build its kernels with, if one is installed."""
    names = [os.environ["CXX"]] if os.environ.get("CXX") else ["g++", "c++", "clang++"]
    return next(filter(None, map(shutil.which, names)), None)


def modality_problems(
    cfg: RunConfig, algo: catalog.AlgorithmInfo, data: catalog.DatasetEntry
) -> list[str]:
    """An algorithm, its feature network and its encoder settings against what the dataset's
    examples are (images or text)."""
    if data.task != "classification" or data.modality != "image":
        if cfg.augment is True:
            return [
                f"augment crops, flips and recolours images, and {cfg.dataset!r} holds "
                f"{data.modality if data.task == 'classification' else data.task + ' tasks'}; "
                "turn augment off"
            ]
    if data.task != "classification":
        return []
    modality, out = data.modality, []
    if modality not in algo.modalities:
        able = [a.name for a in catalog.algorithms().values() if modality in a.modalities]
        return [
            f"{algo.name} does not classify {modality} (dataset {cfg.dataset!r}); "
            f"algorithms that do: {', '.join(able)}"
        ]
    backbone = cfg.hyper.get("backbone")
    if backbone is not None and algo.backbones and backbone not in algo.backbones:
        fitting = [b for b in algo.backbones if backbone_modality(b) == modality]
        out.append(
            f"{algo.name} adapts a conv4 network, or a head over a pretrained backbone's frozen "
            f"features, not backbone {backbone!r}; choose one of {', '.join(fitting)}"
        )
    elif backbone is not None and backbone_modality(backbone) != modality:
        fitting = BACKBONE.fitting(modality)
        out.append(
            f"backbone {backbone!r} reads {backbone_modality(backbone)}s, but {cfg.dataset!r} "
            f"holds {modality}; choose one of {', '.join(fitting)}"
        )
    if cfg.hyper.get("compile") and modality != "image":
        out.append(
            f"compile applies to the image feature networks, and {cfg.dataset!r} holds "
            f"{modality}; turn compile off"
        )
    tuned = cfg.hyper.get("finetune_encoder", "none")
    pretrained = {"text": "minilm", "image": LITE0}[modality]
    if tuned != "none" and backbone != pretrained:
        out.append(
            f"finetune_encoder {tuned!r} fine-tunes a pretrained backbone, and the backbone is "
            f"{backbone!r}; set backbone to {pretrained}, or finetune_encoder to none"
        )
    if backbone == LITE0 and tuned == "none":
        if cfg.augment is True:
            out.append(
                f"augment changes the images every episode, and the frozen {LITE0} reads "
                "features computed once per image; turn augment off, or fine-tune the backbone "
                "(finetune_encoder top or all)"
            )
        if cfg.hyper.get("compile"):
            out.append(
                f"compile speeds up a network that runs every step, and the frozen {LITE0} ran "
                "once, ahead (its features are cached); turn compile off"
            )
        if cfg.hyper.get("support_finetune_steps"):
            out.append(
                f"support_finetune_steps tunes the network on augmented views of each test "
                f"task's images, and the frozen {LITE0} reads features computed once per image; "
                "set it to 0, or fine-tune the backbone (finetune_encoder top or all)"
            )
    return out


def validate(cfg: RunConfig) -> RunConfig:
    """`cfg` resolved and checked, the chosen dataset's splits included (no images loaded).

    Raises:
        ConfigError: listing every problem found.
    """
    cfg = resolve(cfg)
    out = problems(cfg)
    if not out:
        out = _kind_problems(cfg)
    if out:
        raise ConfigError(out)
    return cfg


def _kind_problems(cfg: RunConfig) -> list[str]:
    from metalearn.data import DataError

    try:
        kind: RunKind = kind_of(cfg)
        info = kind.describe(cfg)
    except ConfigError as err:
        return err.problems
    except DataError as err:
        return [str(err)]
    out = kind.problems(cfg, info, catalog.algorithms()[cfg.algorithm].same_way)
    if not out:
        from metalearn.engine.memory import memory_problems, planned_device

        out = memory_problems(kind.memory(cfg, info), planned_device(cfg.device))
    return out


def notices(cfg: RunConfig) -> list[str]:
    """What a user should know about settings that are allowed but easy to give by mistake
    (shown beside the launch, never blocking it)."""
    out = []
    if cfg.episodes == 0:
        out.append(
            "no training (0 episodes): the test scores the network as it starts, random "
            "weights or a pretrained encoder's; give episodes > 0 to train it"
        )
    return out


__all__ = ["KINDS", "make_config", "notices", "problems", "resolve", "stored", "validate"]
