"""The DCC's own test devices: the ones DCC's reference requests address, as DCC Boxed has.

DCC's reference requests (../shared/reference/duis, from DCC's Reference Test Data Set) name
00-DB-12-34-56-78-90-A0 (the ESME pre-notified by 12.2, whitelisted by 8.11 and decommissioned
by 8.3), ...-A1 (whose event log 6.13 reads) and ...-A2 (the CHF of 8.2, 8.11 and 8.14.x).
The examples do not say what A1 is: the emulator makes it a GSME (modelled), installed and
commissioned at hub A2, whose GPF takes A3 (the emulated hub's rule: its own EUI-64 with the
last bit flipped).  A0 holds the install code 8.11's example whitelists it with, so the join
that follows succeeds as on DCC Boxed.

These are ordinary emulated devices of the catalogue's models whose EUI-64 (and A0's install
code) is fixed instead of drawn from a seed; they are powered from the start.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from harness.domain.eui64 import normalise_eui64
from harness.domain.types import DeviceType, SmiStatus
from harness.emulator.dcc.inventory import DeviceRecord
from harness.emulator.world.clock import Clock
from harness.emulator.world.device import EmulatedDevice
from harness.emulator.world.models import CommsHub, Esme, Gsme, MeterDevice
from harness.emulator.world.pki import TestPki
from harness.protocols.installcode import InstallCode

__all__ = ["REFERENCE_DEVICES", "ReferenceDevice", "build_reference_devices",
           "install_reference_site", "reference_records"]

log = logging.getLogger("meterbench.emulator.dcc")

REFERENCE_INSTALL_CODE = InstallCode(bytes.fromhex("30313233343536373839414243444546"))
"""The install code DCC's CCS01 8.11 example whitelists 00-DB-12-34-56-78-90-A0 with."""


@dataclass(frozen=True)
class ReferenceDevice:
    """One test device: its EUI-64, type, catalogue model and SMI status at start (None:
    not in the SMI until a request enters it)."""

    eui64: str
    device_type: DeviceType
    model: str
    seed: int
    smi_status: SmiStatus | None
    install_code: InstallCode | None = None


REFERENCE_DEVICES: tuple[ReferenceDevice, ...] = (
    ReferenceDevice("00DB1234567890A2", DeviceType.CHF, "EMU-CH-1", 9002, SmiStatus.COMMISSIONED),
    ReferenceDevice("00DB1234567890A1", DeviceType.GSME, "EMU-GSME-1", 9001,
                    SmiStatus.COMMISSIONED),
    ReferenceDevice("00DB1234567890A0", DeviceType.ESME, "EMU-ESME-1", 9000, None,
                    REFERENCE_INSTALL_CODE),
)
"""The test devices; the CHF first (the others are installed at it)."""

REFERENCE_HUB = REFERENCE_DEVICES[0].eui64


class _FixedIdentity(EmulatedDevice):
    """Mixin over a model class: the device reports the given EUI-64 (and holds the given
    install code)."""

    def __init__(self, *args: Any, fixed_eui64: str, fixed_install_code: InstallCode | None,
                 **kwargs: Any) -> None:
        self._fixed = (normalise_eui64(fixed_eui64), fixed_install_code)
        super().__init__(*args, **kwargs)

    def _make_identity(self) -> None:
        """The model's identity, then the fixed EUI-64 and install code over it."""
        super()._make_identity()
        eui, code = self._fixed
        me: Any = self
        code = code or me.label.install_code
        me.label = replace(me.label, eui64=eui, install_code=code)
        me.identity = replace(me.identity, eui64=eui)
        me._stored_install_code = code  # the copy the device derives its join key from


@functools.cache
def _fixed_class(base: type[EmulatedDevice]) -> Callable[..., EmulatedDevice]:
    """The fixed-identity variant of a model class (one per base class); its constructor
    also takes ``fixed_eui64`` and ``fixed_install_code`` (the mixin's)."""
    return type(f"Reference{base.__name__}", (_FixedIdentity, base), {})


_BASES: dict[DeviceType, type[EmulatedDevice]] = {
    DeviceType.CHF: CommsHub, DeviceType.ESME: Esme, DeviceType.GSME: Gsme,
}


def build_reference_devices(clock: Clock, pki: TestPki | None = None) -> list[EmulatedDevice]:
    """The test devices, factory-fresh and unpowered."""
    devices = []
    for ref in REFERENCE_DEVICES:
        cls = _fixed_class(_BASES[ref.device_type])
        devices.append(cls(f"dcc-{ref.eui64[-2:]}", ref.device_type, None, ref.seed, clock,
                           model=ref.model, pki=pki, fixed_eui64=ref.eui64,
                           fixed_install_code=ref.install_code))
    return devices


def install_reference_site(devices: list[EmulatedDevice]) -> None:
    """Bring the test devices to their starting state (all must be running): the hub and its
    GPF commissioned, the meters with an SMI status installed and commissioned at the hub."""
    hub = next(d for d in devices if isinstance(d, CommsHub))
    hub.report_install_success()
    hub.commission_with_consumer_data(days=0)
    by_eui = {d.eui64: d for d in devices}
    for ref in REFERENCE_DEVICES[1:]:
        meter = by_eui[ref.eui64]
        if ref.smi_status is not SmiStatus.COMMISSIONED or not isinstance(meter, MeterDevice):
            continue
        hub.whitelist(meter.label.eui64, meter.label.install_code,
                      device_type=meter.device_type)
        hub.join(meter)
        meter.commission_with_consumer_data(days=0)
    log.info("DCC test devices installed at hub %s", hub.eui64)


def reference_records(devices: list[EmulatedDevice]) -> list[DeviceRecord]:
    """The SMI records the test devices start with (the GPF beside its hub)."""
    records = []
    by_eui = {d.eui64: d for d in devices}
    for ref in REFERENCE_DEVICES:
        if ref.smi_status is None:
            continue
        device = by_eui[ref.eui64]
        identity = device.identity
        common: dict[str, Any] = {
            "manufacturer": identity.manufacturer, "model": identity.model,
            "firmware_version": identity.firmware_version,
            "smets_chts_version": identity.smets_version, "origin": "DCC test device",
        }
        if isinstance(device, CommsHub):
            records.append(DeviceRecord(ref.eui64, DeviceType.CHF, ref.smi_status,
                                        gpf_id=device.gpf_eui64, **common))
            records.append(DeviceRecord(device.gpf_eui64, DeviceType.GPF, ref.smi_status,
                                        chf_id=ref.eui64, **common))
        else:
            records.append(DeviceRecord(ref.eui64, ref.device_type, ref.smi_status,
                                        chf_id=REFERENCE_HUB, install_code=ref.install_code,
                                        **common))
    return records
