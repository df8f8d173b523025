"""The meter side of IEC 62056-21 mode C: a state machine from received bytes to answers.

Idle at 300 Bd → a request gets the identification → the option select switches baud and
either sends the readout (back to idle at 300 Bd) or opens programming mode (P0 prompt,
P1 password, R1/W1/E2, B0 sign-off). Wrong passwords are counted and lock the port for a
while, as meters do; a frame with a bad BCC is answered NAK. A meter whose register map
offers COSEM objects (``cosem_model()``) also speaks DLMS/COSEM over HDLC (IEC 62056-46):
straight away (a frame starting with 0x7E while idle, at ``hdlc_baud``) or after the mode E
switch-over (option select ``ACK 2 Z 2``: acknowledged with the same line at 300 Bd, then
HDLC at the agreed baud, 8N1); DISC or the inactivity time-out brings it back to mode C.
A battery meter's port sleeps (``PortBehaviour.wake_window_s``): asleep it hears nothing but
a run of NUL bytes, and a run lasting its ``wakeup_min_s`` of line time at 300 Bd wakes it
for the window, which each byte received renews; an open programming (or HDLC) session keeps
it awake until the session's own inactivity timeout, and falling asleep ends any session.
No I/O here: the servers move the bytes and honour the baud and framing of each answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum

from harness.emulator.optical.cosem_model import CosemModel
from harness.emulator.optical.cosem_server import CosemServer
from harness.emulator.optical.hdlc_link import HdlcLink
from harness.emulator.optical.registers import OpticalRegisters, PortBehaviour, RegisterError
from harness.emulator.world.clock import Clock
from harness.errors import ProtocolError
from harness.protocols.iec62056_21 import (
    INITIAL_BAUD,
    MODE_BINARY,
    MODE_PROGRAMMING,
    MODE_READOUT,
    PROTOCOL_HDLC,
    PROTOCOL_NORMAL,
    DataSet,
    encode_identification,
    encode_readout,
    parse_option_select,
    parse_request,
)
from harness.protocols.iec62056_21_programming import (
    Answer,
    Command,
    encode_answer,
    encode_command,
    parse_command,
)
from harness.protocols.iec62056_21_reader import FrameReader

log = logging.getLogger("meterbench.emulator.optical")

BITS_PER_CHAR = 10  # 7E1: start, 7 data, parity, stop
LOCKED_TEXT = "ER-LOCKED"
"""Error text a locked-out port answers to a password."""


class State(Enum):
    """Where the meter is in a mode C session."""

    IDLE = "idle"
    IDENTIFIED = "identified"
    PROGRAMMING = "programming"
    HDLC = "hdlc"


MODE_C_FRAMING = "7E1"
HDLC_FRAMING = "8N1"
HDLC_FLAG = 0x7E


@dataclass(frozen=True)
class Reply:
    """Bytes the meter sends, the baud rate and the UART framing they go out with."""

    data: bytes
    baud: int
    framing: str = MODE_C_FRAMING


class MeterPortEngine:
    """One optical port's protocol state; feed it what the line delivered."""

    def __init__(
        self,
        registers: OpticalRegisters,
        clock: Clock | None = None,
        *,
        ack_timeout_s: float = 1.5,
        programming_timeout_s: float = 120.0,
        lockout_after: int = 3,
        lockout_s: float = 60.0,
        hdlc_baud: int = 9600,
        hdlc_inactivity_s: float = 120.0,
    ) -> None:
        self.registers = registers
        self.clock = clock or Clock()
        self.ack_timeout_s = ack_timeout_s
        self.programming_timeout_s = programming_timeout_s
        self.lockout_after = lockout_after
        self.lockout_s = lockout_s
        self.hdlc_baud = hdlc_baud
        self.hdlc_inactivity_s = hdlc_inactivity_s
        self.link: HdlcLink | None = None
        self.failed_passwords = 0
        self.locked_until = float("-inf")
        self.awake_until = float("-inf")  # a sleepy port: asleep until woken
        self.wakeups = 0
        self._nul_run = 0
        self.reset()

    def reset(self) -> None:
        """Back to idle at 300 Bd (power-up, new connection, session end)."""
        self.state = State.IDLE
        self.baud = INITIAL_BAUD
        self.link = None
        self.authorised = False
        self.reader = FrameReader(ack_starts_line=True)
        self.last_activity = self.clock.now()

    @property
    def locked(self) -> bool:
        """Whether too many wrong passwords locked the port."""
        return self.clock.now() < self.locked_until

    @property
    def framing(self) -> str:
        """The UART framing the meter's port is set to now: 7E1 (mode C) or 8N1 (HDLC)."""
        return HDLC_FRAMING if self.state is State.HDLC else MODE_C_FRAMING

    def cosem_model(self) -> CosemModel | None:
        """The meter's COSEM objects, or None for a meter that speaks mode C only."""
        build = getattr(self.registers, "cosem_model", None)
        return None if build is None else build()

    @property
    def awake(self) -> bool:
        """Whether the port hears requests now (always, unless its meter sleeps)."""
        if self.registers.behaviour().wake_window_s is None:
            return True
        return self._awake_at(self.clock.now())

    def _awake_at(self, now: float) -> bool:
        idle = now - self.last_activity
        in_session = ((self.state is State.PROGRAMMING and idle <= self.programming_timeout_s)
                      or (self.state is State.HDLC and idle <= self.hdlc_inactivity_s))
        return now <= self.awake_until or in_session

    def _heard(self, data: bytes, rule: PortBehaviour | None = None) -> bytes:
        """What of ``data`` an awake port hears: all of it, renewing the window; asleep,
        nothing until a long enough run of NUL bytes wakes it (then what follows)."""
        rule = rule or self.registers.behaviour()
        window = rule.wake_window_s
        if window is None:
            return data
        now = self.clock.now()
        if self._awake_at(now):
            self.awake_until = now + window
            return data
        if self.state is not State.IDLE:
            self.reset()  # it slept: whatever session was open is gone
        for i, byte in enumerate(data):
            if byte != 0:
                self._nul_run = 0
                continue
            self._nul_run += 1
            if self._nul_run * BITS_PER_CHAR / INITIAL_BAUD >= rule.wakeup_min_s:
                self._nul_run = 0
                self.awake_until = now + window
                self.wakeups += 1
                log.debug("optical port woken for %g s", window)
                return data[i + 1:]
        return b""

    def receive(self, data: bytes, behaviour: PortBehaviour | None = None) -> list[Reply]:
        """Take bytes off the line; return the answers in order (``behaviour``: the port's,
        when the caller has just read it)."""
        data = self._heard(data, behaviour)
        if not data:
            return []
        self._expire()
        self.last_activity = self.clock.now()
        if self.state is State.IDLE and data[:1] == bytes((HDLC_FLAG,)) and self._open_hdlc(
                self.hdlc_baud):
            self.registers.signed_on()
        if (self.state is State.HDLC and self.link is not None and not self.link.connected
                and data[:1] == b"/"):
            self.reset()  # no HDLC link was opened: a mode C sign-on starts over
        if self.state is State.HDLC:
            return self._hdlc(data)
        try:
            messages = self.reader.feed(data)
        except ProtocolError as exc:
            log.debug("optical port ignores garbage: %s", exc)
            return [Reply(b"\x15", self.baud)] if self.state is State.PROGRAMMING else []
        replies: list[Reply] = []
        for message in messages:
            replies.extend(self._handle(message))
        return replies

    def _expire(self) -> None:
        idle_for = self.clock.now() - self.last_activity
        if (self.state is State.IDENTIFIED and idle_for > self.ack_timeout_s) or (
            self.state is State.PROGRAMMING and idle_for > self.programming_timeout_s
        ) or (self.state is State.HDLC and idle_for > self.hdlc_inactivity_s):
            self.reset()

    def _handle(self, message: bytes) -> list[Reply]:
        head = message[0]
        if head == ord("/"):
            return self._request(message)
        if self.state is State.IDENTIFIED and head == 0x06:
            return self._option_select(message)
        if self.state is State.PROGRAMMING and head == 0x01:
            return self._command(message)
        return []  # not expected here: a real meter stays silent

    def _request(self, message: bytes) -> list[Reply]:
        if self.state is State.PROGRAMMING:
            return []  # a 300 Bd request is noise to a meter in a fast session
        try:
            address = parse_request(message)
        except ProtocolError:
            return []
        if address and address != self.registers.device_address():
            return []
        self.state = State.IDENTIFIED
        self.registers.signed_on()
        ident = encode_identification(self.registers.identification())
        return [Reply(ident, INITIAL_BAUD)]

    def _option_select(self, message: bytes) -> list[Reply]:
        try:
            option = parse_option_select(message)
        except ProtocolError:
            self.reset()
            return []
        offered = self.registers.identification().baud
        if (option.protocol_control == PROTOCOL_HDLC and option.mode == MODE_BINARY
                and option.baud <= offered and self._open_hdlc(option.baud)):
            return [Reply(message, INITIAL_BAUD)]  # mode E: the same line acknowledges it
        if option.protocol_control != PROTOCOL_NORMAL or option.baud > offered:
            self.reset()  # HDLC without COSEM objects or a baud the meter does not offer
            return []
        if option.mode == MODE_READOUT:
            block = encode_readout(self.registers.readout())
            self.reset()
            return [Reply(block, option.baud)]
        if option.mode == MODE_PROGRAMMING:
            self.state = State.PROGRAMMING
            self.baud = option.baud
            self.reader.reset()
            prompt = encode_command(Command("P", "0", self._challenge()))
            return [Reply(prompt, self.baud)]
        self.reset()
        return []

    def _open_hdlc(self, baud: int) -> bool:
        """Switch the port to HDLC at ``baud``; False for a meter without COSEM objects."""
        model = self.cosem_model()
        if model is None:
            return False
        server = CosemServer(model, self._dlms_password,
                             keys=getattr(self.registers, "dlms_keys", None),
                             hls_attempt=self._dlms_hls)
        self.link = HdlcLink(server.handle, on_close=server.release)
        self.state = State.HDLC
        self.baud = baud
        return True

    def _hdlc(self, data: bytes) -> list[Reply]:
        assert self.link is not None  # set with State.HDLC
        frames = self.link.feed(data)
        replies = [Reply(frame, self.baud, HDLC_FRAMING) for frame in frames]
        if self.link.closed:
            self.reset()  # DISC: back to mode C at 300 Bd
        return replies

    def _dlms_password(self, password: str) -> bool:
        """An LLS password, counted towards the same lock-out as the P1 password."""
        if self.locked:
            return False
        if self.registers.check_password("1", password):
            self.failed_passwords = 0
            return True
        self._wrong_password()
        return False

    def _dlms_hls(self, right: bool) -> bool:
        """An HLS answer (right or wrong key), counted towards the same lock-out."""
        if self.locked:
            return False
        if right:
            self.failed_passwords = 0
            return True
        self._wrong_password()
        return False

    def _wrong_password(self) -> None:
        self.failed_passwords += 1
        if self.failed_passwords >= self.lockout_after:
            self.locked_until = self.clock.now() + self.lockout_s
            self.failed_passwords = 0
            log.info("optical port locked for %.0f s after repeated wrong passwords",
                     self.lockout_s)

    def _challenge(self) -> str:
        """The P0 operand: a meter-specific seed; ours is its device address (or empty)."""
        return self.registers.device_address()

    def _command(self, message: bytes) -> list[Reply]:
        try:
            command = parse_command(message)
        except ProtocolError:
            return [self._answer(Answer("nak"))]  # bad BCC or framing: ask for a repeat
        if command.command in ("W", "E"):  # the meter's log of what would change it
            log.info("optical port received %s%s %s", command.command, command.command_type,
                     command.address)
        if command.command == "B":
            self.reset()
            return []
        if command.command == "P":
            return [self._password(command)]
        if not self.authorised:
            return [self._answer(Answer("error", error="ER-AUTH"))]
        address, value = command.address, command.data or ""
        try:
            if command.command == "R":
                data = DataSet(address, self.registers.read(address))
                return [self._answer(Answer("data", (data,)))]
            if command.command == "W":
                self.registers.write(address, value)
            elif command.command == "E":
                self.registers.execute(address, value)
        except RegisterError as exc:
            return [self._answer(Answer("error", error=exc.code))]
        return [self._answer(Answer("ack"))]

    def _password(self, command: Command) -> Reply:
        if self.locked:
            return self._answer(Answer("error", error=LOCKED_TEXT))
        if self.registers.check_password(command.command_type, command.data or ""):
            self.failed_passwords = 0
            self.authorised = True
            return self._answer(Answer("ack"))
        self._wrong_password()
        return self._answer(Answer("nak"))

    def _answer(self, answer: Answer) -> Reply:
        return Reply(encode_answer(answer), self.baud)

