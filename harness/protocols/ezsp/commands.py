"""The EZSP frames a bench needs, by name: frame ids, which versions have them, and
``build``/``parse`` between messages and EZSP frame bytes.

Pure.  Frame ids from Silicon Labs UG100 ("EZSP Reference Guide": "Configuration Frames",
"Networking Frames", "Messaging Frames", "Security Frames", "Trust Center Frames") and UG600
(the same frames for EZSP 8+, 2-byte ids of the same value; from EZSP 13
``importTransientKey`` 0x0111 replaces ``addTransientLinkKey`` 0xAF).  Layouts are those of
EZSP protocol versions 4 to 13 (the message classes live in ``messages.py`` and
``messages_tc.py`` and are re-exported here); version 14 moved every status to a 32-bit
sl_Status and reordered several frames, so it is refused rather than mis-decoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Protocol

from harness.protocols.ezsp.errors import EzspFrameError
from harness.protocols.ezsp.frame import EzspFrame, decode_ezsp, encode_ezsp, is_extended
from harness.protocols.ezsp.messages import (
    ACTIVE_SCAN,
    EMBER_STATUS,
    ENERGY_SCAN,
    EZSP_ERROR_INVALID_FRAME_ID,
    MAX_VERSION,
    MIN_VERSION,
    NODE_COORDINATOR,
    NODE_END_DEVICE,
    NODE_ROUTER,
    NODE_SLEEPY_END_DEVICE,
    OUTGOING_DIRECT,
    ChildDataResponse,
    EnergyScanResult,
    FormNetwork,
    Index,
    JoinNetwork,
    Message,
    NeighborResponse,
    NetworkFound,
    NetworkInit,
    NoParameters,
    ScanComplete,
    SlStatus,
    StartScan,
    Status,
    Version,
    VersionResponse,
    check_version,
    status_name,
)
from harness.protocols.ezsp.messages_mfg import MfgToken, TokenId
from harness.protocols.ezsp.messages_node import (
    Count,
    Duration,
    Eui64Value,
    InitialSecurityState,
    NetworkParametersResponse,
    RemoveDevice,
)
from harness.protocols.ezsp.messages_tc import (
    IncomingMessage,
    MessageSent,
    SendUnicast,
    SendUnicastResponse,
    TransientKey,
    TrustCenterJoin,
)
from harness.protocols.ezsp.types import (
    ApsFrame,
    ChildData,
    NeighborEntry,
    NetworkParameters,
    ZigbeeNetwork,
)
from harness.protocols.installcode import InstallCode

__all__ = [
    "ACTIVE_SCAN",
    "EMBER_STATUS",
    "ENERGY_SCAN",
    "EZSP_ERROR_INVALID_FRAME_ID",
    "MAX_VERSION",
    "MESSAGES",
    "MIN_VERSION",
    "NODE_COORDINATOR",
    "NODE_END_DEVICE",
    "NODE_ROUTER",
    "NODE_SLEEPY_END_DEVICE",
    "OUTGOING_DIRECT",
    "ApsFrame",
    "ChildData",
    "ChildDataResponse",
    "Count",
    "Duration",
    "EnergyScanResult",
    "Eui64Value",
    "FormNetwork",
    "FrameDef",
    "IncomingMessage",
    "Index",
    "InitialSecurityState",
    "JoinNetwork",
    "Message",
    "MessageSent",
    "MfgToken",
    "NeighborEntry",
    "NeighborResponse",
    "NetworkFound",
    "NetworkInit",
    "NetworkParameters",
    "NetworkParametersResponse",
    "NoParameters",
    "RemoveDevice",
    "ScanComplete",
    "SendUnicast",
    "SendUnicastResponse",
    "SlStatus",
    "StartScan",
    "Status",
    "TokenId",
    "TransientKey",
    "TrustCenterJoin",
    "Version",
    "VersionResponse",
    "ZigbeeNetwork",
    "build",
    "check_version",
    "frame_def",
    "install_code_key",
    "parse",
    "status_name",
    "transient_key_frame",
    "version_command",
    "version_reply",
]

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
    FrameDef("getMfgToken", 0x0B, TokenId, MfgToken),
    FrameDef("networkInit", 0x17, NetworkInit, Status),
    FrameDef("stackStatusHandler", 0x19, None, Status),
    FrameDef("startScan", 0x1A, StartScan, Status),
    FrameDef("networkFoundHandler", 0x1B, None, NetworkFound),
    FrameDef("scanCompleteHandler", 0x1C, None, ScanComplete),
    FrameDef("formNetwork", 0x1E, FormNetwork, Status),
    FrameDef("joinNetwork", 0x1F, JoinNetwork, Status),
    FrameDef("leaveNetwork", 0x20, NoParameters, Status),
    FrameDef("permitJoining", 0x22, Duration, Status),
    FrameDef("trustCenterJoinHandler", 0x24, None, TrustCenterJoin),
    FrameDef("getEui64", 0x26, NoParameters, Eui64Value),
    FrameDef("getNetworkParameters", 0x28, NoParameters, NetworkParametersResponse),
    FrameDef("setInitialSecurityState", 0x68, InitialSecurityState, Status),
    FrameDef("neighborCount", 0x7A, NoParameters, Count),
    FrameDef("removeDevice", 0xA8, RemoveDevice, Status),
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
