"""A Telegesis ETRX357 (R3xx AT firmware) dongle on a serial URL, as the test CH.

pyserial's ``serial_for_url`` opens ``/dev/ttyUSB0``, ``rfc2217://`` or ``socket://`` (the
emulated dongle) at 19200 8N1 by default (bench option ``baudrate``).  A reader thread feeds
an ``AtLineReader``: each line completes the one command in flight (commands are serialized;
each waits for ``OK`` / ``ERROR:<code>`` within the bench ``timeout_s``) and prompts become
:class:`~harness.drivers.zigbee.base.DongleEvent` for the listeners, even mid-command.

No install-code command is documented (GB-SMART-METERING.md, "ZigBee dongles"): the driver
derives the link key, writes it to S09 and sets S0A bit 8.  Those writes need the register
password: bench option ``password_secret`` (``env:NAME`` or ``file:PATH#KEY``), else the
module's documented factory default ``password`` (also the emulated dongle's).  The
transcript holds each line as sent and received, with S08/S09/S0C values and passwords
masked by ``telegesis.redact``; empty lines are dropped.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import serial

from harness.config.secrets import is_reference
from harness.drivers.serial_url import open_port, serial_port
from harness.drivers.zigbee.base import (
    DongleEvent,
    DongleIdentity,
    JoinFailed,
    JoinStatus,
    Neighbour,
    NetworkDown,
    NetworkInfo,
    NetworkJoin,
    NetworkUp,
    NodeJoined,
    NodeLeft,
    OtherEvent,
    PanInfo,
    ZigbeeDongle,
)
from harness.errors import (
    BenchConfigError,
    InstrumentConnectError,
    InstrumentTimeoutError,
    OperationError,
    ProtocolError,
)
from harness.protocols import telegesis as tg
from harness.protocols.installcode import InstallCode
from harness.protocols.telegesis_extra import (
    S0A_PRECONFIGURED_TC_KEY,
    dassr,
    energy_dbm,
    jpan,
    parse_extension,
)

DEFAULT_BAUD = 19200
DEFAULT_PASSWORD = "password"
"""The R3xx modules' documented factory-default register password."""
JOIN_ERRORS = {0x94: JoinStatus.REFUSED, 0x98: JoinStatus.REFUSED,
               0xAB: JoinStatus.NO_NETWORK, 0xAC: JoinStatus.NO_NETWORK_KEY,
               0xAD: JoinStatus.NO_NETWORK_KEY, 0xAE: JoinStatus.NO_NETWORK_KEY,
               0xAF: JoinStatus.NO_NETWORK_KEY}
"""``AT+JPAN`` errors that are a failed join (R309 error table), not the module's trouble."""


@dataclass
class _Pending:
    """The command in flight: its line, the answer being assembled, and when it is done."""

    command: bytes
    assembler: tg.ResponseAssembler = field(default_factory=tg.ResponseAssembler)
    done: threading.Event = field(default_factory=threading.Event)
    response: tg.Response | None = None
    error: str | None = None


class TelegesisCommandError(OperationError):
    """The dongle answered ``ERROR:<code>``; ``code`` and ``name`` say which."""


def command_error(reply: tg.ErrorReply, command: str | bytes | None = None
                  ) -> TelegesisCommandError:
    """The ``TelegesisCommandError`` for an ``ERROR:<code>`` reply, naming the redacted command."""
    return TelegesisCommandError(tg.error_text(reply, command), code=reply.code, name=reply.name,
                                 command=tg.redact(command) if command is not None else None)


class TelegesisDongle(ZigbeeDongle):
    """Telegesis AT commands over pyserial; options ``baudrate``, ``password_secret``,
    ``scan_timeout_s`` (energy/PAN scans and forming, default 10 s)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._port: serial.Serial | None = None
        self._reader_thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lines = tg.AtLineReader()
        self._command_lock = threading.Lock()
        self._pending: _Pending | None = None

    # -- options --------------------------------------------------------------------------

    @property
    def scan_timeout_s(self) -> float:
        """How long a scan (or forming, which scans first) may take."""
        return float(self.config.options.get("scan_timeout_s", 10.0))

    def _password(self) -> str:
        options = self.config.options
        if "password" in options:
            raise BenchConfigError(
                "the register password is never written in a bench file: give "
                "password_secret = 'env:NAME' or 'file:PATH#KEY'",
                key_path=f"instruments.{self.name}.options.password")
        reference = options.get("password_secret")
        if reference is None:
            return DEFAULT_PASSWORD
        if not is_reference(reference):
            raise BenchConfigError(
                "not a secret reference (the register password is never written in a bench "
                "file)",
                key_path=f"instruments.{self.name}.options.password_secret",
                expected="env:NAME or file:PATH#KEY")
        if "password_secret" not in self.secrets:  # resolved by the bench that built us
            raise BenchConfigError(
                "the register password's secret reference was not resolved (give "
                "password_secret = 'env:NAME' or 'file:PATH#KEY'; the bench resolves it)",
                key_path=f"instruments.{self.name}.options.password_secret")
        return self.secrets["password_secret"]

    # -- link -----------------------------------------------------------------------------

    def _open_internal(self) -> None:
        try:
            port = serial_port(self.address, emulated=self.config.emulated)
            port.baudrate = int(self.config.options.get("baudrate", DEFAULT_BAUD))
            port.bytesize = serial.EIGHTBITS
            port.parity = serial.PARITY_NONE
            port.stopbits = serial.STOPBITS_ONE
            port.timeout = 0.05
            open_port(port)
        except (serial.SerialException, ValueError, OSError) as exc:
            raise InstrumentConnectError(f"{self.name}: cannot open {self.address}: {exc}",
                                         instrument=self.name, address=self.address) from None
        self._port = port
        self._stop.clear()
        self._lines = tg.AtLineReader()
        self._reader_thread = threading.Thread(target=self._read_loop, daemon=True,
                                               name=f"telegesis-{self.name}")
        self._reader_thread.start()

    def _close_internal(self) -> None:
        self._stop.set()
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError):
                self.log.debug("ignoring error while closing", exc_info=True)
        if self._reader_thread is not None:
            self._reader_thread.join(timeout=1.0)
            self._reader_thread = None

    def _read_loop(self) -> None:
        """Reader thread: bytes -> lines -> the pending command and the listeners."""
        while not self._stop.is_set():
            port = self._port
            try:
                if port is None:
                    return
                data = port.read(port.in_waiting or 1)
            # ValueError: select() on the socket of a port closed under the reader (close race)
            except (serial.SerialException, OSError, TypeError, AttributeError, ValueError) as exc:
                if not self._stop.is_set():
                    self.log.warning("read failed, no more answers will arrive: %s", exc)
                    self._fail_pending(f"read failed: {exc}")
                return
            if not data:
                continue
            try:
                lines = self._lines.feed(data)
            except ProtocolError as exc:  # an over-long line was dropped; keep the good ones
                self.log.warning("%s", exc)
                lines = list(exc.context.get("lines") or ())
            for line in lines:
                self._handle_line(line)

    def _fail_pending(self, reason: str) -> None:
        pending = self._pending
        if pending is not None:
            pending.error = reason
            pending.done.set()

    def _handle_line(self, line: str) -> None:
        """One received line: record it (redacted), then answer or event (or both)."""
        shown = tg.redact(line)
        self.transcript.record("<", shown.encode("ascii", "replace") + b"\r\n")
        try:
            extension = parse_extension(line)
            parsed = tg.parse_line(line) if extension is None else None
        except ProtocolError as exc:
            self.log.warning("%s", exc)
            return
        if extension is not None:
            self._dispatch(JoinFailed(raw=extension, node_id=extension.node_id,
                                      eui64=extension.eui64))
            return
        assert parsed is not None
        pending = self._pending
        if pending is not None:
            response = pending.assembler.add(parsed)
            if response is not None:
                pending.response = response
                pending.done.set()
        if tg.is_prompt(parsed):
            self._dispatch(_event_for(parsed))
        elif pending is None and not isinstance(parsed, tg.Echo):
            self.log.debug("line outside any command: %s", shown)

    def _command(self, command: bytes, timeout: float | None = None) -> tg.Response:
        """Send one command and wait for its ``OK``; ``ERROR:<code>`` raises
        ``TelegesisCommandError``, silence ``InstrumentTimeoutError``."""
        self._require_open()
        wait = timeout if timeout is not None else self.config.timeout_s
        shown = tg.redact(command)
        with self._command_lock:
            port = self._port
            if port is None:
                raise OperationError(f"{self.name}: not open", instrument=self.name)
            pending = _Pending(command)
            self._pending = pending
            try:
                self.transcript.record(">", shown.encode("ascii", "replace") + b"\r")
                self.log.debug("> %s", shown)
                try:
                    port.write(command)
                    port.flush()
                except (serial.SerialException, OSError) as exc:
                    raise OperationError(f"{self.name}: write failed: {exc}",
                                         instrument=self.name) from None
                if not pending.done.wait(wait):
                    raise InstrumentTimeoutError(
                        f"{self.name}: no OK or ERROR to {shown} within {wait:g} s",
                        instrument=self.name, command=shown)
            finally:
                self._pending = None
        if pending.error is not None:
            raise OperationError(f"{self.name}: {shown}: {pending.error}", instrument=self.name)
        assert pending.response is not None
        if pending.response.error is not None:
            raise command_error(pending.response.error, command)
        return pending.response

    # -- the contract's hooks ----------------------------------------------------------------

    def _identity_internal(self) -> DongleIdentity:
        ident = tg.parse_ati(self._command(tg.ati()))
        return DongleIdentity(f"Telegesis {ident.model}", ident.firmware, ident.eui64)

    def _energy_scan_internal(self) -> dict[int, int]:
        readings = tg.parse_escan(self._command(tg.escan(), self.scan_timeout_s))
        return {channel: energy_dbm(raw) for channel, raw in sorted(readings.items())}

    def _pan_scan_internal(self) -> list[PanInfo]:
        found = tg.parse_panscan(self._command(tg.panscan(), self.scan_timeout_s))
        return [PanInfo(p.channel, p.pan_id, p.epan_id, p.joinable, p.rssi, p.lqi)
                for p in found]

    def _network_info_internal(self) -> NetworkInfo | None:
        info = tg.parse_network_info(self._command(tg.n_query()))
        if not info.in_pan:
            return None
        assert info.channel is not None and info.pan_id is not None and info.epan_id
        return NetworkInfo(info.channel, info.pan_id, info.epan_id, info.device_type,
                           info.power)

    def _form_network_internal(self, channel: int, pan_id: int | None,
                               extended_pan_id: str | None) -> NetworkInfo:
        # S00 channel mask (bit 0 = channel 11), S02 PAN ID and S03 extended PAN ID, where
        # 0 lets the module choose; then AT+EN forms the PAN and answers JPAN:.
        self._command(tg.write_register(0x00, 1 << (channel - 11)))
        self._command(tg.write_register(0x02, pan_id or 0))
        self._command(tg.write_register(0x03, int(extended_pan_id or "0", 16)))
        mark = self.mark()
        self._command(tg.en(), self.scan_timeout_s)
        self.wait_for(NetworkUp, self.config.timeout_s, since=mark)
        info = self._network_info_internal()
        if info is None:
            raise OperationError(f"{self.name}: AT+EN answered but the module is in no PAN",
                                 instrument=self.name)
        return info

    def _permit_join_internal(self, seconds: int) -> None:
        self._command(tg.pjoin(seconds))

    def _add_install_code_internal(self, eui64: str, install_code: InstallCode) -> None:
        # S09 holds one pre-configured TC link key for every joiner: the last device given
        # here is the one that can join (an EZSP backend keeps one transient key per EUI64).
        self._preconfigured_key(install_code)

    def _preconfigured_key(self, install_code: InstallCode) -> None:
        """S09 := the link key derived from ``install_code``, and S0A bit 8 set to use it (as
        trust centre for every joiner, or as joiner for the network it joins)."""
        password = self._password()
        self._command(tg.write_register(0x09, install_code.link_key(), password))
        s0a = int(tg.parse_register(self._command(tg.read_register(0x0A))), 16)
        if not s0a & S0A_PRECONFIGURED_TC_KEY:
            self._command(tg.write_register(0x0A, s0a | S0A_PRECONFIGURED_TC_KEY, password))

    def _join_network_internal(self, channel: int, pan_id: int, install_code: InstallCode,
                               timeout: float) -> NetworkJoin:
        # As joiner the module uses the pre-configured TC link key of S09 (S0A bit 8).
        self._preconfigured_key(install_code)
        try:
            self._command(jpan(channel, pan_id), max(timeout, self.config.timeout_s))
        except TelegesisCommandError as exc:
            code = exc.context.get("code")
            status = JOIN_ERRORS.get(code) if isinstance(code, int) else None
            if status is None:
                raise  # the module's own trouble (password, parameter...), not a join outcome
            return NetworkJoin(status, None, f"ERROR:{code:02X} ({exc.context.get('name')})")
        info = self._network_info_internal()
        if info is None:
            raise OperationError(f"{self.name}: AT+JPAN answered but the module is in no PAN",
                                 instrument=self.name)
        return NetworkJoin(JoinStatus.JOINED, info, f"JPAN:{channel},{pan_id:04X}")

    def _neighbours_internal(self) -> list[Neighbour]:
        found: list[Neighbour] = []
        index = 0
        while True:
            rows, length = self._ntable_chunk(index)
            found += [Neighbour(r.eui64, r.node_id, r.lqi, r.device_type) for r in rows]
            if not rows:
                return found
            index = rows[-1].index + 1
            if index >= length:
                return found

    def _ntable_chunk(self, index: int) -> tuple[list[tg.NeighbourEntry], int]:
        """One ``AT+NTABLE`` answer: the rows from ``index`` on, and the table's length."""
        timeout = self.config.timeout_s
        mark = self.mark()
        self._command(tg.ntable(index, "0000"))

        def header_or_nack(e: DongleEvent) -> bool:
            return isinstance(e.raw, tg.NTableHeader) or (
                isinstance(e.raw, tg.Sequence) and e.raw.kind == "NACK")

        position, event = self._wait_index(header_or_nack, timeout, mark)
        if isinstance(event.raw, tg.Sequence):
            raise OperationError(f"{self.name}: neighbour table request not acknowledged",
                                 instrument=self.name)
        if event.raw.error_code:
            raise OperationError(
                f"{self.name}: neighbour table answer ERROR:{event.raw.error_code:02X} "
                f"({tg.error_name(event.raw.error_code)})", instrument=self.name)
        position, event = self._wait_index(lambda e: isinstance(e.raw, tg.TableLength),
                                           timeout, position + 1)
        length = event.raw.length
        rows: list[tg.NeighbourEntry] = []
        while index + len(rows) < length:
            position, event = self._wait_index(
                lambda e: isinstance(e.raw, tg.NeighbourEntry | tg.Sequence | tg.NTableHeader),
                timeout, position + 1)
            if not isinstance(event.raw, tg.NeighbourEntry):
                break  # ACK (or the next table): this answer held fewer rows
            rows.append(event.raw)
        return rows, length

    def _remove_node_internal(self, eui64: str) -> None:
        self._command(dassr(eui64))

    def _leave_network_internal(self) -> None:
        mark = self.mark()
        self._command(tg.dassl())
        self.wait_for(NetworkDown, self.config.timeout_s, since=mark)


def _event_for(prompt: tg.AtLine) -> DongleEvent:
    """The contract's event for a Telegesis prompt."""
    match prompt:
        case tg.NewNode(node_id=node, eui64=eui, parent=parent):
            return NodeJoined(raw=prompt, node_id=node, eui64=eui, parent=parent)
        case tg.NodeLeft(node_id=node, eui64=eui):
            return NodeLeft(raw=prompt, node_id=node, eui64=eui)
        case tg.JoinedPan(channel=channel, pan_id=pan, epan_id=epan):
            return NetworkUp(raw=prompt, channel=channel, pan_id=pan, extended_pan_id=epan)
        case tg.LeftPan() | tg.LostPan():
            return NetworkDown(raw=prompt)
    return OtherEvent(raw=prompt)
