"""The layering rules, checked on the source: no import cycles, a spec module that imports no
registry, and no behaviour decided by comparing an algorithm's or dataset's name to a string."""

import ast
from pathlib import Path

from metalearn import catalog

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted([*(REPO / "metalearn").rglob("*.py"), *(REPO / "pages").rglob("*.py")])
SOURCES.append(REPO / "app.py")


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, top_level_only: bool) -> set[str]:
    """Modules of ours that `path` imports (at import time only, or anywhere in it)."""
    tree = ast.parse(path.read_text())
    nodes = _outside_functions(tree) if top_level_only else list(ast.walk(tree))
    out = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    known = {module_name(p) for p in SOURCES}
    return {m for m in out if m in known and m != module_name(path)}


def _outside_functions(tree: ast.Module) -> list[ast.AST]:
    """Every node run at import time: module level, inside if/try/with/class blocks, not in a
    function (its body, decorators and defaults count as the function's)."""
    out, todo = [], list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        out.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return out


def test_no_import_cycle_in_the_package_or_the_ui():
    graph = {module_name(p): imports(p, top_level_only=True) for p in SOURCES}
    # A module's import also runs its packages' __init__ modules.
    for name, deps in graph.items():
        graph[name] = deps | {d.rsplit(".", 1)[0] for d in deps if d.rsplit(".", 1)[0] in graph}
    cycles = _cycles(graph)
    assert not cycles, cycles


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w == v.rsplit(".", 1)[0] or v.startswith(w + "."):
                continue  # a module importing its own package is not a cycle of ours
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_spec_modules_import_no_registry():
    for name in ("config.py", "settings.py"):
        deps = imports(REPO / "metalearn" / name, top_level_only=False)
        assert deps <= {"metalearn.settings", "metalearn.config"}, (name, deps)


def test_no_behaviour_decided_by_a_name_compared_to_a_string():
    """UI, CLI and engine files ask the run kind, the catalogue or a declaration; only the
    registries (the algorithm and dataset modules themselves) may name algorithms or datasets."""
    names = set(catalog.algorithms()) | set(catalog.datasets())
    checked = [p for p in SOURCES if p.parts[-2] in ("pages", "views", "engine", "kinds")]
    checked += [REPO / "app.py", REPO / "metalearn" / "cli.py"]
    found = []
    for path in checked:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                for side in (node.left, *node.comparators):
                    consts = (
                        side.elts if isinstance(side, (ast.Tuple, ast.List, ast.Set)) else [side]
                    )
                    for c in consts:
                        if isinstance(c, ast.Constant) and c.value in names:
                            found.append(f"{path.relative_to(REPO)}:{node.lineno} {c.value!r}")
    assert not found, found
