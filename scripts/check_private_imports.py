#!/usr/bin/env python3
"""Refuse `_private` names used across the project's modules (issue 17).

A leading underscore says "this module's own business". This checker fails when a module under
backend/, portal/, checkout/ or bench/ uses another project module's private name:

- `from x import _y`, where x is a project module (an underscored *submodule* is fine from
  inside its own package: `from bench import _harness` in a bench script);
- `import a._b` / `from a._b import c`: a private module reached from outside its package;
- `mod._name` on a name bound to an imported project module (`payments._fail(...)`).

Dunders (`__version__`) are public. Third-party private names are not this checker's business,
and tests are exempt: they exercise private helpers on purpose, and the issue's rule is about
the product and its benchmarks. Uses nothing but `ast`, so it runs in well under a second.

Usage: python scripts/check_private_imports.py [ROOT]   (exit status 1 when anything is found)
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CHECKED_DIRS = ("backend", "portal", "checkout", "bench")

# Known violations that may stay, as (path, what) exactly as the checker prints them. None today:
# keep it that way (make the name public instead).
ALLOWED: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def is_private(name: str) -> bool:
    """A single leading underscore; dunders and a bare `_` are public."""
    return name.startswith("_") and not name.startswith("__") and name != "_"


class Project:
    """Which dotted names are the project's modules, found on disk under ROOT."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def module_file(self, dotted: str, script_dir: Path | None = None) -> Path | None:
        """The file of a project module (package __init__ or .py), else None. Bare names also
        resolve next to a script that is not in a package (bench scripts import each other)."""
        parts = dotted.split(".")
        bases = [self.root]
        if script_dir is not None:
            bases.insert(0, script_dir)
        for base in bases:
            if base == self.root and parts[0] not in CHECKED_DIRS:
                continue
            path = base.joinpath(*parts)
            if (path / "__init__.py").is_file():
                return path / "__init__.py"
            if path.with_suffix(".py").is_file():
                return path.with_suffix(".py")
            if base == self.root and path.is_dir() and len(parts) == 1:
                return path  # a top-level directory without __init__ (bench)
        return None

    def is_module(self, dotted: str, script_dir: Path | None = None) -> bool:
        return self.module_file(dotted, script_dir) is not None


def module_name(root: Path, path: Path) -> tuple[str, Path | None]:
    """The dotted name of PATH and, for a script outside any package, its directory."""
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if not (path.parent / "__init__.py").is_file():
        # A script (bench/charge_job.py): it imports its neighbours by bare name.
        return parts[-1], path.parent
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts), None


def resolve_from(current: str, is_package: bool, level: int, module: str | None) -> str:
    """The absolute name behind `from .module import ...` written in CURRENT."""
    if level == 0:
        return module or ""
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def inside(current: str, package: str) -> bool:
    return current == package or current.startswith(package + ".")


def check_file(project: Project, path: Path) -> Iterator[Violation]:
    root = project.root
    rel = path.relative_to(root).as_posix()
    current, script_dir = module_name(root, path)
    is_package = path.name == "__init__.py"
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        yield Violation(rel, exc.lineno or 0, f"cannot parse: {exc.msg}")
        return

    def private_module_reach(dotted: str, line: int) -> Iterator[Violation]:
        parts = dotted.split(".")
        for i, part in enumerate(parts):
            if is_private(part):
                package = ".".join(parts[:i])
                if script_dir is not None and not package:
                    return  # a neighbour script's private module, same directory
                if package and not inside(current, package):
                    yield Violation(rel, line, f"imports private module {'.'.join(parts[: i + 1])}")
                return

    # Names bound to project modules in this file: local name -> dotted module name.
    modules: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not project.is_module(alias.name, script_dir):
                    continue
                yield from private_module_reach(alias.name, node.lineno)
                if alias.asname:
                    modules[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    modules[top] = top
        elif isinstance(node, ast.ImportFrom):
            source = resolve_from(current, is_package, node.level, node.module)
            if not source or not project.is_module(source, script_dir):
                continue
            yield from private_module_reach(source, node.lineno)
            for alias in node.names:
                full = f"{source}.{alias.name}"
                submodule = project.module_file(full, script_dir)
                if submodule is not None:
                    # A submodule: private only to code outside its package (or directory).
                    home = inside(current, source) or submodule.parent == path.parent
                    if is_private(alias.name) and not home:
                        yield Violation(rel, node.lineno, f"imports private module {full}")
                    modules[alias.asname or alias.name] = full
                elif is_private(alias.name):
                    yield Violation(rel, node.lineno, f"imports private name {full}")

    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and is_private(node.attr)):
            continue
        chain = dotted_chain(node.value)
        if chain is None or chain[0] not in modules:
            continue
        dotted = ".".join([modules[chain[0]], *chain[1:]])
        if project.is_module(dotted, script_dir) and dotted != current:
            yield Violation(rel, node.lineno, f"uses private name {dotted}.{node.attr}")


def dotted_chain(node: ast.expr) -> list[str] | None:
    """`a.b.c` as ["a", "b", "c"]; None for anything but names and attributes."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def check(root: Path) -> list[Violation]:
    project = Project(root)
    found: list[Violation] = []
    for directory in CHECKED_DIRS:
        for path in sorted((root / directory).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            found.extend(check_file(project, path))
    return sorted(set(found), key=lambda v: (v.path, v.line, v.what))


def main(argv: list[str], allowed: frozenset[tuple[str, str]] = ALLOWED) -> int:
    root = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parents[1]).resolve()
    found = check(root)
    new = [v for v in found if (v.path, v.what) not in allowed]
    for violation in new:
        print(violation)
    stale = allowed - {(v.path, v.what) for v in found}
    for path, what in sorted(stale):
        print(f"{path}: allow-list entry no longer needed, remove it: {what}")
    if new or stale:
        print(f"{len(new)} private name(s) used across modules", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
