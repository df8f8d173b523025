"""The model catalogue: a lab's models, the device profile for each, and the facts triage checks.

One entry per model, under the name the lab uses, with the other spellings its returns
manifests carry (``aliases``) and the model string the device itself reports on its port
(``reports_as``).  Each entry names its device profile and the facts the clauses hold a device
to: released firmware, the standby current envelope, clock tolerance, the factory-fresh trust
anchors per SMKI role.  A fact left out makes the clauses that need it "not assessed", never a
silent pass.  A TOML or YAML file, validated like a bench file (errors name file and key
path); the emulated models' catalogue ships as ``harness/triage/models.yaml``.
"""

from __future__ import annotations

import re
import tomllib
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.config.errors import KeyPathError, validation_error
from harness.domain.types import DeviceType, RemotePartyRole
from harness.errors import BenchConfigError

__all__ = ["Catalogue", "Generation", "ModelEntry", "load_catalogue", "normalise_model"]

SMKI_ROLES = tuple(r.name for r in RemotePartyRole if r not in (
    RemotePartyRole.ISSUING_AUTHORITY, RemotePartyRole.OTHER))
"""The trust-anchor roles a catalogue may declare an original fingerprint for."""
_FINGERPRINT = re.compile(r"^[0-9A-F]{64}$")


class Generation(StrEnum):
    """The device's SMETS generation: SMETS1 devices have no SMKI trust anchors."""

    SMETS1 = "SMETS1"
    SMETS2 = "SMETS2"


def normalise_model(text: str) -> str:
    """A model name as compared: case and runs of spaces do not tell models apart."""
    return " ".join(text.split()).casefold()


class ModelEntry(BaseModel):
    """One model: its type and generation, its profile, and the facts triage checks against."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    device_type: str
    generation: Generation = Generation.SMETS2
    aliases: list[str] = Field(default_factory=list)  # other spellings on returns manifests
    reports_as: list[str] = Field(default_factory=list)  # model strings the device reports
    # The device profile the bench reaches it with (None: the slot's own); a SMETS1 model
    # without one is recorded as returned but not triaged.
    profile: str | None = None
    firmware_versions: list[str] | None = None  # None: TRI-ID-02 not assessed
    idle_current_a: tuple[float, float] | None = None  # (low, high) median standby current
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
    # Empty (or a role left out): TRI-VER-02 is not assessed for it.
    original_anchors: dict[str, str | None] = Field(default_factory=dict)

    @field_validator("device_type")
    @classmethod
    def _device_type(cls, value: str) -> str:
        try:
            return DeviceType.parse(value).name
        except (ValueError, KeyError):
            raise ValueError(f"unknown device type {value!r}: expected one of "
                             + ", ".join(t.name for t in DeviceType)) from None

    @field_validator("idle_current_a")
    @classmethod
    def _envelope(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not 0 <= value[0] <= value[1]:
            raise ValueError(f"{list(value)} is not an envelope: expected [low, high], "
                             "0 <= low <= high (amperes)")
        return value

    @field_validator("original_anchors")
    @classmethod
    def _anchors(cls, value: dict[str, str | None]) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for role, fingerprint in value.items():
            if role not in SMKI_ROLES:
                raise ValueError(f"unknown SMKI role {role!r}: expected one of "
                                 + ", ".join(SMKI_ROLES))
            if fingerprint is not None:
                fingerprint = fingerprint.replace(":", "").upper()
                if not _FINGERPRINT.match(fingerprint):
                    raise ValueError(f"{role}: expected a SHA-256 fingerprint (64 hex digits)")
            out[role] = fingerprint
        return out

    @model_validator(mode="after")
    def _smets1(self) -> ModelEntry:
        if self.generation is Generation.SMETS1 and self.original_anchors:
            raise ValueError("a SMETS1 model has no SMKI trust anchors: remove "
                             "original_anchors")
        return self

    def names(self, name: str) -> list[str]:
        """Every spelling that means this model: ``name``, the aliases, what it reports."""
        return [name, *self.aliases, *self.reports_as]


class Catalogue(BaseModel):
    """Every model known to this run, by the lab's name for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    models: dict[str, ModelEntry] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_names(self) -> Catalogue:
        seen: dict[str, str] = {}
        for name, entry in self.models.items():
            for i, spelling in enumerate([name, *entry.aliases]):
                key = normalise_model(spelling)
                if key in seen and seen[key] != name:
                    where = f"models.{name}" + (f".aliases[{i - 1}]" if i else "")
                    raise KeyPathError(where, f"{spelling!r} already names model "
                                              f"{seen[key]!r}")
                seen[key] = name
        return self

    def lookup(self, text: str) -> tuple[str, ModelEntry] | None:
        """The (name, entry) ``text`` means: the name, then an alias, then what a device
        reports; None when no entry has that spelling."""
        key = normalise_model(text)
        for field in ("name", "aliases", "reports_as"):
            for name, entry in reversed(self.models.items()):  # a lab's entries win
                spellings = ([name] if field == "name" else getattr(entry, field))
                if any(normalise_model(s) == key for s in spellings):
                    return name, entry
        return None

    def for_model(self, text: str) -> ModelEntry | None:
        """The entry of the model ``text`` names (name, alias or reported model), or None."""
        found = self.lookup(text)
        return found[1] if found else None

    def merged(self, other: Catalogue) -> Catalogue:
        """This catalogue with ``other``'s models added (or replaced)."""
        return Catalogue(models={**self.models, **other.models})


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """The shipped catalogue of the emulated models, or the lab's file at ``path`` (TOML when
    it ends in ``.toml``, YAML otherwise); errors name the file and the key path."""
    from harness.config._yaml import parse_yaml

    if path is None:
        text = resources.files("harness.triage").joinpath("models.yaml").read_text()
        source = "harness/triage/models.yaml"
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise BenchConfigError(f"cannot read model catalogue: {why}", file=source) from None
    data: Any
    if source.endswith(".toml"):
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise BenchConfigError(f"not valid TOML: {exc}", file=source) from None
    else:
        data = parse_yaml(text, source)
    if not isinstance(data, dict):
        raise BenchConfigError("expected a table with a 'models' key", file=source,
                               key_path="(top level)")
    try:
        return Catalogue.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, source, data) from None
