"""The contract every instrument shares: open/close, identify, safe state, a transcript.

Public methods log, time out and check state around small protected hooks that a backend
implements (the python-can pattern: ``send`` → ``_send_internal``). ``close`` is idempotent
and always tries the safe state first, so a crash or Ctrl-C leaves the hardware safe.
"""

from __future__ import annotations

import abc
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from harness.bench.safety import shield
from harness.config.models import InstrumentConfig
from harness.errors import InstrumentConnectError, OperationError, UnsafeStateError


@dataclass(frozen=True)
class TranscriptEntry:
    """One exchange on an instrument's link: when, which way, what bytes."""

    t: float
    direction: str  # ">" sent to the instrument, "<" received from it, "#" a decoded note
    data: bytes


@dataclass
class Transcript:
    """Every byte each way on one instrument, for the test report (bounded in length)."""

    name: str
    limit: int = 10_000
    entries: list[TranscriptEntry] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _dropped: int = 0  # entries trimmed off the front: marks count every entry ever made

    merge_s: float = 0.05

    def record(self, direction: str, data: bytes) -> None:
        """Append one exchange; bytes arriving in pieces within ``merge_s`` join one entry."""
        now = time.time()
        with self._lock:
            last = self.entries[-1] if self.entries else None
            if last and last.direction == direction and now - last.t < self.merge_s:
                self.entries[-1] = TranscriptEntry(last.t, direction, last.data + bytes(data))
                return
            self.entries.append(TranscriptEntry(now, direction, bytes(data)))
            if len(self.entries) > self.limit:
                excess = len(self.entries) - self.limit
                del self.entries[:excess]
                self._dropped += excess

    def note(self, text: str) -> None:
        """A decoded view of the bytes around it (e.g. a DLMS APDU), shown as ``#`` text;
        never give it a secret."""
        with self._lock:
            self.entries.append(TranscriptEntry(time.time(), "#", text.encode("utf-8")))
            if len(self.entries) > self.limit:
                excess = len(self.entries) - self.limit
                del self.entries[:excess]
                self._dropped += excess

    def mark(self) -> int:
        """A position to render from later (e.g. the start of one test); it stays valid when
        old entries are trimmed, so a long campaign's late tests keep their transcripts."""
        with self._lock:
            return self._dropped + len(self.entries)

    def render(self, since: int = 0) -> str:
        """Human-readable transcript from a mark: time, direction, hex and printable text."""
        with self._lock:
            entries = list(self.entries[max(0, since - self._dropped):])
        lines = []
        for e in entries:
            stamp = time.strftime("%H:%M:%S", time.localtime(e.t))
            stamp += f".{int(e.t * 1000) % 1000:03d}"
            if e.direction == "#":
                lines.append(f"{stamp} {self.name} # {e.data.decode('utf-8', 'replace')}")
                continue
            text = e.data.decode("ascii", "replace").encode("unicode_escape").decode()
            lines.append(f"{stamp} {self.name} {e.direction} {e.data.hex(' ')}  |{text}|")
        return "\n".join(lines)


class Instrument(abc.ABC):
    """Base of every instrument kind: one link to one piece of bench hardware."""

    kind: str = ""

    def __init__(self, name: str, config: InstrumentConfig, address: str | None = None, *,
                 secrets: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.config = config
        # The values of the options that are secret references, resolved by the bench (a
        # driver never resolves one itself: harness.config.secrets); never logged.
        self.secrets: dict[str, str] = dict(secrets or {})
        self.address = address or config.address or ""
        self.log = logging.getLogger(f"meterbench.{self.kind or 'instrument'}.{name}")
        self.transcript = Transcript(name)
        self._is_open = False
        self._lock = threading.RLock()
        # Device seconds per wall second of what this instrument talks to: 1 for hardware;
        # an emulated bench in fast mode sets its time_scale (its devices run that much faster).
        self.time_scale = 1.0

    def device_s(self, seconds: float, floor_s: float = 0.0) -> float:
        """``seconds`` of the device's own time (a reaction time, a timeout, a pause) in wall
        seconds: shorter when the device runs faster (fast mode), never below ``floor_s``
        (what the host itself may take, so a loaded machine is not taken for the device)."""
        if self.time_scale == 1.0:
            return seconds
        return max(seconds / self.time_scale, min(floor_s, seconds))

    # -- lifecycle -------------------------------------------------------------------------

    def open(self) -> Self:
        """Connect to the instrument; errors say which instrument and address."""
        with self._lock:
            if self._is_open:
                return self
            try:
                self._open_internal()
            except InstrumentConnectError:
                raise
            except Exception as exc:
                raise InstrumentConnectError(
                    f"{self.name}: cannot connect to {self.address}: {exc}",
                    instrument=self.name,
                    address=self.address,
                ) from exc
            self._is_open = True
            self.log.debug("opened %s", self.address)
            return self

    def close(self) -> None:
        """Put the instrument in its safe state, then disconnect; safe to call twice.

        Both happen under a signal shield (a Ctrl-C arriving meanwhile waits for them), and
        the link is closed whatever the safe state raised, an interrupt included.
        """
        with self._lock, shield():
            if not self._is_open:
                return
            try:
                self.safe_state()
            except BaseException:
                self.log.exception("could not reach the safe state before closing")
                raise
            finally:
                self._is_open = False
                self._close_internal()

    @property
    def is_open(self) -> bool:
        """True between a successful open and close."""
        return self._is_open

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _require_open(self) -> None:
        if not self._is_open:
            raise OperationError(f"{self.name}: not open", instrument=self.name)

    # -- what every kind offers --------------------------------------------------------------

    def identify(self) -> str:
        """The instrument's own identity string (e.g. the SCPI ``*IDN?`` answer)."""
        self._require_open()
        return self._identify_internal()

    def safe_state(self) -> None:
        """Bring the instrument to its declared safe state (outputs off, relays open)."""
        if not self._is_open:
            return
        try:
            self._safe_state_internal(dict(self.config.safe_state))
        except Exception as exc:
            raise UnsafeStateError(
                f"{self.name}: could not reach the safe state: {exc}", instrument=self.name
            ) from exc

    # -- hooks for backends -----------------------------------------------------------------

    @abc.abstractmethod
    def _open_internal(self) -> None:
        """Open the link."""

    @abc.abstractmethod
    def _close_internal(self) -> None:
        """Close the link; must not raise."""

    @abc.abstractmethod
    def _identify_internal(self) -> str:
        """Ask the instrument who it is."""

    @abc.abstractmethod
    def _safe_state_internal(self, safe_state: dict[str, Any]) -> None:
        """Apply the safe state (the bench file's ``safe_state`` table, may be empty)."""
