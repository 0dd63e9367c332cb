"""The wiring points one way: no import cycle among slashops' own modules, counting the imports made inside
functions (a deferred import is still a dependency) and leaving out those under `if TYPE_CHECKING:` (for typing
only, never executed). A use case's module may name its unit's deps for typing; nothing may import in a circle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"shared": ROOT / "shared", "services": ROOT / "services", "chalicelib": ROOT / "ingress" / "chalicelib",
            "tools": ROOT / "tools"}  # fmt: skip


def _modules() -> dict[str, Path]:
    found = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            name = ".".join((package, *parts)).removesuffix(".__init__")
            found[name] = path
    return found


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str) -> Iterator[str]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            yield from (name for child in node.orelse for name in _imports(ast.Module([child], []), module))
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:
                base = ".".join(module.split(".")[: -node.level] + [node.module])
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)
        yield from _imports(node, module)


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        graph[name] = {target for target in _imports(tree, name) if target in modules and target != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle (as `graphlib` finds it), or [] when there is none."""
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        return list(error.args[1])
    return []


def test_no_module_imports_in_a_circle() -> None:
    assert _cycle(_graph()) == []


def test_the_check_sees_a_cycle_hidden_inside_a_function() -> None:
    graph = {"a": {"b"}, "b": set()}
    tree = ast.parse("def late():\n    from a import thing\n")
    graph["b"] = {name for name in _imports(tree, "b") if name in graph}
    assert sorted(set(_cycle(graph))) == ["a", "b"]


def test_imports_for_typing_only_are_not_edges() -> None:
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from a import Deps\n")
    assert "a" not in set(_imports(tree, "b"))
