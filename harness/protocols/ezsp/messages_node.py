"""EZSP messages, part three: the coordinator's own state and its door (its EUI-64, network
parameters, initial security state, permit joining, neighbour count, removing a device).

Pure.  Frame ids and layouts from Silicon Labs UG100 ("Configuration Frames", "Networking
Frames", "Security Frames", "Trust Center Frames") and UG600 (the same frames for EZSP 8+).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

from harness.protocols.ezsp.errors import EzspFrameError
from harness.protocols.ezsp.messages import cursor
from harness.protocols.ezsp.types import NetworkParameters, eui64_bytes, u8, u16

# EmberInitialSecurityBitmask (UG100 "EmberInitialSecurityBitmask") values a trust centre uses.
TRUST_CENTER_GLOBAL_LINK_KEY = 0x0004
HAVE_PRECONFIGURED_KEY = 0x0100
HAVE_NETWORK_KEY = 0x0200
REQUIRE_ENCRYPTED_KEY = 0x0800
# EmberDeviceUpdate (trustCenterJoinHandler status) and EmberJoinDecision (policyDecision).
SECURED_REJOIN, UNSECURED_JOIN, DEVICE_LEFT, UNSECURED_REJOIN = 0, 1, 2, 3
USE_PRECONFIGURED_KEY, SEND_KEY_IN_THE_CLEAR, DENY_JOIN, NO_ACTION = 0, 1, 2, 3


@dataclass(frozen=True)
class Duration:
    """permitJoining (0x22): let nodes join for ``duration`` s (0 closes, 255 for ever)."""

    duration: int

    def encode(self, version: int) -> bytes:
        """The duration byte."""
        return u8(self.duration, "duration")

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read the duration."""
        cur = cursor(params, "permitJoining")
        out = cls(cur.u8("duration"))
        cur.end()
        return out


@dataclass(frozen=True)
class Eui64Value:
    """getEui64 (0x26) response: the NCP's own EUI-64."""

    eui64: str

    def encode(self, version: int) -> bytes:
        """The 8 bytes, least significant first."""
        return eui64_bytes(self.eui64, "eui64")

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read the EUI-64."""
        cur = cursor(params, "getEui64 response")
        out = cls(cur.eui64("eui64"))
        cur.end()
        return out


@dataclass(frozen=True)
class Count:
    """A response holding one count byte (neighborCount 0x7A)."""

    value: int

    def encode(self, version: int) -> bytes:
        """The count byte."""
        return u8(self.value, "value")

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read the count."""
        cur = cursor(params, "count")
        out = cls(cur.u8("value"))
        cur.end()
        return out


@dataclass(frozen=True)
class NetworkParametersResponse:
    """getNetworkParameters (0x28) response: status (NOT_JOINED when in no network), the
    node type and the EmberNetworkParameters."""

    status: int
    node_type: int
    parameters: NetworkParameters

    def encode(self, version: int) -> bytes:
        """status, nodeType, parameters."""
        return u8(self.status, "status") + u8(self.node_type, "nodeType") + \
            self.parameters.encode()

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read the three."""
        cur = cursor(params, "getNetworkParameters response")
        out = cls(cur.u8("status"), cur.u8("nodeType"), NetworkParameters.read(cur))
        cur.end()
        return out


@dataclass(frozen=True)
class InitialSecurityState:
    """setInitialSecurityState (0x68): EmberInitialSecurityState, the keys a coordinator forms
    with (bitmask, preconfigured link key, network key, key sequence number, TC EUI-64)."""

    bitmask: int
    preconfigured_key: bytes = field(repr=False)
    network_key: bytes = field(repr=False)
    key_sequence: int = 0
    trust_center_eui64: str = "0000000000000000"

    def encode(self, version: int) -> bytes:
        """The 43-byte struct."""
        for name, key in (("preconfiguredKey", self.preconfigured_key),
                          ("networkKey", self.network_key)):
            if len(bytes(key)) != 16:
                raise EzspFrameError(f"EZSP setInitialSecurityState: {name} is 16 bytes, got "
                                     f"{len(bytes(key))}", field=name)
        return (u16(self.bitmask, "bitmask") + bytes(self.preconfigured_key)
                + bytes(self.network_key) + u8(self.key_sequence, "networkKeySequenceNumber")
                + eui64_bytes(self.trust_center_eui64, "preconfiguredTrustCenterEui64"))

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read the struct."""
        cur = cursor(params, "setInitialSecurityState")
        out = cls(cur.u16("bitmask"), cur.take(16, "preconfiguredKey"),
                  cur.take(16, "networkKey"), cur.u8("networkKeySequenceNumber"),
                  cur.eui64("preconfiguredTrustCenterEui64"))
        cur.end()
        return out


@dataclass(frozen=True)
class RemoveDevice:
    """removeDevice (0xA8): ask ``dest_long`` (node ``dest_short``) to make ``target_long``
    leave; for a direct child or router both are the node itself."""

    dest_short: int
    dest_long: str
    target_long: str

    def encode(self, version: int) -> bytes:
        """destShort, destLong, targetLong."""
        return (u16(self.dest_short, "destShort") + eui64_bytes(self.dest_long, "destLong")
                + eui64_bytes(self.target_long, "targetLong"))

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read the three."""
        cur = cursor(params, "removeDevice")
        out = cls(cur.u16("destShort"), cur.eui64("destLong"), cur.eui64("targetLong"))
        cur.end()
        return out
