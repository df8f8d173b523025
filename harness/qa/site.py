"""A QA environment reached through the DCC: a test Communications Hub and the devices in its HAN.

SECMP0013's original solution (GB-SMART-METERING.md, "Why triage exists") installs and
uninstalls devices in a QA environment with dummy MPxNs.  :class:`QaSite` does the parts the
QA suite and the ``duis`` profile share, with DUIS Service Requests only, so it works against
a DCC test environment as against the emulated DCC: read a device's SMI entry (8.2), install
the test hub (8.14.1) and wait for the DCC to commission it, install a device in the hub's
HAN (12.2 if needed, 8.11 with its install code, the join the CHF reports) and wait for an
SMI status.

Modelled, not given by the domain page: the dummy MPxN values (:func:`dummy_mpxn`), that the
test hub is installed as "installed with SM WAN" (8.14.1) indoors on an external wall with
no aerial, and how long to wait for a hub to be commissioned or a device to join.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from harness.bench.bench import Slot
from harness.domain.eui64 import eui64_duis, normalise_eui64
from harness.domain.types import DeviceType, SmiStatus
from harness.drivers.dcc.base import DccResponseError
from harness.drivers.dcc.service_requests import ServiceRequestsMixin
from harness.errors import OperationError
from harness.protocols.duis.codes import DEVICE_NOT_FOUND
from harness.protocols.duis.vocabulary import CHFLocation
from harness.protocols.installcode import InstallCode

__all__ = ["IN_SERVICE", "QaSite", "dummy_mpxn", "entries", "power_up"]

_S = SmiStatus
IN_SERVICE = frozenset({_S.INSTALLED_NOT_COMMISSIONED, _S.COMMISSIONED})
"""SMI statuses of a device that is installed (the DCC sends it device requests)."""

_DUMMY_MPAN = "9900000000001"
_DUMMY_MPRN = "9900000001"
"""Dummy MPxNs (modelled): 13 characters as DUIS's MPAN type, 10 digits for a gas MPRN; an
MPAN core starting 99 names no GB distributor, so neither can be a real supply point."""


def dummy_mpxn(device_type: DeviceType) -> str:
    """The QA environment's dummy MPxN for a device: an MPRN for gas, an MPAN otherwise."""
    return _DUMMY_MPRN if device_type in (DeviceType.GSME, DeviceType.GPF) else _DUMMY_MPAN


def entries(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``Device`` entries of an 8.2 ``DSPInventory`` (or a status update) as a list."""
    devices = body.get("Device", [])
    return [d for d in (devices if isinstance(devices, list) else [devices])
            if isinstance(d, dict)]


def power_up(slot: Slot) -> bool:
    """Switch ``slot``'s supply on at its nominal voltage and wait its boot time, unless it is
    on already; True when it was switched on now."""
    channel = slot.power
    if channel.is_on:
        return False
    channel.set_voltage(slot.config.supply_voltage)
    channel.set_current_limit(slot.config.current_limit)
    channel.on()
    slot.bench.wait(slot.config.boot_s)
    return True


class QaSite:
    """The QA environment one DCC adapter reaches: its test hub ``hub_id`` and SMI reads."""

    def __init__(self, dcc: ServiceRequestsMixin, hub_id: str, *, timeout_s: float = 10.0,
                 poll_s: float = 0.05, sleep: Callable[[float], None] = time.sleep) -> None:
        self.dcc = dcc
        self.hub_id = normalise_eui64(hub_id)
        self.timeout_s = timeout_s
        self.poll_s = poll_s
        self.sleep = sleep

    # -- reading the SMI ------------------------------------------------------------------------

    def entry(self, device_id: str) -> dict[str, Any] | None:
        """The device's 8.2 Read Inventory entry; None when the SMI does not know it (E19)."""
        response = self.dcc.read_inventory(device_id, check=False)
        if response.response_code == DEVICE_NOT_FOUND:
            return None
        if not response.success:
            raise DccResponseError(f"8.2 Read Inventory of {eui64_duis(device_id)} refused: "
                                   f"{response.response_code} {response.message}".rstrip(),
                                   response=response, instrument=self.dcc.name)
        wanted = eui64_duis(device_id)
        for item in entries(response.body):
            if item.get("DeviceID") == wanted:
                return item
        raise OperationError(f"{self.dcc.name}: 8.2 answer does not list {wanted}",
                             instrument=self.dcc.name)

    def status(self, device_id: str) -> SmiStatus | None:
        """The device's SMI status by 8.2; None when the SMI does not know it."""
        item = self.entry(device_id)
        return None if item is None else SmiStatus(item["DeviceStatus"])

    def hub_devices(self) -> list[str]:
        """EUI-64s the SMI lists in the test hub's HAN (8.2 of the CHF; its GPF included)."""
        response = self.dcc.read_inventory(self.hub_id)
        return [normalise_eui64(d["DeviceID"]) for d in entries(response.body)
                if normalise_eui64(d["DeviceID"]) != self.hub_id]

    def wait_status(self, device_id: str, wanted: SmiStatus, *,
                    timeout_s: float | None = None) -> SmiStatus:
        """Read 8.2 until the device is ``wanted``; OperationError naming the last status."""
        deadline = time.monotonic() + (self.timeout_s if timeout_s is None else timeout_s)
        while True:
            status = self.status(device_id)
            if status is wanted:
                return status
            if time.monotonic() >= deadline:
                raise OperationError(
                    f"{self.dcc.name}: {eui64_duis(device_id)} is {status or 'not in the SMI'}"
                    f", not {wanted}, after {self.timeout_s if timeout_s is None else timeout_s}"
                    " s", instrument=self.dcc.name, device=device_id)
            self.sleep(self.poll_s)

    # -- installing -----------------------------------------------------------------------------

    def ensure_hub(self) -> None:
        """The test hub Commissioned: installed by 8.14.1 when Pending, then commissioned by
        the DCC over the SM WAN (waited for).  OperationError for a hub out of service."""
        status = self.status(self.hub_id)
        if status is None:
            raise OperationError(f"{self.dcc.name}: the QA hub {eui64_duis(self.hub_id)} is not "
                                 "in the Smart Metering Inventory", instrument=self.dcc.name)
        if status is _S.PENDING:
            self.dcc.ch_status_update("8.14.1", self.hub_id, mpxn=_DUMMY_MPAN,
                                      aerial_install=False,
                                      location=CHFLocation.INDOORS_ON_EXTERNAL_WALL)
        elif status not in IN_SERVICE:
            raise OperationError(f"{self.dcc.name}: the QA hub {eui64_duis(self.hub_id)} is "
                                 f"{status}: it cannot carry a HAN", instrument=self.dcc.name)
        self.wait_status(self.hub_id, _S.COMMISSIONED)

    def install(self, device_id: str, install_code: InstallCode | str, *, mpxn: str,
                entry: dict[str, Any] | None = None) -> SmiStatus:
        """Put a device not in service into the test hub's HAN: 12.2 again when it was
        decommissioned or withdrawn, 8.11 with its install code, then wait for the join the
        CHF reports (Installed Not Commissioned).  ``entry``: its 8.2 entry, if just read."""
        item = entry if entry is not None else self.entry(device_id)
        if item is None:
            raise OperationError(f"{self.dcc.name}: {eui64_duis(device_id)} is not in the SMI: "
                                 "pre-notify it (12.2) first", instrument=self.dcc.name)
        status = SmiStatus(item["DeviceStatus"])
        if status in (_S.DECOMMISSIONED, _S.WITHDRAWN):
            self.dcc.pre_notify(device_id, device_type=item["DeviceType"],
                                manufacturer=item.get("DeviceManufacturer") or "",
                                model=item.get("DeviceModel") or "",
                                firmware_version=item.get("DeviceFirmwareVersion"))
            status = _S.PENDING
        if status not in (_S.PENDING, _S.WHITELISTED):
            raise OperationError(f"{self.dcc.name}: {eui64_duis(device_id)} is {status}: only "
                                 "a device not in service is installed", instrument=self.dcc.name)
        self.dcc.whitelist(self.hub_id, device_id, install_code, mpxn=mpxn)
        return self.wait_status(device_id, _S.INSTALLED_NOT_COMMISSIONED)
