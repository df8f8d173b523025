"""The SCPI driver against a hostile raw TCP peer: only our errors, within the timeout.

Regressions of issue 12: a reply without a newline hung over 60 s despite ``timeout_s=0.5``,
a non-ASCII reply raised ``UnicodeDecodeError`` and ``nan``/``inf`` passed as measurements.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator

import pytest
from _loopback_peer import LoopbackPeer

from harness.config.models import InstrumentConfig
from harness.drivers.power.scpi import ScpiPowerSupply
from harness.errors import (
    InstrumentTimeoutError,
    MeterbenchError,
    ProtocolError,
    UnsafeStateError,
)

TIMEOUT_S = 0.5
MARGIN_S = 0.5
Answer = Callable[[socket.socket, str], None]


class HostilePeer(LoopbackPeer):
    """A one-connection-at-a-time TCP server: SYST:ERR? is clean, other queries hostile."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        super().__init__()

    def received(self, conn: socket.socket, buffer: bytes) -> bytes:
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            command = line.decode("ascii", "replace").strip().upper()
            if command == "SYST:ERR?":
                conn.sendall(b'0,"No error"\n')
            elif command.endswith("?"):
                self.answer(conn, command)
        return buffer


@pytest.fixture
def peer_factory() -> Iterator[Callable[[Answer], ScpiPowerSupply]]:
    peers: list[HostilePeer] = []
    drivers: list[ScpiPowerSupply] = []

    def make(answer: Answer) -> ScpiPowerSupply:
        peer = HostilePeer(answer)
        peers.append(peer)
        config = InstrumentConfig(kind="power", backend="scpi",
                                  address=f"TCPIP0::127.0.0.1::{peer.port}::SOCKET",
                                  timeout_s=TIMEOUT_S, options={"channels": 1})
        driver = ScpiPowerSupply("psu", config).open()
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        with contextlib.suppress(UnsafeStateError):  # a hostile peer may not let it be safe
            driver.close()
    for peer in peers:
        peer.close()


def _timed(call: Callable[[], object]) -> tuple[BaseException, float]:
    start = time.monotonic()
    with pytest.raises(MeterbenchError) as caught:
        call()
    return caught.value, time.monotonic() - start


def _trickle(conn: socket.socket, command: str) -> None:
    for _ in range(40):  # 2 s of one byte every 50 ms, never a newline
        conn.sendall(b"x")
        time.sleep(0.05)


def test_trickled_answer_without_newline_times_out_in_time(peer_factory) -> None:
    psu = peer_factory(_trickle)
    error, took = _timed(psu.identify)
    assert isinstance(error, InstrumentTimeoutError)
    assert took < TIMEOUT_S + MARGIN_S
    assert "psu" in str(error)


def test_silent_partial_answer_times_out_in_time(peer_factory) -> None:
    psu = peer_factory(lambda conn, command: conn.sendall(b"meterbench,PSU"))
    error, took = _timed(psu.identify)
    assert isinstance(error, InstrumentTimeoutError)
    assert took < TIMEOUT_S + MARGIN_S


def test_endless_answer_is_bounded(peer_factory) -> None:
    def flood(conn: socket.socket, command: str) -> None:
        for _ in range(200):
            conn.sendall(b"A" * 65536)

    psu = peer_factory(flood)
    error, took = _timed(psu.identify)
    assert isinstance(error, ProtocolError)
    assert "longer than 4096 bytes" in str(error)
    assert took < TIMEOUT_S + MARGIN_S


def test_non_ascii_answer_names_instrument_and_offset(peer_factory) -> None:
    psu = peer_factory(lambda conn, command: conn.sendall(b"meter\xe9bench\n"))
    error, _ = _timed(psu.identify)
    assert isinstance(error, ProtocolError)
    assert error.context["offset"] == 5
    assert error.context["instrument"] == "psu"
    assert "0xE9 at offset 5" in str(error)


@pytest.mark.parametrize("reply", [b"nan", b"inf", b"-inf", b"NaN", b"1e999", b"9.91E37",
                                   b"1_000", b"\xd9\xa1", b"9" * 5000])
def test_non_finite_or_odd_measurement_is_refused(peer_factory, reply: bytes) -> None:
    psu = peer_factory(lambda conn, command: conn.sendall(reply + b"\n"))
    error, _ = _timed(lambda: psu.measure_voltage(1))
    assert isinstance(error, ProtocolError)


def test_a_good_answer_after_a_timed_out_one_is_not_poisoned(peer_factory) -> None:
    state = {"calls": 0}

    def late_then_good(conn: socket.socket, command: str) -> None:
        state["calls"] += 1
        if state["calls"] == 1:
            time.sleep(TIMEOUT_S + 0.2)
            conn.sendall(b"stale\n")
        else:
            conn.sendall(b"12.5\n")

    psu = peer_factory(late_then_good)
    # A reading changes nothing: the timed-out one is asked again (issue 14 §2), and the
    # stale answer that arrives late is never taken for the new one's.
    assert psu.measure_voltage(1) == 12.5
    time.sleep(0.3)
    assert psu.measure_voltage(1) == 12.5


class _TricklingVisa:
    """A VISA library whose every read yields one byte after 10 ms, never a newline."""

    def read(self, session: int, count: int) -> tuple[bytes, int]:
        time.sleep(0.01)
        return b"7", 0


class _SerialLikeResource:
    """Stands for a non-socket VISA session (serial, USB): only what the driver touches."""

    def __init__(self) -> None:
        self.visalib = _TricklingVisa()
        self.session = 1
        self.timeout = 0
        self.written: list[str] = []

    def write(self, command: str) -> None:
        self.written.append(command)


def test_non_socket_sessions_share_the_same_deadline() -> None:
    config = InstrumentConfig(kind="power", backend="scpi", address="ASRL1::INSTR",
                              timeout_s=TIMEOUT_S, options={"channels": 1})
    psu = ScpiPowerSupply("psu", config)
    psu._res = _SerialLikeResource()
    started = time.monotonic()
    with pytest.raises(InstrumentTimeoutError):
        psu.query("*IDN?")
    assert time.monotonic() - started < TIMEOUT_S + MARGIN_S
    assert 0 < psu._res.timeout <= TIMEOUT_S * 1000  # each read waits at most what is left
