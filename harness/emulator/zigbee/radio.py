"""The emulated 2.4 GHz world a bench's dongle hears: channel noise and each device's radio.

Deterministic from a seed: every channel 11-26 has a noise floor, and a Wi-Fi network sits
over four of them.  Each emulated device on the bench has a HAN radio with a signal level
at the dongle (drawn from the device's seed, or set per slot for a weak link).  A hub (or a
joined meter) whose radio is alive transmits on its channel and raises that channel's
energy; a dead radio (``han_radio_dead``, firmware in the boot loader, no supply) adds
nothing and is heard by nobody.  The world reads the bench's device mapping live, so a DUT
swapped by ``EmulatedBench.present`` is the one on the air.

An active scan hears beacons: a hub's for its own network, and an ESME's joined as a router in
its network (a returned ESME still in its field HAN answers beacon requests with its field
network's PAN; a GSME, a sleepy end device, sends none).  Hubs are listed first.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from harness.domain.types import DeviceType
from harness.emulator.world.device import EmulatedDevice
from harness.emulator.world.faults import stable_seed
from harness.emulator.world.models.comms_hub import CommsHub
from harness.emulator.world.models.meter import MeterDevice

CHANNELS = range(11, 27)
SENSITIVITY_DBM = -100.0
"""Weaker than this, a frame is not received at all."""
MIN_SNR_DB = 4.0
"""A frame this far above the channel's noise is decoded; nearer, it is lost."""
DUTY_DB = 10.0
"""A HAN radio transmits a small fraction of the time: its energy reads this far below it."""
# Wi-Fi channels 1, 6 and 11 each overlap four ZigBee channels.
_WIFI_OVERLAP = {1: (11, 12, 13, 14), 6: (16, 17, 18, 19), 11: (21, 22, 23, 24)}


@dataclass(frozen=True)
class Transmitter:
    """A device radio on the air: where, on which channel, how strong at the dongle."""

    slot: str
    device: EmulatedDevice
    channel: int | None  # None: not in a network (it scans when it wants to join)
    rssi_dbm: float


@dataclass(frozen=True)
class Beacon:
    """A beacon an active scan hears: the network it advertises, and how it was received."""

    channel: int
    pan_id: int
    extended_pan_id: str
    rssi_dbm: float
    lqi: int
    sender: Transmitter


class RadioWorld:
    """Channel noise plus the bench's device radios, as one dongle on the bench hears them."""

    def __init__(self, devices: Mapping[str, EmulatedDevice], seed: int = 0,
                 signal_dbm: Mapping[str, float] | None = None) -> None:
        self.devices = devices  # the bench's own mapping: swaps show at once
        self.seed = seed
        self.signal_overrides: dict[str, float] = dict(signal_dbm or {})
        rng = random.Random(stable_seed(seed, "radio-noise"))
        self.noise_dbm: dict[int, float] = {ch: round(rng.uniform(-98.0, -93.0), 1)
                                            for ch in CHANNELS}
        self.wifi_channel = rng.choice(sorted(_WIFI_OVERLAP))
        for ch in _WIFI_OVERLAP[self.wifi_channel]:
            self.noise_dbm[ch] = round(rng.uniform(-80.0, -72.0), 1)

    # -- devices on the air -----------------------------------------------------------------

    def set_signal(self, slot: str, dbm: float | None) -> None:
        """Fix the signal level of the device in ``slot`` at the dongle (None: its own)."""
        if dbm is None:
            self.signal_overrides.pop(slot, None)
        else:
            self.signal_overrides[slot] = float(dbm)

    def signal_dbm(self, slot: str, device: EmulatedDevice) -> float:
        """The device's signal level at the dongle: a bench distance drawn from its seed."""
        if slot in self.signal_overrides:
            return self.signal_overrides[slot]
        rng = random.Random(stable_seed(device.seed, "han-rssi"))
        return round(rng.uniform(-68.0, -50.0), 1)

    @staticmethod
    def radio_alive(device: EmulatedDevice) -> bool:
        """Whether the device's HAN radio is on the air (booted, radio and firmware sound)."""
        if not device.ready or not isinstance(device, MeterDevice | CommsHub):
            return False
        return device.han_radio_up()

    def transmitters(self) -> Iterator[Transmitter]:
        """Every device radio that is on the air now."""
        for slot, device in list(self.devices.items()):
            if not self.radio_alive(device):
                continue
            if isinstance(device, CommsHub):
                channel: int | None = device.channel  # a hub always runs its own network
            else:
                han = device.han_status()
                channel = han.channel if han.joined else None
            yield Transmitter(slot, device, channel, self.signal_dbm(slot, device))

    def find(self, eui64: str) -> Transmitter | None:
        """The transmitter whose device reports ``eui64``, if it is on the air."""
        return next((t for t in self.transmitters() if t.device.eui64 == eui64.upper()), None)

    def beacons(self, channel: int | None = None) -> list[Beacon]:
        """The beacons heard (on ``channel``, or every channel): hubs first, then routers."""
        hubs: list[Beacon] = []
        routers: list[Beacon] = []
        for t in self.transmitters():
            if t.channel is None or (channel is not None and t.channel != channel):
                continue
            if not self.heard(t.rssi_dbm, t.channel):
                continue
            device = t.device
            if isinstance(device, CommsHub):
                hubs.append(Beacon(t.channel, device.pan_id, device.eui64, t.rssi_dbm,
                                   self.lqi(t.rssi_dbm, t.channel), t))
            elif device.device_type is DeviceType.ESME:
                han = device.han_status()
                if han.joined and han.pan_id is not None and han.coordinator:
                    routers.append(Beacon(t.channel, han.pan_id, han.coordinator, t.rssi_dbm,
                                          self.lqi(t.rssi_dbm, t.channel), t))
        return hubs + routers

    # -- what a receiver measures ---------------------------------------------------------

    def energy_dbm(self, channel: int) -> float:
        """The energy an energy scan reads on ``channel``: noise plus radios on it."""
        power_mw = 10 ** (self.noise_dbm[channel] / 10)
        for t in self.transmitters():
            if t.channel == channel:
                power_mw += 10 ** ((t.rssi_dbm - DUTY_DB) / 10)
        return round(10 * math.log10(power_mw), 1)

    def heard(self, rssi_dbm: float, channel: int) -> bool:
        """Whether a frame at ``rssi_dbm`` on ``channel`` is received."""
        return rssi_dbm >= SENSITIVITY_DBM and rssi_dbm - self.noise_dbm[channel] >= MIN_SNR_DB

    def lqi(self, rssi_dbm: float, channel: int) -> int:
        """Link quality 0-255 from the signal-to-noise ratio (about 6 per dB, 255 at 40 dB)."""
        snr = rssi_dbm - self.noise_dbm[channel]
        return max(0, min(255, round(snr * 6.4)))
