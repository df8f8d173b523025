"""EZSP messages, part one: statuses, ``version`` and the networking frames (network init,
form, join, leave, energy and active scans with their callbacks, child and neighbour tables).

Pure.  Frame ids and layouts from Silicon Labs UG100 ("EZSP Reference Guide", sections
"Configuration Frames" and "Networking Frames") and UG600 (the same frames for EZSP 8+).
Each message is a frozen dataclass with ``encode(version) -> bytes`` (its parameters) and
``decode(params, version)``; ``commands.py`` holds the table of frame ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol, Self

from harness.protocols.ezsp.errors import EzspFrameError
from harness.protocols.ezsp.types import (
    ChildData,
    Cursor,
    NeighborEntry,
    NetworkParameters,
    ZigbeeNetwork,
    s8,
    u8,
    u16,
    u32,
)

MIN_VERSION: Final = 4
MAX_VERSION: Final = 13

EMBER_STATUS: Final[dict[int, str]] = {
    0x00: "SUCCESS", 0x01: "ERR_FATAL", 0x02: "BAD_ARGUMENT", 0x18: "NO_BUFFERS",
    0x35: "MAC_INVALID_CHANNEL_MASK", 0x66: "DELIVERY_FAILED", 0x70: "INVALID_CALL",
    0x90: "NETWORK_UP", 0x91: "NETWORK_DOWN", 0x93: "NOT_JOINED", 0x94: "JOIN_FAILED",
    0x98: "CANNOT_JOIN_AS_ROUTER", 0x99: "NODE_ID_CHANGED", 0x9A: "PAN_ID_CHANGED",
    0x9B: "CHANNEL_CHANGED", 0x9C: "NETWORK_OPENED", 0x9D: "NETWORK_CLOSED",
    0xA1: "NETWORK_BUSY", 0xAB: "NO_BEACONS", 0xAD: "NO_NETWORK_KEY_RECEIVED",
    0xAE: "NO_LINK_KEY_RECEIVED", 0xAF: "PRECONFIGURED_KEY_REQUIRED",
}
"""EmberStatus names (UG100 "EmberStatus") of the values a bench meets; others are unlisted."""

ENERGY_SCAN: Final = 0x00
ACTIVE_SCAN: Final = 0x01
NODE_COORDINATOR, NODE_ROUTER, NODE_END_DEVICE, NODE_SLEEPY_END_DEVICE = 1, 2, 3, 4
OUTGOING_DIRECT: Final = 0x00
EZSP_ERROR_INVALID_FRAME_ID: Final = 0x31
"""EzspStatus an NCP puts in invalidCommand (0x58) for a frame id it does not know."""


def status_name(status: int) -> str:
    """An EmberStatus value's name, or ``unlisted (0xNN)``."""
    return EMBER_STATUS.get(status, f"unlisted (0x{status:02X})")


def check_version(version: int) -> int:
    """``version`` if this module has its layouts (4..13), else an EzspFrameError saying why."""
    if not isinstance(version, int) or not MIN_VERSION <= version <= MAX_VERSION:
        raise EzspFrameError(
            f"EZSP protocol version {version!r} is not supported: layouts here cover versions "
            f"{MIN_VERSION}..{MAX_VERSION} (version 14 changed statuses to 32-bit sl_Status)",
            version=version,
        )
    return version


class Message(Protocol):
    """What every command, response and callback class offers."""

    def encode(self, version: int) -> bytes: ...


def cursor(params: bytes, name: str) -> Cursor:
    """A Cursor over ``params`` whose errors name ``name``."""
    return Cursor(params, what=name)


# --- generic shapes -----------------------------------------------------------------------


@dataclass(frozen=True)
class NoParameters:
    """A command without parameters (networkInit before v6, leaveNetwork)."""

    def encode(self, version: int) -> bytes:
        """No bytes."""
        return b""

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Refuse any byte."""
        cursor(params, cls.__name__).end()
        return cls()


@dataclass(frozen=True)
class Status:
    """A response holding one EmberStatus byte (formNetwork, joinNetwork, startScan, ...)."""

    status: int

    @property
    def ok(self) -> bool:
        """Whether the status is SUCCESS."""
        return self.status == 0

    @property
    def name(self) -> str:
        """The status's name."""
        return status_name(self.status)

    def encode(self, version: int) -> bytes:
        """The status byte."""
        return u8(self.status, "status")

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read the status byte; nothing may follow."""
        cur = cursor(params, cls.__name__)
        out = cls(cur.u8("status"))
        cur.end()
        return out


@dataclass(frozen=True)
class SlStatus:
    """A response holding a 32-bit sl_Status (importTransientKey, EZSP 13)."""

    status: int

    @property
    def ok(self) -> bool:
        """Whether the status is SL_STATUS_OK (0)."""
        return self.status == 0

    def encode(self, version: int) -> bytes:
        """The status, 4 bytes."""
        return u32(self.status, "status")

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read the 4-byte status; nothing may follow."""
        cur = cursor(params, cls.__name__)
        out = cls(cur.u32("status"))
        cur.end()
        return out


# --- configuration: version ----------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """version (0x00) command: the protocol version the host speaks (UG100 "version")."""

    desired_protocol_version: int

    def encode(self, version: int) -> bytes:
        """The desired version byte."""
        return u8(self.desired_protocol_version, "desiredProtocolVersion")

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read the desired version."""
        cur = cursor(params, "version")
        out = cls(cur.u8("desiredProtocolVersion"))
        cur.end()
        return out


@dataclass(frozen=True)
class VersionResponse:
    """version response: the NCP's protocol version, stack type and stack version."""

    protocol_version: int
    stack_type: int
    stack_version: int

    @property
    def stack_version_text(self) -> str:
        """The stack version's four nibbles as ``major.minor.patch.special`` (0x6780 -> 6.7.8.0)."""
        v = self.stack_version
        return ".".join(str((v >> shift) & 0xF) for shift in (12, 8, 4, 0))

    def encode(self, version: int) -> bytes:
        """protocolVersion, stackType, stackVersion (16-bit)."""
        return (u8(self.protocol_version, "protocolVersion") + u8(self.stack_type, "stackType")
                + u16(self.stack_version, "stackVersion"))

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read the three fields."""
        cur = cursor(params, "version response")
        out = cls(cur.u8("protocolVersion"), cur.u8("stackType"), cur.u16("stackVersion"))
        cur.end()
        return out


# --- networking ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkInit:
    """networkInit (0x17): resume the network the NCP remembers; from EZSP 6 it carries an
    EmberNetworkInitStruct (one 16-bit bitmask)."""

    bitmask: int = 0

    def encode(self, version: int) -> bytes:
        """Nothing before version 6, the bitmask from 6."""
        return u16(self.bitmask, "bitmask") if version >= 6 else b""

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read the bitmask where the version has one."""
        cur = cursor(params, "networkInit")
        out = cls(cur.u16("bitmask")) if version >= 6 else cls()
        cur.end()
        return out


@dataclass(frozen=True)
class FormNetwork:
    """formNetwork (0x1E): form a network as coordinator with these parameters."""

    parameters: NetworkParameters

    def encode(self, version: int) -> bytes:
        """The EmberNetworkParameters."""
        return self.parameters.encode()

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read the parameters."""
        cur = cursor(params, "formNetwork")
        out = cls(NetworkParameters.read(cur))
        cur.end()
        return out


@dataclass(frozen=True)
class JoinNetwork:
    """joinNetwork (0x1F): join as ``node_type`` (EmberNodeType) with these parameters."""

    node_type: int
    parameters: NetworkParameters

    def encode(self, version: int) -> bytes:
        """nodeType then EmberNetworkParameters."""
        return u8(self.node_type, "nodeType") + self.parameters.encode()

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read both."""
        cur = cursor(params, "joinNetwork")
        out = cls(cur.u8("nodeType"), NetworkParameters.read(cur))
        cur.end()
        return out


@dataclass(frozen=True)
class StartScan:
    """startScan (0x1A): ENERGY_SCAN (0) or ACTIVE_SCAN (1) over a channel mask (bit n =
    channel n, 11..26), each channel for (2**duration + 1) * 15.36 ms."""

    scan_type: int
    channel_mask: int
    duration: int

    def encode(self, version: int) -> bytes:
        """scanType, channelMask (32-bit), duration."""
        if self.scan_type not in (ENERGY_SCAN, ACTIVE_SCAN):
            raise EzspFrameError(f"EZSP startScan: scan type {self.scan_type!r} is neither "
                                 "ENERGY_SCAN (0) nor ACTIVE_SCAN (1)", field="scanType")
        return (u8(self.scan_type, "scanType") + u32(self.channel_mask, "channelMask")
                + u8(self.duration, "duration"))

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read the three fields."""
        cur = cursor(params, "startScan")
        out = cls(cur.u8("scanType"), cur.u32("channelMask"), cur.u8("duration"))
        cur.end()
        return out


@dataclass(frozen=True)
class EnergyScanResult:
    """energyScanResultHandler (0x48): the highest RSSI (dBm) heard on a channel."""

    channel: int
    max_rssi: int

    def encode(self, version: int) -> bytes:
        """channel, maxRssiValue (signed)."""
        return u8(self.channel, "channel") + s8(self.max_rssi, "maxRssiValue")

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read both."""
        cur = cursor(params, "energyScanResultHandler")
        out = cls(cur.u8("channel"), cur.s8("maxRssiValue"))
        cur.end()
        return out


@dataclass(frozen=True)
class NetworkFound:
    """networkFoundHandler (0x1B): a beacon heard in an active scan, with its LQI and RSSI."""

    network: ZigbeeNetwork
    last_hop_lqi: int
    last_hop_rssi: int

    def encode(self, version: int) -> bytes:
        """EmberZigbeeNetwork, lastHopLqi, lastHopRssi."""
        return (self.network.encode() + u8(self.last_hop_lqi, "lastHopLqi")
                + s8(self.last_hop_rssi, "lastHopRssi"))

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read the three."""
        cur = cursor(params, "networkFoundHandler")
        out = cls(ZigbeeNetwork.read(cur), cur.u8("lastHopLqi"), cur.s8("lastHopRssi"))
        cur.end()
        return out


@dataclass(frozen=True)
class ScanComplete:
    """scanCompleteHandler (0x1C): the scan ended; ``channel`` is where it failed, if it did."""

    channel: int
    status: int

    def encode(self, version: int) -> bytes:
        """channel, status."""
        return u8(self.channel, "channel") + u8(self.status, "status")

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read both."""
        cur = cursor(params, "scanCompleteHandler")
        out = cls(cur.u8("channel"), cur.u8("status"))
        cur.end()
        return out


@dataclass(frozen=True)
class Index:
    """A command taking one table index (getChildData, getNeighbor)."""

    index: int

    def encode(self, version: int) -> bytes:
        """The index byte."""
        return u8(self.index, "index")

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read the index."""
        cur = cursor(params, cls.__name__)
        out = cls(cur.u8("index"))
        cur.end()
        return out


@dataclass(frozen=True)
class ChildDataResponse:
    """getChildData (0x4A) response: status, then the entry in the version's layout."""

    status: int
    child: ChildData

    def encode(self, version: int) -> bytes:
        """status then the entry."""
        return u8(self.status, "status") + self.child.encode(version)

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read status and entry."""
        cur = cursor(params, "getChildData response")
        out = cls(cur.u8("status"), ChildData.read(cur, version))
        cur.end()
        return out


@dataclass(frozen=True)
class NeighborResponse:
    """getNeighbor (0x79) response: status, then EmberNeighborTableEntry."""

    status: int
    entry: NeighborEntry

    def encode(self, version: int) -> bytes:
        """status then the entry."""
        return u8(self.status, "status") + self.entry.encode()

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read status and entry."""
        cur = cursor(params, "getNeighbor response")
        out = cls(cur.u8("status"), NeighborEntry.read(cur))
        cur.end()
        return out


