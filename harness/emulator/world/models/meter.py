"""What ESMEs and GSMEs share: joining a hub's HAN as an end device, and metrology faults.

A meter joins by opening the coordinator's Transport-Key frame with the link key it derived
itself from the install code it holds (``harness.emulator.world.han``): only the right key opens
it, so a corrupt install code, a misprinted label or a dead radio each fail as a real
device would.
"""

from __future__ import annotations

import datetime
import random

from harness.domain.types import SmiStatus
from harness.emulator.world.device import EmulatedDevice
from harness.emulator.world.device_core import operation, reader
from harness.emulator.world.faults import stable_seed
from harness.emulator.world.han import (
    HanState,
    JoinResult,
    next_link_key,
    open_transport_key,
    seal_transport_key,
)
from harness.protocols.gbcs_alerts import GbcsAlert
from harness.protocols.installcode import LinkKey

_PRE_JOIN = (SmiStatus.PENDING, SmiStatus.WHITELISTED)
TEST_COORDINATOR = "00DB3100000000FE"
"""The EUI-64 :meth:`MeterDevice.try_join` uses for a coordinator that names none (a dongle)."""


class MeterDevice(EmulatedDevice):
    """An ESME or GSME: a HAN end device with metrology."""

    def _booted(self, t: float) -> None:
        super()._booted(t)
        if "measurement_fault" in self._faults:
            self._log(GbcsAlert.MEASUREMENT_FAULT)

    # -- joining ---------------------------------------------------------------------------

    def han_radio_up(self) -> bool:
        """Whether the HAN radio is up and the firmware running."""
        return self._ready and "han_radio_dead" not in self._faults and self._firmware_ok()

    def receive_transport_key(self, frame: bytes, coordinator: str, counter: int,
                              channel: int, pan_id: int) -> JoinResult:
        """Take a coordinator's Transport-Key frame: join if it opens under the device's key."""
        with self._lock:
            self._tick()
            if not self.han_radio_up():
                return JoinResult.NO_RESPONSE
            own = self._ram.han.link_key
            network_key = open_transport_key(own, frame, coordinator, self.eui64, counter)
            if network_key is None:
                return JoinResult.KEY_MISMATCH
            self._ram.han = HanState(
                link_key=next_link_key(own, coordinator, self.eui64, counter),
                joined=True, channel=channel, pan_id=pan_id, coordinator=coordinator,
                network_key=network_key,
            )
            self._log(GbcsAlert.DEVICE_JOINED_SMHAN, coordinator)
            if self._ram.status in _PRE_JOIN:
                self._set_status(SmiStatus.INSTALLED_NOT_COMMISSIONED, "joined HAN")
            return JoinResult.JOINED

    def try_join(self, coordinator_link_key: LinkKey, channel: int, pan_id: int, *,
                 coordinator_eui64: str = TEST_COORDINATOR, counter: int = 0) -> JoinResult:
        """Join a coordinator that holds ``coordinator_link_key`` for this device.

        The coordinator's side is played here: it seals a network key under its key, and
        the device must open it with its own.
        """
        rng = random.Random(stable_seed(self.seed, "network-key", coordinator_eui64))
        frame = seal_transport_key(coordinator_link_key, rng.randbytes(16),
                                   coordinator_eui64, self.eui64, counter)
        return self.receive_transport_key(frame, coordinator_eui64, counter, channel, pan_id)

    @operation
    def leave(self) -> bool:
        """Leave the HAN, keeping the current link key (the hub's "old link key")."""
        han = self._ram.han
        if not han.joined:
            return False
        self._ram.han = HanState(link_key=han.link_key)
        return True

    def _field_han(self, installed: datetime.datetime) -> None:
        rng = random.Random(stable_seed(self.seed, "field-han"))
        coordinator = f"00DB31{rng.getrandbits(40):010X}"
        own = self._ram.han.link_key
        self._ram.han = HanState(
            link_key=next_link_key(own, coordinator, self.eui64, 0), joined=True,
            channel=rng.randint(11, 26), pan_id=rng.getrandbits(16), coordinator=coordinator,
            network_key=rng.randbytes(16),
        )
        self._ram.logs.record(GbcsAlert.DEVICE_JOINED_SMHAN, installed, coordinator)

    # -- metrology -------------------------------------------------------------------------

    @reader
    def import_register(self) -> int | None:
        """The import register (Wh or dm³); None when consumer data is unavailable."""
        return self._ram.consumer.import_register
