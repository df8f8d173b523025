"""Backend registry: entry points by kind, lazy import, clear errors for unknown or missing."""

from __future__ import annotations

import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from harness import registry
from harness.drivers.power.base import PowerSupply
from harness.errors import BackendUnavailableError


def test_builtin_scpi_backend_is_registered_through_entry_points() -> None:
    assert "scpi" in registry.known_backends("power")
    cls = registry.load_backend("power", "scpi")
    assert issubclass(cls, PowerSupply)


def test_unknown_backend_lists_known_ones() -> None:
    with pytest.raises(BackendUnavailableError, match=r"unknown power backend 'nope'; known: .*"):
        registry.load_backend("power", "nope")


def test_backends_are_imported_only_when_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mb_lazy_backend.py").write_text("LOADED = True\nclass Backend: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    ep = EntryPoint(name="lazy", value="mb_lazy_backend:Backend", group="meterbench.relay")
    monkeypatch.setattr(registry, "_entry_points", lambda kind: {"lazy": ep})
    assert registry.known_backends("relay") == ["lazy"]
    assert "mb_lazy_backend" not in sys.modules
    assert registry.load_backend("relay", "lazy").__name__ == "Backend"
    assert "mb_lazy_backend" in sys.modules


def test_missing_optional_dependency_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mb_needs_dep.py").write_text("import mb_absent_dependency\nclass B: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    ep = EntryPoint(name="fancy", value="mb_needs_dep:B", group="meterbench.ble_probe")
    monkeypatch.setattr(registry, "_entry_points", lambda kind: {"fancy": ep})
    monkeypatch.setitem(registry._EXTRAS, "mb_absent_dependency", "ble")
    with pytest.raises(BackendUnavailableError) as info:
        registry.load_backend("ble_probe", "fancy")
    assert "pip install 'meterbench[ble]'" in str(info.value)
    assert info.value.context["missing"] == "mb_absent_dependency"
