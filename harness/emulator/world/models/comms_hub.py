"""The emulated Communications Hub: CHF (HAN coordinator, device logs, WAN modem) and GPF.

The CHF keeps a device log of whitelisted/joined devices and a historic device log of the
15 that last left (GB-SMART-METERING.md, SR 8.11); it admits a device by sealing the network
key under the key the whitelist rule allows at that moment (``harness.emulator.world.han``).  The
GPF is a HAN device of the hub itself: its HAN state is the hub's ``han_status()``, and the
gas data it mirrors is the hub's consumer data.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field

from harness.domain.eui64 import normalise_eui64
from harness.domain.types import DeviceType, SmiStatus
from harness.emulator.world.consumer import ConsumerData, fill_consumer_data
from harness.emulator.world.device import EmulatedDevice
from harness.emulator.world.device_core import operation, reader
from harness.emulator.world.faults import stable_seed
from harness.emulator.world.han import (
    DeviceLogEntry,
    HanJoiner,
    HanState,
    HistoricEntry,
    JoinAttempt,
    JoinResponseCode,
    JoinResult,
    new_network_key,
    next_link_key,
    offered_key,
    seal_transport_key,
)
from harness.emulator.world.power_model import WAN_BURST
from harness.emulator.world.state import PersistentState
from harness.protocols.gbcs_alerts import GbcsAlert
from harness.protocols.installcode import InstallCode, LinkKey

CONNECT_RSSI_DBM = -105.0
"""Below this the emulated modem cannot hold a connection (an emulator setting)."""


@dataclass
class HubState:
    """The CHF's persistent HAN side."""

    network_key: bytes
    device_log: dict[str, DeviceLogEntry] = field(default_factory=dict)
    historic_log: list[HistoricEntry] = field(default_factory=list)
    join_attempts: list[JoinAttempt] = field(default_factory=list)
    counter: int = 1


@dataclass(frozen=True)
class WanStatus:
    """The WAN side as the hub reports it."""

    modem: str  # "off", "registered", "fault", "no SIM"
    sim_present: bool
    iccid: str | None
    rssi_dbm: float | None
    connected: bool


@dataclass(frozen=True)
class DeviceLogView:
    """One CHF device-log entry as the hub reports it (SR 8.9 Read Device Log; no keys)."""

    eui64: str
    device_type: DeviceType | None
    joined: bool


class CommsHub(EmulatedDevice):
    """A Communications Hub (CHF with its GPF)."""

    def _initial_state(self) -> PersistentState:
        state = super()._initial_state()
        rng = random.Random(stable_seed(self.seed, "hub"))
        self.channel = rng.randint(11, 26)
        self.pan_id = rng.getrandbits(16)
        self.gpf_eui64 = f"{self.label.eui64[:-1]}{(int(self.label.eui64[-1], 16) ^ 1):X}"
        self._wan_rng = random.Random(stable_seed(self.seed, "wan"))
        self._network_rng = random.Random(stable_seed(self.seed, "network-key"))
        state.hub = HubState(new_network_key(self._network_rng))
        return state

    @property
    def _hub(self) -> HubState:
        return self._ram.hub

    def _tamper_code(self, flag: str) -> int:
        return GbcsAlert.UNAUTHORISED_PHYSICAL_ACCESS_TAMPER

    def han_radio_up(self) -> bool:
        """Whether the HAN radio is up and the firmware running (the radio world asks)."""
        return "han_radio_dead" not in self._faults and self._firmware_ok()

    # -- the device logs -----------------------------------------------------------------

    @operation
    def whitelist(self, eui64: str, install_code: InstallCode, now: float | None = None,
                  device_type: DeviceType | None = None) -> JoinResponseCode:
        """Add a device to the device log (SR 8.11); its join window starts at ``now``."""
        self._require_firmware("update the device log")
        eui = normalise_eui64(eui64)
        log = self._hub.device_log
        existing = log.get(eui)
        if existing is not None and existing.joined:
            return JoinResponseCode.INCOMPATIBLE_WITH_EXISTING_ENTRY
        if existing is None and len(log) >= self.model.device_log_capacity:
            return JoinResponseCode.DEVICE_LOG_FULL
        old = next((h.link_key for h in self._hub.historic_log if h.eui64 == eui), None)
        key = self._derive(install_code)
        log[eui] = DeviceLogEntry(eui, device_type, key, old, self._at(now),
                                  self.model.join_timeout_s)
        self._log(GbcsAlert.CHF_DEVICE_LOG_CHANGED, eui)
        return JoinResponseCode.SUCCESS

    def _derive(self, install_code: InstallCode) -> LinkKey:
        """The link key the hub derives from a code (wrong under han_join_fails)."""
        if "han_join_fails" in self._faults:  # the hub's key derivation is corrupt
            return InstallCode(bytes(b ^ 0x5A for b in install_code.code)).link_key()
        return install_code.link_key()

    def _at(self, now: float | None) -> float:
        return self._now if now is None else now

    @operation
    def remove_device(self, eui64: str) -> bool:
        """Remove a device from the device log; a joined one goes to the historic log."""
        eui = normalise_eui64(eui64)
        entry = self._hub.device_log.pop(eui, None)
        if entry is None:
            self._log(GbcsAlert.DEVICE_UNJOINING_FAILED, eui)
            return False
        if entry.link_key is not None:
            history = [h for h in self._hub.historic_log if h.eui64 != eui]
            history.append(HistoricEntry(eui, entry.link_key))
            self._hub.historic_log = history[-self.model.historic_log_capacity:]
        self._log(GbcsAlert.DEVICE_UNJOINING_SUCCEEDED, eui)
        self._log(GbcsAlert.CHF_DEVICE_LOG_CHANGED, eui)
        return True

    @reader
    def device_log(self) -> tuple[DeviceLogView, ...]:
        """The CHF device log (SR 8.9)."""
        return tuple(DeviceLogView(e.eui64, e.device_type, e.joined)
                     for e in self._hub.device_log.values())

    @reader
    def historic_device_log(self) -> tuple[str, ...]:
        """EUI-64s of the devices that last left, oldest first (at most 15)."""
        return tuple(h.eui64 for h in self._hub.historic_log)

    @reader
    def join_attempts(self) -> tuple[JoinAttempt, ...]:
        """Every join attempt the hub has seen."""
        return tuple(self._hub.join_attempts)

    # -- admitting a device ----------------------------------------------------------------

    @operation
    def join(self, meter: HanJoiner, now: float | None = None) -> JoinResult:
        """Let ``meter`` (or any joiner, e.g. a bench dongle) try to join now: the hub offers
        the key the whitelist rule allows, sealed; only the joiner's own key opens it."""
        t, eui, hub = self._at(now), meter.eui64, self._hub
        if not self.han_radio_up():
            return self._attempt(t, eui, None, JoinResult.NO_RESPONSE)
        entry = hub.device_log.get(eui)
        offer = offered_key(entry, t) if entry is not None else None
        if offer is None or entry is None:
            return self._attempt(t, eui, None, JoinResult.NOT_WHITELISTED)
        key, source = offer
        counter, hub.counter = hub.counter, hub.counter + 1
        frame = seal_transport_key(key, hub.network_key, self.eui64, eui, counter)
        result = meter.receive_transport_key(frame, self.eui64, counter, self.channel,
                                             self.pan_id)
        if result is JoinResult.JOINED:
            entry.link_key = next_link_key(key, self.eui64, eui, counter)
            entry.old_key = None
            self._log(GbcsAlert.CHF_DEVICE_LOG_CHANGED, eui)
            if meter.device_type is DeviceType.ESME:
                self._log(GbcsAlert.CH_CONNECTED_TO_ESME, eui)
        return self._attempt(t, eui, source, result)

    def _attempt(self, t: float, eui: str, source: str | None, result: JoinResult) -> JoinResult:
        self._hub.join_attempts.append(JoinAttempt(t, eui, source, result))
        ok = result is JoinResult.JOINED
        self._log(GbcsAlert.DEVICE_JOINING_SUCCEEDED if ok else GbcsAlert.DEVICE_JOINING_FAILED,
                  f"{eui} {result.value}")
        return result

    # -- WAN --------------------------------------------------------------------------------

    def _modem(self) -> str:
        if not self._ready:
            return "off"
        if "wan_modem_fault" in self._faults or not self._firmware_ok():
            return "fault"
        if "no_sim" in self._faults:
            return "no SIM"
        return "registered"

    def _silent_radios(self) -> set[str]:
        silent = super()._silent_radios()
        if self._modem() != "registered":
            silent.add(WAN_BURST)
        return silent

    @reader
    def wan_status(self) -> WanStatus:
        """Modem state, SIM, signal and connectivity."""
        modem = self._modem()
        sim = "no_sim" not in self._faults
        rng = random.Random(stable_seed(self.seed, "iccid"))
        iccid = "8944" + "".join(str(rng.randrange(10)) for _ in range(15)) if sim else None
        if modem != "registered":
            return WanStatus(modem, sim, iccid if modem != "off" else None, None, False)
        level = self._faults.value("weak_wan_signal", self.model.rssi_dbm)
        rssi = round(level + self._wan_rng.gauss(0.0, 1.5), 1)  # each reading varies a little
        return WanStatus(modem, sim, iccid, rssi, level >= CONNECT_RSSI_DBM)

    # -- commissioning, field history and reset ---------------------------------------------

    def _gpf_joined(self, at: datetime.datetime) -> None:
        hub, own = self._hub, self._ram.han.link_key
        key = next_link_key(own, self.eui64, self.gpf_eui64, 0)
        hub.device_log[self.gpf_eui64] = DeviceLogEntry(
            self.gpf_eui64, DeviceType.GPF, own, None, self._now, 0.0, key)
        self._ram.han = HanState(key, True, self.channel, self.pan_id, self.eui64,
                                 hub.network_key)
        self._ram.logs.record(GbcsAlert.DEVICE_JOINED_SMHAN, at, self.gpf_eui64)

    def _fill(self, until: datetime.datetime, days: int, mpxn: str | None) -> ConsumerData:
        return fill_consumer_data(DeviceType.GSME, self.seed, until, days=days,
                                  prepayment=self.model.prepayment, mpxn=mpxn)

    @operation
    def commission_with_consumer_data(self, days: int = 30, mpxn: str | None = None) -> None:
        """Commission the CHF and its GPF (the GPF joins the CHF) and fill the GPF's gas data."""
        self._require_firmware("commission")
        if not self._ram.han.joined:
            self._gpf_joined(self.rtc.at(self._now))
        super().commission_with_consumer_data(days, mpxn)

    def _field_han(self, installed: datetime.datetime) -> None:
        self._gpf_joined(installed)
        rng = random.Random(stable_seed(self.seed, "field-meters"))
        for device_type in (DeviceType.ESME, DeviceType.GSME):
            eui = f"00DB{rng.getrandbits(48):012X}"
            key = InstallCode.generate(rng).link_key()
            self._hub.device_log[eui] = DeviceLogEntry(eui, device_type, key, None, self._now,
                                                       0.0, next_link_key(key, self.eui64, eui, 0))
        if "han_join_fails" in self._faults:
            # In the field its meters could not rejoin after an outage: why it came back.
            for k in range(3):
                when = installed + datetime.timedelta(days=30 + 7 * k)
                self._ram.logs.record(GbcsAlert.DEVICE_JOINING_FAILED, when, "field meter")

    def _reset_han(self) -> bool:
        hub = self._hub
        had = bool(hub.device_log or hub.historic_log)
        hub.device_log.clear()
        hub.historic_log.clear()
        hub.join_attempts.clear()
        hub.network_key = new_network_key(self._network_rng)
        self._ram.han = self._install_code_han()
        if had:
            self._log(GbcsAlert.CHF_DEVICE_LOG_CHANGED, "cleared")
        return had

    @operation
    def report_install_success(self) -> None:
        """Mark the hub installed (SR 8.14.1), before its CHF is commissioned."""
        if self._ram.status in (SmiStatus.PENDING, SmiStatus.WHITELISTED):
            self._set_status(SmiStatus.INSTALLED_NOT_COMMISSIONED, "install success")
