"""The optical-probe contract: an IEC 62056-21 mode C client over a byte link.

The dance (300 Bd 7E1 sign-on, option select, baud switch, readout or programming mode,
sign-off) lives here once; a backend (serial URL, BLE GATT) only moves bytes and changes
line settings. Reads always have a deadline, sign-on is retried by a tenacity policy whose
sleep is injectable, and every byte each way goes into the transcript.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_fixed,
)

from harness.drivers.base import Instrument
from harness.drivers.optical.dlms import DlmsSession, HlsKeys
from harness.drivers.permit import OPTICAL, require_permit
from harness.drivers.silence import MessageWait, Silence, StallClock, cpu_stall_s
from harness.errors import InstrumentTimeoutError, OperationError, ProtocolError
from harness.protocols.iec62056_21 import (
    INITIAL_BAUD,
    MODE_PROGRAMMING,
    MODE_READOUT,
    PROTOCOL_NORMAL,
    DataSet,
    Identification,
    OptionSelect,
    char_for_baud,
    encode_option_select,
    encode_request,
    parse_identification,
    parse_readout,
)
from harness.protocols.iec62056_21_programming import (
    Answer,
    Command,
    encode_command,
    parse_answer,
)
from harness.protocols.iec62056_21_reader import FrameReader

_CHANGES_DEVICE = frozenset({"W", "E"})
"""IEC 62056-21 programming commands that change the meter (write, execute)."""
WAKEUP_S = 2.2  # battery meters: NUL bytes for about 2.2 s ...
WAKEUP_PAUSE_S = 1.6  # ... then about 1.6 s of silence before the request


@dataclass(frozen=True)
class Readout:
    """A data readout: who answered, and its data sets."""

    identification: Identification
    datasets: list[DataSet]

    def value(self, address: str) -> str | None:
        """The first value at ``address``, or None."""
        return next((d.value for d in self.datasets if d.address == address), None)


MIN_TIMEOUT_S = 1.0
"""The shortest wall time a scaled (fast-mode) timeout waits on a busy host: a host busy for
longer than the device's scaled silence must not look like a silent port (a loaded CI machine
with two campaigns on two cores has held a process up for over 0.3 s). Adaptive: a silence
during which the host's tasks hardly waited for a CPU is judged at the device's own scaled
timeout (``harness.drivers.silence``)."""

_DISCARD_READS = 64  # reads of stale input dropped before a sign-on, at most

SERIAL_BAUD_ACCURATE = True
"""An emulated serial probe's meter paces its line at the baud unless told otherwise (option
``baud_accurate``): the default of the emulated twin, and what the probe's wire bounds trust."""
BLE_BAUD_ACCURATE = False
"""The same for an emulated BLE head (its twin keeps the fast default)."""
BITS_PER_CHAR = 10
"""Start, 7 data, parity and stop bits (mode C, 7E1); start, 8 data, stop (HDLC, 8N1)."""


class OpticalProbe(Instrument):
    """An IR head; bench options: ``retries``, ``wakeup`` (gas meters: the NUL preamble
    before a sign-on, ``wakeup_s``, ``wakeup_pause_s``, ``wakeup_holds_s``), ``max_baud``."""

    kind = "optical_probe"

    def __init__(self, *args: Any, sleep: Callable[[float], None] = time.sleep,
                 stall_clock: StallClock = cpu_stall_s, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sleep = sleep
        self.stall_clock = stall_clock  # the host's CPU waiting, for the adaptive floor
        self.baud = INITIAL_BAUD
        self.framing = "7E1"  # "8N1" while the line carries HDLC (DLMS/COSEM)
        self.link_errors = 0  # timeouts and garbled frames, including those retries recovered
        self._last_sent = float("-inf")  # when bytes last went to the meter (wake-up window)
        self._skipped_wake = False  # this sign-on attempt trusted the meter to be awake
        self._wire_out: float | None = None  # line seconds of the first message since a mark
        self._wire_in = 0.0  # line seconds of the last whole message received
        self._sent_at: float | None = None  # when that first message went to the port
        self._heard_at: float | None = None  # when the last whole message's end came in

    # -- line times (TRI-DIAG-01 bounds when a meter read its clock) ------------------------

    wire_bounds = True
    """Whether the probe knows the meter's line rate (a BLE head keeps its own)."""

    def _paced(self) -> bool:
        """Whether bytes cross the line at the baud: always on hardware; on an emulated
        port as its twin is told (option ``baud_accurate``)."""
        if not self.wire_bounds:
            return False
        return not self.config.emulated or bool(self._option("baud_accurate",
                                                             SERIAL_BAUD_ACCURATE))

    def mark_wire(self) -> None:
        """Start timing an exchange: :meth:`wire_times` and :meth:`wire_stamps` then cover
        what follows."""
        self._wire_out, self._wire_in = None, 0.0
        self._sent_at = self._heard_at = None

    def wire_stamps(self) -> tuple[float | None, float | None]:
        """Monotonic times, since :meth:`mark_wire`, at which the first message went to the
        port (just before its bytes were written) and the last whole message's last byte
        had come in (the chunk that completed it, before it was parsed): a read's bounds at
        the port rather than around the call, whose own work (encoding, retries' set-up,
        parsing) is no time of the meter's. None where nothing was sent or taken."""
        return self._sent_at, self._heard_at

    def wire_times(self) -> tuple[float, float]:
        """Line seconds (the meter's) of the first message sent and of the last one received
        since :meth:`mark_wire`: the meter acted on the request no sooner than the first after
        it was sent, and began its answer no later than the second before it was in. (0, 0)
        when the line's pace is not known."""
        if not self._paced():
            return 0.0, 0.0
        return self._wire_out or 0.0, self._wire_in

    def _line_s(self, chars: int) -> float:
        return chars * BITS_PER_CHAR / self.baud

    def _took(self, chars: int, at: float | None = None) -> None:
        """A whole message of ``chars`` came in, its end by monotonic time ``at``: the last
        one :meth:`wire_times` and :meth:`wire_stamps` report."""
        self._wire_in = self._line_s(chars)
        self._heard_at = time.monotonic() if at is None else at

    # -- options ---------------------------------------------------------------------------

    def _option(self, key: str, default: Any) -> Any:
        return self.config.options.get(key, default)

    def timeout_s(self) -> float:
        """How long the meter may stay silent (bench ``timeout_s``, in the meter's time: less
        in fast mode, though never below MIN_TIMEOUT_S of wall time)."""
        return self.device_s(self.config.timeout_s, MIN_TIMEOUT_S)

    def message_wait(self) -> MessageWait:
        """A wait for one whole message: at most option ``message_timeout_s`` (the meter's
        seconds) however its bytes trickle in, so a peer that never stops sending and never
        completes a message is given up on, and silent as :meth:`silence` judges it."""
        return MessageWait(
            self.device_s(float(self._option("message_timeout_s", 30.0)), MIN_TIMEOUT_S),
            self.silence)

    def silence(self) -> Silence:
        """A wait for the meter's bytes: judged silent after its own (scaled) timeout if the
        host was free meanwhile, else after ``timeout_s`` (the wall floor): ``silence``; a
        port whose meter acts in the probe's own thread has no floor (its answers cannot be
        held up behind the probe's reads)."""
        device_s = self.device_s(self.config.timeout_s)
        floor_s = device_s if self._peer_in_thread() else self.timeout_s()
        return Silence(device_s, floor_s, self.stall_clock)

    def _peer_in_thread(self) -> bool:
        """Whether the meter answers in this thread, inside the port's own calls (an
        emulated meter in process): then nothing but the meter can make it late."""
        return False

    def retry_policy(self) -> Retrying:
        """Sign-on retries: a timeout or garbled answer is tried again after a short pause."""
        return Retrying(
            stop=stop_after_attempt(int(self._option("retries", 3))),
            wait=wait_fixed(self.device_s(float(self._option("retry_wait_s", 0.3)))),
            retry=retry_if_exception_type((InstrumentTimeoutError, ProtocolError)),
            sleep=self.sleep,
            before_sleep=self._count_error,
            reraise=True,
        )

    def _count_error(self, state: RetryCallState) -> None:
        """Every timeout or garbled frame the retries hid: a flaky port shows in the count
        (not a first attempt that skipped the wake-up: the meter had gone back to sleep)."""
        if self._skipped_wake:
            self._skipped_wake = False
            self.log.info("the meter had gone back to sleep: waking it")
            return
        self.link_errors += 1
        outcome = state.outcome
        self.log.info("retrying after %s", outcome.exception() if outcome else "an error")

    # -- the mode C session ------------------------------------------------------------------

    def sign_on(self, address: str = "") -> Identification:
        """Send the request at 300 Bd (after a wake-up if configured); parse the identification."""
        self._require_open()
        for attempt in self.retry_policy():
            with attempt:
                self._line(INITIAL_BAUD)
                self._discard_input()
                self._skipped_wake = False
                if self._option("wakeup", False):
                    if attempt.retry_state.attempt_number == 1 and self._still_awake():
                        self._skipped_wake = True
                    else:
                        self._wake_up()
                self._send(encode_request(address))
                return parse_identification(self._receive("identification"))
        raise AssertionError("unreachable: tenacity reraises")

    def readout(self, address: str = "", baud: int | None = None) -> Readout:
        """A whole data readout (option select mode '0')."""
        ident = self.sign_on(address)
        self._select(ident, MODE_READOUT, baud)
        try:
            datasets = parse_readout(self._receive("data readout"))
        finally:
            self._line(INITIAL_BAUD)
        return Readout(ident, datasets)

    @contextmanager
    def programming(self, password: str, address: str = "",
                    baud: int | None = None) -> Iterator[ProgrammingSession]:
        """Programming mode, authorised with P1 ``password``; signs off (B0) on the way out.

        Opening the session up to the meter's P0 prompt changes nothing on the meter, so a
        prompt lost or garbled (a byte hit during the baud switch) signs off and opens it
        again under :meth:`retry_policy`; the password is sent once, never repeated."""
        attempts = int(self._option("retries", 3))
        for attempt in range(1, attempts + 1):
            ident = self.sign_on(address)  # retried on its own; a port that never answers fails
            try:
                session = self._take_prompt(ident, baud)
                break
            except (InstrumentTimeoutError, ProtocolError) as exc:
                if attempt == attempts:
                    raise
                self.link_errors += 1  # recovered below, but still the evidence of a flaky link
                self.log.info("reopening programming mode after %s", exc)
                self.sleep(self.device_s(float(self._option("retry_wait_s", 0.3))))
        try:
            session.authorise(password)
            yield session
        finally:
            try:
                self._send(encode_command(Command.sign_off()))
            finally:
                self._line(INITIAL_BAUD)

    def _take_prompt(self, ident: Identification, baud: int | None) -> ProgrammingSession:
        """Select programming mode and take the P0 prompt; on failure sign off and go back to
        300 Bd so that a retry starts from the beginning."""
        self._select(ident, MODE_PROGRAMMING, baud)
        session = ProgrammingSession(self, ident)
        try:
            prompt = session.answer()
            if prompt.kind != "command" or prompt.command is None or prompt.command.command != "P":
                raise ProtocolError(f"{self.name}: expected the P0 password prompt, got {prompt}",
                                    instrument=self.name)
        except BaseException:
            try:
                self._send(encode_command(Command.sign_off()))
            finally:
                self._line(INITIAL_BAUD)
            raise
        return session

    def _identify_internal(self) -> str:
        """The probe's own identity: its backend and line (a head has no ``*IDN?``).

        Which meter sits in front of it is the device profile's business (:meth:`sign_on`).
        """
        return f"{type(self).__name__} on {self.address} ({self.baud} Bd 7E1)"

    def _select(self, ident: Identification, mode: str, baud: int | None) -> None:
        target = min(ident.baud, baud or int(self._option("max_baud", 19200)))
        option = OptionSelect(PROTOCOL_NORMAL, char_for_baud(target), mode)
        self._send(encode_option_select(option))
        self._line(target)

    def _wake_up(self) -> None:
        count = int(float(self._option("wakeup_s", WAKEUP_S)) * INITIAL_BAUD / 10)
        self._send(b"\x00" * count)
        self.sleep(self.device_s(float(self._option("wakeup_pause_s", WAKEUP_PAUSE_S))))

    def _still_awake(self) -> bool:
        """Whether the meter is surely still awake from our last bytes: option
        ``wakeup_holds_s`` (default 0: wake before every sign-on) is how long after the last
        byte sent a battery meter's port stays awake (its stated window, less a margin).  Only
        a first attempt trusts it: a retry always wakes the meter."""
        holds = self.device_s(float(self._option("wakeup_holds_s", 0.0)))
        return holds > 0 and time.monotonic() - self._last_sent < holds

    # -- bytes ----------------------------------------------------------------------------------

    def _line(self, baud: int, framing: str = "7E1") -> None:
        """Set the line to ``baud`` and ``framing`` (7E1 for mode C, 8N1 for HDLC)."""
        if (baud, framing) != (self.baud, self.framing):
            self.framing = framing
            self._set_baud(baud)
            self.baud = baud

    @contextmanager
    def dlms(self, *, client: int = 0x10, server: int = 1, password: str | None = None,
             mode_e: bool = True, baud: int | None = None, address: str = "",
             hls: HlsKeys | None = None, ciphered: bool = False) -> Iterator[DlmsSession]:
        """A DLMS/COSEM association (IEC 62056-46 HDLC): after the mode E switch-over from a
        mode C sign-on, or straight away (``mode_e=False``, at option ``hdlc_baud``); public
        client 0x10 without ``password``, LLS with one, HLS-GMAC with ``hls`` (the meter's
        keys; ``ciphered``: in the ciphered LN context, every APDU glo-ciphered). Released
        and disconnected on the way out, back at 300 Bd 7E1."""
        from harness.drivers.optical.dlms import DlmsSession

        session = DlmsSession(self, client=client, server=server)
        try:
            session.open(password=password, mode_e=mode_e, baud=baud, address=address, hls=hls,
                         ciphered=ciphered)
            yield session
        finally:
            session.close()

    def _send(self, data: bytes, *, shown: bytes | None = None) -> None:
        """Send bytes; ``shown`` is what the transcript records instead (a masked secret)."""
        self.transcript.record(">", data if shown is None else shown)
        if self._wire_out is None:
            self._wire_out = self._line_s(len(data))
            self._sent_at = time.monotonic()
        self._write(data)
        self._last_sent = time.monotonic()

    def _receive(self, what: str) -> bytes:
        """One whole message, or InstrumentTimeoutError saying what was pending."""
        reader = FrameReader()
        wait = self.message_wait()
        while True:
            if wait.over():
                raise InstrumentTimeoutError(
                    f"{self.name}: no complete {what} within {wait.waited_s:.3g} s"
                    f" (received {reader.pending.hex(' ') or 'nothing'}){wait.host_note()}",
                    instrument=self.name, pending=reader.pending.hex(),
                )
            chunk = self._read(wait.read_timeout())
            if not chunk:
                wait.idle()
                continue
            at = time.monotonic()
            wait.heard()
            self.transcript.record("<", chunk)
            messages = reader.feed(chunk)
            if what != "identification":
                messages = [m for m in messages if not self._late_identification(m)]
            if messages:
                self._took(len(messages[0]), at)
                return messages[0]

    def _late_identification(self, message: bytes) -> bool:
        """An identification where another answer is awaited: the late answer to a sign-on
        request that was repeated (the meter answered both), dropped rather than read as the
        answer, which would leave the session one answer behind."""
        if not (message.startswith(b"/") and message.endswith(b"\r\n")):
            return False
        self.log.info("dropped a late identification: %r", message)
        return True

    def _discard_input(self) -> None:
        """Drop what is waiting; bounded, so a peer that never stops sending cannot hold us
        here (the next receive then fails on its garbage, within its timeout)."""
        for _ in range(_DISCARD_READS):
            if not self._read(0.0):
                return

    # -- hooks for backends -------------------------------------------------------------------

    @abc.abstractmethod
    def _write(self, data: bytes) -> None:
        """Send bytes (at the current line settings)."""

    @abc.abstractmethod
    def _read(self, timeout: float) -> bytes:
        """Whatever arrived within ``timeout`` seconds (b"" if nothing)."""

    @abc.abstractmethod
    def _set_baud(self, baud: int) -> None:
        """Switch the line to ``baud`` with the framing in ``self.framing`` (7E1 or 8N1)."""

    def _safe_state_internal(self, safe_state: dict[str, Any]) -> None:
        """A probe has no output to switch off; leave the line at its idle 300 Bd 7E1."""
        self._line(INITIAL_BAUD)


class ProgrammingSession:
    """An open programming-mode session: read, write and execute registers.

    Writes and executes change the device: each needs the live permit the access gate issues
    (``harness.drivers.permit``); without one it raises AccessDeniedError and sends nothing."""

    def __init__(self, probe: OpticalProbe, identification: Identification) -> None:
        self.probe = probe
        self.identification = identification

    def answer(self) -> Answer:
        """The meter's next answer."""
        return parse_answer(self.probe._receive("answer"))

    def _exchange(self, command: Command, shown: Command | None = None) -> Answer:
        """Send a command and take its answer; a lost or garbled answer (or a NAK asking for a
        repeat) sends the command again, as IEC 62056-21 lets the host do.  A write or an
        execute changes the device: without a live permit nothing is sent.  ``shown`` is what
        the transcript records instead (its secret masked)."""
        if command.command in _CHANGES_DEVICE:
            require_permit(OPTICAL, f"{command.command}{command.command_type} {command.address}",
                           instrument=self.probe.name)
        for attempt in self.probe.retry_policy():
            with attempt:
                if attempt.retry_state.attempt_number > 1:  # a late answer must not be taken
                    self.probe._discard_input()             # for the repeat's
                self.probe._send(encode_command(command),
                                 shown=None if shown is None else encode_command(shown))
                answer = self.answer()
                if answer.kind == "nak" and command.command != "P":
                    raise ProtocolError(f"{self.probe.name}: meter asked for a repeat (NAK)")
                return answer
        raise AssertionError("unreachable: tenacity reraises")

    def authorise(self, password: str) -> None:
        """P1: the password; refused or locked out is an OperationError."""
        frame = encode_command(Command.password(password))
        masked = encode_command(Command.password("*" * len(password)))
        self.probe._send(frame, shown=masked)  # a password never reaches a transcript
        answer = self.answer()
        if answer.kind != "ack":
            reason = answer.error or "password refused"
            raise OperationError(f"{self.probe.name}: {reason}", instrument=self.probe.name,
                                 answer=answer.kind)

    def read(self, address: str) -> str:
        """R1: one register's value."""
        answer = self._exchange(Command.read(address))
        if answer.kind != "data" or not answer.datasets:
            raise OperationError(f"{self.probe.name}: read {address!r} refused: "
                                 f"{answer.error or answer.kind}", instrument=self.probe.name,
                                 address=address)
        return answer.datasets[0].value

    def write(self, address: str, value: str) -> None:
        """W1: set a register; it changes the device, so only under a live permit."""
        self._expect_ack(Command.write(address, value), f"write {address!r}")

    def execute(self, address: str, value: str = "", *, secret: bool = False) -> None:
        """E2: run an operation (a reset); only under a live permit (``harness.drivers.permit``).
        ``secret``: the value (an install code) is masked in the transcript."""
        command = Command("E", "2", value, address)
        shown = Command("E", "2", "*" * len(value), address) if secret else None
        self._expect_ack(command, f"execute {address!r}", shown)

    def _expect_ack(self, command: Command, what: str, shown: Command | None = None) -> None:
        answer = self._exchange(command, shown)
        if answer.kind != "ack":
            raise OperationError(f"{self.probe.name}: {what} refused: "
                                 f"{answer.error or answer.kind}", instrument=self.probe.name)
