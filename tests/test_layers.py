"""The layers import only downwards (STYLE.md): a never-import between them fails here,
so the layering stays true without a reviewer catching it. Imports inside functions
count too: a lazy import is still a dependency."""

from __future__ import annotations

import ast
from pathlib import Path

import esc_cli

PACKAGE = Path(esc_cli.__file__).parent

# layer -> the layers it must never import
NEVER = {
    "domain": {"store", "render", "commands", "services"},
    "store": {"render", "commands", "services"},
    "render": {"store", "commands", "services"},
    "services": {"render", "commands"},
    "commands": {"store"},
}


def _layer(dotted: str) -> str | None:
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "esc_cli" else None


def _imports(path: Path, module: str):
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                yield node.lineno, ".".join(base + ([node.module] if node.module else []))
            elif node.module:
                yield node.lineno, node.module


def layering_violations(root: Path = PACKAGE) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        module = ".".join(path.relative_to(root.parent).with_suffix("").parts)
        forbidden = NEVER.get(_layer(module), set())
        for line, target in _imports(path, module):
            if _layer(target) in forbidden:
                found.append(f"{path.relative_to(root.parent)}:{line} imports {target}")
    return found


def test_no_layer_imports_a_layer_above_or_beside_it():
    assert layering_violations() == []


def _package(root: Path, layer: str, files: dict[str, str]) -> Path:
    """A throwaway esc_cli package with one layer holding `files` (name -> source)."""
    folder = root / "esc_cli" / layer
    folder.mkdir(parents=True)
    (root / "esc_cli" / "__init__.py").write_text("")
    for name, source in {"__init__.py": "", **files}.items():
        (folder / name).write_text(source)
    return root / "esc_cli"


def test_the_check_catches_a_lazy_import_from_a_lower_layer(tmp_path):
    # the guard itself: a services module reaching into render inside a function
    found = layering_violations(_package(tmp_path, "services", {
        "bad.py": "def f():\n    from esc_cli.render.output import clean\n",
        "relative.py": "from ..render import views\n"}))
    assert found == ["esc_cli/services/bad.py:2 imports esc_cli.render.output",
                     "esc_cli/services/relative.py:1 imports esc_cli.render"]


# -- import cycles ---------------------------------------------------------------------
# Module pairs (or rings) that import each other, lazily on at least one side. A lazy
# import keeps such a circle from failing at start-up, but it is still a circle: neither
# module can be read, tested or moved without the other. These are the ones left; a new
# one fails below, and one that is broken must leave this list.
KNOWN_CYCLES: set[frozenset[str]] = set()


def _modules(root: Path) -> dict[str, Path]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _targets(path: Path, module: str, modules: dict[str, Path]):
    """The esc_cli modules one file imports, anywhere in it: `from a import b` is a.b
    when that is a module, else a."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base


def import_cycles(root: Path = PACKAGE) -> set[frozenset[str]]:
    """Every set of two or more modules that reach each other through imports (the
    strongly connected components of the import graph)."""
    modules = _modules(root)
    graph = {name: {t for t in _targets(path, name, modules) if t in modules and t != name}
             for name, path in modules.items()}
    reach = {}
    for start in graph:
        seen, todo = set(), [start]
        while todo:
            for target in graph[todo.pop()]:
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        reach[start] = seen
    return {frozenset({start} | {other for other in reach[start] if start in reach[other]})
            for start in graph if start in reach[start]}


def test_no_new_import_cycles():
    found = import_cycles()
    assert [sorted(c) for c in found - KNOWN_CYCLES] == []
    assert [sorted(c) for c in KNOWN_CYCLES - found] == [], "broken: take it off KNOWN_CYCLES"


def test_the_cycle_check_sees_a_lazy_import_and_a_submodule(tmp_path):
    root = _package(tmp_path, "render", {
        "a.py": "from esc_cli.render.b import f\n",
        "b.py": "def f():\n    from esc_cli.render import c\n",
        "c.py": "from . import a\n",
        "d.py": "from esc_cli.render import a\n"})  # d imports into the circle only
    assert import_cycles(root) == {
        frozenset({"esc_cli.render.a", "esc_cli.render.b", "esc_cli.render.c"})}
