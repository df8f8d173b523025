"""An emulated programmable supply: a real SCPI server on loopback, one line per command.

It answers the same subset the SCPI driver speaks (IEEE 488.2 common commands, INSTrument,
OUTPut, SOURce VOLTage/CURRent, MEASure, SYSTem:ERRor) with long or short keyword forms,
keeps an error queue with the standard SCPI codes, and measures the current of the
emulated device wired to each channel. With a :class:`CommandLog` it appends every command it
receives to a file, with the time and the selected channel: what a test reads to know what
the instrument itself was told (``meterbench emulate --log FILE``).

Hostile input: a line longer than the instrument's input buffer (:data:`MAX_LINE_BYTES`) is
discarded up to its newline and queues -363 "Input buffer overrun"; a command the emulator
fails on (a bug) queues -300 and is logged through :mod:`harness.emulator.guard`.  Each client
has its own thread, at most :data:`MAX_CLIENTS` at once (more are closed at once).
"""

from __future__ import annotations

import logging
import re
import socket
import socketserver
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from harness.emulator.guard import BoundedClients, report_unexpected
from harness.emulator.trouble import LineTrouble
from harness.emulator.world.device import EmulatedDevice

log = logging.getLogger("meterbench.emulator.scpi")

# (short, long) keyword pairs; an optional keyword is listed with a leading '?'.
_KEYWORDS = {
    "INST": "INSTRUMENT", "NSEL": "NSELECT", "OUTP": "OUTPUT", "STAT": "STATE",
    "SOUR": "SOURCE", "VOLT": "VOLTAGE", "CURR": "CURRENT", "LEV": "LEVEL", "IMM": "IMMEDIATE",
    "AMPL": "AMPLITUDE", "MEAS": "MEASURE", "SCAL": "SCALAR", "DC": "DC", "SYST": "SYSTEM",
    "ERR": "ERROR", "NEXT": "NEXT", "APPL": "APPLY",
}
_LONG_TO_SHORT = {long: short for short, long in _KEYWORDS.items()}
_OPTIONAL = {"SOUR", "LEV", "IMM", "AMPL", "STAT", "SCAL", "DC", "NEXT"}
MAX_LINE_BYTES = 1024
"""The instrument's input buffer: a longer program message is discarded (-363)."""
MAX_CLIENTS = 32
"""Concurrent socket connections the emulated instrument accepts."""
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def canonical_header(header: str) -> str:
    """Reduce a SCPI header to its required short keywords: ``SOUR:VOLT:LEV`` → ``VOLT``."""
    parts = []
    for word in header.strip(":").upper().split(":"):
        short = _LONG_TO_SHORT.get(word, word)
        if short not in _KEYWORDS:
            return "?" + header  # unknown keyword: never matches a command
        if short not in _OPTIONAL:
            parts.append(short)
    return ":".join(parts)


class CommandLog:
    """Every command an emulated instrument receives, one line each, appended and flushed.

    A line is ``<unix time> <instrument> <channel> <command>``: the channel is the one the
    command acts on (the selected one for a supply, 0 for a whole-board relay command).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.path.open("a").close()  # an unwritable path fails now, not at the first command

    def write(self, instrument: str, channel: int, command: str) -> None:
        """Append one received command, flushed at once (a test reads it while we run)."""
        line = f"{time.time():.6f} {instrument} {channel} {' '.join(command.split())}\n"
        with self._lock, self.path.open("a", encoding="ascii", errors="replace") as out:
            out.write(line)


@dataclass(frozen=True)
class LoggedCommand:
    """One line of a :class:`CommandLog`."""

    t: float
    instrument: str
    channel: int
    command: str


def read_command_log(path: str | Path) -> list[LoggedCommand]:
    """The commands logged so far (a line being written is left for the next read)."""
    try:
        text = Path(path).read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return []
    entries = []
    for line in text.splitlines(keepends=True):
        parts = line.rstrip("\n").split(" ", 3)
        if not line.endswith("\n") or len(parts) < 4:
            continue
        entries.append(LoggedCommand(float(parts[0]), parts[1], int(parts[2]), parts[3]))
    return entries


def outputs_from_log(entries: list[LoggedCommand], instrument: str,
                     channels: int) -> dict[int, bool]:
    """Each channel's output state as the supply was last told (``OUTP`` or ``*RST``)."""
    state = dict.fromkeys(range(1, channels + 1), False)
    for e in entries:
        if e.instrument != instrument:
            continue
        key = canonical_header(e.command.partition(" ")[0])
        arg = e.command.partition(" ")[2].strip().upper()
        if key == "OUTP" and arg in ("ON", "1", "OFF", "0"):
            state[e.channel] = arg in ("ON", "1")
        elif e.command.strip().upper() == "*RST":
            state = dict.fromkeys(state, False)
    return state


@dataclass
class SupplyChannel:
    """One output: set points, state, and the device wired to it."""

    number: int
    max_voltage: float
    max_current: float
    device: EmulatedDevice | None = None
    voltage: float = 0.0
    current_limit: float = 0.1
    output: bool = False

    def apply(self) -> None:
        """Tell the wired device what its terminals now see."""
        if self.device is not None:
            self.device.supply(self.voltage if self.output else 0.0)

    def measure(self) -> tuple[float, float]:
        """(volts, amps) at the terminals; in current limit the voltage sags."""
        if not self.output:
            return 0.0, 0.0
        demand = self.device.current() if self.device is not None else 0.0
        if demand > self.current_limit:
            return self.voltage * self.current_limit / demand, self.current_limit
        return self.voltage, demand


@dataclass
class SupplyState:
    """The whole instrument: channels, selection, error queue."""

    identity: str
    channels: dict[int, SupplyChannel]
    selected: int = 1
    errors: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=32))
    lock: threading.Lock = field(default_factory=threading.Lock)
    name: str = "psu"
    command_log: CommandLog | None = None
    trouble: LineTrouble = field(default_factory=LineTrouble)  # armed by tests, not a fault

    def error(self, code: int, text: str) -> None:
        """Queue a SCPI error (the queue keeps the newest 32, as instruments do)."""
        self.errors.append((code, text))

    @property
    def channel(self) -> SupplyChannel:
        """The channel INST:NSEL selected."""
        return self.channels[self.selected]

    def all_off(self) -> None:
        """Outputs off (used when the emulator stops, as a supply's own shutdown does)."""
        with self.lock:
            for ch in self.channels.values():
                ch.output = False
                ch.apply()

    def execute(self, line: str) -> str | None:
        """Run one program message (``;``-separated commands); return the joined answers."""
        answers = []
        with self.lock:
            for unit in (u.strip() for u in line.split(";")):
                if not unit:
                    continue
                if self.command_log is not None:  # as received, before it acts
                    channel = self.selected
                    if canonical_header(unit.partition(" ")[0]) == "INST:NSEL":
                        channel = self._int_quiet(unit.partition(" ")[2].strip())
                    self.command_log.write(self.name, channel, unit)
                try:
                    answer = self._command(unit)
                except Exception as exc:  # an emulator bug: an SCPI error, not a lost client
                    report_unexpected("SCPI supply", exc)
                    self.error(-300, "Device-specific error")
                    continue
                if answer is not None:
                    answers.append(answer)
        return ";".join(answers) if answers else None

    def _command(self, unit: str) -> str | None:
        header, _, arg = unit.partition(" ")
        arg = arg.strip()
        query = header.endswith("?")
        header = header.rstrip("?")
        upper = header.upper()
        if upper.startswith("*"):
            return self._common(upper, query)
        key = canonical_header(header) + ("?" if query else "")
        ch = self.channel
        match key:
            case "SYST:ERR?":
                code, text = self.errors.popleft() if self.errors else (0, "No error")
                return f'{code:+d},"{text}"'
            case "INST:NSEL":
                number = self._int(arg)
                if number is not None and number not in self.channels:
                    self.error(-222, "Data out of range")
                elif number is not None:
                    self.selected = number
            case "INST:NSEL?":
                return str(self.selected)
            case "OUTP":
                state = {"ON": True, "1": True, "OFF": False, "0": False}.get(arg.upper())
                if state is None:
                    self.error(-224, "Illegal parameter value")
                else:
                    ch.output = state
                    ch.apply()
            case "OUTP?":
                return "1" if ch.output else "0"
            case "VOLT":
                value = self._float(arg, ch.max_voltage)
                if value is not None:
                    ch.voltage = value
                    ch.apply()
            case "VOLT?":
                return f"{ch.voltage:.4f}"
            case "CURR":
                value = self._float(arg, ch.max_current)
                if value is not None:
                    ch.current_limit = value
            case "CURR?":
                return f"{ch.current_limit:.5f}"
            case "MEAS:VOLT?":
                return f"{ch.measure()[0]:.4f}"
            case "MEAS:CURR?":
                return f"{ch.measure()[1]:.6f}"
            case _:
                self.error(-113, "Undefined header")
        return None

    def _common(self, header: str, query: bool) -> str | None:
        if header == "*IDN" and query:
            return self.identity
        if header == "*RST" and not query:
            for ch in self.channels.values():
                ch.output, ch.voltage, ch.current_limit = False, 0.0, 0.1
                ch.apply()
            self.selected = min(self.channels)
            return None
        if header == "*CLS" and not query:
            self.errors.clear()
            return None
        if header == "*OPC" and query:
            return "1"
        self.error(-113, "Undefined header")
        return None

    def _float(self, arg: str, high: float) -> float | None:
        if not _NUMBER.match(arg):
            self.error(-104, "Data type error")
            return None
        value = float(arg)
        if not 0.0 <= value <= high:
            self.error(-222, "Data out of range")
            return None
        return value

    def _int_quiet(self, arg: str) -> int:
        """A channel number, or the selected channel when ``arg`` is none (for the log)."""
        return int(arg) if arg.isascii() and arg.isdigit() and len(arg) <= 9 else self.selected

    def _int(self, arg: str) -> int | None:
        if not (arg.isascii() and arg.isdigit()):
            self.error(-104, "Data type error")
            return None
        if len(arg) > 9:  # no channel number is that long (and int() refuses 4,300+ digits)
            self.error(-222, "Data out of range")
            return None
        return int(arg)


class _Handler(socketserver.StreamRequestHandler):
    """One client connection: newline-terminated program messages in, answers out."""

    server: ScpiSupplyServer

    def setup(self) -> None:
        super().setup()
        # Answers are tiny: without NODELAY, Nagle plus delayed ACK adds ~40 ms to each query.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        while True:
            raw = self.rfile.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                self.server.state.error(-363, "Input buffer overrun")
                if not self._discard_line():
                    return
                continue
            line = raw.decode("ascii", "replace").strip()
            if not line:
                continue
            answer = self.server.state.execute(line)
            if answer is not None and self.server.state.trouble.silence():
                continue  # bench trouble: this answer never reaches the driver
            if answer is not None:
                self.wfile.write(answer.encode("ascii", "replace") + b"\n")
                self.wfile.flush()

    def _discard_line(self) -> bool:
        """Skip the rest of an over-long line; False if the client hung up first."""
        while True:
            raw = self.rfile.readline(MAX_LINE_BYTES)
            if not raw:
                return False
            if raw.endswith(b"\n"):
                return True


class ScpiSupplyServer(BoundedClients, socketserver.ThreadingTCPServer):
    """The emulated supply on ``host:port`` (port 0 picks a free one); at most MAX_CLIENTS."""

    max_clients = MAX_CLIENTS
    server_label = "SCPI supply"
    request_queue_size = MAX_CLIENTS

    def __init__(self, state: SupplyState, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), _Handler)
        self.state = state
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The TCP port it listens on."""
        return self.server_address[1]

    @property
    def resource(self) -> str:
        """The VISA resource string a driver opens."""
        host = self.server_address[0]
        assert isinstance(host, str)  # an AF_INET server's address is (str, int)
        return f"TCPIP::{host}::{self.port}::SOCKET"

    def start(self) -> None:
        """Serve in a daemon thread."""
        # Polled every 50 ms rather than socketserver's 0.5 s, which every stop would wait.
        self._thread = threading.Thread(target=self.serve_forever, name=f"scpi:{self.port}",
                                        daemon=True, kwargs={"poll_interval": 0.05})
        self._thread.start()

    def stop(self) -> None:
        """Outputs off, stop serving, close the socket."""
        self.state.all_off()
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
