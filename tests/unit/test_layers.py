"""Imports run one way (DESIGN.md §1): web, api, webhooks, jobs, cli → generation → catalog →
providers → render → models, extensions, config; small helpers (media, fetch, storage, …) sit at
the bottom and import none of the layers above. The test reads every import of the package
(ast, so nothing is imported) and fails on an edge against that order and on any cycle."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "webapp"

# Lower rank = lower layer. Units of the same rank may not import each other, except helpers.
RANKS = {
    "web": 5, "api": 5, "webhooks": 5, "jobs": 5, "cli": 5,
    "generation": 4,
    "catalog": 3,
    "providers": 2,
    "render": 1,
    "models": 0, "extensions": 0, "config": 0,
}
HELPER_RANK = 0.5
APP_FACTORY = "__init__"  # create_app wires every layer together: the one module above them all
DOMAIN = ("generation", "catalog")


def unit_of(module: str) -> str:
    """webapp.generation.service → generation; webapp.media → media."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else APP_FACTORY


def rank(unit: str) -> float:
    return RANKS.get(unit, HELPER_RANK)


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(relative.parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(module: str, path: Path) -> list[tuple[str, int, tuple[str, ...]]]:
    """(imported webapp module, line, names) for every import in the file, at any depth."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno, ()) for alias in node.names if alias.name.startswith("webapp")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = tuple(alias.name for alias in node.names)
            if target.startswith("webapp"):
                found.append((target, node.lineno, names))
            elif target == "flask":
                found.append(("flask", node.lineno, names))
    return found


def edges() -> list[tuple[str, str, str, int]]:
    """(from unit, to unit, where, line) for every import between two units of the package."""
    found = []
    for module, path in modules().items():
        source = unit_of(module)
        for target, line, names in imports_of(module, path):
            if target == "flask":
                continue
            # "from .. import media" names the module in the imported names
            targets = [f"{target}.{name}" for name in names if f"{target}.{name}" in modules()] or [target]
            for imported in targets:
                destination = unit_of(imported) if imported != "webapp" else APP_FACTORY
                if destination != source:
                    found.append((source, destination, str(path.relative_to(PACKAGE.parent)), line))
    return found


def test_every_import_goes_down_the_layers():
    wrong = []
    for source, destination, where, line in edges():
        if source == APP_FACTORY:
            continue
        if destination == APP_FACTORY:
            wrong.append(f"{where}:{line}: {source} imports the app factory")
            continue
        upward = rank(destination) > rank(source)
        sideways = rank(destination) == rank(source) and rank(source) not in (0, HELPER_RANK)  # bottom units share
        if upward or sideways:
            wrong.append(f"{where}:{line}: {source} (layer {rank(source)}) imports {destination} (layer {rank(destination)})")
    assert not wrong, "imports against the layers:\n" + "\n".join(sorted(set(wrong)))


def test_units_import_each_other_without_cycles():
    graph: dict[str, set[str]] = {}
    for source, destination, _, _ in edges():
        if source != APP_FACTORY:
            graph.setdefault(source, set()).add(destination)
    cycles = []

    def visit(unit: str, path: list[str]) -> None:
        for following in sorted(graph.get(unit, ())):
            if following in path:
                cycles.append(" → ".join([*path[path.index(following):], following]))
            elif len(path) < len(graph) + 1:
                visit(following, [*path, following])

    for start in sorted(graph):
        visit(start, [start])
    assert not cycles, "import cycles:\n" + "\n".join(sorted(set(cycles)))


def test_the_domain_never_reads_the_request():
    """Business rules get plain values: a view parses the request, the domain never sees it."""
    readers = [
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for module, path in modules().items() if unit_of(module) in DOMAIN
        for target, line, names in imports_of(module, path) if target == "flask" and {"request", "g", "session"} & set(names)
    ]
    assert not readers, "the domain reads the request:\n" + "\n".join(readers)


def test_the_test_sees_the_packages_it_checks():
    """The checks above mean something only if the walk finds the layers' modules and their imports."""
    found = {unit_of(module) for module in modules()}
    assert set(RANKS) - {"jobs", "cli", "models", "extensions", "config"} <= found
    assert any(source == "web" and destination == "generation" for source, destination, _, _ in edges())
