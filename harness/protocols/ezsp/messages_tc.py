"""EZSP messages, part two: security, trust centre and messaging frames (transient link keys
for install codes, trust centre joins, unicasts and their callbacks, incoming messages with
their last hop's LQI and RSSI).

Pure.  Frame ids and layouts from Silicon Labs UG100 ("Security Frames", "Trust Center
Frames", "Messaging Frames") and UG600 (EZSP 8+; ``importTransientKey`` from EZSP 13).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

from harness.protocols.ezsp.errors import EzspFrameError
from harness.protocols.ezsp.messages import cursor
from harness.protocols.ezsp.types import ApsFrame, eui64_bytes, lv_bytes, s8, u8, u16

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
        cur = cursor(params, "transient key")
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
        cur = cursor(params, "trustCenterJoinHandler")
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
        cur = cursor(params, "sendUnicast")
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
        cur = cursor(params, "sendUnicast response")
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
        cur = cursor(params, "messageSentHandler")
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
        cur = cursor(params, "incomingMessageHandler")
        out = cls(cur.u8("type"), ApsFrame.read(cur), cur.u8("lastHopLqi"),
                  cur.s8("lastHopRssi"), cur.u16("sender"), cur.u8("bindingIndex"),
                  cur.u8("addressIndex"), cur.lv_bytes("messageContents"))
        cur.end()
        return out


