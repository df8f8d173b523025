"""Who an emulated device is, and what its label says it is.

The label is what a returns facility scans (serial number, EUI-64, install code); the
identity is what the device reports.  They agree unless a fault says otherwise, and both
follow from the model and the seed alone, so a batch manifest can print a device's label
without building the device.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from harness.domain.eui64 import eui64_duis
from harness.domain.types import DeviceType
from harness.emulator.world.catalogue import DeviceModel
from harness.emulator.world.faults import stable_seed
from harness.protocols.installcode import InstallCode


@dataclass(frozen=True)
class Label:
    """The printed label: serial number (the label ID), EUI-64 and install code."""

    serial: str
    eui64: str
    install_code: InstallCode

    @property
    def eui64_duis(self) -> str:
        """The EUI-64 as DUIS writes it (dash-separated pairs)."""
        return eui64_duis(self.eui64)


@dataclass(frozen=True)
class DeviceIdentity:
    """What the device reports about itself."""

    device_type: DeviceType
    eui64: str
    serial: str
    manufacturer: str
    model: str
    firmware_version: str
    hardware_version: str
    smets_version: str
    gbcs_version: str
    wan_variant: str | None = None
    han_variant: str | None = None


def label_for(model: DeviceModel, seed: int) -> tuple[str, str]:
    """The label's ``(serial, eui64)`` for a device of ``model`` built from ``seed``.

    Cheap (one small random draw): populations call it for every manifest row.
    """
    rng = random.Random(stable_seed(seed, "label", model.name))
    eui64 = f"{model.eui64_prefix}{rng.getrandbits(40):010X}"
    serial = f"{model.serial_prefix}{rng.randrange(10**8):08d}"
    return serial, eui64


def install_code_for(model: DeviceModel, seed: int) -> InstallCode:
    """The device's genuine install code, drawn from its seed."""
    return InstallCode.generate(random.Random(seed), model.install_code_length)


def other_install_code(code: InstallCode, seed: int, why: str) -> InstallCode:
    """A different code of the same length (a misprinted label, a corrupted copy)."""
    rng = random.Random(stable_seed(seed, why))
    while True:
        candidate = InstallCode.generate(rng, len(code))
        if candidate != code:
            return candidate


def reported_identity(model: DeviceModel, serial: str, eui64: str) -> DeviceIdentity:
    """The identity a device of ``model`` reports under ``serial`` and ``eui64``."""
    return DeviceIdentity(
        device_type=model.device_type,
        eui64=eui64,
        serial=serial,
        manufacturer=model.manufacturer,
        model=model.name,
        firmware_version=model.firmware_version,
        hardware_version=model.hardware_version,
        smets_version=model.smets_version,
        gbcs_version=model.gbcs_version,
        wan_variant=model.wan_variant,
        han_variant=model.han_variant,
    )


def mismatched(serial: str, eui64: str, seed: int) -> tuple[str, str]:
    """Another serial and EUI-64 of the same shape (the label-mismatch fault)."""
    rng = random.Random(stable_seed(seed, "label-mismatch"))
    other_eui = eui64[:6] + f"{rng.getrandbits(40):010X}"
    digits = len(serial) - len(serial.rstrip("0123456789"))
    other_serial = serial[: len(serial) - digits] + f"{rng.randrange(10**digits):0{digits}d}"
    return other_serial, other_eui
