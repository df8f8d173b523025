"""The COSEM object list of one emulated meter, over the same device the mode C map reads.

Built from :class:`~harness.emulator.optical.device_registers.DeviceRegisters` (it reuses its
device, its readers and its password), so a value read over DLMS is the value read over mode C.
See :mod:`.cosem_model` for the access rules and the reset objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.emulator.optical.cosem_model import (
    CLOCK,
    CONSUMER_DATA_SCRIPT,
    ELECTRICITY_IMPORT,
    EVENT_CODE,
    EVENT_LOG,
    FIRMWARE,
    GAS_IMPORT,
    GLOBAL_RESET,
    IDENTITY,
    MANUFACTURER_RESET,
    POWER_LOG,
    RESET_SCRIPTS,
    SECURITY_LOG,
    SERIAL,
    UNIT_M3,
    UNIT_WH,
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
    from harness.emulator.optical.device_registers import DeviceRegisters

LOGS = {EVENT_LOG: "event", SECURITY_LOG: "security", POWER_LOG: "power"}
"""Profile generic objects (class 7) and the device log each one buffers."""


def _u16(value: int) -> Data:
    return Data(DataType.LONG_UNSIGNED, value)


def _capture_object(class_id: int, obis: Obis, attribute: int) -> Data:
    return Data.structure(_u16(class_id), Data(DataType.OCTET_STRING, bytes(obis)),
                          Data(DataType.INTEGER, attribute), _u16(0))


LOG_CAPTURE_OBJECTS = Data.array(_capture_object(8, CLOCK, 2), _capture_object(1, EVENT_CODE, 2))
"""Each log row: the clock's time, then the event code (GBCS alert code)."""


def _script_id(parameters: Data | None, known: set[int] | dict[int, str]) -> int:
    if parameters is None or parameters.type is not DataType.LONG_UNSIGNED:
        raise AccessError(12)  # type-unmatched: execute takes a long-unsigned script id
    if parameters.value not in known:
        raise AccessError(250)
    return int(parameters.value)


class DeviceCosem:
    """Builds the :class:`CosemModel` of one emulated meter."""

    def __init__(self, registers: DeviceRegisters) -> None:
        self.registers = registers
        self.device = registers.device

    def model(self) -> CosemModel:
        """Every object this meter serves."""
        objects = [
            CosemObject(8, CLOCK, {
                2: CosemAttribute(lambda _a: date_time(self.device.clock_time()),
                                  self._set_clock, public=True),
                3: CosemAttribute(lambda _a: Data(DataType.LONG, 0)),
                4: CosemAttribute(lambda _a: Data(DataType.UNSIGNED, 0)),
                9: CosemAttribute(lambda _a: Data(DataType.ENUM, 1)),
            }),
            CosemObject(1, SERIAL, {2: CosemAttribute(
                lambda _a: octets(self.registers.read("0.0.1")), public=True)}),
            CosemObject(1, FIRMWARE, {2: CosemAttribute(
                lambda _a: octets(self.registers.read("0.2.0")))}),
            self._register(),
            CosemObject(9, GLOBAL_RESET, methods={1: self._global_reset}),
            CosemObject(9, MANUFACTURER_RESET, methods={1: self._manufacturer_reset}),
        ]
        for obis, field in IDENTITY.items():
            objects.append(CosemObject(1, obis, {2: CosemAttribute(self._identity(field))}))
        for obis, kind in LOGS.items():
            objects.append(self._log(obis, kind))
        return CosemModel(objects)

    # -- objects ------------------------------------------------------------------------------

    def _identity(self, field: str) -> Getter:
        return lambda _a: Data(DataType.VISIBLE_STRING,
                               str(getattr(self.device.identity, field)))

    def _register(self) -> CosemObject:
        gas = self.device.device_type.name == "GSME"
        obis, scaler, unit = (GAS_IMPORT, -3, UNIT_M3) if gas else (ELECTRICITY_IMPORT, 0, UNIT_WH)

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
        _script_id(parameters, {CONSUMER_DATA_SCRIPT})
        self.device.clear_consumer_data()

    def _manufacturer_reset(self, parameters: Data | None) -> None:
        what = RESET_SCRIPTS[_script_id(parameters, RESET_SCRIPTS)]
        if what == "certificates":
            self.device.reset_security_credentials()
        elif what == "han":
            self.device.reset_han()
        else:
            self.device.reset_lifecycle()
            self.device.clear_event_log()


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
