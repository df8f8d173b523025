"""EZSP parameter types (UG100 section "Structures", UG600 the same for version 8+): integers,
EUI-64s, keys and the structs a bench reads, each with its encoder and decoder.

Pure.  All multi-byte integers are little endian; an EUI-64 goes on the wire least significant
byte first and is held here as meterbench's compact form (16 upper-case hex digits, most
significant first, as ``harness.domain.eui64`` spells it).  Decoding reads through ``Cursor``,
which names the field and offset of any shortfall.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.domain.eui64 import normalise_eui64
from harness.protocols.ezsp.errors import EzspFrameError

__all__ = [
    "ApsFrame",
    "ChildData",
    "Cursor",
    "NeighborEntry",
    "NetworkParameters",
    "ZigbeeNetwork",
    "eui64_bytes",
]


class Cursor:
    """Reads a parameter field left to right; a shortfall names the field, offset and frame."""

    def __init__(self, data: bytes, *, what: str) -> None:
        self.data = data
        self.at = 0
        self.what = what

    def take(self, size: int, field: str) -> bytes:
        """The next ``size`` bytes, or an EzspFrameError naming ``field``."""
        if self.at + size > len(self.data):
            raise EzspFrameError(
                f"EZSP {self.what}: {field} needs {size} byte(s) at offset {self.at}, "
                f"only {len(self.data) - self.at} left",
                offset=self.at,
                field=field,
            )
        chunk = self.data[self.at:self.at + size]
        self.at += size
        return chunk

    def u8(self, field: str) -> int:
        """An unsigned byte."""
        return self.take(1, field)[0]

    def s8(self, field: str) -> int:
        """A signed byte (RSSI in dBm, TX power)."""
        return int.from_bytes(self.take(1, field), "little", signed=True)

    def u16(self, field: str) -> int:
        """An unsigned 16-bit little-endian integer."""
        return int.from_bytes(self.take(2, field), "little")

    def u32(self, field: str) -> int:
        """An unsigned 32-bit little-endian integer."""
        return int.from_bytes(self.take(4, field), "little")

    def eui64(self, field: str) -> str:
        """An EUI-64 (wire: least significant byte first) in compact form."""
        return self.take(8, field)[::-1].hex().upper()

    def lv_bytes(self, field: str) -> bytes:
        """A length byte then that many bytes (message contents)."""
        return self.take(self.u8(field + " length"), field)

    def end(self) -> None:
        """Refuse bytes left over: a frame longer than its layout is not this command."""
        if self.at != len(self.data):
            raise EzspFrameError(
                f"EZSP {self.what}: {len(self.data) - self.at} unexpected byte(s) at offset "
                f"{self.at}",
                offset=self.at,
            )


def u8(value: int, field: str) -> bytes:
    """One unsigned byte, range-checked."""
    return _int(value, 1, field, signed=False)


def s8(value: int, field: str) -> bytes:
    """One signed byte, range-checked."""
    return _int(value, 1, field, signed=True)


def u16(value: int, field: str) -> bytes:
    """16-bit little endian, range-checked."""
    return _int(value, 2, field, signed=False)


def u32(value: int, field: str) -> bytes:
    """32-bit little endian, range-checked."""
    return _int(value, 4, field, signed=False)


def _int(value: int, size: int, field: str, *, signed: bool) -> bytes:
    try:
        return int(value).to_bytes(size, "little", signed=signed)
    except (OverflowError, TypeError, ValueError):
        kind = "signed" if signed else "unsigned"
        raise EzspFrameError(f"EZSP: {field} does not fit {size} {kind} byte(s): {value!r}",
                             field=field) from None


def eui64_bytes(eui: str, field: str = "EUI-64") -> bytes:
    """An EUI-64 in any form ``normalise_eui64`` accepts, as the 8 wire bytes (LSB first)."""
    try:
        return bytes.fromhex(normalise_eui64(eui))[::-1]
    except (ValueError, AttributeError):
        raise EzspFrameError(f"EZSP: {field} is not an EUI-64: {eui!r}", field=field) from None


def lv_bytes(value: bytes, field: str) -> bytes:
    """A length byte then the bytes (at most 255)."""
    return u8(len(value), field + " length") + bytes(value)


@dataclass(frozen=True)
class NetworkParameters:
    """EmberNetworkParameters (20 bytes): what formNetwork/joinNetwork take."""

    extended_pan_id: str
    pan_id: int
    radio_tx_power: int
    radio_channel: int
    join_method: int = 0
    nwk_manager_id: int = 0
    nwk_update_id: int = 0
    channels: int = 0

    def encode(self) -> bytes:
        """The struct's bytes."""
        return (eui64_bytes(self.extended_pan_id, "extendedPanId") + u16(self.pan_id, "panId")
                + s8(self.radio_tx_power, "radioTxPower")
                + u8(self.radio_channel, "radioChannel") + u8(self.join_method, "joinMethod")
                + u16(self.nwk_manager_id, "nwkManagerId")
                + u8(self.nwk_update_id, "nwkUpdateId") + u32(self.channels, "channels"))

    @classmethod
    def read(cls, cur: Cursor) -> NetworkParameters:
        """Read the struct at the cursor."""
        return cls(cur.eui64("extendedPanId"), cur.u16("panId"), cur.s8("radioTxPower"),
                   cur.u8("radioChannel"), cur.u8("joinMethod"), cur.u16("nwkManagerId"),
                   cur.u8("nwkUpdateId"), cur.u32("channels"))


@dataclass(frozen=True)
class ZigbeeNetwork:
    """EmberZigbeeNetwork (14 bytes): one network an active scan found."""

    channel: int
    pan_id: int
    extended_pan_id: str
    allowing_join: bool
    stack_profile: int
    nwk_update_id: int

    def encode(self) -> bytes:
        """The struct's bytes."""
        return (u8(self.channel, "channel") + u16(self.pan_id, "panId")
                + eui64_bytes(self.extended_pan_id, "extendedPanId")
                + u8(int(self.allowing_join), "allowingJoin")
                + u8(self.stack_profile, "stackProfile") + u8(self.nwk_update_id, "nwkUpdateId"))

    @classmethod
    def read(cls, cur: Cursor) -> ZigbeeNetwork:
        """Read the struct at the cursor."""
        return cls(cur.u8("channel"), cur.u16("panId"), cur.eui64("extendedPanId"),
                   bool(cur.u8("allowingJoin")), cur.u8("stackProfile"), cur.u8("nwkUpdateId"))


@dataclass(frozen=True)
class ApsFrame:
    """EmberApsFrame (11 bytes): the APS header of a message sent or received."""

    profile_id: int
    cluster_id: int
    source_endpoint: int
    destination_endpoint: int
    options: int = 0
    group_id: int = 0
    sequence: int = 0

    def encode(self) -> bytes:
        """The struct's bytes."""
        return (u16(self.profile_id, "profileId") + u16(self.cluster_id, "clusterId")
                + u8(self.source_endpoint, "sourceEndpoint")
                + u8(self.destination_endpoint, "destinationEndpoint")
                + u16(self.options, "options") + u16(self.group_id, "groupId")
                + u8(self.sequence, "sequence"))

    @classmethod
    def read(cls, cur: Cursor) -> ApsFrame:
        """Read the struct at the cursor."""
        return cls(cur.u16("profileId"), cur.u16("clusterId"), cur.u8("sourceEndpoint"),
                   cur.u8("destinationEndpoint"), cur.u16("options"), cur.u16("groupId"),
                   cur.u8("sequence"))


@dataclass(frozen=True)
class NeighborEntry:
    """EmberNeighborTableEntry (14 bytes): a neighbour's ids, LQI, link costs and age.

    The stack keeps no RSSI here: a neighbour's RSSI comes with its messages
    (incomingMessageHandler's lastHopRssi) or an active scan (networkFoundHandler).
    """

    short_id: int
    average_lqi: int
    in_cost: int
    out_cost: int
    age: int
    long_id: str

    def encode(self) -> bytes:
        """The struct's bytes."""
        return (u16(self.short_id, "shortId") + u8(self.average_lqi, "averageLqi")
                + u8(self.in_cost, "inCost") + u8(self.out_cost, "outCost")
                + u8(self.age, "age") + eui64_bytes(self.long_id, "longId"))

    @classmethod
    def read(cls, cur: Cursor) -> NeighborEntry:
        """Read the struct at the cursor."""
        return cls(cur.u16("shortId"), cur.u8("averageLqi"), cur.u8("inCost"),
                   cur.u8("outCost"), cur.u8("age"), cur.eui64("longId"))


@dataclass(frozen=True)
class ChildData:
    """A child table entry: EmberChildData of EZSP 7-9 (eui64, type, id, phy, power, timeout),
    with timeoutRemaining from 10; versions 4-6 report only id, eui64 and type."""

    eui64: str
    node_type: int
    node_id: int
    phy: int | None = None
    power: int | None = None
    timeout: int | None = None
    timeout_remaining: int | None = None

    def encode(self, version: int) -> bytes:
        """The fields ``getChildData`` returns after its status, in ``version``'s layout."""
        if version < 7:
            return (u16(self.node_id, "childId") + eui64_bytes(self.eui64, "childEui64")
                    + u8(self.node_type, "childType"))
        out = (eui64_bytes(self.eui64, "eui64") + u8(self.node_type, "type")
               + u16(self.node_id, "id") + u8(self.phy or 0, "phy")
               + u8(self.power or 0, "power") + u8(self.timeout or 0, "timeout"))
        if version >= 10:
            out += u32(self.timeout_remaining or 0, "timeoutRemaining")
        return out

    @classmethod
    def read(cls, cur: Cursor, version: int) -> ChildData:
        """Read the entry at the cursor in ``version``'s layout."""
        if version < 7:
            node_id, eui = cur.u16("childId"), cur.eui64("childEui64")
            return cls(eui64=eui, node_type=cur.u8("childType"), node_id=node_id)
        eui, node_type, node_id = cur.eui64("eui64"), cur.u8("type"), cur.u16("id")
        phy, power, timeout = cur.u8("phy"), cur.u8("power"), cur.u8("timeout")
        remaining = cur.u32("timeoutRemaining") if version >= 10 else None
        return cls(eui, node_type, node_id, phy, power, timeout, remaining)
