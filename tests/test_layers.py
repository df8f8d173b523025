"""The layering contract: a module imports only from its own layer or the layers below it.

Imports are read with ``ast`` by the scanner of ``tests/test_import_cycles.py`` (function-level
imports and those under ``if TYPE_CHECKING:`` count: a type-only upward import still ties a
lower layer to a higher one). Each module belongs to the layer of the longest prefix listed in
:data:`LAYERS`; layers are ordered bottom first, and the modules of one layer may import each
other freely (the cycle test keeps them acyclic).

``harness.emulator`` imitates the lab's instruments and devices: it may import any library
layer below the plugin and the command line. Imports *of* the emulator by the library are
out of this test's scope: issue 13 part 2 takes the emulator off the production path, and its
own test (every production module imports with the emulator blocked) holds that line.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import pytest

from tests.test_import_cycles import REPO, Edge, import_edges, project_modules


@dataclass(frozen=True)
class Layer:
    """One layer: its name, the module prefixes it owns, and why it sits where it does."""

    name: str
    prefixes: tuple[str, ...]
    why: str


LAYERS: tuple[Layer, ...] = (
    Layer("errors", ("harness.errors",), "the public exception phases, importing nothing"),
    Layer("domain", ("harness.domain",),
          "the GB smart metering vocabulary (device types, EUI-64, fault categories)"),
    Layer("config", ("harness.config", "harness.registry"),
          "bench models, loading, secrets, validation errors; the backend registry they check "
          "names against"),
    Layer("protocols", ("harness.protocols",), "pure codecs of the wire formats"),
    Layer("transports", ("harness.transports",), "links below the drivers (BLE)"),
    Layer("signals", ("harness.bench.safety",),
          "the process's signal discipline while hardware is live (a shield around every safe "
          "state): imports nothing of meterbench's, so every driver may use it"),
    Layer("drivers", ("harness.drivers",), "instrument drivers, one folder per kind"),
    Layer("device contract", ("harness.devices.profile", "harness.devices.records"),
          "what triage needs from a device (DeviceProfile) and its records: below the bench "
          "that builds a slot's profile"),
    Layer("bench", ("harness.bench",), "an open bench: instruments under the bench lock"),
    Layer("qa", ("harness.qa",), "the QA environment of the Service Request route"),
    Layer("devices", ("harness.devices",),
          "the device profiles (reference, duis), found by entry point and built on the bench"),
    Layer("triage", ("harness.triage",), "the triage specification, gate, records, verdict"),
    Layer("results", ("harness.results",), "the results store and reports"),
    Layer("emulator", ("harness.emulator",), "the emulated world and instruments"),
    Layer("front ends", ("harness.plugin", "harness.cli", "harness.console"),
          "the pytest plugin, the CLI and the operator console"),
    Layer("entry points", ("harness.__main__", "fixtures", "test_suites"),
          "``python -m harness``, the root fixtures and the suites"),
)
"""Bottom first."""

EXEMPT_TARGETS = ("harness.emulator",)
"""Imports of these are not judged here (see the module docstring)."""

ALLOWED: tuple[tuple[str, str, str], ...] = ()
"""Explicit exceptions as (importing module, imported module, why): none is needed today."""


def layer_of(module: str) -> int:
    """The index in :data:`LAYERS` of the layer owning ``module`` (longest prefix wins)."""
    best: tuple[int, int] | None = None
    for index, layer in enumerate(LAYERS):
        for prefix in layer.prefixes:
            owns = module == prefix or module.startswith(prefix + ".")
            if owns and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    if best is None and module == "harness":  # the package's __init__ (exactly, not a prefix)
        return 0  # runs before any of its modules: the bottom, importing nothing above
    if best is None:
        raise LookupError(f"module {module!r} belongs to no layer: add it to LAYERS")
    return best[1]


def upward(edges: list[Edge]) -> list[Edge]:
    """The imports that reach a higher layer, less the exempt and the allowed ones."""
    allowed = {(source, target) for source, target, _ in ALLOWED}
    return [e for e in edges
            if not e.target.startswith(EXEMPT_TARGETS)
            and (e.source, e.target) not in allowed
            and layer_of(e.target) > layer_of(e.source)]


def describe(edges: list[Edge]) -> str:
    """Each upward import, with where it is written and the two layers."""
    lines = [f"{len(edges)} upward import(s):"]
    lines += [f"  {e.path}:{e.line}: {e.text}  ({LAYERS[layer_of(e.source)].name} -> "
              f"{LAYERS[layer_of(e.target)].name})" for e in edges]
    return "\n".join(lines)


def test_every_module_belongs_to_a_layer() -> None:
    """A new top-level package or module must be placed in the order, not slip through."""
    for module in project_modules():
        layer_of(module)
    with pytest.raises(LookupError, match=r"harness\.newthing"):
        layer_of("harness.newthing")


@pytest.mark.parametrize(("source", "target", "is_upward"), [
    ("harness.protocols.telegesis", "harness.errors", False),
    ("harness.drivers.base", "harness.bench.safety", False),
    ("harness.drivers.base", "harness.bench.bench", True),
    ("harness.devices.profile", "harness.devices.remote", True),
    ("harness.devices.remote", "harness.devices.profile", False),
    ("harness.domain.types", "harness.config.models", True),
    ("harness.bench.session", "harness.emulator.bench", False),  # exempt: part 2's test
    ("harness.emulator.bench", "harness.cli", True),
])
def test_the_rule_judges_known_imports(source: str, target: str, is_upward: bool) -> None:
    """The longest prefix decides a module's layer; only imports of a higher layer fail."""
    edge = Edge(source, target, "x.py", 1, "")
    assert bool(upward([edge])) is is_upward


def test_the_domain_imports_only_the_errors() -> None:
    """The bottom of the house: the vocabulary depends on nothing of meterbench's but errors."""
    bad = [e for e in import_edges() if e.source.startswith("harness.domain")
           and not e.target.startswith(("harness.domain", "harness.errors"))]
    assert not bad, describe(bad)


RESOLVERS = {"resolve_secret", "resolve_references"}
"""harness.config.secrets' functions that read a secret's value (environment, file, emulator)."""


def test_drivers_never_resolve_a_secret_themselves() -> None:
    """The bench resolves its instruments' secret references and hands the values over: no
    driver, protocol or transport imports a resolver (issue 13, the configuration layer)."""
    found = []
    for module, path in project_modules().items():
        if not module.startswith(("harness.drivers", "harness.protocols", "harness.transports")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "harness.config.secrets":
                names = {alias.name for alias in node.names} & RESOLVERS
                found += [f"{path.relative_to(REPO)}:{node.lineno}: {n}" for n in sorted(names)]
    assert not found, "drivers resolving secrets:\n" + "\n".join(found)


def test_no_module_imports_a_higher_layer() -> None:
    """Protocols, drivers, config... import only downward (or within their layer)."""
    found = upward(import_edges())
    assert not found, describe(found)
