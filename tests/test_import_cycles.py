"""No import cycles among meterbench's modules, counting imports made inside functions.

The modules of `harness/`, `fixtures/` and `test_suites/` are parsed with `ast`, never imported,
and every import of a project module becomes an edge: top-level ones, those inside functions and
classes, under `try:` or any `if`, and those under `if TYPE_CHECKING:` too. The last are never
executed, but an upward type-only import still ties a lower layer to a higher one (issue 13
names `bench.bench` <-> `devices.profile`, which was one), so they count.
`from x import y` is an edge to `x.y` when `y` is a submodule, else to `x`; `import a.b.c` is an
edge to `a.b.c` (the implicit import of the parent packages `a` and `a.b` is not counted: a
package's `__init__` re-exporting its submodules is the usual, safe layout). A cycle is a
strongly connected component of more than one module, or a module importing itself.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("harness", "fixtures", "test_suites")


@dataclass(frozen=True)
class Edge:
    """One import of a project module by another, with where it is written."""

    source: str
    target: str
    path: str
    line: int
    text: str


def _module_name(path: Path) -> str:
    """The dotted name of a module file under the repository root."""
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    """Every module of the project's packages, by dotted name."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement in a module, wherever it sits (functions, `if TYPE_CHECKING:`)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module `name` denotes: itself, or its longest prefix that is a module."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def _targets(statement: ast.Import | ast.ImportFrom, module: str, is_package: bool,
             modules: dict[str, Path]) -> Iterator[str]:
    """The project modules one import statement imports."""
    if isinstance(statement, ast.Import):
        for alias in statement.names:
            target = _resolve(alias.name, modules)
            if target is not None:
                yield target
        return
    base = statement.module or ""
    if statement.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        anchor = package[: len(package) - (statement.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    for alias in statement.names:
        submodule = f"{base}.{alias.name}"
        target = submodule if submodule in modules else _resolve(base, modules)
        if target is not None:
            yield target


def import_edges() -> list[Edge]:
    """Every import of a project module by a project module, one edge per statement and target."""
    modules = project_modules()
    edges: list[Edge] = []
    for module, path in modules.items():
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        tree = ast.parse(source, filename=str(path))
        for statement in _imports(tree):
            targets = _targets(statement, module, path.name == "__init__.py", modules)
            for target in sorted(set(targets)):
                edges.append(Edge(module, target, str(path.relative_to(REPO)),
                                  statement.lineno, lines[statement.lineno - 1].strip()))
    return edges


def strongly_connected(nodes: list[str], graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of `graph`, iteratively (no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph.get(root, ()))))]
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
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def import_cycles(edges: list[Edge]) -> list[tuple[list[str], list[Edge]]]:
    """Each cycle (its modules, and the imports between them that make it), sorted."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.source, set()).add(edge.target)
    nodes = sorted(set(graph) | {edge.target for edge in edges})
    cycles: list[tuple[list[str], list[Edge]]] = []
    for component in strongly_connected(nodes, graph):
        members = set(component)
        inside = [e for e in edges if e.source in members and e.target in members]
        if len(component) > 1 or inside:
            cycles.append((component, inside))
    return sorted(cycles, key=lambda cycle: cycle[0])


def describe(cycles: list[tuple[list[str], list[Edge]]]) -> str:
    """A report of the cycles naming each import line that takes part."""
    blocks = []
    for component, inside in cycles:
        lines = [" <-> ".join(component)]
        lines += [f"    {e.path}:{e.line}: {e.text}  ({e.source} -> {e.target})" for e in inside]
        blocks.append("\n".join(lines))
    return f"{len(cycles)} import cycle(s):\n" + "\n".join(blocks)


def test_the_scan_sees_imports_inside_functions_and_under_type_checking() -> None:
    """The walker finds function-level imports and those of both branches of TYPE_CHECKING."""
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import harness.errors\nelse:\n    import harness.registry\n"
        "def f() -> None:\n    from harness.config import models\n"
    )
    modules = project_modules()
    found = {t for s in _imports(tree) for t in _targets(s, "x", False, modules)}
    assert found == {"harness.errors", "harness.registry", "harness.config.models"}


def test_the_cycle_finder_reports_a_two_module_cycle_and_a_self_import() -> None:
    """A known cycle and a self-import are found; an acyclic chain is not."""
    edges = [Edge("a", "b", "a.py", 1, ""), Edge("b", "a", "b.py", 1, ""),
             Edge("c", "c", "c.py", 1, ""), Edge("d", "a", "d.py", 1, "")]
    assert [component for component, _ in import_cycles(edges)] == [["a", "b"], ["c"]]


def test_there_is_no_import_cycle() -> None:
    """No module of harness, fixtures or test_suites reaches itself through its imports."""
    cycles = import_cycles(import_edges())
    assert not cycles, describe(cycles)
