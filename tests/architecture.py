"""Meridian's import map, read from the source with `ast` (nothing is imported).

    python -m tests.architecture          # floors, imports that run up a floor, import loops

Floors from the bottom: config, advisor, portfolios, nlp, workspace (and frontend, which only
serves the browser client's build). Every import, top-level or inside a function, counts: an
import placed in a function to dodge a loop is still a loop. Imports under `if TYPE_CHECKING:`
are types only and do not count. `tests/config/test_architecture.py` pins the rules."""

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOORS = {"config": 0, "advisor": 1, "portfolios": 2, "nlp": 3, "workspace": 4, "frontend": 4}
# The composition root wires every app's URLs and admin: it may look up (it imports no domain).
COMPOSITION_ROOTS = {"config.urls"}


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int


def modules() -> dict[str, Path]:
    found = {}
    for package in FLOORS:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    return skipped


def imports() -> list[Import]:
    """Every import of one of our modules by another, resolved to the module it names."""
    known = modules()

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    found = []
    for module, path in known.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        skipped = _type_checking_nodes(tree)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(tree):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")
                    parent = parent[: len(parent) - (node.level - 1)]
                    base = ".".join(parent + ([node.module] if node.module else []))
                # `from pkg import mod` names the submodule; `from mod import name`, the module.
                names = [f"{base}.{alias.name}" for alias in node.names]
                names = [n if n in known else base for n in names]
            else:
                continue
            for target in {resolve(name) for name in names} - {None, module}:
                found.append(Import(module, str(target), node.lineno))
    return found


def floor(module: str) -> int:
    return FLOORS[module.partition(".")[0]]


def upward(found: list[Import]) -> list[Import]:
    return [
        i for i in found if floor(i.target) > floor(i.source) and i.source not in COMPOSITION_ROOTS
    ]


def loops(found: list[Import]) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {}
    for i in found:
        graph.setdefault(i.source, set()).add(i.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def is_service_and_its_task(group: list[str]) -> bool:
    """The one loop allowed: `app.services` ↔ `app.tasks` (a service queues its own task)."""
    if len(group) != 2:
        return False
    first, second = (m.rpartition(".") for m in group)
    return first[0] == second[0] and {first[2], second[2]} == {"services", "tasks"}


def report() -> Iterator[str]:
    found = imports()
    known = modules()
    yield f"{len(known)} modules, {len(found)} imports between them"
    counts: dict[tuple[str, str], int] = {}
    for i in found:
        pair = (i.source.partition(".")[0], i.target.partition(".")[0])
        if pair[0] != pair[1]:
            counts[pair] = counts.get(pair, 0) + 1
    yield "app → app (imports):"
    for (source, target), count in sorted(counts.items(), key=lambda kv: floor(kv[0][0])):
        direction = "UP" if FLOORS[target] > FLOORS[source] else "down"
        yield f"  {source:>10} → {target:<10} {count:3}  {direction}"
    yield "imports that run up a floor:"
    for i in upward(found):
        yield f"  {i.source} → {i.target} (line {i.line})"
    yield "import loops:"
    for group in loops(found):
        note = "  (a service and its task: allowed)" if is_service_and_its_task(group) else ""
        yield "  " + " ↔ ".join(group) + note


if __name__ == "__main__":
    sys.stdout.write("\n".join(report()) + "\n")
