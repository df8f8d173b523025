"""The host side of EZSP over ASH as a sans-I/O session: reset, version negotiation, sequence
numbers, and each frame from the NCP told apart as a response or a callback.

Pure: no I/O, no clock.  After RSTACK the session sends ``version`` in the legacy header with
the version it hopes for (UG100/UG600: the host cannot know the NCP's yet); the NCP answers
with its own.  A version outside 4..13 fails the session (this codec has no layouts for it).
An NCP of 8 or later is then asked ``version`` again in the extended header (it speaks only
that from then on); an older NCP whose version differs from the one hoped for is asked again
in the legacy header with its own version, as UG100 requires before any other command.
The session is ``ready`` once that second answer arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from harness.protocols.ezsp import commands as c
from harness.protocols.ezsp.ash_link import AshLink, LinkFailed, LinkReset, Received
from harness.protocols.ezsp.errors import AshStateError, EzspFrameError
from harness.protocols.ezsp.frame import is_extended

__all__ = ["Callback", "EzspHost", "HostFailed", "HostReady", "HostState", "Response",
           "Unreadable"]


class HostState(Enum):
    """Where the session is."""

    IDLE = "idle"
    RESETTING = "resetting"
    NEGOTIATING = "negotiating"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True)
class HostReady:
    """The NCP is reset and its version agreed: commands may be sent."""

    version: c.VersionResponse
    reset_code: int


@dataclass(frozen=True)
class Response:
    """The NCP's answer to the command sent with ``sequence``."""

    name: str
    sequence: int
    message: c.Message


@dataclass(frozen=True)
class Callback:
    """A callback (scan results, stack status, trust centre joins, messages)."""

    name: str
    message: c.Message


@dataclass(frozen=True)
class Unreadable:
    """A frame from the NCP this codec cannot decode (unknown id, bad layout); the session
    goes on, since one odd callback must not end it."""

    reason: str
    payload: bytes


@dataclass(frozen=True)
class HostFailed:
    """The session failed; a new ``reset`` starts it again."""

    reason: str


HostEvent = HostReady | Response | Callback | Unreadable | HostFailed
"""What ``receive`` and ``poll`` report."""


class EzspHost:
    """One host's EZSP session over its own ASH link (``link``)."""

    def __init__(self, desired_version: int = c.MAX_VERSION, *, window: int = 5) -> None:
        self.desired_version = c.check_version(desired_version)
        self.link = AshLink(window=window)
        self.state = HostState.IDLE
        self.version: c.VersionResponse | None = None
        self._reset_code = 0
        self._sequence = 0

    @property
    def protocol_version(self) -> int:
        """The agreed EZSP protocol version (an AshStateError before ``HostReady``)."""
        if self.version is None:
            raise AshStateError("EZSP host: no version agreed yet (reset first)")
        return self.version.protocol_version

    def outgoing(self) -> bytes:
        """The bytes to write to the serial line now."""
        return self.link.outgoing()

    def reset(self, now: float) -> None:
        """Reset the NCP (RST) and negotiate the version again."""
        self.version = None
        self.state = HostState.RESETTING
        self.link.connect(now)

    def _next_sequence(self) -> int:
        self._sequence = (self._sequence + 1) % 256
        return self._sequence

    def request(self, name: str, message: c.Message, now: float) -> int:
        """Send command ``name``; return its sequence number (its Response carries it)."""
        if self.state is not HostState.READY:
            raise AshStateError(f"EZSP host: cannot send {name} while {self.state.value}",
                                state=self.state.value)
        sequence = self._next_sequence()
        data = c.build(name, message, sequence=sequence, version=self.protocol_version)
        self.link.send(data, now)
        return sequence

    def poll(self, now: float) -> list[HostEvent]:
        """Fire the link's timeouts; a failed link fails the session."""
        return [self._failed(e) for e in self.link.poll(now) if isinstance(e, LinkFailed)]

    def _failed(self, event: LinkFailed) -> HostFailed:
        self.state = HostState.FAILED
        return HostFailed(f"ASH: {event.reason}")

    def receive(self, data: bytes, now: float) -> list[HostEvent]:
        """Consume bytes from the NCP; return the session events they caused, in order."""
        events: list[HostEvent] = []
        for event in self.link.receive(data, now):
            if isinstance(event, LinkFailed):
                events.append(self._failed(event))
            elif isinstance(event, LinkReset):
                self._reset_code = event.reset_code
                self.state = HostState.NEGOTIATING
                self.version = None
                self.link.send(c.version_command(self.desired_version,
                                                 sequence=self._next_sequence()), now)
            elif isinstance(event, Received):
                out = self._frame(event.payload, now)
                if out is not None:
                    events.append(out)
        return events

    def _frame(self, payload: bytes, now: float) -> HostEvent | None:
        try:
            if self.state is HostState.NEGOTIATING:
                return self._negotiate(payload, now)
            if self.state is not HostState.READY:
                return None
            frame, name, message = c.parse(payload, version=self.protocol_version)
        except EzspFrameError as exc:
            if self.state is HostState.NEGOTIATING:
                self.state = HostState.FAILED
                return HostFailed(f"EZSP version negotiation: {exc}")
            return Unreadable(str(exc), payload)
        if frame.is_callback:
            return Callback(name, message)
        return Response(name, frame.sequence, message)

    def _negotiate(self, payload: bytes, now: float) -> HostEvent | None:
        if self.version is None:  # the answer to the legacy version command
            reply = c.version_reply(payload)
            try:
                c.check_version(reply.protocol_version)
            except EzspFrameError as exc:
                self.state = HostState.FAILED
                return HostFailed(f"EZSP version negotiation: {exc}")
            self.version = reply
            if is_extended(reply.protocol_version) or \
                    reply.protocol_version != self.desired_version:
                self.link.send(c.build("version", c.Version(reply.protocol_version),
                                       sequence=self._next_sequence(),
                                       version=reply.protocol_version), now)
                return None
        else:  # the answer in the agreed version's own header
            _frame, _name, message = c.parse(payload, version=self.version.protocol_version)
            if not isinstance(message, c.VersionResponse) or \
                    message.protocol_version != self.version.protocol_version:
                self.state = HostState.FAILED
                return HostFailed(f"EZSP version negotiation: unexpected answer {message!r}")
        self.state = HostState.READY
        return HostReady(self.version, self._reset_code)
