"""Model manifests: they load, they reject bad files, and they agree with the emulated models."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.emulator.world.catalogue import MODELS
from harness.emulator.world.credentials import original_anchor_fingerprints, shared_pki
from harness.errors import BenchConfigError
from harness.triage.manifest import load_manifests


def test_every_emulated_model_is_declared_as_its_manufacturer_would() -> None:
    manifests = load_manifests()
    pki = shared_pki()
    for name, model in MODELS.items():
        declared = manifests.for_model(name)
        assert declared is not None, name
        assert declared.device_type == model.device_type.name
        assert model.firmware_version in declared.firmware_versions
        low, high = declared.idle_current_a
        assert low < model.power.idle_a < high
        expected = {r.name: f for r, f in original_anchor_fingerprints(model, pki).items()}
        assert declared.original_anchors == expected


def test_a_bad_manifest_names_its_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "lab.yaml"
    path.write_text("models:\n  X-1:\n    device_type: ESME\n    firmware_versions: []\n"
                    "    idle_current_a: [0.1]\n")
    with pytest.raises(BenchConfigError) as info:
        load_manifests(path)
    assert str(path) in str(info.value) and "idle_current_a" in str(info.value)
