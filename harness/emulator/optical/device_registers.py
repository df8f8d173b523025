"""An emulated meter's optical port serving the reference register map over its device model.

Every read goes to the model's public behaviour (identity, clock, logs, anchors, consumer
data, HAN, supply), every write and execute to one of its operations, so what a profile
reads over the wire is what the device holds, faults included. The port is silent while
the meter is off or booting, dead under ``optical_port_dead``, and lossy under
``optical_port_intermittent``; each sign-on logs 0x81A5 (local port access).
"""

from __future__ import annotations

import contextlib
import datetime
import random

from harness.devices import reference_map as rmap
from harness.domain.types import RemotePartyRole
from harness.emulator.optical.cosem_device import DeviceCosem
from harness.emulator.optical.cosem_model import CosemModel
from harness.emulator.optical.cosem_security import meter_keys
from harness.emulator.optical.registers import PortBehaviour, RegisterError
from harness.emulator.world.device import EmulatedDevice
from harness.emulator.world.faults import stable_seed
from harness.emulator.world.han import JoinResponseCode
from harness.emulator.world.models.comms_hub import CommsHub
from harness.errors import MeterbenchError
from harness.protocols.iec62056_21 import DataSet, Identification
from harness.protocols.installcode import InstallCode

_TIME_FMT = "%Y-%m-%dT%H:%M:%SZ"
_LOGS = {rmap.EVENT_LOG_COUNT.address: "event", rmap.SECURITY_LOG_COUNT.address: "security",
         rmap.POWER_LOG_COUNT.address: "power"}


def optical_password(device: EmulatedDevice) -> str:
    """The meter's own programming-mode password (drawn from its seed, like a factory key)."""
    rng = random.Random(stable_seed(device.seed, "optical-password"))
    return f"{rng.randrange(10**8):08d}"


def _stamp(when: datetime.datetime) -> str:
    """``when`` as the clock register shows it (``_TIME_FMT``; isoformat is its C-speed
    equal for years 1000-9999, and every clock read formats one)."""
    return when.astimezone(datetime.UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


class DeviceRegisters:
    """The reference map over one emulated device (the OpticalRegisters contract)."""

    def __init__(self, device: EmulatedDevice) -> None:
        self.device = device
        self.password = optical_password(device)
        self.dlms_keys = meter_keys(device)
        self._cosem: CosemModel | None = None
        self._identification: tuple[object, object, Identification] | None = None

    def cosem_model(self) -> CosemModel:
        """The same device as COSEM objects, for DLMS/COSEM over HDLC on the same port."""
        if self._cosem is None:
            self._cosem = DeviceCosem(self).model()
        return self._cosem

    # -- the port ----------------------------------------------------------------------------

    def identification(self) -> Identification:
        """From the device's model and identity, built again only if either is replaced
        (the port asks it for its reaction time at every request)."""
        model, identity = self.device.model, self.device.identity
        kept = self._identification
        if kept is None or kept[0] is not model or kept[1] is not identity:
            enhanced = "2" if model.optical_dlms else None  # mode E offered
            kept = (model, identity,
                    Identification(model.optical_flag, "5", identity.model[:16], enhanced))
            self._identification = kept
        return kept[2]

    def device_address(self) -> str:
        return self.device.identity.serial

    def signed_on(self) -> None:
        """A probe signed on: the meter logs local port access."""
        with contextlib.suppress(MeterbenchError):  # a meter too broken to log still answers
            self.device.record_local_port_access()

    def behaviour(self) -> PortBehaviour:
        port = self.device.optical_port_behaviour()
        model = self.device.model
        return PortBehaviour(dead=not port.answers, drop_fraction=port.drop_fraction,
                             corrupt_fraction=port.corrupt_fraction,
                             wake_window_s=model.optical_wake_window_s,
                             wakeup_min_s=model.optical_wakeup_min_s)

    def check_password(self, level: str, password: str) -> bool:
        return level == "1" and password == self.password

    def readout(self) -> list[DataSet]:
        """The mode C data readout: identity, clock and the import register."""
        ident = self.device.identity
        sets = [DataSet("0.0.0", ident.eui64), DataSet("0.0.1", ident.serial),
                DataSet("0.2.0", ident.firmware_version),
                DataSet("0.9.0", _stamp(self.device.clock_time()))]
        register = self.device.consumer_data().import_register
        if register is not None:
            unit = "kWh" if self.device.device_type.name == "ESME" else "m3"
            sets.append(DataSet("1.8.0", f"{register / 1000:.3f}", unit))
        return sets

    # -- registers -----------------------------------------------------------------------------

    def read(self, address: str) -> str:
        try:
            value = self._read(address)
        except RegisterError:  # the meter's own refusal: its code goes out as it is
            raise
        except MeterbenchError as exc:
            raise RegisterError("ER-FAIL") from exc
        if value is None:
            raise RegisterError(rmap.NO_DATA)
        return value

    def _read(self, address: str) -> str | None:
        d = self.device
        ident = d.identity
        identity = {"0.0.0": ident.eui64, "0.0.1": ident.serial,
                    "96.1.0": ident.device_type.name, "96.1.1": ident.manufacturer,
                    "96.1.2": ident.model, "0.2.0": ident.firmware_version,
                    "96.1.3": ident.smets_version, "96.1.4": ident.gbcs_version}
        if address in identity:
            return identity[address]
        if address == rmap.CLOCK.address:
            return _stamp(d.clock_time())
        if address == rmap.TAMPER.address:
            return ",".join(sorted(d.tamper_flags()))
        if address == rmap.SUPPLY.address:
            return self._supply()
        if address in (rmap.BATTERY.address, rmap.BATTERY_REMAINING.address):
            battery = getattr(d, "battery", None)
            if battery is None:
                return None
            status = battery()
            if address == rmap.BATTERY.address:
                return f"{status.voltage:.2f}"
            return f"{100.0 * status.remaining_mah / status.capacity_mah:.1f}"
        if address.startswith("96.60."):
            return self._han(address)
        if address.startswith("96.70."):
            return self._wan(address)
        if address.startswith(rmap.ANCHOR_BASE + "."):
            return self._anchor(address)
        log_value = self._log(address)
        if log_value is not None:
            return log_value
        consumer = self._consumer(address)
        if consumer is not _UNKNOWN:
            assert consumer is None or isinstance(consumer, str)  # _consumer's other values
            return consumer
        raise RegisterError("ERROR")

    def _supply(self) -> str | None:
        for name in ("supply_state", "valve_state"):
            state = getattr(self.device, name, None)
            if state is not None:
                return str(state())
        return None

    def _han(self, address: str) -> str:
        han = self.device.han_status()
        values = {
            "96.60.0": "1" if han.joined else "0",
            "96.60.1": str(han.channel) if han.channel is not None else "",
            "96.60.2": f"{han.pan_id:04X}" if han.pan_id is not None else "",
            "96.60.3": "1" if han.awaiting_install_code_join else "0",
        }
        if address not in values:
            raise RegisterError("ERROR")
        return values[address]

    def _wan(self, address: str) -> str | None:
        status = getattr(self.device, "wan_status", None)
        if status is None:
            raise RegisterError("ERROR")  # a meter has no WAN
        wan = status()
        values = {
            "96.70.0": wan.modem, "96.70.1": "1" if wan.sim_present else "0",
            "96.70.3": "" if wan.rssi_dbm is None else f"{wan.rssi_dbm:.1f}",
            "96.70.4": "1" if wan.connected else "0",
        }
        if address not in values:
            raise RegisterError("ERROR")
        return values[address]

    def _anchor(self, address: str) -> str | None:
        try:
            role = RemotePartyRole(int(address.rsplit(".", 1)[1]))
        except ValueError:
            raise RegisterError("ERROR") from None
        party = self.device.trust_anchors().get(role)
        if party is None:
            return None
        subject = party.certificate.subject.rfc4514_string().replace("(", "").replace(")", "")
        return f"{subject};{party.spki_fingerprint()}"

    def _log(self, address: str) -> str | None:
        prefix, _, index = address.rpartition(".")
        kind = _LOGS.get(prefix + ".0")
        if kind is None or not index.isdigit():
            return None
        entries = self.device.read_log(kind)
        n = int(index)
        if n == 0:
            return str(len(entries))
        if n > len(entries):
            raise RegisterError("ERROR")
        entry = entries[n - 1]
        return f"{entry.code:04X};{_stamp(entry.timestamp)}"

    def _consumer(self, address: str) -> object:
        data = self.device.consumer_data()
        counts = {"99.1.0": data.half_hourly, "99.2.0": data.daily_reads,
                  "99.3.0": data.billing_reads, "96.92.0": data.messages}
        if address in counts:
            return str(len(counts[address])) if counts[address] else None
        if address == "1.8.0":
            return None if data.import_register is None else f"{data.import_register / 1000:.3f}"
        if address == "1.8.9":
            return ";".join(f"{r / 1000:.3f}" for r in data.tou_registers) or None
        if address == "96.90.0":
            balance = data.prepayment_balance_p
            return None if balance is None else f"{balance / 100:.2f}"
        if address == "96.91.0":
            return f"{sum(d.outstanding_p for d in data.debts) / 100:.2f}" if data.debts else None
        if address == "96.93.0":
            return data.mpxn
        return _UNKNOWN

    # -- writes and operations ----------------------------------------------------------------

    def write(self, address: str, value: str) -> None:
        d = self.device
        try:
            if address == rmap.CLOCK.address:
                when = datetime.datetime.strptime(value, _TIME_FMT).replace(tzinfo=datetime.UTC)
                if not d.adjust_clock(when):
                    raise RegisterError("ER-RANGE")
            elif address == rmap.SUPPLY.address:
                self._switch(value)
            else:
                raise RegisterError("ERROR")
        except RegisterError:  # the meter's own refusal (an OperationError): as it is
            raise
        except ValueError:
            raise RegisterError("ER-VALUE") from None
        except MeterbenchError:
            raise RegisterError("ER-FAIL") from None

    def _switch(self, state: str) -> None:
        d = self.device
        actions = {
            "enabled": "enable_supply", "disabled": "disable_supply", "armed": "arm_supply",
            "closed": "close_valve", "open": "press_button",
        }
        if state == "armed" and hasattr(d, "arm_valve"):
            d.arm_valve()
            return
        action = getattr(d, actions.get(state, ""), None)
        if action is None:
            raise RegisterError("ER-VALUE")
        action()

    def execute(self, address: str, value: str) -> None:
        d = self.device
        if address in (rmap.HAN_DEVICE_ADD.address, rmap.HAN_DEVICE_REMOVE.address):
            self._device_log(address, value)
            return
        operations = {
            rmap.RESET_CERTIFICATES.address: d.reset_security_credentials,
            rmap.RESET_CONSUMER_DATA.address: d.clear_consumer_data,
            rmap.RESET_HAN.address: d.reset_han,
            rmap.RESET_LIFECYCLE.address: self._reset_lifecycle,
        }
        operation = operations.get(address)
        if operation is None:
            raise RegisterError("ERROR")
        try:
            operation()
        except RegisterError:  # the meter's own refusal: as it is
            raise
        except MeterbenchError:
            raise RegisterError("ER-FAIL") from None

    def _device_log(self, address: str, value: str) -> None:
        """A hub's device log: add ``EUI-64,install code`` or remove ``EUI-64`` (SR 8.11's
        effect); a meter has none, and a hub that refuses answers ER-FAIL."""
        hub = self.device
        if not isinstance(hub, CommsHub):
            raise RegisterError("ERROR")
        try:
            if address == rmap.HAN_DEVICE_ADD.address:
                eui64, _, code = value.partition(",")
                answer = hub.whitelist(eui64, InstallCode.parse(code))
                if answer is not JoinResponseCode.SUCCESS:
                    raise RegisterError("ER-FAIL")
            elif not hub.remove_device(value):
                raise RegisterError("ER-NODATA")
        except RegisterError:
            raise
        except ValueError:  # a malformed EUI-64 or install code (InstallCodeError is one)
            raise RegisterError("ER-VALUE") from None
        except MeterbenchError:
            raise RegisterError("ER-FAIL") from None

    def _reset_lifecycle(self) -> None:
        self.device.reset_lifecycle()
        self.device.clear_event_log()


_UNKNOWN = object()


def registers_for_device(device: EmulatedDevice) -> DeviceRegisters:
    """The register map the emulated bench serves for ``device``."""
    return DeviceRegisters(device)
