"""Hostile raw-socket peers for benchmarks/fuzz_parsers.py: drivers against mutated answers.

Each input is one connection: the peer answers every request the driver sends with the next
scripted answer (good ones except one mutated, and delivered whole, trickled, flooded, cut
off or never), and the driver's operation must end in one of our errors within its budget.
Loopback only; every loop is bounded in count and time.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fuzz_targets import mutate

from harness.config.models import InstrumentConfig
from harness.drivers.optical.serial_probe import SerialOpticalProbe
from harness.drivers.power.scpi import ScpiPowerSupply
from harness.drivers.zigbee.telegesis import TelegesisDongle
from harness.protocols import iec62056_21 as iec

STYLES = ("whole", "whole", "whole", "trickle", "flood", "cut", "silent", "split")


@dataclass
class Script:
    """What the peer answers: the answers in order, which one is hostile and how."""

    answers: list[bytes]
    hostile: int
    style: str
    end: bytes  # what ends one request from the driver (b"\n", b"\r", ...)


class HostilePeer:
    """A loopback TCP server playing one ``Script`` per accepted connection."""

    def __init__(self) -> None:
        self.script: Script | None = None
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="hostile-peer")
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn, contextlib.suppress(OSError):
                self._play(conn, self.script)

    def _play(self, conn: socket.socket, script: Script | None) -> None:
        conn.settimeout(0.05)
        buffer = b""
        index = 0
        deadline = time.monotonic() + 10  # a connection lasts 10 s at most
        while script is not None and not self._stop.is_set() and time.monotonic() < deadline:
            try:
                data = conn.recv(4096)
            except TimeoutError:
                continue
            if not data:
                return
            buffer += data
            while script.end in buffer:
                _, buffer = buffer.split(script.end, 1)
                if index >= len(script.answers):
                    continue
                answer = script.answers[index]
                if index == script.hostile:
                    if not self._hostile(conn, answer, script.style, deadline):
                        return
                else:
                    conn.sendall(answer)
                index += 1

    def _hostile(self, conn: socket.socket, answer: bytes, style: str, deadline: float
                 ) -> bool:
        """Send ``answer`` the hostile way; False to hang up."""
        if style == "trickle":  # the answer without its line end, then a byte per 20 ms
            body = answer.rstrip(b"\r\n")
            conn.sendall(body)
            until = min(deadline, time.monotonic() + 3.0)
            while not self._stop.is_set() and time.monotonic() < until:
                conn.sendall(body[-1:] or b"0")
                time.sleep(0.02)
            conn.sendall(answer[len(body):])
            return True
        if style == "flood":
            for _ in range(64):  # 4 MiB without a line end, at most
                conn.sendall(b"\x7f" * 65536)
            return True
        if style == "cut":
            conn.sendall(answer[: len(answer) // 2])
            return False
        if style == "silent":
            return True
        if style == "split":
            middle = len(answer) // 2
            conn.sendall(answer[:middle])
            time.sleep(0.02)
            conn.sendall(answer[middle:])
            return True
        conn.sendall(answer)
        return True

    def close(self) -> None:
        """Stop serving; the thread ends within its poll interval."""
        self._stop.set()
        self.listener.close()
        self._thread.join(timeout=12)


@dataclass
class PeerTarget:
    """A driver against a ``HostilePeer``: good answers, and the operation to run."""

    name: str
    answers: list[bytes]
    end: bytes
    operation: Callable[[int], object]  # port -> runs open/operation/close
    budget_s: float

    def script(self, rng: random.Random) -> Script:
        """One input: a random answer mutated and sent in a random style."""
        hostile = rng.randrange(len(self.answers))
        answers = list(self.answers)
        answers[hostile] = mutate(rng, answers[hostile])
        return Script(answers, hostile, rng.choice(STYLES), self.end)


def _scpi(port: int) -> object:
    config = InstrumentConfig(kind="power", backend="scpi",
                              address=f"TCPIP0::127.0.0.1::{port}::SOCKET", timeout_s=0.3,
                              options={"channels": 1, "max_voltage": 253.0})
    psu = ScpiPowerSupply("psu", config)
    try:
        psu.open()
        return psu.identify(), psu.measure_voltage(1), psu.measure_current(1)
    finally:
        with contextlib.suppress(Exception):  # close's own errors are not the target here
            psu._close_internal()


_NO_ERROR = b'0,"No error"\n'


def _optical(port: int) -> object:
    config = InstrumentConfig(kind="optical_probe", backend="serial",
                              address=f"socket://127.0.0.1:{port}", timeout_s=0.3,
                              options={"retries": 1, "message_timeout_s": 1.0})
    probe = SerialOpticalProbe("probe", config, sleep=lambda s: None)
    try:
        probe.open()
        return probe.readout()
    finally:
        probe._close_internal()


def _zigbee(port: int) -> object:
    config = InstrumentConfig(kind="zigbee", backend="telegesis",
                              address=f"socket://127.0.0.1:{port}", timeout_s=0.3)
    dongle = TelegesisDongle("dongle", config)
    try:
        dongle.open()
        return dongle.identity(), dongle.network_info()
    finally:
        dongle._close_internal()


def peer_targets() -> list[PeerTarget]:
    """The SCPI supply, the optical probe and the ZigBee dongle against hostile peers."""
    ident = iec.encode_identification(iec.Identification("EMh", "5", "EMU-ESME-1"))
    readout = iec.encode_readout([iec.DataSet("1.8.0", "00001.5", "kWh"),
                                  iec.DataSet("0.9.1", "12:00:00")])
    return [
        # open drains SYST:ERR?, then *IDN?, MEAS:VOLT?, MEAS:CURR?: 4 queries of 0.3 s.
        PeerTarget("drivers.power.scpi", [_NO_ERROR, b"meterbench,PSU,1,0.1\n", b"12.5\n",
                                          b"0.25\n"], b"\n", _scpi, budget_s=4 * 0.3),
        # sign-on then readout, each message bounded by message_timeout_s (1 s).
        PeerTarget("drivers.optical.serial", [ident, readout], b"\n", _optical,
                   budget_s=2 * 1.0),
        # ATI then AT+N?, each command bounded by timeout_s (0.3 s).
        PeerTarget("drivers.zigbee.telegesis",
                   [b"ATI\r\nTelegesis ETRX357\r\nR309C\r\n000D6F0000ABCDEF\r\n\r\nOK\r\n",
                    b"AT+N\r\n+N=COO,15,-04,1234,ABCDEF0123456789\r\n\r\nOK\r\n"],
                   b"\r", _zigbee, budget_s=2 * 0.3),
    ]
