"""Model manifests: what a manufacturer declares for each model, that triage holds it to.

Firmware versions released for the model, the idle current envelope at the nominal supply,
clock tolerance, battery and WAN signal thresholds. Shipped for the emulated models in
``models.yaml``; a lab adds its own models' manifests with ``--manifest`` files.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import BenchConfigError
from harness.triage._yaml import parse_yaml, validation_error


class ModelManifest(BaseModel):
    """One model's declared figures."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    device_type: str
    firmware_versions: list[str]
    idle_current_a: tuple[float, float]  # (low, high) median idle current at nominal supply
    # Highest inrush current at power-on (TRI-PWR-01); None: not declared, not assessed.
    peak_current_a: float | None = None
    clock_tolerance_s: float = 60.0
    # The clock's rate tolerance (TRI-DIAG-01); None: not declared, the rate is not assessed.
    clock_drift_ppm: float | None = None
    battery_low_percent: float | None = None
    min_rssi_dbm: float | None = None
    supply_pulse_a: float | None = None  # at least this much current when switching
    commit_s: float = 5.0  # a write reaches non-volatile memory within this time
    # Factory-fresh trust anchors: role name -> SPKI SHA-256 (null: the slot ships empty).
    original_anchors: dict[str, str | None] = Field(default_factory=dict)


class Manifests(BaseModel):
    """Every model known to this run, by model name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    models: dict[str, ModelManifest] = Field(default_factory=dict)

    def for_model(self, name: str) -> ModelManifest | None:
        """The manifest of ``name``, or None when no manufacturer declared it."""
        return self.models.get(name)

    def merged(self, other: Manifests) -> Manifests:
        """These manifests with ``other``'s models added (or replaced)."""
        return Manifests(models={**self.models, **other.models})


def load_manifests(path: str | Path | None = None) -> Manifests:
    """The shipped manifests, or those in ``path``; errors name the file and key path."""
    if path is None:
        text = resources.files("harness.triage").joinpath("models.yaml").read_text()
        source = "harness/triage/models.yaml"
    else:
        source = str(path)
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise BenchConfigError(f"cannot read manifest: {exc.strerror}", file=source) from None
    data = parse_yaml(text, source)
    try:
        return Manifests.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, source, data) from None
