#!/usr/bin/env python3
"""Refuse `module.name` where `module` is an imported project module that defines no `name`.

Moving code between modules (issue 17 split several) leaves callers that still say
`charges.capture(...)` after `capture` moved to operations; ruff cannot see it and the error
waits for the one page or request that runs that line. This reads every module under backend/,
portal/, checkout/, bench/, scripts/ and tests/ with `ast` and checks each attribute read on a
name bound to a project module (`from backend.services.payments import charges` or
`import backend.x as y`) against the names that module defines or imports at top level. A
package also offers its submodules. Dunders are not checked.

Usage: python scripts/check_module_names.py [ROOT]   (exit status 1 when anything is found)
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

CHECKED_DIRS = ("backend", "portal", "checkout", "bench", "scripts", "tests")


def _module_file(root: Path, dotted: str) -> Path | None:
    base = root.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _bound(node: ast.AST) -> Iterator[str]:
    """Names a top-level statement binds (also inside top-level if/try blocks)."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        yield node.name
    elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            for element in target.elts if isinstance(target, ast.Tuple) else [target]:
                if isinstance(element, ast.Name):
                    yield element.id
    elif isinstance(node, ast.Import | ast.ImportFrom):
        for alias in node.names:
            yield (alias.asname or alias.name).split(".")[0]
    elif isinstance(node, ast.If | ast.Try):
        for child in ast.iter_child_nodes(node):
            yield from _bound(child)


def check(root: Path) -> list[str]:
    @cache
    def defined(dotted: str) -> frozenset[str]:
        path = _module_file(root, dotted)
        if path is None:
            return frozenset()
        names = {n for node in ast.parse(path.read_text()).body for n in _bound(node)}
        if path.name == "__init__.py":
            names |= {child.stem for child in path.parent.iterdir() if child.suffix == ".py"}
            names |= {child.name for child in path.parent.iterdir() if child.is_dir()}
        return frozenset(names)

    problems = []
    for directory in CHECKED_DIRS:
        for path in sorted((root / directory).rglob("*.py")):
            tree = ast.parse(path.read_text())
            modules: dict[str, str] = {}
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    for alias in node.names:
                        full = f"{node.module}.{alias.name}"
                        if _module_file(root, full):
                            modules[alias.asname or alias.name] = full
                elif isinstance(node, ast.Import):
                    for alias in node.names:
                        if alias.asname and _module_file(root, alias.name):
                            modules[alias.asname] = alias.name
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id in modules
                    and not node.attr.startswith("__")
                    and node.attr not in defined(modules[node.value.id])
                ):
                    where = path.relative_to(root).as_posix()
                    module = modules[node.value.id]
                    problems.append(f"{where}:{node.lineno}: {module} has no {node.attr!r}")
    return problems


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parents[1]).resolve()
    problems = check(root)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} name(s) read from modules that do not define them", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
