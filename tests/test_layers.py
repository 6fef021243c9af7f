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


def test_the_check_catches_a_lazy_import_from_a_lower_layer(tmp_path):
    # the guard itself: a services module reaching into render inside a function
    services = tmp_path / "esc_cli" / "services"
    services.mkdir(parents=True)
    (tmp_path / "esc_cli" / "__init__.py").write_text("")
    (services / "__init__.py").write_text("")
    (services / "bad.py").write_text("def f():\n    from esc_cli.render.output import clean\n")
    (services / "relative.py").write_text("from ..render import views\n")
    found = layering_violations(tmp_path / "esc_cli")
    assert found == ["esc_cli/services/bad.py:2 imports esc_cli.render.output",
                     "esc_cli/services/relative.py:1 imports esc_cli.render"]
