"""The COSEM object list of one emulated meter, over the same device the mode C map reads.

Built from :class:`~harness.emulator.optical.device_registers.DeviceRegisters` (it reuses its
device, its readers and its password), so a value read over DLMS is the value read over mode C.
See :mod:`.cosem_model` for the access rules and the reset objects; the Security setup object
(class 64, the certificates) is :mod:`.cosem_certificates`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from harness.devices import cosem_map as cm
from harness.emulator.optical.cosem_certificates import SecuritySetup
from harness.emulator.optical.cosem_model import (
    AccessError,
    CosemAttribute,
    CosemModel,
    CosemObject,
    Getter,
    Method,
    date_time,
    octets,
    parse_date_time,
)
from harness.emulator.optical.registers import RegisterError
from harness.protocols.dlms import Data, DataType, Obis, SelectiveAccess

if TYPE_CHECKING:
    from harness.emulator.optical.cosem_security import MeterKeys
    from harness.emulator.world.device import EmulatedDevice


class RegisterMap(Protocol):
    """What the COSEM objects read through: the device and its reference map
    (:class:`~harness.emulator.optical.device_registers.DeviceRegisters` is one)."""

    device: EmulatedDevice

    def read(self, address: str) -> str:
        """A reference map register's text; RegisterError to refuse."""
        ...

    def write(self, address: str, value: str) -> None:
        """Set a reference map register; RegisterError to refuse."""
        ...

    @property
    def dlms_keys(self) -> MeterKeys:
        """The meter's security suite 0 keys and system title."""
        ...



def _u16(value: int) -> Data:
    return Data(DataType.LONG_UNSIGNED, value)


def _capture_object(class_id: int, obis: Obis, attribute: int) -> Data:
    return Data.structure(_u16(class_id), Data(DataType.OCTET_STRING, bytes(obis)),
                          Data(DataType.INTEGER, attribute), _u16(0))


LOG_CAPTURE_OBJECTS = Data.array(_capture_object(8, cm.CLOCK, 2),
                                 _capture_object(1, cm.EVENT_CODE, 2))
"""Each log row: the clock's time, then the event code (GBCS alert code)."""


def _script_id(parameters: Data | None, known: set[int]) -> int:
    if parameters is None or parameters.type is not DataType.LONG_UNSIGNED:
        raise AccessError(12)  # type-unmatched: execute takes a long-unsigned script id
    if parameters.value not in known:
        raise AccessError(250)
    return int(parameters.value)


class DeviceCosem:
    """Builds the :class:`CosemModel` of one emulated meter."""

    def __init__(self, registers: RegisterMap) -> None:
        self.registers = registers
        self.device = registers.device

    def model(self) -> CosemModel:
        """Every object this meter serves."""
        objects = [
            CosemObject(8, cm.CLOCK, {
                2: CosemAttribute(lambda _a: date_time(self.device.clock_time()),
                                  self._set_clock, public=True),
                3: CosemAttribute(lambda _a: Data(DataType.LONG, 0)),
                4: CosemAttribute(lambda _a: Data(DataType.UNSIGNED, 0)),
                9: CosemAttribute(lambda _a: Data(DataType.ENUM, 1)),
            }),
            CosemObject(1, cm.SERIAL, {2: CosemAttribute(
                lambda _a: octets(self.registers.read("0.0.1")), public=True)}),
            CosemObject(1, cm.FIRMWARE, {2: CosemAttribute(
                lambda _a: octets(self.registers.read("0.2.0")))}),
            self._register(),
            CosemObject(9, cm.GLOBAL_RESET, methods={1: self._global_reset}),
            CosemObject(9, cm.MANUFACTURER_SCRIPTS, methods={1: self._manufacturer_script}),
        ]
        for name, obis in cm.IDENTITY.items():
            objects.append(CosemObject(1, obis, {2: CosemAttribute(
                self._identity(cm.IDENTITY_FIELDS[name]))}))
        for kind, obis in cm.LOGS.items():
            objects.append(self._log(obis, kind))
        for address, name in cm.MIRRORED.items():
            objects.append(CosemObject(1, Obis.parse(name), {2: CosemAttribute(
                self._mirror(address))}))
        objects.append(self._disconnect_control())
        objects.append(SecuritySetup(self.device, self.registers.dlms_keys).cosem_object())
        return CosemModel(objects)

    # -- objects ------------------------------------------------------------------------------

    def _identity(self, field: str) -> Getter:
        return lambda _a: Data(DataType.VISIBLE_STRING,
                               str(getattr(self.device.identity, field)))

    def _mirror(self, address: str) -> Getter:
        """The reference map's text at ``address`` (its refusals become access results)."""
        return lambda _a: Data(DataType.VISIBLE_STRING, self.registers.read(address))

    def _disconnect_control(self) -> CosemObject:
        """Class 70: output_state, control_state (0 disconnected, 1 connected, 2 ready for
        reconnection); remote_disconnect, remote_reconnect (an ESME closes its contacts, a
        GSME arms its valve: gas needs the consumer's button)."""
        gas = self.device.device_type.name == "GSME"
        states = {"enabled": 1, "open": 1, "disabled": 0, "closed": 0, "armed": 2}

        def control_state() -> int:
            text = self.registers.read("96.3.10")
            if text not in states:
                raise AccessError(250)
            return states[text]

        def disconnect(_p: Data | None) -> None:
            self.registers.write("96.3.10", "closed" if gas else "disabled")

        def reconnect(_p: Data | None) -> None:
            self.registers.write("96.3.10", "armed" if gas else "enabled")

        return CosemObject(70, cm.DISCONNECT_CONTROL, {
            2: CosemAttribute(lambda _a: Data(DataType.BOOLEAN, control_state() == 1)),
            3: CosemAttribute(lambda _a: Data(DataType.ENUM, control_state())),
            4: CosemAttribute(lambda _a: Data(DataType.ENUM, 2 if gas else 1)),  # control_mode
        }, {1: disconnect, 2: reconnect})

    def _register(self) -> CosemObject:
        kind = self.device.device_type
        obis = cm.IMPORT_REGISTER[kind]
        scaler, unit = (-3, cm.UNIT_M3) if kind.name == "GSME" else (0, cm.UNIT_WH)

        def value(_access: SelectiveAccess | None) -> Data:
            register = self.device.consumer_data().import_register
            if register is None:
                raise RegisterError("ER-NODATA")
            return Data(DataType.DOUBLE_LONG_UNSIGNED, int(register))

        scaler_unit = Data.structure(Data(DataType.INTEGER, scaler), Data(DataType.ENUM, unit))
        return CosemObject(3, obis, {
            2: CosemAttribute(value, public=True),
            3: CosemAttribute(lambda _a: scaler_unit, public=True),
        })

    def _log(self, obis: Obis, kind: str) -> CosemObject:
        def rows(access: SelectiveAccess | None) -> Data:
            entries = self.device.read_log(kind)
            selected = _select(list(entries), access)
            return Data.array(*(Data.structure(date_time(e.timestamp), _u16(e.code))
                                for e in selected))

        methods: dict[int, Method] = {}
        if kind == "event":  # reset: the one log a triage may clear (lifecycle reset logs it)
            methods[1] = self._reset_event_log
        return CosemObject(7, obis, {
            2: CosemAttribute(rows),
            3: CosemAttribute(lambda _a: LOG_CAPTURE_OBJECTS),
            4: CosemAttribute(lambda _a: Data(DataType.DOUBLE_LONG_UNSIGNED, 0)),
            5: CosemAttribute(lambda _a: Data(DataType.ENUM, 1)),  # fifo
            7: CosemAttribute(lambda _a: Data(DataType.DOUBLE_LONG_UNSIGNED,
                                              len(self.device.read_log(kind)))),
            8: CosemAttribute(lambda _a: Data(DataType.DOUBLE_LONG_UNSIGNED, 0xFFFF)),
        }, methods)

    # -- writes and methods -----------------------------------------------------------------

    def _set_clock(self, value: Data) -> None:
        if not self.device.adjust_clock(parse_date_time(value)):
            raise AccessError(250)  # other-reason: beyond the model's tolerance (0x81C6 logged)

    def _reset_event_log(self, _parameters: Data | None) -> None:
        self.device.clear_event_log()

    def _global_reset(self, parameters: Data | None) -> None:
        _script_id(parameters, {cm.CONSUMER_DATA_SCRIPT})
        self.device.clear_consumer_data()

    def _manufacturer_script(self, parameters: Data | None) -> None:
        scripts = {number: name for name, number in cm.SCRIPTS.items()}
        what = scripts[_script_id(parameters, set(scripts))]
        if what == "certificates":
            self.device.reset_security_credentials()
        elif what == "han":
            self.device.reset_han()
        elif what == "lifecycle":  # the event log is then reset with class 7 method 1
            self.device.reset_lifecycle()
        elif what == "button":
            self.registers.write("96.3.10", "open")  # the consumer's button (as mode C)
        else:
            self.registers.write("96.3.10", "armed")


def _select(entries: list, access: SelectiveAccess | None) -> list:
    """Rows of a log buffer chosen by range (selector 1, on the clock) or entry (selector 2)."""
    if access is None:
        return entries
    params = access.parameters
    if params.type is not DataType.STRUCTURE:
        raise AccessError(12)
    items = params.value
    if access.selector == 1 and len(items) >= 3:
        start, end = parse_date_time(items[1]), parse_date_time(items[2])
        return [e for e in entries if start <= e.timestamp <= end]
    if access.selector == 2 and len(items) >= 2:
        first, last = int(items[0].value or 1), int(items[1].value or 0)
        return entries[first - 1:last or None]
    raise AccessError(13)  # scope-of-access-violated: an unknown selector
