"""The ASH reader and link (ash_reader.py, ash_link.py): stream handling, acks, NAKs, timeouts.

Two links, a host and an NCP, are wired back to back through our own bytes; the stream cases
(Cancel Byte first, Substitute Byte, XON/XOFF inside a frame, runs of flags) are those bellows
exercises in tests/test_ash.py, with UG101's RST/RSTACK frames and the NCP frames captured in
Koenkk/zigbee-herdsman test/adapter/ember/consts.ts.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.protocols.ezsp.ash import (
    MAX_FRAME_BODY,
    AckFrame,
    DataFrame,
    ErrorFrame,
    NakFrame,
    RstAckFrame,
    RstFrame,
    encode_frame,
)
from harness.protocols.ezsp.ash_link import (
    AshLink,
    LinkFailed,
    LinkReset,
    LinkState,
    Received,
)
from harness.protocols.ezsp.ash_reader import AshReader, BadFrame
from harness.protocols.ezsp.errors import AshStateError


def hx(text: str) -> bytes:
    """Hex with spaces."""
    return bytes.fromhex(text.replace(" ", ""))


# --- reader --------------------------------------------------------------------------------


def test_reader_takes_a_frame_after_garbage_and_a_cancel_byte() -> None:
    """bellows: noise, then ``1A c1 02 0b 0a 52 7E``: the Cancel Byte drops the noise."""
    reader = AshReader()
    assert reader.feed(hx("dd f9 ff")) == []
    assert reader.feed(hx("1a c1 02 0b 0a 52 7e")) == [RstAckFrame(reset_code=0x0B)]
    assert reader.discarded == 1


def test_reader_byte_by_byte_and_runs_of_flags() -> None:
    """Frames split anywhere, and flags with nothing between them, still give each frame once."""
    reader = AshReader()
    got = []
    for byte in hx("c0 38 bc 7e 7e 7e c1 02 02 9b 7b 7e"):
        got += reader.feed(bytes((byte,)))
    assert got == [RstFrame(), RstAckFrame(reset_code=2)]


def test_reader_ignores_xon_xoff_and_reports_a_substituted_frame() -> None:
    """XON/XOFF inside a frame are flow control (bellows ``c0 11 38bc 13 7e``); a Substitute
    Byte spoils its frame (bellows ``c0 18 38bc 7e``), reported as a BadFrame, not raised."""
    reader = AshReader()
    assert reader.feed(hx("c0 11 38 bc 13 7e")) == [RstFrame()]
    [bad] = reader.feed(hx("c0 18 38 bc 7e"))
    assert isinstance(bad, BadFrame) and "Substitute" in bad.reason
    assert reader.feed(hx("c1 02 0b 0a 52 7e")) == [RstAckFrame(reset_code=0x0B)]


def test_reader_on_captured_ncp_frames_herdsman() -> None:
    """Koenkk/zigbee-herdsman test/adapter/ember/consts.ts: ERROR(2, 0x51) ``c2 02 51 a8 bd``,
    ERROR(2, 0x03) ``c2 02 03 d2 0a``, ACK(0)+ ``80 70 78`` in one stream; its captured DATA
    frame with a CRC error (RCED_DATA_WITH_CRC_ERROR) is reported as bad, the stream goes on."""
    reader = AshReader()
    got = reader.feed(hx("c2 02 51 a8 bd 7e c2 02 03 d2 0a 7e 80 70 78 7e"))
    assert got == [ErrorFrame(error_code=0x51), ErrorFrame(error_code=0x03), AckFrame(0)]
    assert got[0].reason == "error: exceeded maximum ACK timeout count"  # type: ignore[union-attr]
    [bad] = reader.feed(hx("b658904124ab5593499cdd93623cd29874f5de5083f97b1e66efc9af417e"))
    assert isinstance(bad, BadFrame) and "CRC mismatch" in bad.reason
    assert reader.feed(hx("81 60 59 7e")) == [AckFrame(1)]


def test_reader_memory_is_bounded_without_flags() -> None:
    """100 kB with no flag keeps at most one frame's bytes, then reports one over-long frame."""
    reader = AshReader()
    assert reader.feed(b"\xee" * 100_000) == []
    assert reader.pending <= MAX_FRAME_BODY
    [bad] = reader.feed(b"\x7e")
    assert isinstance(bad, BadFrame) and "longer than 131" in bad.reason
    assert reader.feed(encode_frame(AckFrame(3))) == [AckFrame(3)]


@given(st.lists(st.binary(max_size=60), max_size=20))
@settings(max_examples=200, deadline=None)
def test_reader_never_raises_and_stays_bounded(chunks: list[bytes]) -> None:
    """Whatever arrives, the reader returns frames or BadFrames and holds one frame at most."""
    reader = AshReader()
    for chunk in chunks:
        for item in reader.feed(chunk):
            assert isinstance(item, BadFrame | AckFrame | NakFrame | DataFrame | RstFrame
                              | RstAckFrame | ErrorFrame)
        assert reader.pending <= MAX_FRAME_BODY


# --- link ----------------------------------------------------------------------------------


def connected() -> tuple[AshLink, AshLink]:
    """A host and an NCP after RST/RSTACK, their outboxes empty."""
    host, ncp = AshLink(), AshLink(role="ncp")
    host.connect(0.0)
    rst = host.outgoing()
    assert rst == hx("1A C0 38 BC 7E")
    assert ncp.receive(rst, 0.0) == [LinkReset(reset_code=0x0B)]
    rstack = ncp.outgoing()
    assert rstack == hx("1a c1 02 0b 0a 52 7e")  # zigbee-herdsman's RECD_RSTACK_BYTES
    assert host.receive(rstack, 0.0) == [LinkReset(reset_code=0x0B)]
    assert host.state is ncp.state is LinkState.CONNECTED
    return host, ncp


def test_reset_handshake_and_version_exchange() -> None:
    """RST, RSTACK(software); the host's first DATA is DATA(0, 0, 0), the NCP's ACK is ACK(1),
    and the NCP's reply carries ackNum 1 so the host's frame is acked twice over."""
    host, ncp = connected()
    host.send(hx("00 00 00 04"), 0.1)
    data = host.outgoing()
    assert data == encode_frame(DataFrame(0, 0, False, hx("00 00 00 04")))
    assert ncp.receive(data, 0.1) == [Received(hx("00 00 00 04"))]
    assert ncp.outgoing() == hx("81 60 59 7E")  # ACK(1)+, UG101's example
    ncp.send(hx("00 80 00 08 02 80 67"), 0.2)
    assert host.receive(ncp.outgoing(), 0.2) == [Received(hx("00 80 00 08 02 80 67"))]
    assert host.unacked == 0 and host.outgoing() == encode_frame(AckFrame(1))


def test_host_refuses_data_before_the_reset() -> None:
    """DATA before RSTACK is a state error naming the state."""
    with pytest.raises(AshStateError, match="while disconnected"):
        AshLink().send(b"abc", 0.0)


def test_window_limits_outstanding_frames_and_acks_release_them() -> None:
    """With TX_K=2, a third frame waits until an ack frees a place; frame numbers wrap at 8."""
    host, ncp = AshLink(window=2), AshLink(role="ncp")
    host.connect(0)
    host.receive(ncp.receive(host.outgoing(), 0) and ncp.outgoing(), 0)
    for i in range(3):
        host.send(bytes((i, i, i)), 0.0)
    assert host.unacked == 2 and host.queued == 1
    got = ncp.receive(host.outgoing(), 0.1)
    assert got == [Received(b"\x00\x00\x00"), Received(b"\x01\x01\x01")]
    host.receive(ncp.outgoing(), 0.1)
    assert host.unacked == 1 and host.queued == 0
    assert ncp.receive(host.outgoing(), 0.2) == [Received(b"\x02\x02\x02")]
    for n in range(3, 12):
        host.receive(ncp.outgoing(), 0.3)
        host.send(bytes((n, 0, 0)), 0.3)
        assert ncp.receive(host.outgoing(), 0.3) == [Received(bytes((n, 0, 0)))]


def test_a_corrupted_frame_is_naked_once_and_resent_with_retx() -> None:
    """A DATA frame with a flipped bit is a reject condition: one NAK(0) however many bad
    frames follow; the host resends with reTx set and the NCP takes it."""
    host, ncp = connected()
    host.send(b"abcd", 1.0)
    wire = bytearray(host.outgoing())
    wire[2] ^= 0x01
    assert ncp.receive(bytes(wire), 1.0) == []
    assert ncp.receive(bytes(wire), 1.0) == []
    nak = ncp.outgoing()
    assert nak == encode_frame(NakFrame(0))
    assert host.receive(nak, 1.1) == []
    resent = host.outgoing()
    assert resent == encode_frame(DataFrame(0, 0, True, b"abcd"))
    assert ncp.receive(resent, 1.1) == [Received(b"abcd")]


def test_a_duplicate_retransmission_is_acked_not_delivered_twice() -> None:
    """If the ACK was lost, the resent frame (reTx) is acked again and dropped."""
    host, ncp = connected()
    host.send(b"once", 0.0)
    first = host.outgoing()
    assert ncp.receive(first, 0.0) == [Received(b"once")]
    ncp.outgoing()  # the ACK is lost
    assert host.poll(1.59) == []
    assert host.poll(1.6) == []  # timeout: resend with reTx
    again = host.outgoing()
    assert again == encode_frame(DataFrame(0, 0, True, b"once"))
    assert ncp.receive(again, 1.6) == []
    assert host.receive(ncp.outgoing(), 1.7) == [] and host.unacked == 0


def test_ack_timeouts_back_off_then_fail_the_link() -> None:
    """No ack: resent at t_rx_ack, doubled each time up to 3.2 s; the fifth timeout fails it."""
    host, _ncp = connected()
    host.send(b"lost", 0.0)
    host.outgoing()
    now, deadlines = 0.0, []
    events: list[object] = []
    while not events:
        deadline = host.next_deadline()
        assert deadline is not None
        deadlines.append(round(deadline - now, 3))
        now = deadline
        events = list(host.poll(now))
    assert deadlines == [1.6, 3.2, 3.2, 3.2, 3.2]
    assert events == [LinkFailed(reason="4 ack timeouts in a row")]
    assert host.state is LinkState.FAILED


def test_an_ncp_whose_frames_are_never_acked_sends_error_0x51_and_waits_for_rst() -> None:
    """The NCP side fails as a real NCP does: ERROR(2, 0x51) ``c2 02 51 a8 bd 7e``, the bytes
    zigbee-herdsman captured (RECD_ERROR_ACK_TIMEOUT_BYTES); then only RST is heard."""
    host, ncp = connected()
    ncp.send(b"callback", 0.0)
    ncp.outgoing()  # never reaches the host
    now, events = 0.0, []
    while not events:
        deadline = ncp.next_deadline()
        assert deadline is not None
        now = deadline
        events = ncp.poll(now)
    assert events == [LinkFailed("4 ack timeouts in a row", 0x51)]
    assert ncp.outgoing().endswith(hx("c2 02 51 a8 bd 7e"))
    host.send(b"ignored", now)
    assert ncp.receive(host.outgoing(), now) == [] and ncp.state is LinkState.FAILED
    host.connect(now)
    assert ncp.receive(host.outgoing(), now) == [LinkReset(reset_code=0x0B)]


def test_no_rstack_fails_the_reset_and_error_frame_fails_the_link() -> None:
    """RST unanswered for 3.2 s fails; an ERROR frame from the NCP fails with its code."""
    host = AshLink()
    host.connect(10.0)
    assert host.poll(13.1) == []
    assert host.poll(13.2) == [LinkFailed(reason="no RSTACK within 3.2 s of RST")]
    host, _ = connected()
    [failed] = host.receive(encode_frame(ErrorFrame(error_code=0x51)), 0.0)
    assert failed == LinkFailed("NCP ERROR: error: exceeded maximum ACK timeout count", 0x51)


def test_an_rstack_of_another_ash_version_fails() -> None:
    """RSTACK must carry version 2 (UG101): another is a failure, not a connection."""
    host = AshLink()
    host.connect(0.0)
    [failed] = host.receive(encode_frame(RstAckFrame(reset_code=2, version=3)), 0.0)
    assert isinstance(failed, LinkFailed) and "version 3" in failed.reason


def test_ack_time_adapts_to_the_measured_round_trip() -> None:
    """A quick ack lowers t_rx_ack towards the measure (7/8 old + 1/2 measured, min 0.4 s)."""
    host, ncp = connected()
    seen = []
    for i in range(30):
        host.send(bytes((i, 1, 2)), i)
        ncp.receive(host.outgoing(), i)
        host.receive(ncp.outgoing(), i + 0.05)
        seen.append(host.t_rx_ack)
    assert seen[0] == pytest.approx(1.6 * 7 / 8 + 0.05 / 2)
    assert seen == sorted(seen, reverse=True)
    assert seen[-1] == pytest.approx(0.4)


@given(st.lists(st.binary(min_size=3, max_size=40), min_size=1, max_size=12),
       st.sets(st.integers(0, 40), max_size=6))
@settings(max_examples=100, deadline=None)
def test_lossy_line_still_delivers_everything_once_in_order(
    payloads: list[bytes], drops: set[int]
) -> None:
    """Dropping some writes on either side, the host's frames all arrive, in order, once."""
    host, ncp = connected()
    for payload in payloads:
        host.send(payload, 0.0)
    got: list[bytes] = []
    now, writes = 0.0, 0
    for _ in range(400):
        if len(got) == len(payloads) and host.unacked == 0:
            break
        for src, dst in ((host, ncp), (ncp, host)):
            data = src.outgoing()
            writes += 1
            if data and writes not in drops:
                got += [e.payload for e in dst.receive(data, now) if isinstance(e, Received)]
        now += 0.5
        host.poll(now)
    assert got == payloads
    assert host.state is LinkState.CONNECTED
