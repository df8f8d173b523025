"""The ZigBee dongle contract: a test Communications Hub (coordinator and trust centre).

Backend-neutral so that a Telegesis AT module and a Silicon Labs EZSP stick both fit: public
methods check arguments, log (never a key or an install code) and call small ``_…_internal``
hooks.  Asynchronous happenings (a node joined or left, the network came up or went down, a
join failed on its key) arrive as :class:`DongleEvent` objects: every listener gets each one
from the backend's reader thread, and :meth:`ZigbeeDongle.wait_for` lets a test wait for one.
Safe state: stop permitting joins and leave the network (bench ``safe_state = {leave=false}``
keeps the network).

The dongle can also be the joiner (:meth:`ZigbeeDongle.join_network`): it joins another
coordinator's network, e.g. a Communications Hub's, as a router with the link key derived from
its own install code (:meth:`ZigbeeDongle.install_code`), which that coordinator must hold.
"""

from __future__ import annotations

import abc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar, overload

from harness.domain.eui64 import normalise_eui64
from harness.drivers.base import Instrument
from harness.errors import InstrumentTimeoutError, OperationError
from harness.protocols.installcode import InstallCode, InstallCodeError

CHANNELS = range(11, 27)
"""The 2.4 GHz ZigBee channels."""
MAX_PERMIT_S = 254
"""Longest join window the contract allows (255 means "forever" to most stacks)."""


# -- records ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DongleIdentity:
    """Who the dongle is: model, firmware and its own EUI-64."""

    model: str
    firmware: str
    eui64: str


@dataclass(frozen=True)
class NetworkInfo:
    """The network the dongle is in: role (``COO`` as coordinator), channel, PAN IDs, power."""

    channel: int
    pan_id: int
    extended_pan_id: str
    role: str = "COO"
    power_dbm: int | None = None


@dataclass(frozen=True)
class PanInfo:
    """A network heard by a PAN scan."""

    channel: int
    pan_id: int
    extended_pan_id: str
    joinable: bool
    rssi_dbm: int | None = None
    lqi: int | None = None


@dataclass(frozen=True)
class Neighbour:
    """One entry of the dongle's neighbour (or child) table: who, its short address, link
    quality, and its RSSI in dBm where the stack reports one (EZSP: the last hop's RSSI of
    the node's last frame; Telegesis NTABLE has none)."""

    eui64: str
    node_id: int
    lqi: int
    device_type: str = ""
    rssi_dbm: int | None = None


class JoinStatus(StrEnum):
    """How the dongle's own join of another network ended, as its stack reports it."""

    JOINED = "joined"
    NO_NETWORK = "no network"  # no beacon of that PAN heard (EmberStatus NO_BEACONS)
    NO_NETWORK_KEY = "no network key"  # associated, but no network key it could open
    REFUSED = "refused"  # the coordinator did not let it in (JOIN_FAILED)


@dataclass(frozen=True)
class NetworkJoin:
    """The outcome of :meth:`ZigbeeDongle.join_network`: status, the network when joined, and
    the stack's own words (a status name or error code)."""

    status: JoinStatus
    network: NetworkInfo | None = None
    detail: str = ""

    @property
    def joined(self) -> bool:
        """Whether the dongle is now in the network."""
        return self.status is JoinStatus.JOINED


class JoinNotSupportedError(OperationError):
    """This dongle's stack (or backend) cannot join another network as a device."""


# -- events -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DongleEvent:
    """Something the dongle reported on its own; ``raw`` is the backend's parsed prompt."""

    raw: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class NodeJoined(DongleEvent):
    """A node joined the dongle's network (Telegesis ``NEWNODE:``)."""

    node_id: int = 0
    eui64: str = ""
    parent: int = 0


@dataclass(frozen=True)
class NodeLeft(DongleEvent):
    """A node left the dongle's network (Telegesis ``NODELEFT:``)."""

    node_id: int = 0
    eui64: str = ""


@dataclass(frozen=True)
class JoinFailed(DongleEvent):
    """A node tried to join but failed authentication (its link key did not match)."""

    node_id: int = 0
    eui64: str = ""


@dataclass(frozen=True)
class NetworkUp(DongleEvent):
    """The dongle formed or joined a network (Telegesis ``JPAN:``)."""

    channel: int = 0
    pan_id: int = 0
    extended_pan_id: str = ""


@dataclass(frozen=True)
class NetworkDown(DongleEvent):
    """The dongle left (or lost) its network (Telegesis ``LeftPAN`` / ``LostPAN``)."""


@dataclass(frozen=True)
class OtherEvent(DongleEvent):
    """Any other prompt (announcements, message acknowledgements, table lines...)."""

    raw: Any = field(default=None, compare=False)


E = TypeVar("E", bound=DongleEvent)
Match = type[DongleEvent] | Callable[[DongleEvent], bool]
Listener = Callable[[DongleEvent], None]


class ZigbeeDongle(Instrument):
    """A ZigBee coordinator stick; bench ``timeout_s`` bounds each command's answer."""

    kind = "zigbee"
    history_limit = 2000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listeners: list[Listener] = []
        self._events: list[DongleEvent] = []
        self._dropped = 0  # events let go from the front of the bounded history
        self._event_cond = threading.Condition()

    # -- events -------------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(event)`` for every event, from the reader thread (keep it short)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling ``listener``."""
        self._listeners.remove(listener)

    def mark(self) -> int:
        """A position in the event history: ``wait_for(..., since=mark)`` sees later events."""
        with self._event_cond:
            return self._dropped + len(self._events)

    def events(self, since: int = 0) -> list[DongleEvent]:
        """The events from position ``since`` on (those still in the bounded history)."""
        with self._event_cond:
            return list(self._events[max(0, since - self._dropped):])

    @overload
    def wait_for(self, match: type[E], timeout: float, *, since: int | None = None) -> E: ...

    @overload
    def wait_for(self, match: Callable[[DongleEvent], bool], timeout: float,
                 *, since: int | None = None) -> DongleEvent: ...

    def wait_for(self, match: Match, timeout: float, *, since: int | None = None) -> DongleEvent:
        """The first event after ``since`` (default: now) that is of type ``match`` or for
        which ``match(event)`` is true; ``InstrumentTimeoutError`` after ``timeout`` s."""
        _, event = self._wait_index(match, timeout, self.mark() if since is None else since)
        return event

    def _wait_index(self, match: Match, timeout: float, since: int) -> tuple[int, DongleEvent]:
        """Like ``wait_for``; also gives the event's position (to continue after it)."""
        test = (lambda e: isinstance(e, match)) if isinstance(match, type) else match
        deadline = time.monotonic() + timeout
        position = since
        with self._event_cond:
            while True:
                start = max(position, self._dropped)
                for index, event in enumerate(self._events[start - self._dropped:], start):
                    if test(event):
                        return index, event
                position = self._dropped + len(self._events)
                left = deadline - time.monotonic()
                if left <= 0:
                    name = getattr(match, "__name__", "matching event")
                    raise InstrumentTimeoutError(
                        f"{self.name}: no {name} within {timeout:g} s", instrument=self.name)
                self._event_cond.wait(left)

    def _dispatch(self, event: DongleEvent) -> None:
        """Backends call this (from their reader thread) for each asynchronous event."""
        with self._event_cond:
            self._events.append(event)
            if len(self._events) > self.history_limit:
                drop = len(self._events) - self.history_limit
                del self._events[:drop]
                self._dropped += drop
            self._event_cond.notify_all()
        self.log.debug("event %s", event)
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                self.log.exception("dongle listener %r failed", listener)

    # -- the contract -----------------------------------------------------------------------

    def identity(self) -> DongleIdentity:
        """Model, firmware and EUI-64 of the dongle."""
        self._require_open()
        return self._identity_internal()

    def _identify_internal(self) -> str:
        ident = self._identity_internal()
        return f"{ident.model} {ident.firmware} {ident.eui64}"

    def energy_scan(self) -> dict[int, int]:
        """Energy on each channel 11-26, in dBm (higher: busier)."""
        self._require_open()
        return self._energy_scan_internal()

    def pan_scan(self) -> list[PanInfo]:
        """The networks in range."""
        self._require_open()
        return self._pan_scan_internal()

    def network_info(self) -> NetworkInfo | None:
        """The network the dongle is in, or None."""
        self._require_open()
        return self._network_info_internal()

    def form_network(self, channel: int, pan_id: int | None = None,
                     extended_pan_id: str | None = None) -> NetworkInfo:
        """Form a network as coordinator and trust centre on ``channel`` (leaving any other
        network first); PAN IDs the dongle chooses when not given."""
        self._require_open()
        if channel not in CHANNELS:
            raise OperationError(f"{self.name}: channel {channel} is not 11-26",
                                 instrument=self.name)
        if pan_id is not None and not 0x0001 <= pan_id <= 0xFFFE:
            raise OperationError(f"{self.name}: PAN ID 0x{pan_id:X} is outside 0001-FFFE",
                                 instrument=self.name)
        epan = None
        if extended_pan_id is not None:
            try:
                epan = normalise_eui64(extended_pan_id)
            except ValueError:
                raise OperationError(f"{self.name}: extended PAN ID must be 16 hex digits",
                                     instrument=self.name) from None
        if self._network_info_internal() is not None:
            self._leave_network_internal()
        info = self._form_network_internal(channel, pan_id, epan)
        self.log.info("formed network on channel %d, PAN %04X", info.channel, info.pan_id)
        return info

    def permit_join(self, seconds: int) -> None:
        """Let devices join for ``seconds`` (0 closes the window)."""
        self._require_open()
        if not 0 <= seconds <= MAX_PERMIT_S:
            raise OperationError(f"{self.name}: permit join {seconds} s is outside "
                                 f"0..{MAX_PERMIT_S}", instrument=self.name)
        self._permit_join_internal(seconds)
        self.log.info("permit joining for %d s", seconds)

    def add_install_code(self, eui64: str, install_code: InstallCode | str) -> None:
        """Let ``eui64`` join with the trust-centre link key derived from its install code."""
        self._require_open()
        eui = normalise_eui64(eui64)
        code = install_code if isinstance(install_code, InstallCode) else (
            InstallCode.parse(install_code))
        self._add_install_code_internal(eui, code)
        self.log.info("trust-centre link key from the install code set for %s", eui)

    def install_code(self) -> InstallCode | None:
        """The dongle's own install code, for a coordinator to admit it: the bench option
        ``install_code_secret`` (``env:NAME`` or ``file:PATH#KEY``, never written in clear),
        else what the stick itself holds where its stack reads one out; None when neither."""
        self._require_open()
        if "install_code_secret" in self.secrets:
            try:
                return InstallCode.parse(self.secrets["install_code_secret"])
            except InstallCodeError as exc:
                raise OperationError(f"{self.name}: option install_code_secret: {exc}",
                                     instrument=self.name) from None
        return self._install_code_internal()

    def join_network(self, channel: int, pan_id: int, install_code: InstallCode,
                     timeout: float) -> NetworkJoin:
        """Join the network ``pan_id`` on ``channel`` as a router, with the link key derived
        from ``install_code`` (leaving any network first); wait up to ``timeout`` s for the
        stack's verdict.  A failed join is a result, not an error: an error is the dongle's."""
        self._require_open()
        if channel not in CHANNELS:
            raise OperationError(f"{self.name}: channel {channel} is not 11-26",
                                 instrument=self.name)
        if not 0x0000 <= pan_id <= 0xFFFF:
            raise OperationError(f"{self.name}: PAN ID 0x{pan_id:X} is outside 0000-FFFF",
                                 instrument=self.name)
        if self._network_info_internal() is not None:
            self._leave_network_internal()
        outcome = self._join_network_internal(channel, pan_id, install_code, timeout)
        self.log.info("join of PAN %04X on channel %d: %s %s", pan_id, channel,
                      outcome.status, outcome.detail)
        return outcome

    def _install_code_internal(self) -> InstallCode | None:
        """The install code the stick holds itself (None: its stack reads none out)."""
        return None

    def _join_network_internal(self, channel: int, pan_id: int, install_code: InstallCode,
                               timeout: float) -> NetworkJoin:
        """Join as a router; a backend whose stack cannot says so."""
        raise JoinNotSupportedError(f"{self.name}: the {self.config.backend} backend cannot "
                                    "join another network", instrument=self.name)

    def neighbours(self) -> list[Neighbour]:
        """The dongle's neighbour table: joined nodes and their link quality."""
        self._require_open()
        return self._neighbours_internal()

    def remove_node(self, eui64: str) -> None:
        """Ask a joined node to leave the network (``NodeLeft`` follows when it does)."""
        self._require_open()
        self._remove_node_internal(normalise_eui64(eui64))

    def leave_network(self) -> bool:
        """Leave the network; False when the dongle was in none."""
        self._require_open()
        if self._network_info_internal() is None:
            return False
        self._leave_network_internal()
        self.log.info("left the network")
        return True

    def _safe_state_internal(self, safe_state: dict[str, Any]) -> None:
        """No joins permitted, and (unless ``leave = false``) out of the network."""
        if self._network_info_internal() is None:
            return
        self._permit_join_internal(0)
        if safe_state.get("leave", True):
            self._leave_network_internal()

    # -- hooks for backends -------------------------------------------------------------------

    @abc.abstractmethod
    def _identity_internal(self) -> DongleIdentity: ...

    @abc.abstractmethod
    def _energy_scan_internal(self) -> dict[int, int]: ...

    @abc.abstractmethod
    def _pan_scan_internal(self) -> list[PanInfo]: ...

    @abc.abstractmethod
    def _network_info_internal(self) -> NetworkInfo | None: ...

    @abc.abstractmethod
    def _form_network_internal(self, channel: int, pan_id: int | None,
                               extended_pan_id: str | None) -> NetworkInfo:
        """Form the network; the dongle is in none when this is called."""

    @abc.abstractmethod
    def _permit_join_internal(self, seconds: int) -> None: ...

    @abc.abstractmethod
    def _add_install_code_internal(self, eui64: str, install_code: InstallCode) -> None: ...

    @abc.abstractmethod
    def _neighbours_internal(self) -> list[Neighbour]: ...

    @abc.abstractmethod
    def _remove_node_internal(self, eui64: str) -> None: ...

    @abc.abstractmethod
    def _leave_network_internal(self) -> None:
        """Leave the network the dongle is in (and see it go)."""
