"""The ASH link as a sans-I/O state machine: reset, frame numbers, acks, NAKs, retransmission.

Pure: no I/O, no clock, no sleep.  The caller feeds received bytes (``receive``), asks for the
bytes to write (``outgoing``) and tells the time (``now`` arguments, in seconds, any monotonic
origin); ``poll(now)`` fires the timeouts.  The rules follow Silicon Labs UG101: frame numbers
are 3 bits, ``ackNum`` acknowledges every DATA frame up to but not including itself, at most
``window`` (TX_K, 1..7) frames are outstanding, a NAK or an ack timeout resends the unacked
frames with ``reTx`` set, and a NAK is sent only once per reject condition.  The ack timeout
adapts between 0.4 s and 3.2 s (7/8 old + 1/2 measured, doubled on a timeout); after
``max_ack_timeouts`` timeouts in a row the link fails.  The same class plays the NCP
(``role="ncp"``): it answers RST with RSTACK, which the emulated NCP uses.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from harness.protocols.ezsp.ash import (
    ASH_VERSION,
    AckFrame,
    AshFrame,
    DataFrame,
    ErrorFrame,
    NakFrame,
    RstAckFrame,
    RstFrame,
    encode_frame,
)
from harness.protocols.ezsp.ash_reader import AshReader, BadFrame
from harness.protocols.ezsp.errors import AshStateError

__all__ = [
    "ERROR_ACK_TIMEOUTS",
    "RESET_SOFTWARE",
    "AshLink",
    "LinkEvent",
    "LinkFailed",
    "LinkReset",
    "LinkState",
    "Received",
]

RESET_SOFTWARE = 0x0B
"""RSTACK reset code "software" (UG101 table "Reset and Error Codes"): the NCP's answer to RST."""
ERROR_ACK_TIMEOUTS = 0x51
"""ERROR code "exceeded maximum ACK timeout count" (UG101 table "Reset and Error Codes")."""
T_RX_ACK_INIT = 1.6
T_RX_ACK_MIN = 0.4
T_RX_ACK_MAX = 3.2
T_RSTACK_MAX = 3.2


class LinkState(Enum):
    """Where the link is: not started, waiting for RSTACK, up, or failed (needs a reset)."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    FAILED = "failed"


@dataclass(frozen=True)
class Received:
    """An EZSP frame delivered in order, exactly once."""

    payload: bytes


@dataclass(frozen=True)
class LinkReset:
    """The NCP reset (host: RSTACK received; NCP: RST received and answered)."""

    reset_code: int


@dataclass(frozen=True)
class LinkFailed:
    """The link failed: ERROR from the NCP, a bad RSTACK, or too many ack timeouts."""

    reason: str
    error_code: int | None = None


LinkEvent = Received | LinkReset | LinkFailed
"""What ``receive`` and ``poll`` report."""


@dataclass
class _Pending:
    frm_num: int
    payload: bytes
    sent_at: float
    retransmitted: bool = False


def _distance(start: int, end: int) -> int:
    """Frames from ``start`` up to (not including) ``end``, modulo 8."""
    return (end - start) % 8


class AshLink:
    """One end of an ASH link; ``role`` is "host" (sends RST) or "ncp" (answers it)."""

    def __init__(
        self,
        *,
        role: Literal["host", "ncp"] = "host",
        window: int = 5,
        max_ack_timeouts: int = 4,
        max_queue: int = 64,
        reset_timeout: float = T_RSTACK_MAX,
    ) -> None:
        if role not in ("host", "ncp"):
            raise AshStateError(f"ASH link: role must be 'host' or 'ncp', got {role!r}")
        if not 1 <= window <= 7:
            raise AshStateError(f"ASH link: window (TX_K) must be 1..7, got {window}")
        self.role = role
        self.window = window
        self.max_ack_timeouts = max_ack_timeouts
        self.max_queue = max_queue
        self.reset_timeout = reset_timeout
        self.state = LinkState.DISCONNECTED if role == "host" else LinkState.CONNECTING
        self.t_rx_ack = T_RX_ACK_INIT
        self._reader = AshReader()
        self._out = bytearray()
        self._clear()
        self._rst_sent_at: float | None = None

    # --- state ------------------------------------------------------------------------

    def _clear(self) -> None:
        self._queue: deque[bytes] = deque()
        self._unacked: list[_Pending] = []
        self._next_frm = 0
        self._rx_ack = 0  # the next frame number expected from the peer
        self._rejecting = False
        self._timeouts = 0
        self.t_rx_ack = T_RX_ACK_INIT

    @property
    def unacked(self) -> int:
        """DATA frames sent and not yet acknowledged."""
        return len(self._unacked)

    @property
    def queued(self) -> int:
        """EZSP frames waiting for a place in the window."""
        return len(self._queue)

    def outgoing(self) -> bytes:
        """The bytes to write to the serial line now (and forget them)."""
        data = bytes(self._out)
        self._out.clear()
        return data

    def _emit(self, frame: AshFrame, *, cancel: bool = False) -> None:
        self._out += encode_frame(frame, cancel=cancel)

    def _fail(self, reason: str, code: int | None = None) -> LinkFailed:
        self.state = LinkState.FAILED
        self._clear()
        return LinkFailed(reason=reason, error_code=code)

    # --- host actions -------------------------------------------------------------------

    def connect(self, now: float) -> None:
        """(Host) send RST, preceded by a Cancel Byte, and wait for RSTACK."""
        if self.role != "host":
            raise AshStateError("ASH link: only the host sends RST")
        self._clear()
        self.state = LinkState.CONNECTING
        self._rst_sent_at = now
        self._emit(RstFrame(), cancel=True)

    def send(self, payload: bytes, now: float) -> None:
        """Queue one EZSP frame; it goes out as soon as the window has room."""
        if self.state is not LinkState.CONNECTED:
            raise AshStateError(
                f"ASH link: cannot send DATA while {self.state.value} (reset the link first)",
                state=self.state.value,
            )
        if len(self._queue) >= self.max_queue:
            raise AshStateError(
                f"ASH link: {self.max_queue} frames already queued; the NCP is not acking",
                queued=len(self._queue),
            )
        DataFrame(frm_num=0, ack_num=0, re_tx=False, payload=payload)  # validates the size
        self._queue.append(bytes(payload))
        self._pump(now)

    def _pump(self, now: float) -> None:
        while self._queue and len(self._unacked) < self.window:
            payload = self._queue.popleft()
            pending = _Pending(frm_num=self._next_frm, payload=payload, sent_at=now)
            self._next_frm = (self._next_frm + 1) % 8
            self._unacked.append(pending)
            self._emit(DataFrame(pending.frm_num, self._rx_ack, False, payload))

    def _resend_all(self, now: float) -> None:
        for pending in self._unacked:
            pending.sent_at = now
            pending.retransmitted = True
            self._emit(DataFrame(pending.frm_num, self._rx_ack, True, pending.payload))

    # --- acks ---------------------------------------------------------------------------

    def _take_ack(self, ack_num: int, now: float) -> None:
        if not self._unacked:
            return
        oldest = self._unacked[0].frm_num
        count = _distance(oldest, ack_num)
        if count == 0 or count > len(self._unacked):
            return  # acknowledges nothing new (or nothing we sent): ignore
        for pending in self._unacked[:count]:
            if not pending.retransmitted:
                measured = now - pending.sent_at
                self.t_rx_ack = self.t_rx_ack * 7 / 8 + measured / 2
        self.t_rx_ack = min(max(self.t_rx_ack, T_RX_ACK_MIN), T_RX_ACK_MAX)
        del self._unacked[:count]
        self._timeouts = 0
        self._pump(now)

    def _reject(self) -> None:
        if not self._rejecting:
            self._rejecting = True
            self._emit(NakFrame(self._rx_ack))

    # --- input --------------------------------------------------------------------------

    def receive(self, data: bytes, now: float) -> list[LinkEvent]:
        """Consume bytes from the line; return the events they caused, in order."""
        events: list[LinkEvent] = []
        for item in self._reader.feed(data):
            event = self._handle(item, now)
            if event is not None:
                events.append(event)
        return events

    def _handle(self, item: AshFrame | BadFrame, now: float) -> LinkEvent | None:
        if self.role == "ncp" and isinstance(item, RstFrame):
            self._clear()
            self.state = LinkState.CONNECTED
            # A Cancel Byte first, as a real NCP does (zigbee-herdsman's capture
            # ``1a c1 02 0b 0a 52 7e``): it ends whatever partial frame the host holds.
            self._emit(RstAckFrame(reset_code=RESET_SOFTWARE), cancel=True)
            return LinkReset(reset_code=RESET_SOFTWARE)
        if self.role == "host" and isinstance(item, RstAckFrame):
            if self.state is not LinkState.CONNECTING:
                return self._fail(f"unexpected RSTACK ({item.reason}) while {self.state.value}",
                                  item.reset_code)
            if item.version != ASH_VERSION:
                return self._fail(f"RSTACK of ASH version {item.version}, expected 2")
            self._clear()
            self.state = LinkState.CONNECTED
            self._rst_sent_at = None
            return LinkReset(reset_code=item.reset_code)
        if self.role == "host" and isinstance(item, ErrorFrame):
            return self._fail(f"NCP ERROR: {item.reason}", item.error_code)
        if self.state is not LinkState.CONNECTED:
            return None
        if isinstance(item, BadFrame):
            self._reject()
            return None
        if isinstance(item, AckFrame):
            self._take_ack(item.ack_num, now)
        elif isinstance(item, NakFrame):
            self._take_ack(item.ack_num, now)
            self._resend_all(now)
        elif isinstance(item, DataFrame):
            self._take_ack(item.ack_num, now)
            if item.frm_num == self._rx_ack:
                self._rx_ack = (self._rx_ack + 1) % 8
                self._rejecting = False
                self._emit(AckFrame(self._rx_ack))
                return Received(payload=item.payload)
            if item.re_tx and _distance(item.frm_num, self._rx_ack) <= self.window:
                self._emit(AckFrame(self._rx_ack))  # a duplicate: ack again, drop it
            else:
                self._reject()
        return None

    def poll(self, now: float) -> list[LinkEvent]:
        """Fire the timeouts due at ``now``: resend unacked frames, or fail the link."""
        if self.state is LinkState.CONNECTING and self._rst_sent_at is not None:
            if now >= self._rst_sent_at + self.reset_timeout:  # the sum next_deadline gives
                return [self._fail(f"no RSTACK within {self.reset_timeout} s of RST")]
            return []
        if self.state is not LinkState.CONNECTED or not self._unacked:
            return []
        if now < self._unacked[0].sent_at + self.t_rx_ack:
            return []
        self._timeouts += 1
        if self._timeouts > self.max_ack_timeouts:
            failed = self._fail(f"{self.max_ack_timeouts} ack timeouts in a row",
                                ERROR_ACK_TIMEOUTS if self.role == "ncp" else None)
            if self.role == "ncp":  # the NCP says so: ERROR, then only RST is heard
                self._emit(ErrorFrame(error_code=ERROR_ACK_TIMEOUTS))
            return [failed]
        self.t_rx_ack = min(self.t_rx_ack * 2, T_RX_ACK_MAX)
        self._resend_all(now)
        return []

    def next_deadline(self) -> float | None:
        """When ``poll`` next has something to do (None: nothing is timed)."""
        if self.state is LinkState.CONNECTING and self._rst_sent_at is not None:
            return self._rst_sent_at + self.reset_timeout
        if self.state is LinkState.CONNECTED and self._unacked:
            return self._unacked[0].sent_at + self.t_rx_ack
        return None
