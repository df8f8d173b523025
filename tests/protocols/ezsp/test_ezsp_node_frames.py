"""The coordinator frames of messages_node.py: UG100 frame ids and layouts on the wire, in the
legacy (EZSP 4-7) and extended (8+) headers, and round trips of every message."""

from __future__ import annotations

import pytest

from harness.protocols.ezsp import commands as c
from harness.protocols.ezsp.errors import EzspFrameError

EUI = "000D6F0000ABCDEF"
PARAMS = c.NetworkParameters("0011223344556677", 0x1A2B, 8, 15, channels=1 << 15)


def test_permit_joining_on_the_wire() -> None:
    """permitJoining 0x22 with a 60 s window: legacy seq/fc/id, extended seq/fc(2)/id(2)."""
    assert c.build("permitJoining", c.Duration(60), sequence=5, version=4) == bytes.fromhex(
        "05 00 22 3C")
    assert c.build("permitJoining", c.Duration(60), sequence=5, version=8) == bytes.fromhex(
        "05 00 01 22 00 3C")


def test_get_eui64_response_is_little_endian() -> None:
    data = c.build("getEui64", c.Eui64Value(EUI), sequence=1, version=8, response=True)
    assert data[-8:] == bytes.fromhex(EUI)[::-1]
    assert c.parse(data, version=8)[2] == c.Eui64Value(EUI)


@pytest.mark.parametrize("name,message", [
    ("getNetworkParameters", c.NetworkParametersResponse(0, c.NODE_COORDINATOR, PARAMS)),
    ("setInitialSecurityState", c.InitialSecurityState(0x0B04, b"ZigBeeAlliance09",
                                                       bytes(range(16)), 0, EUI)),
    ("removeDevice", c.RemoveDevice(0x1234, EUI, EUI)),
    ("neighborCount", c.Count(3)),
])
@pytest.mark.parametrize("version", [4, 7, 8, 13])
def test_round_trips(name: str, message: c.Message, version: int) -> None:
    response = isinstance(message, c.NetworkParametersResponse | c.Count)
    data = c.build(name, message, sequence=9, version=version, response=response)
    assert c.parse(data, version=version)[1:] == (name, message)


def test_security_state_is_43_bytes_and_refuses_a_short_key() -> None:
    state = c.InitialSecurityState(0x0B04, b"ZigBeeAlliance09", bytes(16), 0, EUI)
    assert len(state.encode(8)) == 43
    with pytest.raises(EzspFrameError, match="networkKey is 16 bytes"):
        c.InitialSecurityState(0x0B04, b"ZigBeeAlliance09", bytes(15)).encode(8)
    assert "ZigBeeAlliance09" not in repr(state)
