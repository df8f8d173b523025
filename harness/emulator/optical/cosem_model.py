"""The COSEM objects an emulated meter serves over DLMS: its device model as class/OBIS/attribute.

Every value comes from the same :class:`~harness.emulator.optical.device_registers.DeviceRegisters`
(and so the same emulated device) the mode C map reads: a DLMS read and a mode C read of one
meter agree, faults included. Attributes marked ``public`` are readable by the public client
(0x10, no authentication): the logical names, the clock, the serial number and the import
register. Everything else needs the management association (LLS, the optical password).

Which objects a meter has, and where, is :mod:`harness.devices.cosem_map` (shared with the
``dlms`` profile); :mod:`.cosem_device` builds them over the emulated device.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from harness.emulator.optical.registers import RegisterError
from harness.errors import MeterbenchError, OperationError
from harness.protocols.dlms import CosemDateTime, Data, DataType, Obis, SelectiveAccess

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


class AccessError(OperationError):
    """A COSEM access the meter refuses; ``result`` is the Data-Access-Result code."""

    def __init__(self, result: int) -> None:
        super().__init__(f"COSEM access refused: result {result}", result=result)
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
    except AccessError:
        raise
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
