"""The layout follows the data (issue 15): layers, one-way imports, no cycles.

docs/architecture.md draws the layers; this test reads the package's imports (at module
level, inside functions and under TYPE_CHECKING alike) and fails on any import that goes
up a layer, on any import cycle, on a module that belongs to no layer, and on a layer
drawing in the docs that no longer matches the code.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "localtelemetry"

# Bottom to top. A module may import its own layer and the layers below it.
LAYERS = ("_contract", "_store", "_record", "_share", "_receive", "_cli", "face")
# Top-level modules: the face.
TOP_LEVEL = {
    "localtelemetry": "face",
    "localtelemetry.__main__": "face",
    "localtelemetry._integration": "face",
    "localtelemetry._telemetry": "face",
    "localtelemetry.testing": "face",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> str:
    if module in TOP_LEVEL:
        return TOP_LEVEL[module]
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in LAYERS:
        return parts[1]
    raise AssertionError(f"{module} belongs to no layer: put it in one of {LAYERS}")


def _imports(module: str, path: Path) -> set[str]:
    """Every localtelemetry module `module` imports, wherever the import statement is."""
    is_package = path.name == "__init__.py"
    base = module.split(".") if is_package else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - node.level + 1]
                target = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.add(candidate if candidate in MODULES else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    # a submodule import also runs its packages' __init__, which is never a problem
    # by itself: only the module named counts
    return {name for name in found if name in MODULES and name != module}


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def test_every_module_belongs_to_a_layer() -> None:
    for module in MODULES:
        _layer(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_go_down(module: str) -> None:
    rank = LAYERS.index(_layer(module))
    upward = sorted(t for t in GRAPH[module] if LAYERS.index(_layer(t)) > rank)
    assert upward == [], f"{module} ({_layer(module)}) imports a higher layer: {upward}"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles() -> None:
    assert _cycles(GRAPH) == []


def test_the_cycle_finder_finds_cycles() -> None:
    # the check above must be able to fail: a two-module and a three-module cycle
    graph = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert sorted(_cycles(graph)) == [["a", "b"], ["c", "d", "e"]]


@pytest.mark.parametrize("layer", [name for name in LAYERS if name != "face"])
def test_each_layer_says_what_it_owns_and_may_import(layer: str) -> None:
    init = PACKAGE / layer / "__init__.py"
    doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
    assert doc, f"{layer}/__init__.py needs a docstring"
    below = LAYERS[: LAYERS.index(layer)]
    if below:
        assert "May import" in doc or "may import" in doc.lower()
        for lower in below:
            assert f"``{lower}``" in doc, f"{layer} docstring should name {lower}"


def test_the_documented_drawing_matches_the_layers() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    drawing = text.split("```", 2)[1]
    # the drawing lists the layers top to bottom, one per line, each line starting with
    # the package name and naming every module of that layer as a word
    lines = {
        m.group(1): m.group(2) for m in re.finditer(r"^\s*(face|_[a-z]+)/?\s+(.*)$", drawing, re.M)
    }
    assert list(lines) == list(reversed(LAYERS))
    for layer in LAYERS[:-1]:
        line = lines[layer]
        modules = sorted(
            m.rsplit(".", 1)[1] for m in MODULES if m.count(".") == 2 and _layer(m) == layer
        )
        missing = [name for name in modules if not re.search(rf"\b{name}\b", line)]
        assert missing == [], f"docs/architecture.md's {layer} line does not name {missing}"
