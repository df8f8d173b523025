"""The COSEM objects an emulated meter serves over DLMS: its device model as class/OBIS/attribute.

Every value comes from the same :class:`~harness.emulator.optical.device_registers.DeviceRegisters`
(and so the same emulated device) the mode C map reads: a DLMS read and a mode C read of one
meter agree, faults included. Attributes marked ``public`` are readable by the public client
(0x10, no authentication): the logical names, the clock, the serial number and the import
register. Everything else needs the management association (LLS, the optical password).

Resets are COSEM methods: the event log's ``reset`` (class 7 method 1) and the Global Meter
Reset script table (0.0.10.0.0.255, class 9 ``execute``, script 1: consumer data) are
documented objects; the reset script table 0.0.10.0.128.255 (value group E 128: manufacturer
specific) runs the credential, HAN and lifecycle resets (scripts 1, 2, 3).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from harness.emulator.optical.registers import RegisterError
from harness.errors import MeterbenchError
from harness.protocols.dlms import CosemDateTime, Data, DataType, Obis, SelectiveAccess

CLOCK = Obis.parse("0.0.1.0.0.255")
SERIAL = Obis.parse("0.0.96.1.0.255")
ELECTRICITY_IMPORT = Obis.parse("1.0.1.8.0.255")
GAS_IMPORT = Obis.parse("7.0.3.0.0.255")
FIRMWARE = Obis.parse("1.0.0.2.0.255")
EVENT_LOG = Obis.parse("0.0.99.98.0.255")
SECURITY_LOG = Obis.parse("0.0.99.98.1.255")
POWER_LOG = Obis.parse("0.0.99.97.0.255")
EVENT_CODE = Obis.parse("0.0.96.11.0.255")
GLOBAL_RESET = Obis.parse("0.0.10.0.0.255")
MANUFACTURER_RESET = Obis.parse("0.0.10.0.128.255")
"""Script table of the manufacturer-specific resets (E = 128: manufacturer specific)."""
CONSUMER_DATA_SCRIPT = 1
"""Global Meter Reset script id that clears the consumer data (the registers stay)."""
RESET_SCRIPTS = {1: "certificates", 2: "han", 3: "lifecycle"}
"""Manufacturer-specific reset script ids."""
IDENTITY = {
    Obis.parse("0.0.96.1.1.255"): "eui64", Obis.parse("0.0.96.1.2.255"): "manufacturer",
    Obis.parse("0.0.96.1.3.255"): "model", Obis.parse("0.0.96.1.4.255"): "device_type",
    Obis.parse("0.0.96.1.5.255"): "smets_version", Obis.parse("0.0.96.1.6.255"): "gbcs_version",
}
"""Device ID 2..7 objects (class 1): the rest of the identity, as visible strings."""
UNIT_WH, UNIT_M3 = 30, 13
NO_DATA = "ER-NODATA"

Getter = Callable[[SelectiveAccess | None], Data]
Setter = Callable[[Data], None]
Method = Callable[[Data | None], Data | None]


@dataclass
class CosemAttribute:
    """One attribute: how to read it, optionally how to write it, and who may read it."""

    get: Getter
    set: Setter | None = None
    public: bool = False


@dataclass
class CosemObject:
    """One interface object: class id, logical name, attributes and methods by index."""

    class_id: int
    obis: Obis
    attributes: dict[int, CosemAttribute] = field(default_factory=dict)
    methods: dict[int, Method] = field(default_factory=dict)

    def __post_init__(self) -> None:
        name = Data(DataType.OCTET_STRING, bytes(self.obis))
        self.attributes.setdefault(1, CosemAttribute(lambda _a: name, public=True))


class AccessError(Exception):
    """A COSEM access the meter refuses; ``result`` is the Data-Access-Result code."""

    def __init__(self, result: int) -> None:
        super().__init__(result)
        self.result = result


def octets(text: str) -> Data:
    """An ASCII text as an octet-string (as meters hold identifiers)."""
    return Data(DataType.OCTET_STRING, text.encode("ascii", "replace"))


def date_time(when: datetime.datetime) -> Data:
    """A UTC time as the 12-byte COSEM date-time octet-string (deviation 0, status OK)."""
    utc = when.astimezone(datetime.UTC)
    return Data(DataType.OCTET_STRING, CosemDateTime.from_datetime(utc).to_bytes())


def parse_date_time(value: Data) -> datetime.datetime:
    """A date-time octet-string (or date-time) as an aware datetime; AccessError if not one."""
    if value.type not in (DataType.OCTET_STRING, DataType.DATE_TIME) or len(value.value) != 12:
        raise AccessError(12)  # type-unmatched
    try:
        when = CosemDateTime.from_bytes(value.value).to_datetime()
    except MeterbenchError:
        raise AccessError(12) from None
    return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)


def guarded(read: Callable[[], Data]) -> Data:
    """Run a read of the device; its refusals become Data-Access-Results."""
    try:
        return read()
    except RegisterError as exc:
        raise AccessError(11 if exc.code == NO_DATA else 250) from None
    except MeterbenchError:
        raise AccessError(1) from None  # hardware-fault


class CosemModel:
    """The objects of one emulated meter, looked up by (class id, logical name)."""

    def __init__(self, objects: list[CosemObject]) -> None:
        self.objects = {(o.class_id, o.obis): o for o in objects}
        self.by_name = {o.obis: o for o in objects}

    def find(self, class_id: int, obis: Obis) -> CosemObject:
        """The object, or AccessError: object-undefined / object-class-inconsistent."""
        found = self.objects.get((class_id, obis))
        if found is not None:
            return found
        raise AccessError(9 if obis in self.by_name else 4)

    def get(self, class_id: int, obis: Obis, attribute: int, access: SelectiveAccess | None,
            *, management: bool) -> Data:
        """Read one attribute as the association may."""
        attr = self.find(class_id, obis).attributes.get(attribute)
        if attr is None:
            raise AccessError(4)
        if not (management or attr.public):
            raise AccessError(3)  # read-write-denied
        if access is not None and class_id != 7:
            raise AccessError(13)  # scope-of-access-violated: no selective access here
        return guarded(lambda: attr.get(access))

    def set(self, class_id: int, obis: Obis, attribute: int, value: Data, *,
            management: bool) -> None:
        """Write one attribute; only the management association writes."""
        attr = self.find(class_id, obis).attributes.get(attribute)
        if attr is None:
            raise AccessError(4)
        if attr.set is None or not management:
            raise AccessError(3)
        setter = attr.set

        def write() -> Data:
            setter(value)
            return Data(DataType.NULL_DATA)

        guarded(write)

    def action(self, class_id: int, obis: Obis, method: int, parameters: Data | None, *,
               management: bool) -> Data | None:
        """Invoke a method; only the management association acts."""
        run = self.find(class_id, obis).methods.get(method)
        if run is None:
            raise AccessError(4)
        if not management:
            raise AccessError(3)
        result: list[Data | None] = []

        def act() -> Data:
            result.append(run(parameters))
            return Data(DataType.NULL_DATA)

        guarded(act)
        return result[0]
