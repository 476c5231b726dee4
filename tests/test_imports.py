"""The import graph of src/echolatent (imports inside functions included): no cycle between files or packages, and
imports go down the layers only."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "echolatent"

#: The layers, top first. A module may import from its own layer or a lower one, never from a higher one.
#: (``echolatent`` is the package's own ``__init__``; ``weights`` holds the shipped model files.)
LAYERS = (
    ("cli",),
    ("cohort",),
    ("jobs", "explore"),
    ("report", "pipeline", "train"),
    ("temporal", "latent", "measure", "segment"),
    ("models", "io", "synth"),
    ("arrays", "errors", "files", "labels", "resample", "cleanup", "outdir", "options", "device", "weights",
     "echolatent"),
)
LEVEL = {name: len(LAYERS) - i for i, names in enumerate(LAYERS) for name in names}


def module_files(root: Path = PACKAGE) -> dict[str, Path]:
    """``{dotted module name: file}`` of every module under ``root`` (packages by their ``__init__``)."""
    found = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module ``name`` refers to: itself, else its longest known parent (``pkg.mod.attr`` -> ``pkg.mod``)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """Dotted names an ``import`` / ``from ... import`` node brings in (relative imports resolved)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        parts = module.split(".") if is_package else module.split(".")[:-1]
        parts = parts[: len(parts) - node.level + 1]
        base = ".".join([*parts, base] if base else parts)
    return [f"{base}.{alias.name}" for alias in node.names] + [base]


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """``{module: modules of echolatent it imports}``, walking the whole tree (imports in functions count)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names = _imported(node, module, path.name == "__init__.py")
            targets = {_resolve(n, modules) for n in names if n.split(".")[0] == "echolatent"}
            if isinstance(node, ast.ImportFrom) and len(targets) > 1:
                targets.discard(_resolve(names[-1], modules))  # ``from pkg import mod``: the module, not pkg
            graph[module] |= {t for t in targets if t is not None and t != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def package_of(module: str) -> str:
    """``echolatent.io.camus`` -> ``io``; ``echolatent`` -> ``echolatent``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(module_files())


def test_the_graph_is_read(graph):
    assert "echolatent.jobs.run" in graph["echolatent.cli.run_cmds"]  # an import inside a function
    assert "echolatent.pipeline" in graph["echolatent.jobs.run"]


def test_no_cycle_between_files(graph):
    assert cycles(graph) == []


def test_no_cycle_between_packages(graph):
    packages: dict[str, set[str]] = defaultdict(set)
    for module, targets in graph.items():
        packages[package_of(module)] |= {package_of(t) for t in targets} - {package_of(module)}
    assert cycles(packages) == []


def test_every_package_has_a_layer():
    assert {package_of(m) for m in module_files()} <= set(LEVEL)


def test_imports_go_down_the_layers(graph):
    upward = [f"{module} -> {target}" for module, targets in graph.items() for target in targets
              if LEVEL[package_of(target)] > LEVEL[package_of(module)]]
    assert upward == []


def test_the_checks_catch_a_cycle_and_an_upward_import(tmp_path):
    root = tmp_path / "echolatent"
    (root / "io").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "io" / "__init__.py").write_text("")
    (root / "io" / "a.py").write_text("def f():\n    from echolatent.jobs import b\n")
    (root / "jobs").mkdir()
    (root / "jobs" / "__init__.py").write_text("")
    (root / "jobs" / "b.py").write_text("from ..io import a\n")
    fake = import_graph(module_files(root))
    assert cycles(fake) == [["echolatent.io.a", "echolatent.jobs.b"]]
    assert "echolatent.jobs.b" in fake["echolatent.io.a"]  # upward: io (level 2) imports jobs (level 5)
    assert LEVEL["jobs"] > LEVEL["io"]
