"""Every exception class meterbench defines belongs to its one tree (harness.errors): an
area-specific error subclasses the public phase it happens in, so a caller catching
``OperationError`` or ``ProtocolError`` (or ``MeterbenchError``) catches it too.

Classes are found with ``ast`` in every file under ``harness/`` (so none is missed because
nothing imported it), then imported and checked. The few that are deliberately outside the
tree are listed in :data:`OUTSIDE_THE_TREE`, each with why.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from harness.errors import MeterbenchError, ProtocolError
from tests.test_import_cycles import project_modules

OUTSIDE_THE_TREE: dict[str, str] = {}
"""``module.Class`` -> why it is not a MeterbenchError (none today)."""


def defined_classes() -> list[tuple[str, str, Path]]:
    """(module, class name, file) of every top-level class under harness/."""
    found = []
    for module, path in project_modules().items():
        if not module.startswith("harness"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [(module, node.name, path) for node in tree.body
                  if isinstance(node, ast.ClassDef) and node.bases]
    return found


def exception_classes() -> list[tuple[str, type[BaseException]]]:
    """Every exception class harness/ defines, as (``module.Class``, the class)."""
    classes = []
    for module, name, _path in defined_classes():
        try:
            loaded = importlib.import_module(module)
        except ModuleNotFoundError as exc:  # an optional extra (bleak, bumble, usb) missing
            if (exc.name or "").startswith("harness"):
                raise
            continue
        cls = getattr(loaded, name, None)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            classes.append((f"{module}.{name}", cls))
    return classes


def test_the_scan_finds_the_known_area_errors() -> None:
    """The scan is not vacuous: it sees errors of several areas."""
    names = {name for name, _ in exception_classes()}
    assert {"harness.drivers.dcc.base.DccResponseError", "harness.protocols.duis.errors.DuisError",
            "harness.triage.audit.AuditLogError", "harness.drivers.dcc.base.NotDelivered",
            "harness.config.errors.KeyPathError"} <= names


def test_every_exception_subclasses_meterbench_error() -> None:
    """No bare ``Exception``/``ValueError`` subclass: each sits under a phase of harness.errors."""
    outside = [name for name, cls in exception_classes()
               if not issubclass(cls, MeterbenchError) and name not in OUTSIDE_THE_TREE]
    assert not outside, f"exceptions outside harness.errors' tree: {outside}"


def test_the_listed_exceptions_are_still_outside() -> None:
    """The explicit list stays true: an entry that has joined the tree is removed from it."""
    for name in OUTSIDE_THE_TREE:
        module, _, cls_name = name.rpartition(".")
        cls = getattr(importlib.import_module(module), cls_name)
        assert not issubclass(cls, MeterbenchError), f"{name} is in the tree now: unlist it"


def test_the_pure_codecs_raise_only_protocol_errors() -> None:
    """A codec (harness.protocols) has no instrument to fail: its errors are ProtocolErrors,
    and it imports no other phase (the Telegesis codec raised an OperationError for an
    ERROR:<code> reply, which is the dongle's answer for the driver to judge)."""
    classes = [(name, cls) for name, cls in exception_classes()
               if name.startswith("harness.protocols.")]
    assert classes and all(issubclass(cls, ProtocolError) for _, cls in classes), classes
    other_phases = {"OperationError", "InstrumentConnectError", "InstrumentTimeoutError",
                    "BenchUnavailableError", "UnsafeStateError", "AccessDeniedError"}
    found = []
    for module, path in project_modules().items():
        if module.startswith("harness.protocols"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module == "harness.errors":
                    found += [f"{module}: {a.name}" for a in node.names if a.name in other_phases]
    assert not found, found
