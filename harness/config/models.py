"""Typed models of a bench file: instruments, device slots and the emulator settings.

A bench is data (DESIGN.md principle 4): these pydantic models are the schema, and
``harness.config.loader`` turns validation failures into errors naming file and key path.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.config.errors import KeyPathError
from harness.config.secrets import check_reference
from harness.domain.types import DeviceType

InstrumentKind = Literal["power", "optical_probe", "relay", "zigbee", "ble_probe", "dcc"]
"""The instrument kinds meterbench knows; each has an abstract base class in harness.drivers."""

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


class _Strict(BaseModel):
    """Base for bench models: unknown keys are errors, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class EmulatorSettings(_Strict):
    """How the emulated bench serves one instrument: a fixed port, or 0 for a free one."""

    port: int = Field(default=0, ge=0, le=65535)


class InstrumentConfig(_Strict):
    """One instrument on the bench: what it is, which driver backend, where it is reached."""

    kind: InstrumentKind
    backend: str
    address: str | None = None
    emulated: bool = False
    emulator: EmulatorSettings = EmulatorSettings()
    timeout_s: float = Field(default=2.0, gt=0)
    options: dict[str, Any] = Field(default_factory=dict)
    safe_state: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _address_or_emulated(self) -> InstrumentConfig:
        if not self.address and not self.emulated:
            raise ValueError(
                "missing 'address': expected a VISA resource or serial URL, or emulated = true"
            )
        return self


class SlotEmulation(_Strict):
    """What the emulator puts in a slot: a device model, its seed and its injected faults."""

    model: str | None = None
    seed: int = 0
    faults: list[str] = Field(default_factory=list)


class InstrumentRef(_Strict):
    """A slot's reference to an instrument, optionally to one channel of it (``psu:2``)."""

    instrument: str
    channel: int | None = None

    @classmethod
    def parse(cls, text: str) -> InstrumentRef:
        """Parse ``name`` or ``name:channel``."""
        name, _, channel = text.partition(":")
        if not _NAME.match(name):
            raise ValueError(f"not an instrument name: {name!r}")
        if channel and not channel.isdigit():
            raise ValueError(f"channel must be a positive integer, got {channel!r}")
        return cls(instrument=name, channel=int(channel) if channel else None)

    def __str__(self) -> str:
        return self.instrument if self.channel is None else f"{self.instrument}:{self.channel}"


class SlotConfig(_Strict):
    """A device slot: which kind of DUT sits there and which instruments serve it."""

    device_type: DeviceType
    description: str = ""
    supply_voltage: float = Field(default=230.0, gt=0)
    current_limit: float = Field(default=0.5, gt=0)
    boot_s: float = Field(default=1.0, ge=0)  # from power on until the device answers
    instruments: dict[str, InstrumentRef] = Field(default_factory=dict)
    profile: str = "reference"
    # Other profiles the slot's instruments and secrets can run, for a device whose catalogue
    # entry names one (e.g. a DLMS/COSEM meter on the same optical head as mode C ones).
    profiles: list[str] = Field(default_factory=list)
    profile_options: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)
    emulation: SlotEmulation = SlotEmulation()

    @property
    def all_profiles(self) -> list[str]:
        """Every profile the slot can run: its own first, then ``profiles``."""
        return [self.profile] + [p for p in self.profiles if p != self.profile]

    @field_validator("secrets")
    @classmethod
    def _secret_references(cls, value: dict[str, str]) -> dict[str, str]:
        for ref in value.values():
            check_reference(ref)
        return value

    @field_validator("device_type", mode="before")
    @classmethod
    def _parse_type(cls, value: Any) -> Any:
        if isinstance(value, str | int) and not isinstance(value, DeviceType):
            try:
                return DeviceType.parse(value)
            except ValueError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("instruments", mode="before")
    @classmethod
    def _parse_refs(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                role: InstrumentRef.parse(ref) if isinstance(ref, str) else ref
                for role, ref in value.items()
            }
        return value


MAX_TIME_SCALE = 200.0
"""The fastest fast mode: seeded batches give real time's verdicts at x200 (clock faults at
the catalogue's lowest drift included: benchmarks/scale_parity.py), and a device's own waits
there are a few milliseconds; at x500 a busy host's waits began to pass for the devices'."""


class BenchInfo(_Strict):
    """The bench's own identity: its name names its lock."""

    name: str
    description: str = ""
    site: str = ""
    # Fast mode (all-emulated benches only): emulated time runs this many times faster and
    # the harness divides its waits by it, so CI and benchmarks triage in a fraction of the time.
    time_scale: float = Field(default=1.0, ge=1.0, le=MAX_TIME_SCALE)

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("bench name must start with a letter: letters, digits, '-' or '_'")
        return value


class BenchConfig(_Strict):
    """A whole bench file."""

    bench: BenchInfo
    instruments: dict[str, InstrumentConfig] = Field(default_factory=dict)
    slots: dict[str, SlotConfig] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references_resolve(self) -> BenchConfig:
        for slot_name, slot in self.slots.items():
            for role, ref in slot.instruments.items():
                if ref.instrument not in self.instruments:
                    known = ", ".join(sorted(self.instruments)) or "none"
                    raise KeyPathError(
                        f"slots.{slot_name}.instruments.{role}",
                        f"no instrument named {ref.instrument!r} (instruments: {known})",
                    )
        return self

    @model_validator(mode="after")
    def _fast_only_when_emulated(self) -> BenchConfig:
        real = [n for n, i in self.instruments.items() if not i.emulated]
        if self.bench.time_scale != 1.0 and (real or not self.instruments):
            raise KeyPathError(
                "bench.time_scale",
                f"fast mode needs an all-emulated bench; real instrument(s): {', '.join(real)}"
                if real else "fast mode needs an all-emulated bench; this one has no instruments",
            )
        return self

    @property
    def emulated(self) -> bool:
        """True when any instrument is served by the emulator."""
        return any(i.emulated for i in self.instruments.values())

    def instruments_of(self, kind: str) -> dict[str, InstrumentConfig]:
        """The instruments of one kind, by name."""
        return {n: i for n, i in self.instruments.items() if i.kind == kind}
