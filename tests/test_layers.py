"""The import graph of tracker/ runs downwards: read from the source with `ast`, every import (module-level or inside
a function, absolute or relative) of one area by another goes to an area on a lower floor, and no areas import each
other in a loop.

An area is a package tracker/<area>/ or a module tracker/<module>.py; the app factory is tracker/__init__.py.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "tracker"

# Lowest floor first. An area may import the areas before it in this list, never one after it.
LAYERS = [
    # the ground floor: plain helpers, the database, the policy, the queue, the web helpers
    "errors",
    "enums",
    "clock",
    "config",
    "extensions",
    "hardening",
    "heap",  # a serving worker's heap (wsgi.py)
    "ratelimit",
    "periods",
    "policy",
    "db",
    "declarative",  # the models' declarative base
    "saving",
    "uploads",
    "xlsx",  # the one .xlsx writer
    "jobs",
    "web",
    "templating",
    # the areas, each above the ones it builds on
    "audit",
    "org",
    "auth",
    "evidence",
    "plans",
    "progress",
    "meetings",
    "metrics",
    "publicity",
    "assessment",
    "notify",
    "reports",
    "exports",  # every list in Excel, read through the pages' own queries
    # the pages where areas meet
    "desk",
    # the top floor: the model registry, operations, seeding, the command line, its table and the app factory
    "models",
    "ops",
    "scale",
    "seed",
    "cli",
    "commands",  # the command line's table: each command's module imported by name when the command is used
    "__init__",
]


def _area(module: str) -> str | None:
    """tracker.plans.service -> plans; tracker.db -> db; tracker -> __init__; anything else -> None."""
    parts = module.split(".")
    if parts[0] != "tracker":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def _module_of(path: Path) -> tuple[str, list[str]]:
    """The dotted module name of a file and the package it sits in (for relative imports)."""
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
        return ".".join(parts), parts
    return ".".join(parts), parts[:-1]


def _imports(path: Path) -> set[str]:
    """Every tracker module the file imports, anywhere in it."""
    _name, package = _module_of(path)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if node.module:
                found.add(target)
            else:  # `from . import db`: each name is a module of the package
                found.update(f"{target}.{a.name}" for a in node.names)
    return found


def area_edges() -> dict[str, dict[str, set[str]]]:
    """area -> imported area -> the files that import it."""
    edges: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in sorted(ROOT.rglob("*.py")):
        name, _package = _module_of(path)
        here = _area(name)
        for target in _imports(path):
            there = _area(target)
            if there is not None and there != here:
                edges[here][there].add(str(path.relative_to(ROOT.parent)))
    return edges


def test_every_area_is_on_a_floor():
    areas = {
        p.stem if p.is_file() else p.name for p in ROOT.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()
    }
    assert areas - set(LAYERS) == set(), "add the new area to LAYERS"
    assert len(LAYERS) == len(set(LAYERS))


def test_areas_import_only_downwards():
    floor = {a: i for i, a in enumerate(LAYERS)}
    upward = sorted(
        f"{src} imports {dst} ({', '.join(sorted(files))})"
        for src, targets in area_edges().items()
        for dst, files in targets.items()
        if floor[dst] > floor[src]
    )
    assert upward == []


def test_no_loop_between_areas():
    edges = {src: set(targets) for src, targets in area_edges().items()}
    state: dict[str, int] = {}  # 1 visiting, 2 done
    loops: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                loops.append(trail[trail.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for area in sorted(edges):
        if area not in state:
            visit(area, [area])
    assert loops == []


def test_nothing_but_the_app_factory_imports_the_desk():
    importers = {src for src, targets in area_edges().items() if "desk" in targets}
    assert importers <= {"__init__"}


def test_no_loop_between_files():
    """Inside an area too, no two files import each other (directly or round a circle), even from inside a function:
    such an import would only hide the loop."""
    modules = {_module_of(p)[0]: p for p in ROOT.rglob("*.py")}
    edges = {
        name: {t for t in _imports(path) if t in modules and t != name and not name.startswith(t + ".")}
        for name, path in modules.items()
    }
    state: dict[str, int] = {}
    loops: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                loops.append(trail[trail.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name, [name])
    assert loops == []
