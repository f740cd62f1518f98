"""The torch-free catalogue: every algorithm's and dataset's metadata, read from their source
files without importing them (their modules import torch, which costs seconds).

An algorithm's class attributes (`name`, `family`, `summary`, `kinds`, `settings`, ...) are
plain literals or `metalearn.settings` declarations, so they can be read statically; a test
checks that this reading equals the imported classes' attributes. A new algorithm file in
`metalearn/algorithms/` appears here, in the CLI and in the dashboard's menus with no other file
touched.
"""

from __future__ import annotations

import ast
import functools
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metalearn import settings as settings_module
from metalearn.settings import Setting

PACKAGE = Path(__file__).resolve().parent
FAMILIES = ("model", "optimization", "metric", "memory", "transfer")
TASKS = ("classification", "regression", "reinforcement")  # what a dataset asks of a learner


class CatalogError(RuntimeError):
    """A class attribute the catalogue cannot read without running the module."""


# The families' names in human words (the article's four families and the transfer baseline).
FAMILY_NAMES = {
    "model": "Model-based",
    "optimization": "Optimization-based",
    "metric": "Metric-based",
    "memory": "Memory-based",
    "transfer": "Transfer baseline",
}


@dataclass(frozen=True)
class AlgorithmInfo:
    """What the menus, the CLI and the validator know about an algorithm without torch.

    Attributes:
        kinds: dataset task -> run kind name; a value of `mode_setting` may also be a key.
        mode_setting: a hyperparameter whose value can select the kind (finetune's mode).
        same_way: a fixed output layer of n_way units (training way must equal test way).
        settings: the hyperparameters it reads, each declared once.
        backbones: the feature networks it can use, where not every one of `backbone`'s
            choices (None: all of them).
    """

    name: str
    family: str
    summary: str
    kinds: dict[str, str]
    settings: tuple[Setting, ...]
    same_way: bool = False
    mode_setting: str | None = None
    spec_defaults: dict[str, Any] = field(default_factory=dict)
    bench_defaults: dict[str, Any] = field(default_factory=dict)
    views: tuple[str, ...] = ()
    formula: str = ""
    pseudocode: str = ""
    seed_family: str | None = None
    modalities: tuple[str, ...] = ("image",)
    backbones: tuple[str, ...] | None = None
    order: int = 100
    doc: str = ""

    def offered(self, modality: str) -> list[Setting]:
        """Its settings as a form for data of this modality offers them: those that apply, with
        the choices that fit (the backbones it can use among them)."""
        out = []
        for s in self.settings:
            if s.modality not in (None, modality):
                continue
            s = s.offered(modality)
            if s.name == "backbone" and self.backbones and s.choices:
                s = s.but(choices=tuple(c for c in s.choices if c in self.backbones))
            out.append(s)
        return out

    @property
    def family_in_seed(self) -> str:
        """The family the article files it under (MAML's: model-based)."""
        return self.seed_family or self.family

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(t for t in self.kinds if t in TASKS)

    def setting(self, name: str) -> Setting | None:
        return next((s for s in self.settings if s.name == name), None)


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    task: str = "classification"
    summary: str = ""
    how_to_get: str = ""
    needs_root: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def modality(self) -> str:
        """What its examples are: "image" (also generated tasks' inputs) or "text"."""
        return self.extra.get("modality", "image")

    @property
    def drawings(self) -> bool:
        """Its examples are pen drawings (`metalearn.data.base.Dataset.drawings`)."""
        return bool(self.extra.get("drawings", False))


ALGORITHM_FIELDS = (
    "name",
    "family",
    "summary",
    "kinds",
    "settings",
    "same_way",
    "mode_setting",
    "spec_defaults",
    "bench_defaults",
    "views",
    "formula",
    "pseudocode",
    "seed_family",
    "modalities",
    "backbones",
)


@functools.cache
def algorithms() -> dict[str, AlgorithmInfo]:
    """Registered algorithms (classes decorated with `@register`), in menu order."""
    classes = _classes(PACKAGE / "algorithms")
    out = []
    for cls in classes.values():
        if not cls["registered"]:
            continue
        attrs = _attrs(cls, classes)
        out.append(
            AlgorithmInfo(
                **{k: attrs[k] for k in ALGORITHM_FIELDS if k in attrs},
                order=attrs.get("order", 100),
                doc=cls["doc"],
            )
        )
    return {a.name: a for a in sorted(out, key=lambda a: (a.order, a.name))}


@functools.cache
def datasets() -> dict[str, DatasetEntry]:
    """Datasets (subclasses of `metalearn.data.base.Dataset` with a name), in the order the
    data package's registry lists them (the embedded default first)."""
    classes = _classes(PACKAGE / "data")
    out = {}
    for cls in classes.values():
        attrs = _attrs(cls, classes)
        if "name" not in attrs or not _inherits(cls, classes, "Dataset"):
            continue
        keys = ("task", "summary", "how_to_get", "needs_root")
        out[attrs["name"]] = DatasetEntry(
            attrs["name"],
            **{k: attrs[k] for k in keys if k in attrs},
            extra={k: v for k, v in attrs.items() if k not in (*keys, "name")},
        )
    listed = [_attrs(classes[c], classes).get("name") for c in _listed() if c in classes]
    ordered = {n: out[n] for n in listed + sorted(set(out) - set(listed)) if n in out}
    return {**ordered, **_generated()}


def _generated() -> dict[str, DatasetEntry]:
    """Datasets of generated tasks that run kinds bring (`generates` in `engine/kinds/`)."""
    classes = _classes(PACKAGE / "engine" / "kinds")
    out = {}
    for cls in classes.values():
        attrs = _attrs(cls, classes)
        if "name" in attrs and "generates" in cls["own"] and attrs["generates"]:
            out[attrs["generates"]] = DatasetEntry(
                attrs["generates"],
                task=attrs.get("task", "classification"),
                summary=attrs.get("dataset_summary", ""),
                how_to_get="Always available: tasks are generated.",
                needs_root=False,
                extra={"kind": attrs["name"]},
            )
    return dict(sorted(out.items()))


def _listed() -> list[str]:
    """Class names in `metalearn/data/__init__.py`'s DATASETS, in order."""
    tree = _parse(PACKAGE / "data" / "__init__.py")
    for node in ast.walk(tree):
        target = getattr(node, "target", None) or (getattr(node, "targets", None) or [None])[0]
        if (
            isinstance(node, (ast.Assign, ast.AnnAssign))
            and getattr(target, "id", "") == "DATASETS"
        ):
            names = [n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)]
            return [n for n in names if n[0].isupper()]
    return []


# CPython 3.11's parser is not safe to run in several threads at once ("AST constructor recursion
# depth mismatch", python/cpython#106905): the dashboard's viewers are threads of one process,
# and their first page runs all read the catalogue together.
_PARSE_LOCK = threading.Lock()


def _parse(path: Path) -> ast.Module:
    with _PARSE_LOCK:
        return ast.parse(path.read_text(), str(path))


# -- reading class attributes from source --------------------------------------------------------
def _classes(folder: Path) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for path in sorted(folder.glob("*.py")):
        tree = _parse(path)
        env = _module_env(tree)
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            out[node.name] = {
                "node": node,
                "env": env,
                "path": path,
                "bases": [b.id for b in node.bases if isinstance(b, ast.Name)],
                "registered": any(
                    isinstance(d, ast.Name) and d.id == "register" for d in node.decorator_list
                ),
                "doc": ast.get_docstring(node) or "",
                "own": {
                    t.id
                    for n in node.body
                    if isinstance(n, (ast.Assign, ast.AnnAssign))
                    for t in (n.targets if isinstance(n, ast.Assign) else [n.target])
                    if isinstance(t, ast.Name)
                },
            }
    return out


@functools.cache
def _env_of(path: Path) -> dict[str, Any]:
    """A sibling module's static constants, parsed once however many modules import them."""
    return _module_env(_parse(path))


def _module_env(tree: ast.Module) -> dict[str, Any]:
    """Names a class body may use: literal module constants, `metalearn.settings` names, and
    the static constants of sibling modules it imports (`from metalearn.algorithms.maml import
    INNER_LR`)."""
    env: dict[str, Any] = {"int": int, "float": float, "str": str, "bool": bool}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "metalearn.settings":
            for alias in node.names:
                env[alias.asname or alias.name] = getattr(settings_module, alias.name)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("metalearn."):
            source = PACKAGE.parent / (node.module.replace(".", "/") + ".py")
            if source.is_file():
                theirs = _env_of(source)
                for alias in node.names:
                    if alias.name in theirs:
                        env[alias.asname or alias.name] = theirs[alias.name]
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                try:
                    env[target.id] = _eval(node.value, env, {})
                except CatalogError:
                    pass  # not a static value; a class attribute that uses it will say so
    return env


def _inherits(cls: dict, classes: dict[str, dict], name: str) -> bool:
    return any(
        b == name or (b in classes and _inherits(classes[b], classes, name)) for b in cls["bases"]
    )


def _attrs(cls: dict, classes: dict[str, dict]) -> dict[str, Any]:
    """The class's attributes with those of its bases (found in the same folder) beneath."""
    attrs: dict[str, Any] = {}
    for base in cls["bases"]:
        if base in classes:
            attrs.update(_attrs(classes[base], classes))
    for node in cls["node"].body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name) and not target.id.startswith("_"):
            try:
                attrs[target.id] = _eval(value, cls["env"], classes)
            except CatalogError as err:
                if target.id in ALGORITHM_FIELDS:
                    raise CatalogError(f"{cls['path'].name}: {target.id}: {err}") from None
    return attrs


def _eval(node: ast.AST, env: dict[str, Any], classes: dict[str, dict]) -> Any:
    ev = lambda n: _eval(n, env, classes)  # noqa: E731
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List)):
        items = []
        for e in node.elts:  # `(*NETWORK, LR)`: a declared group of settings spliced in
            items.extend(ev(e.value)) if isinstance(e, ast.Starred) else items.append(ev(e))
        return tuple(items) if isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.Dict):
        return {ev(k): ev(v) for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.Name) and node.id in env:
        return env[node.id]
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        if node.value.id in classes:  # e.g. MAML.settings
            return _attrs(classes[node.value.id], classes)[node.attr]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return ev(node.left) + ev(node.right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -ev(node.operand)
    if isinstance(node, ast.Call):
        args = [ev(a) for a in node.args]
        kwargs = {k.arg: ev(k.value) for k in node.keywords}
        if isinstance(node.func, ast.Name) and env.get(node.func.id) in (Setting, frozenset):
            return env[node.func.id](*args, **kwargs)
        if isinstance(node.func, ast.Attribute) and node.func.attr == "but":
            return ev(node.func.value).but(*args, **kwargs)
    raise CatalogError(f"line {getattr(node, 'lineno', '?')}: not a static value")
