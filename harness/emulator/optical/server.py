"""An emulated meter's optical port on loopback, as raw bytes (``socket://``) and RFC 2217,
and in process (``emulated://``: :mod:`~harness.emulator.optical.protocol_emulated`).

Over RFC 2217 (pyserial's own PortManager does the Telnet side) the meter sees every baud,
data-bit and parity change the probe makes, and a probe on the wrong settings gets garbage.
Answers wait for the probe to reach the new baud for at most the meter's reaction time. In
baud-accurate mode (the bench's default) a request is acted on when its last byte has landed,
each answer waits the reaction time and goes out at the line rate, all in the meter's time (a
fast bench runs them faster); with ``baud_accurate = false`` nothing waits. Port faults (dead,
dropped or corrupted frames) are applied here, on the wire, from the register map's
:class:`PortBehaviour`.

One probe at a time, across both listeners and the in-process port (one optical port): the
newest connection takes the port over and the previous one is closed
(:class:`~harness.emulator.guard.OneHostPort`; an in-process port is told so at its next call).
Each probe's line is a :class:`MeterLink`, driven by its socket's loop or by the in-process
port's own calls.
Malformed Telnet is ignored (:mod:`~harness.emulator.optical.telnet`); anything else that goes
wrong with one connection closes that connection only, and the port keeps listening.
"""

from __future__ import annotations

import functools
import logging
import random
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from harness.emulator.guard import OneHostPort, report_unexpected
from harness.emulator.optical import protocol_emulated
from harness.emulator.optical.engine import HDLC_FRAMING, MeterPortEngine, Reply, State
from harness.emulator.optical.line import (
    LineSettings,
    VirtualSerial,
    framing_of,
    meter_to_probe,
    probe_to_meter,
)
from harness.emulator.optical.registers import OpticalRegisters, PortBehaviour
from harness.emulator.optical.telnet import TolerantPortManager
from harness.emulator.trouble import LineTrouble
from harness.emulator.world.clock import Clock

log = logging.getLogger("meterbench.emulator.optical")

BITS_PER_CHAR = 10  # start, 7 data, parity, stop
TRANSPORTS = ("rfc2217", "socket", "inprocess")
"""How the bench's probe reaches the port: RFC 2217 (the meter sees its baud and framing), a
plain socket, or in the probe's own process (the plain socket's line without the socket: a
fast bench's exchange then costs the meter's own work, no thread wake-ups)."""
MAX_PENDING_REPLIES = 64
"""Answers queued for a probe that does not read them; older ones are dropped beyond this."""


Deliver = Callable[[bytes, int], None]
"""Sends an answer's bytes (as the probe receives them) that the meter sent at a baud."""


class _Writer:
    """The ``connection`` PortManager writes Telnet answers to; thread-safe."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.lock = threading.Lock()
        self.telnet = False  # data bytes must have IAC doubled on an RFC 2217 link

    def write(self, data: bytes) -> None:
        with self.lock:
            self.sock.sendall(data)

    def write_data(self, data: bytes) -> None:
        """Send line data (escaped on a Telnet link)."""
        self.write(data.replace(b"\xff", b"\xff\xff") if self.telnet else data)


@dataclass
class _Pending:
    reply: Reply
    not_before: float
    deadline: float
    behaviour: PortBehaviour  # the port's faults when the meter acted on the request


@dataclass
class _Arriving:
    """Probe bytes still on the line (baud-accurate mode): the meter acts on them only when
    their last byte has landed, as a real one does (it samples its clock then, not before)."""

    data: bytes
    settings: LineSettings | None
    lands: float


class OpticalPortServer:
    """One meter's optical port: an engine behind a raw listener and an RFC 2217 listener."""

    def __init__(
        self,
        registers: OpticalRegisters,
        clock: Clock | None = None,
        *,
        host: str = "127.0.0.1",
        raw_port: int = 0,
        rfc2217_port: int = 0,
        transport: str = "rfc2217",
        baud_accurate: bool = False,
        seed: int = 0,
    ) -> None:
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)}, "
                             f"not {transport!r}")
        self.registers = registers
        self.engine = MeterPortEngine(registers, clock)
        self.engine_lock = threading.Lock()
        self.transport = transport
        self.baud_accurate = baud_accurate
        # Line and reaction times are the meter's: a fast bench's clock runs them faster.
        self.scale = clock.scale if clock is not None else 1.0
        self._line_busy = 0.0  # when the probe's last byte lands (baud-accurate mode)
        self._boots_seen: int | None = None  # the device's start count the engine is in
        self.rng = random.Random(seed)
        self.trouble = LineTrouble()  # bench trouble a test may arm (not a device fault)
        self.host = host
        self._listeners = {
            "socket": self._listen(host, raw_port),
            "rfc2217": self._listen(host, rfc2217_port),
        }
        self._stop = threading.Event()
        self._in_process_url = ""
        self._link: MeterLink | None = None  # the probe now on the port
        self._port = OneHostPort("optical port", [
            (self._listeners["socket"], lambda sock: self._serve(sock, False)),
            (self._listeners["rfc2217"], lambda sock: self._serve(sock, True)),
        ])

    def replace_registers(self, registers: OpticalRegisters) -> None:
        """Another meter now sits in front of the probe (a batch presents its next device)."""
        with self.engine_lock:
            self.registers = registers
            self.engine.registers = registers
            self.engine.reset()

    @staticmethod
    def _listen(host: str, port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(16)
        return sock

    @property
    def addresses(self) -> dict[str, str]:
        """Both serial URLs of this port."""
        return {kind: f"{kind}://{self.host}:{sock.getsockname()[1]}"
                for kind, sock in self._listeners.items()}

    @property
    def resource(self) -> str:
        """The URL the bench's probe opens (its configured transport)."""
        if self.transport == "inprocess":
            return self._in_process_url
        return self.addresses[self.transport]

    @property
    def shared_resource(self) -> str:
        """The URL another process opens (``meterbench emulate`` prints it): an in-process
        port is its own process's only, so there it is the plain socket's."""
        return self.addresses["socket"] if self.transport == "inprocess" else self.resource

    def start(self) -> None:
        """Accept probes on both listeners (and in process, where so configured); the newest
        connection takes the port over."""
        if self.transport == "inprocess":
            self._in_process_url = protocol_emulated.register(self)
        self._port.start()

    def stop(self) -> None:
        """Stop listening and drop any connected probe."""
        self._stop.set()
        with self.engine_lock:
            self._link = None
        if self._in_process_url:
            protocol_emulated.unregister(self._in_process_url)
        self._port.stop()

    def _serve(self, sock: socket.socket, rfc2217: bool) -> None:
        line = VirtualSerial() if rfc2217 else None
        writer = _Writer(sock)
        writer.telnet = rfc2217
        manager = TolerantPortManager(line, writer) if line is not None else None
        link = self.attach(line, manager)
        deliver = functools.partial(self._send, writer)
        while not self._stop.is_set() and link.current:
            due = link.next_due()
            timeout = 0.2 if due is None else max(0.0, due - time.monotonic())
            readable, _, _ = select.select([sock], [], [], timeout)
            if readable:
                data = sock.recv(4096)
                if not data:
                    return
                link.feed(data)
            link.step(deliver)

    def attach(self, line: VirtualSerial | None = None,
               manager: TolerantPortManager | None = None) -> MeterLink:
        """A probe reaches the port: the meter's session starts afresh, and the returned
        link carries the probe's bytes to it and its answers back."""
        link = MeterLink(self, line, manager)
        with self.engine_lock:
            self.engine.reset()
            self._link = link  # the newest probe takes the port over
        return link

    def _lands(self, data: bytes, line: LineSettings | None) -> float:
        """When the last of ``data`` lands at the meter: at once, or in baud-accurate mode
        after its wire time at the line's baud (RFC 2217: the probe's; a plain socket: the
        meter's), behind what is still on the line."""
        now = time.monotonic()
        if not self.baud_accurate:
            return now
        baud = line.baudrate if line is not None else self.engine.baud
        self._line_busy = max(self._line_busy, now) + self._wire(len(data), baud)
        return self._line_busy

    def _wire(self, chars: int, baud: int) -> float:
        """Wall seconds ``chars`` take on the line at ``baud`` (shorter on a fast bench)."""
        return chars * BITS_PER_CHAR / baud / self.scale

    @staticmethod
    def _split_by_settings(data: bytes, manager: TolerantPortManager | None,
                           line: VirtualSerial | None) -> list[tuple[LineSettings | None, bytes]]:
        """Line data in runs sent under the same settings (a baud change may sit mid-chunk)."""
        if manager is None or line is None:
            return [(None, data)] if data else []
        runs: list[tuple[LineSettings | None, bytearray]] = []
        for byte in manager.filter(data):  # a generator: settings change as it goes
            now = LineSettings(line.baudrate, line.bytesize, line.parity, line.stopbits)
            if runs and runs[-1][0] == now:
                runs[-1][1].extend(byte)
            else:
                runs.append((now, bytearray(byte)))
        return [(settings, bytes(piece)) for settings, piece in runs]

    def _receive(self, data: bytes, line: LineSettings | None) -> list[_Pending]:
        behaviour = self.registers.behaviour()
        boots = getattr(getattr(self.registers, "device", None), "boots", None)
        with self.engine_lock:
            if behaviour.dead or boots != self._boots_seen:
                # An unpowered meter loses its session, and one that started again (power
                # cycle, watchdog) listens afresh: idle, 300 Bd, whatever was under way.
                self.engine.reset()
                self._boots_seen = boots
            if behaviour.dead:
                return []
            rx_baud, framing = self.engine.baud, self.engine.framing
            if (self.engine.state is State.IDLE and line is not None
                    and hasattr(self.registers, "cosem_model")
                    and (line.baudrate, framing_of(line)) == (self.engine.hdlc_baud,
                                                              HDLC_FRAMING)):
                rx_baud, framing = line.baudrate, HDLC_FRAMING  # direct HDLC, not mode C
            try:
                replies = self.engine.receive(probe_to_meter(data, rx_baud, line, framing),
                                              behaviour)
            except Exception as exc:  # a parser bug: the meter stays silent and starts over
                report_unexpected("optical port (meter engine)", exc)
                self.engine.reset()
                replies = []
            reaction = self.registers.identification().reaction_time_s
        now = time.monotonic()  # the request's last byte has landed (see _lands)
        reaction /= self.scale
        wait = reaction if self.baud_accurate else 0.0
        return [_Pending(r, now + wait, now + max(wait, reaction), behaviour) for r in replies]

    def _flush(self, pending: deque[_Pending], line: VirtualSerial | None,
               deliver: Deliver) -> None:
        while pending:
            head = pending[0]
            now = time.monotonic()
            if now < head.not_before:
                return
            matched = line is None or (line.baudrate == head.reply.baud and (
                head.reply.framing == "7E1" or framing_of(line) == head.reply.framing))
            if not matched and now < head.deadline:
                return  # give the probe its reaction time to switch baud
            pending.popleft()
            data = self._apply_faults(head.reply.data, head.behaviour)
            data = self.trouble.apply(data, head.reply.baud)
            if data:
                deliver(meter_to_probe(data, head.reply.baud, line, head.reply.framing),
                        head.reply.baud)

    def _apply_faults(self, data: bytes, behaviour: PortBehaviour) -> bytes:
        if behaviour.drop_fraction and self.rng.random() < behaviour.drop_fraction:
            return b""
        if behaviour.corrupt_fraction and self.rng.random() < behaviour.corrupt_fraction:
            i = self.rng.randrange(len(data))
            return data[:i] + bytes([data[i] ^ 0x20]) + data[i + 1:]
        return data

    def _send(self, writer: _Writer, data: bytes, baud: int) -> None:
        for due, piece in self.paced(data, baud):
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            writer.write_data(piece)

    def paced(self, data: bytes, baud: int) -> list[tuple[float, bytes]]:
        """An answer's pieces, each with when it has left the meter's LED (monotonic): all
        of it now, or in baud-accurate mode at the line rate, in chunks small enough for the
        timing to hold over a long readout (a chunk goes once its last byte has left)."""
        start = time.monotonic()
        if not self.baud_accurate:
            return [(start, data)]
        chunk = max(1, baud // (BITS_PER_CHAR * 50))  # ~20 ms of line time per chunk
        return [(start + self._wire(i + len(data[i:i + chunk]), baud), data[i:i + chunk])
                for i in range(0, len(data), chunk)]


class MeterLink:
    """One probe's line to the meter: its bytes still on the way (the meter acts on them
    once landed), the answers queued and when each is due. The port's socket loop drives it,
    or, in process (:mod:`harness.emulator.optical.protocol_emulated`), the probe's own calls."""

    def __init__(self, server: OpticalPortServer, line: VirtualSerial | None,
                 manager: TolerantPortManager | None) -> None:
        self.server = server
        self.line = line
        self.manager = manager
        self.pending: deque[_Pending] = deque()
        self.arriving: deque[_Arriving] = deque(maxlen=MAX_PENDING_REPLIES)  # oldest dropped

    @property
    def current(self) -> bool:
        """Whether this probe still has the port (a newer one takes it over)."""
        return self.server._link is self

    def feed(self, data: bytes) -> None:
        """Bytes the probe sent: on the line until they land (at once unless baud-accurate)."""
        server = self.server
        for settings, piece in server._split_by_settings(data, self.manager, self.line):
            self.arriving.append(_Arriving(piece, settings, server._lands(piece, settings)))

    def next_due(self) -> float | None:
        """When (monotonic) something next falls due: bytes landing, an answer's reaction
        time over or its wait for the probe's baud ended; None: nothing is under way."""
        times = []
        if self.pending:
            times.append(min(self.pending[0].not_before, self.pending[0].deadline))
        if self.arriving:
            times.append(self.arriving[0].lands)
        return min(times, default=None)

    def step(self, deliver: Deliver) -> None:
        """The meter acts on what has landed and sends what is due, through ``deliver``."""
        server, pending, arriving = self.server, self.pending, self.arriving
        while arriving and arriving[0].lands <= time.monotonic():
            head = arriving.popleft()
            pending.extend(server._receive(head.data, head.settings))
        while len(pending) > MAX_PENDING_REPLIES:
            pending.popleft()  # a probe that never reads loses the oldest answers
        server._flush(pending, self.line, deliver)
