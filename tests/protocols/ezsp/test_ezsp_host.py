"""The EZSP host session (host.py): reset, version negotiation for legacy and extended NCPs,
responses told from callbacks, and refusals; against a scripted NCP built from our own
ASH link in NCP role (the emulated NCP is driven in tests/emulator/test_ezsp_ncp.py)."""

from __future__ import annotations

import pytest

from harness.protocols.ezsp import commands as c
from harness.protocols.ezsp.ash_link import AshLink, Received
from harness.protocols.ezsp.errors import AshStateError
from harness.protocols.ezsp.frame import EzspFrame, decode_ezsp, encode_ezsp
from harness.protocols.ezsp.host import (
    Callback,
    EzspHost,
    HostFailed,
    HostReady,
    HostState,
    Response,
    Unreadable,
)


class ScriptedNcp:
    """An NCP of ``version`` that answers version commands and records the others."""

    def __init__(self, version: int) -> None:
        self.version, self.link, self.seen = version, AshLink(role="ncp"), []
        self.reply = c.VersionResponse(version, 2, 0x7410)

    def take(self, data: bytes) -> bytes:
        for event in self.link.receive(data, 0.0):
            if isinstance(event, Received):
                self.seen.append(event.payload)
                extended = self.version >= 8 and event.payload[2] == 0x01
                frame = decode_ezsp(event.payload, extended=extended)
                if frame.frame_id == 0:
                    answer = EzspFrame(frame.sequence, 0, True, self.reply.encode(self.version),
                                       extended=extended)
                    self.link.send(encode_ezsp(answer), 0.0)
        return self.link.outgoing()

    def push(self, data: bytes) -> None:
        self.link.send(data, 0.0)


def exchange(host: EzspHost, ncp: ScriptedNcp) -> list[object]:
    """Move bytes until both sides are quiet."""
    events: list[object] = []
    for _ in range(20):
        out = host.outgoing()
        back = ncp.take(out) + ncp.link.outgoing()
        if not out and not back:
            break
        events += host.receive(back, 0.0)
    return events


def test_an_extended_ncp_is_asked_again_in_the_extended_header() -> None:
    """Desired 13, NCP 8: legacy ``version(13)`` then extended ``version(8)``; ready at 8."""
    host, ncp = EzspHost(13), ScriptedNcp(8)
    host.reset(0.0)
    events = exchange(host, ncp)
    assert events == [HostReady(c.VersionResponse(8, 2, 0x7410), reset_code=0x0B)]
    assert ncp.seen == [bytes.fromhex("01 00 00 0D"), bytes.fromhex("02 00 01 00 00 08")]
    assert host.state is HostState.READY and host.protocol_version == 8


def test_a_legacy_ncp_is_asked_again_with_its_own_version() -> None:
    """Desired 13, NCP 6: ``version(13)`` then ``version(6)``, both legacy; ready at 6."""
    host, ncp = EzspHost(13), ScriptedNcp(6)
    host.reset(0.0)
    assert exchange(host, ncp) == [HostReady(c.VersionResponse(6, 2, 0x7410), 0x0B)]
    assert ncp.seen == [bytes.fromhex("01 00 00 0D"), bytes.fromhex("02 00 00 06")]


def test_a_legacy_ncp_of_the_desired_version_is_ready_at_once() -> None:
    """Desired 6, NCP 6: one version exchange is enough."""
    host, ncp = EzspHost(6), ScriptedNcp(6)
    host.reset(0.0)
    assert exchange(host, ncp) == [HostReady(c.VersionResponse(6, 2, 0x7410), 0x0B)]
    assert len(ncp.seen) == 1


def test_an_unsupported_ncp_version_fails_the_session() -> None:
    """An NCP of version 14 is refused by name, not mis-decoded."""
    host, ncp = EzspHost(13), ScriptedNcp(14)
    host.reset(0.0)
    [failed] = exchange(host, ncp)
    assert isinstance(failed, HostFailed) and "version 14 is not supported" in failed.reason
    assert host.state is HostState.FAILED
    with pytest.raises(AshStateError, match="while failed"):
        host.request("networkInit", c.NetworkInit(), 0.0)


def test_responses_carry_their_sequence_and_callbacks_are_told_apart() -> None:
    """A startScan response matches its sequence; the scan results arrive as Callbacks."""
    host, ncp = EzspHost(8), ScriptedNcp(8)
    host.reset(0.0)
    exchange(host, ncp)
    seq = host.request("startScan", c.StartScan(c.ENERGY_SCAN, 1 << 11, 2), 0.0)
    ncp.take(host.outgoing())
    ncp.push(c.build("startScan", c.Status(0), sequence=seq, version=8, response=True))
    ncp.push(c.build("energyScanResultHandler", c.EnergyScanResult(11, -77), sequence=seq,
                     version=8, response=True, callback_type=2))
    events = exchange(host, ncp)
    assert events == [Response("startScan", seq, c.Status(0)),
                      Callback("energyScanResultHandler", c.EnergyScanResult(11, -77))]


def test_requests_before_the_version_is_agreed_are_refused() -> None:
    """No command goes out before HostReady."""
    host = EzspHost()
    with pytest.raises(AshStateError, match="while idle"):
        host.request("version", c.Version(13), 0.0)
    with pytest.raises(AshStateError, match="no version agreed"):
        _ = host.protocol_version


def test_an_unknown_frame_is_reported_and_the_session_goes_on() -> None:
    """A frame id we do not decode (getKeyTableEntry 0x71) is Unreadable, not a failure."""
    host, ncp = EzspHost(8), ScriptedNcp(8)
    host.reset(0.0)
    exchange(host, ncp)
    odd = bytes.fromhex("07 90 01 71 00 00")
    ncp.push(odd)
    [event] = exchange(host, ncp)
    assert event == Unreadable("EZSP: frame id 0x0071 is not one this codec knows (version 8)",
                               odd)
    assert host.state is HostState.READY
