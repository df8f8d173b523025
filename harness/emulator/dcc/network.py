"""How the emulated DCC reaches devices: over the SM WAN to a Communications Hub, then its HAN.

The devices are the emulated bench's (read live from the bench's slot mapping, so a DUT
swapped by ``EmulatedBench.present`` is the one reached) and the DCC's own test devices
(``reference.py``, as DCC Boxed ships device emulators).  Each belongs to a *site*: a meter
can join only a hub of its own site (the bench's devices are in radio range of each other,
the DCC's test devices of each other).

A device request reaches a hub when the hub is up and its WAN modem is connected, and a meter
when it is also joined to that hub's HAN and running; otherwise it fails as DUIS reports a
communications failure (E20 unable to communicate, E21 no response).  Joining is the hub's
own ``join`` (real keys both sides): after a successful 8.11 add, the whitelisted meter tries
once as soon as both it and the hub are up; the DCC learns of the join as from the CHF's
"device joining succeeded" alert (modelled: the domain page gives no SMI rule for it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from harness.domain.eui64 import eui64_duis, normalise_eui64
from harness.domain.types import DeviceType
from harness.emulator.world.device import EmulatedDevice
from harness.emulator.world.han import JoinResult
from harness.emulator.world.models.comms_hub import CommsHub
from harness.emulator.world.models.meter import MeterDevice
from harness.protocols.duis import DuisError

__all__ = [
    "BENCH_SITE",
    "COMMS_FAILURE",
    "NO_RESPONSE",
    "TEST_SITE",
    "DccNetwork",
    "JoinOutcome",
    "Located",
    "Route",
]

log = logging.getLogger("meterbench.emulator.dcc")

COMMS_FAILURE = "E20"
"""DUIS: Communications Failure - unable to communicate with the Device (codes.MEANINGS)."""
NO_RESPONSE = "E21"
"""DUIS: Communications Failure - no response received from the Device (codes.MEANINGS)."""

BENCH_SITE = "bench"
TEST_SITE = "dcc-test"


@dataclass(frozen=True)
class Located:
    """An emulated device as the DCC finds it: a GPF is its hub, in the role of GPF."""

    device: EmulatedDevice
    device_type: DeviceType
    site: str


@dataclass(frozen=True)
class Route:
    """A reachable device and the hub the DCC reaches it through."""

    device: EmulatedDevice
    device_type: DeviceType
    hub: CommsHub


@dataclass(frozen=True)
class JoinOutcome:
    """One join attempt the DCC saw happen after whitelisting."""

    hub_id: str
    device_id: str
    result: JoinResult


class DccNetwork:
    """Every device the emulated DCC can reach, and the joins it is waiting to see."""

    def __init__(self, bench_devices: Mapping[str, EmulatedDevice] | None = None) -> None:
        self._bench = bench_devices if bench_devices is not None else {}
        self._test_devices: list[EmulatedDevice] = []
        self._pending: dict[tuple[str, str], str] = {}  # (hub, meter) -> site
        self._lock = threading.RLock()

    # -- where devices are ------------------------------------------------------------------

    def add_test_device(self, device: EmulatedDevice) -> None:
        """Add one of the DCC's own test devices (site ``dcc-test``)."""
        with self._lock:
            self._test_devices.append(device)

    def located(self) -> Iterator[Located]:
        """Every device (and every hub's GPF) with its site."""
        with self._lock:
            groups = [(BENCH_SITE, list(self._bench.values())), (TEST_SITE, self._test_devices)]
        for site, devices in groups:
            for device in devices:
                yield Located(device, device.device_type, site)
                if isinstance(device, CommsHub):
                    yield Located(device, DeviceType.GPF, site)

    def find(self, device_id: str) -> Located | None:
        """The device that answers as ``device_id`` (a hub for its GPF's EUI-64), or None."""
        key = normalise_eui64(device_id)
        for item in self.located():
            if item.device_type is DeviceType.GPF:
                assert isinstance(item.device, CommsHub)  # located() lists a hub as its GPF
                eui = item.device.gpf_eui64
            else:
                eui = item.device.eui64
            if eui == key:
                return item
        return None

    def site_of(self, device_id: str) -> str | None:
        """The site of ``device_id``'s device, or None when no emulated device answers."""
        item = self.find(device_id)
        return item.site if item else None

    # -- reaching a device -----------------------------------------------------------------

    def hub(self, hub_id: str, *, path: str = "DeviceID") -> CommsHub:
        """The hub ``hub_id``, up and connected over the SM WAN (E20 otherwise)."""
        item = self.find(hub_id)
        if item is None or not isinstance(item.device, CommsHub):
            raise DuisError(f"no Communications Hub answers as {eui64_duis(hub_id)} on the SM "
                            "WAN", response_code=COMMS_FAILURE, path=path, device=hub_id)
        hub = item.device
        wan = hub.wan_status()
        if not wan.connected:
            raise DuisError(f"Communications Hub {eui64_duis(hub_id)} is not connected to the "
                            f"SM WAN (modem {wan.modem})", response_code=COMMS_FAILURE,
                            path=path, device=hub_id)
        return hub

    def route(self, device_id: str, chf_id: str | None, *, path: str = "DeviceID") -> Route:
        """Reach ``device_id`` through its hub (the device itself for a CHF or GPF).

        ``chf_id`` is the SMI's record of the CHF whose HAN the device is in.
        """
        item = self.find(device_id)
        if item is None:
            raise DuisError(f"no emulated device answers as {eui64_duis(device_id)}",
                            response_code=COMMS_FAILURE, path=path, device=device_id)
        if item.device_type in (DeviceType.CHF, DeviceType.GPF):
            hub = self.hub(device_id, path=path)
            return Route(item.device, item.device_type, hub)
        if chf_id is None:
            raise DuisError(f"device {eui64_duis(device_id)} is in no CHF's HAN: nothing can "
                            "reach it", response_code=COMMS_FAILURE, path=path, device=device_id)
        hub = self.hub(chf_id, path=path)
        han = item.device.han_status()
        if not (item.device.ready and han.joined and han.coordinator == hub.eui64):
            state = "not running" if not item.device.ready else (
                f"joined to {han.coordinator}" if han.joined else "not joined")
            raise DuisError(f"device {eui64_duis(device_id)} does not answer over the HAN of "
                            f"{eui64_duis(hub.eui64)} ({state})", response_code=NO_RESPONSE,
                            path=path, device=device_id)
        return Route(item.device, item.device_type, hub)

    # -- joining after whitelisting --------------------------------------------------------------

    def expect_join(self, hub: CommsHub, device_id: str) -> None:
        """A device was whitelisted in ``hub``: it will try to join once both are up."""
        site = next((i.site for i in self.located() if i.device is hub), None)
        if site is None:
            return
        with self._lock:
            self._pending[(hub.eui64, normalise_eui64(device_id))] = site

    def forget_join(self, hub_id: str, device_id: str) -> None:
        """The device left the whitelist before joining: stop expecting it."""
        with self._lock:
            self._pending.pop((normalise_eui64(hub_id), normalise_eui64(device_id)), None)

    def settle(self, on_joined: Callable[[JoinOutcome], None]) -> list[JoinOutcome]:
        """Let every expected join whose hub and meter are both up happen now.

        Each expected join is tried once (as a meter tries once per window); ``on_joined``
        hears every successful one.  Returns every attempt made.
        """
        with self._lock:
            pending = dict(self._pending)
        outcomes = []
        for (hub_id, device_id), site in pending.items():
            hub_item, meter_item = self.find(hub_id), self.find(device_id)
            if hub_item is None or meter_item is None or meter_item.site != site:
                continue
            hub, meter = hub_item.device, meter_item.device
            if not (isinstance(hub, CommsHub) and isinstance(meter, MeterDevice)):
                continue
            if not (hub.ready and meter.ready):
                continue
            result = hub.join(meter)
            with self._lock:
                self._pending.pop((hub_id, device_id), None)
            outcome = JoinOutcome(hub_id, device_id, result)
            log.info("join of %s to hub %s: %s", device_id, hub_id, result.value)
            outcomes.append(outcome)
            if result is JoinResult.JOINED:
                on_joined(outcome)
        return outcomes
