"""The EZSP commands, responses and callbacks a bench needs, with frame ids and layouts.

Pure.  Frame ids and parameter layouts from Silicon Labs UG100 ("EZSP Reference Guide":
"Configuration Frames", "Networking Frames", "Messaging Frames", "Security Frames", "Trust
Center Frames") and UG600 (the same frames for EZSP 8+, 2-byte ids of the same value; from
EZSP 13 ``importTransientKey`` 0x0111 replaces ``addTransientLinkKey`` 0xAF).  Layouts are
those of EZSP protocol versions 4 to 13; version 14 moved every status to a 32-bit sl_Status
and reordered several frames, so it is refused rather than mis-decoded.

Each message is a frozen dataclass with ``encode(version) -> bytes`` (its parameters) and
``decode(params, version)``; ``MESSAGES`` maps a frame name to its id and its command and
response classes, and ``build``/``parse`` wrap parameters in an EZSP frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Protocol, Self

from harness.protocols.ezsp.errors import EzspFrameError
from harness.protocols.ezsp.frame import EzspFrame, decode_ezsp, encode_ezsp, is_extended
from harness.protocols.ezsp.types import (
    ApsFrame,
    ChildData,
    Cursor,
    NeighborEntry,
    NetworkParameters,
    ZigbeeNetwork,
    eui64_bytes,
    lv_bytes,
    s8,
    u8,
    u16,
    u32,
)
from harness.protocols.installcode import InstallCode

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


def _cursor(params: bytes, name: str) -> Cursor:
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
        _cursor(params, cls.__name__).end()
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
        cur = _cursor(params, cls.__name__)
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
        cur = _cursor(params, cls.__name__)
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
        cur = _cursor(params, "version")
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
        cur = _cursor(params, "version response")
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
        cur = _cursor(params, "networkInit")
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
        cur = _cursor(params, "formNetwork")
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
        cur = _cursor(params, "joinNetwork")
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
        cur = _cursor(params, "startScan")
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
        cur = _cursor(params, "energyScanResultHandler")
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
        cur = _cursor(params, "networkFoundHandler")
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
        cur = _cursor(params, "scanCompleteHandler")
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
        cur = _cursor(params, cls.__name__)
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
        cur = _cursor(params, "getChildData response")
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
        cur = _cursor(params, "getNeighbor response")
        out = cls(cur.u8("status"), NeighborEntry.read(cur))
        cur.end()
        return out


# --- security and trust centre ---------------------------------------------------------------


@dataclass(frozen=True)
class TransientKey:
    """addTransientLinkKey (0xAF, EZSP 4-12) or importTransientKey (0x0111, EZSP 13): the link
    key a joining device with this EUI-64 will use, e.g. an install code's (``InstallCode.
    link_key()``); ``flags`` (sl_zb_sec_man_flags) exists from 13 only."""

    eui64: str
    key: bytes = field(repr=False)
    flags: int = 0

    def encode(self, version: int) -> bytes:
        """EUI-64, the 16 key bytes, and the flags byte from version 13."""
        key = bytes(self.key)
        if len(key) != 16:
            raise EzspFrameError(f"EZSP transient key: a key is 16 bytes, got {len(key)}",
                                 field="key")
        out = eui64_bytes(self.eui64, "partner") + key
        return out + u8(self.flags, "flags") if version >= 13 else out

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read EUI-64, key and (13+) flags."""
        cur = _cursor(params, "transient key")
        eui, key = cur.eui64("partner"), cur.take(16, "key")
        out = cls(eui, key, cur.u8("flags") if version >= 13 else 0)
        cur.end()
        return out


@dataclass(frozen=True)
class TrustCenterJoin:
    """trustCenterJoinHandler (0x24): a device joined, rejoined or left through this trust
    centre; ``status`` is EmberDeviceUpdate, ``decision`` EmberJoinDecision."""

    new_node_id: int
    eui64: str
    status: int
    decision: int
    parent_id: int

    def encode(self, version: int) -> bytes:
        """newNodeId, newNodeEui64, status, policyDecision, parentOfNewNodeId."""
        return (u16(self.new_node_id, "newNodeId") + eui64_bytes(self.eui64, "newNodeEui64")
                + u8(self.status, "status") + u8(self.decision, "policyDecision")
                + u16(self.parent_id, "parentOfNewNodeId"))

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read the five fields."""
        cur = _cursor(params, "trustCenterJoinHandler")
        out = cls(cur.u16("newNodeId"), cur.eui64("newNodeEui64"), cur.u8("status"),
                  cur.u8("policyDecision"), cur.u16("parentOfNewNodeId"))
        cur.end()
        return out


# --- messaging -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendUnicast:
    """sendUnicast (0x34): send ``message`` to ``destination`` (a node id when ``type`` is
    OUTGOING_DIRECT); ``tag`` comes back in messageSentHandler."""

    type: int
    destination: int
    aps: ApsFrame
    tag: int
    message: bytes

    def encode(self, version: int) -> bytes:
        """type, indexOrDestination, apsFrame, messageTag, messageLength, messageContents."""
        return (u8(self.type, "type") + u16(self.destination, "indexOrDestination")
                + self.aps.encode() + u8(self.tag, "messageTag")
                + lv_bytes(self.message, "messageContents"))

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read the fields."""
        cur = _cursor(params, "sendUnicast")
        out = cls(cur.u8("type"), cur.u16("indexOrDestination"), ApsFrame.read(cur),
                  cur.u8("messageTag"), cur.lv_bytes("messageContents"))
        cur.end()
        return out


@dataclass(frozen=True)
class SendUnicastResponse:
    """sendUnicast response: status and the APS sequence number given to the message."""

    status: int
    sequence: int

    def encode(self, version: int) -> bytes:
        """status, sequence."""
        return u8(self.status, "status") + u8(self.sequence, "sequence")

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read both."""
        cur = _cursor(params, "sendUnicast response")
        out = cls(cur.u8("status"), cur.u8("sequence"))
        cur.end()
        return out


@dataclass(frozen=True)
class MessageSent:
    """messageSentHandler (0x3F): the fate of a sent message (status DELIVERY_FAILED 0x66 if
    the APS ack never came)."""

    type: int
    destination: int
    aps: ApsFrame
    tag: int
    status: int
    message: bytes

    def encode(self, version: int) -> bytes:
        """type, indexOrDestination, apsFrame, messageTag, status, length, contents."""
        return (u8(self.type, "type") + u16(self.destination, "indexOrDestination")
                + self.aps.encode() + u8(self.tag, "messageTag") + u8(self.status, "status")
                + lv_bytes(self.message, "messageContents"))

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read the fields."""
        cur = _cursor(params, "messageSentHandler")
        out = cls(cur.u8("type"), cur.u16("indexOrDestination"), ApsFrame.read(cur),
                  cur.u8("messageTag"), cur.u8("status"), cur.lv_bytes("messageContents"))
        cur.end()
        return out


@dataclass(frozen=True)
class IncomingMessage:
    """incomingMessageHandler (0x45): a message received, with the last hop's LQI and RSSI —
    the per-neighbour RSSI a bench measures."""

    type: int
    aps: ApsFrame
    last_hop_lqi: int
    last_hop_rssi: int
    sender: int
    binding_index: int
    address_index: int
    message: bytes

    def encode(self, version: int) -> bytes:
        """type, apsFrame, lastHopLqi, lastHopRssi, sender, bindingIndex, addressIndex, msg."""
        return (u8(self.type, "type") + self.aps.encode() + u8(self.last_hop_lqi, "lastHopLqi")
                + s8(self.last_hop_rssi, "lastHopRssi") + u16(self.sender, "sender")
                + u8(self.binding_index, "bindingIndex") + u8(self.address_index, "addressIndex")
                + lv_bytes(self.message, "messageContents"))

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read the fields."""
        cur = _cursor(params, "incomingMessageHandler")
        out = cls(cur.u8("type"), ApsFrame.read(cur), cur.u8("lastHopLqi"),
                  cur.s8("lastHopRssi"), cur.u16("sender"), cur.u8("bindingIndex"),
                  cur.u8("addressIndex"), cur.lv_bytes("messageContents"))
        cur.end()
        return out


# --- the table ---------------------------------------------------------------------------------


class _Decodable(Protocol):
    @classmethod
    def decode(cls, params: bytes, version: int) -> Message: ...


@dataclass(frozen=True)
class FrameDef:
    """A frame's id, and the class of its command and response (None: that side has none,
    e.g. a callback is a response only)."""

    name: str
    frame_id: int
    command: type[_Decodable] | None
    response: type[_Decodable] | None
    versions: tuple[int, int] = (MIN_VERSION, MAX_VERSION)

    def __post_init__(self) -> None:
        if not 0 <= self.frame_id <= 0xFFFF:
            raise EzspFrameError(f"EZSP: frame id of {self.name} out of range")


MESSAGES: Final[dict[str, FrameDef]] = {d.name: d for d in (
    FrameDef("version", 0x00, Version, VersionResponse),
    FrameDef("networkInit", 0x17, NetworkInit, Status),
    FrameDef("stackStatusHandler", 0x19, None, Status),
    FrameDef("startScan", 0x1A, StartScan, Status),
    FrameDef("networkFoundHandler", 0x1B, None, NetworkFound),
    FrameDef("scanCompleteHandler", 0x1C, None, ScanComplete),
    FrameDef("formNetwork", 0x1E, FormNetwork, Status),
    FrameDef("joinNetwork", 0x1F, JoinNetwork, Status),
    FrameDef("leaveNetwork", 0x20, NoParameters, Status),
    FrameDef("trustCenterJoinHandler", 0x24, None, TrustCenterJoin),
    FrameDef("sendUnicast", 0x34, SendUnicast, SendUnicastResponse),
    FrameDef("messageSentHandler", 0x3F, None, MessageSent),
    FrameDef("incomingMessageHandler", 0x45, None, IncomingMessage),
    FrameDef("energyScanResultHandler", 0x48, None, EnergyScanResult),
    FrameDef("invalidCommand", 0x58, None, Status),  # its byte is an EzspStatus
    FrameDef("getChildData", 0x4A, Index, ChildDataResponse),
    FrameDef("getNeighbor", 0x79, Index, NeighborResponse),
    FrameDef("addTransientLinkKey", 0xAF, TransientKey, Status, (MIN_VERSION, 12)),
    FrameDef("importTransientKey", 0x0111, TransientKey, SlStatus, (13, MAX_VERSION)),
)}
"""Every frame this module knows, by its UG100/UG600 name."""

_BY_ID: Final[dict[int, list[FrameDef]]] = {}
for _d in MESSAGES.values():
    _BY_ID.setdefault(_d.frame_id, []).append(_d)


def frame_def(name: str, version: int) -> FrameDef:
    """The definition of ``name``, checked to exist in EZSP ``version``."""
    check_version(version)
    try:
        found = MESSAGES[name]
    except KeyError:
        raise EzspFrameError(f"EZSP: no frame named {name!r} here", frame=name) from None
    low, high = found.versions
    if not low <= version <= high:
        raise EzspFrameError(f"EZSP: {name} exists in versions {low}..{high}, not {version}",
                             frame=name, version=version)
    return found


def transient_key_frame(version: int) -> str:
    """The frame that installs a transient link key in ``version``: addTransientLinkKey before
    13, importTransientKey from 13."""
    return "importTransientKey" if check_version(version) >= 13 else "addTransientLinkKey"


def build(name: str, message: Message, *, sequence: int, version: int,
          response: bool = False, callback_type: int = 0) -> bytes:
    """The EZSP frame bytes carrying ``message`` as command (or, for an NCP, response) ``name``,
    with the header EZSP ``version`` uses (legacy before 8, extended from 8)."""
    definition = frame_def(name, version)
    frame = EzspFrame(sequence=sequence, frame_id=definition.frame_id, is_response=response,
                      parameters=message.encode(version), extended=is_extended(version),
                      callback_type=callback_type if response else 0)
    return encode_ezsp(frame)


def parse(data: bytes, *, version: int) -> tuple[EzspFrame, str, Message]:
    """Decode an EZSP frame of ``version`` into its header, frame name and parameters.

    A frame id this module does not know, or parameters that do not fit the layout, raise
    an EzspFrameError naming the frame id and what is wrong.
    """
    check_version(version)
    frame = decode_ezsp(data, extended=is_extended(version))
    for definition in _BY_ID.get(frame.frame_id, []):
        low, high = definition.versions
        if low <= version <= high:
            cls = definition.response if frame.is_response else definition.command
            if cls is None:
                raise EzspFrameError(
                    f"EZSP: {definition.name} (0x{frame.frame_id:04X}) is only ever a "
                    f"{'command' if frame.is_response else 'response/callback'}",
                    frame_id=frame.frame_id,
                )
            return frame, definition.name, cls.decode(frame.parameters, version)
    raise EzspFrameError(f"EZSP: frame id 0x{frame.frame_id:04X} is not one this codec knows "
                         f"(version {version})", frame_id=frame.frame_id)


def version_command(desired: int, *, sequence: int = 0) -> bytes:
    """The first frame a host sends: ``version`` in the legacy header whatever it hopes for
    (UG100/UG600: the NCP's version is not yet known), e.g. ``00 00 00 02`` (UG101's example)."""
    frame = EzspFrame(sequence=sequence, frame_id=MESSAGES["version"].frame_id,
                      is_response=False, parameters=Version(desired).encode(MIN_VERSION))
    return encode_ezsp(frame)


def version_reply(data: bytes) -> VersionResponse:
    """The NCP's answer to ``version_command``: a legacy-header ``version`` response of any
    protocol version (an NCP of 8+ answers the legacy command in the legacy form)."""
    frame = decode_ezsp(data, extended=False)
    if not frame.is_response or frame.frame_id != MESSAGES["version"].frame_id:
        raise EzspFrameError(
            f"EZSP: expected the version response (legacy, frame id 0x00), got frame id "
            f"0x{frame.frame_id:02X}{'' if frame.is_response else ' as a command'}",
            frame_id=frame.frame_id,
        )
    return VersionResponse.decode(frame.parameters, MIN_VERSION)


def install_code_key(code: InstallCode, eui64: str, version: int) -> tuple[str, TransientKey]:
    """The frame name and message that let the device ``eui64`` join with its install code:
    the AES-MMO link key of the code (``InstallCode.link_key``, ZigBee annex B.6) installed as
    a transient link key, in the frame ``version`` has for that."""
    return transient_key_frame(version), TransientKey(eui64, bytes(code.link_key()))
