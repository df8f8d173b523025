"""The optical probe and the ZigBee dongle against hostile raw-socket peers.

Whatever the peer sends (non-ASCII, over-long or endless lines, a trickle, 5,000-digit
fields), the driver raises only our errors, within its timeout plus a small margin, and its
reader thread raises nothing.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from _loopback_peer import LoopbackPeer

from harness.config.models import InstrumentConfig
from harness.drivers.optical.serial_probe import SerialOpticalProbe
from harness.drivers.zigbee.telegesis import TelegesisDongle
from harness.errors import MeterbenchError, UnsafeStateError
from harness.protocols import iec62056_21 as iec

MARGIN_S = 0.5
Send = Callable[[socket.socket], None]


class ScriptedPeer(LoopbackPeer):
    """Answers the n-th request (ended by ``end``) with ``answers[n]``, then nothing."""

    def __init__(self, answers: list[Send], end: bytes) -> None:
        self.answers, self.end, self.index = answers, end, 0
        super().__init__()

    def connected(self) -> None:
        self.index = 0

    def received(self, conn: socket.socket, buffer: bytes) -> bytes:
        while self.end in buffer:
            _, buffer = buffer.split(self.end, 1)
            if self.index < len(self.answers):
                self.answers[self.index](conn)
            self.index += 1
        return buffer


def whole(data: bytes) -> Send:
    return lambda conn: conn.sendall(data)


def flood(conn: socket.socket) -> None:
    for _ in range(32):  # 2 MiB without a line end
        conn.sendall(b"\x7f" * 65536)


def trickle(data: bytes, seconds: float = 2.0) -> Send:
    def send(conn: socket.socket) -> None:
        conn.sendall(data)
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            conn.sendall(b"0")
            time.sleep(0.02)
    return send


@pytest.fixture
def thread_errors() -> Iterator[list[BaseException]]:
    """Exceptions raised in any thread during the test."""
    caught: list[BaseException] = []
    previous = threading.excepthook
    threading.excepthook = lambda args: caught.append(args.exc_value)  # type: ignore[arg-type]
    yield caught
    threading.excepthook = previous


@pytest.fixture
def peers() -> Iterator[Callable[[list[Send], bytes], ScriptedPeer]]:
    made: list[ScriptedPeer] = []

    def make(answers: list[Send], end: bytes) -> ScriptedPeer:
        made.append(ScriptedPeer(answers, end))
        return made[-1]

    yield make
    for peer in made:
        peer.close()


def _fails_in_time(call: Callable[[], object], budget_s: float) -> MeterbenchError:
    started = time.monotonic()
    with pytest.raises(MeterbenchError) as caught:
        call()
    assert time.monotonic() - started < budget_s + MARGIN_S
    return caught.value


ATI_OK = b"ATI\r\nTelegesis ETRX357\r\nR309C\r\n000D6F0000ABCDEF\r\n\r\nOK\r\n"


@pytest.mark.parametrize("answer", [
    whole(b"ATI\r\n\xff\xfe\xc2\xb2" + b"A" * 3000 + b"\r\n"),
    whole(b"ATI\r\n+N=COO," + b"9" * 5000 + b",-04,1234,ABCDEF0123456789\r\n"),
    flood,
    trickle(b"Telegesis"),
], ids=["non-ascii-overlong", "5000-digits", "flood", "trickle"])
def test_dongle_raises_our_error_in_time(peers, thread_errors, answer: Send) -> None:
    peer = peers([answer], b"\r")
    config = InstrumentConfig(kind="zigbee", backend="telegesis",
                              address=f"socket://127.0.0.1:{peer.port}", timeout_s=0.3)
    dongle = TelegesisDongle("dongle", config).open()
    try:
        _fails_in_time(dongle.identity, 0.3)
    finally:
        with contextlib.suppress(UnsafeStateError):  # the peer will not let it be safe
            dongle.close()
    assert thread_errors == []


def test_dongle_refuses_huge_numbers_in_network_info(peers, thread_errors) -> None:
    peer = peers([whole(ATI_OK), whole(b"AT+N\r\n+N=COO,15,-04," + b"F" * 5000
                                       + b",ABCDEF0123456789\r\n\r\nOK\r\n")], b"\r")
    config = InstrumentConfig(kind="zigbee", backend="telegesis",
                              address=f"socket://127.0.0.1:{peer.port}", timeout_s=0.3)
    dongle = TelegesisDongle("dongle", config).open()
    try:
        dongle.identity()
        _fails_in_time(dongle.network_info, 0.3)
    finally:
        with contextlib.suppress(UnsafeStateError):  # the peer will not let it be safe
            dongle.close()
    assert thread_errors == []


IDENT = iec.encode_identification(iec.Identification("EMh", "5", "EMU-ESME-1"))


@pytest.mark.parametrize("answer", [
    whole(b"/EMh5\xff\xfe" + b"\xc2\xb2" * 10 + b"\r\n"),
    whole(b"/EMh5" + b"9" * 5000 + b"\r\n"),
    flood,
    trickle(b"/EMh5EMU"),
], ids=["non-ascii", "5000-digits", "flood", "trickle"])
def test_optical_probe_raises_our_error_in_time(peers, thread_errors, answer: Send) -> None:
    peer = peers([answer], b"\n")
    config = InstrumentConfig(kind="optical_probe", backend="serial",
                              address=f"socket://127.0.0.1:{peer.port}", timeout_s=0.3,
                              options={"retries": 1, "message_timeout_s": 1.0})
    probe = SerialOpticalProbe("probe", config, sleep=lambda s: None).open()
    try:
        _fails_in_time(probe.readout, 1.0)
    finally:
        probe.close()
    assert thread_errors == []


def test_optical_probe_refuses_a_flooded_readout(peers, thread_errors) -> None:
    peer = peers([whole(IDENT), flood], b"\n")
    config = InstrumentConfig(kind="optical_probe", backend="serial",
                              address=f"socket://127.0.0.1:{peer.port}", timeout_s=0.3,
                              options={"retries": 1, "message_timeout_s": 1.0})
    probe = SerialOpticalProbe("probe", config, sleep=lambda s: None).open()
    try:
        _fails_in_time(probe.readout, 2.0)
    finally:
        probe.close()
    assert thread_errors == []


def test_a_dlms_session_gives_up_on_a_peer_that_never_stops_sending(
        peers, thread_errors) -> None:
    """Bytes that never make a frame, HDLC's fill flags every 20 ms for 3 s, reset any
    silence: the session's own receive is bounded by the message limit, as mode C's is (it
    used to wait out the whole trickle)."""

    def flags(conn: socket.socket) -> None:
        until = time.monotonic() + 3.0
        while time.monotonic() < until:
            conn.sendall(b"\x7e")
            time.sleep(0.02)

    peer = peers([flags], b"\x7e")
    config = InstrumentConfig(kind="optical_probe", backend="serial",
                              address=f"socket://127.0.0.1:{peer.port}", timeout_s=0.3,
                              options={"retries": 1, "message_timeout_s": 1.0})
    probe = SerialOpticalProbe("probe", config, sleep=lambda s: None).open()

    def session() -> None:
        with probe.dlms(mode_e=False):
            pass

    try:  # the SNRM is asked for twice (the session's own retry), each within the limit
        error = _fails_in_time(session, 2 * 1.0)
    finally:
        probe.close()
    assert "no HDLC frame" in str(error)
    assert thread_errors == []
