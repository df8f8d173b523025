"""The relay contract: numbered contacts that close (on) and open (off), checked by read-back.

A relay on a bench cuts a DUT's supply or "presses" one of its buttons, so a contact that
did not move must fail where it was switched: every :meth:`Relay.set` reads the board's
states back. The safe state opens every contact except those the bench file names in
``safe_state = { closed = [3] }`` (a channel that must stay closed, e.g. a supply bypass).
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable, Mapping
from typing import Any, Self

from harness.config.models import InstrumentConfig
from harness.drivers.base import Instrument
from harness.errors import BenchConfigError, OperationError

_SAFE_STATE_KEYS = {"closed"}


class Relay(Instrument):
    """A board of relay contacts numbered from 1; ``on`` means the contact is closed."""

    kind = "relay"

    def __init__(self, name: str, config: InstrumentConfig, address: str | None = None, *,
                 secrets: Mapping[str, str] | None = None) -> None:
        super().__init__(name, config, address, secrets=secrets)
        self._safe_closed = _parse_safe_state(name, config.safe_state)

    # -- channels ------------------------------------------------------------------------------

    @property
    def channels(self) -> int:
        """How many contacts are used: bench option ``channels``, else what the board reports."""
        option = self.config.options.get("channels")
        if option is not None:
            return int(option)
        return self._board_channels()

    def _check_channel(self, channel: int) -> int:
        if isinstance(channel, bool) or not isinstance(channel, int):
            raise OperationError(
                f"{self.name}: relay channel must be an integer, got {channel!r}",
                instrument=self.name,
                channel=channel,
            )
        if not 1 <= channel <= self.channels:
            raise OperationError(
                f"{self.name}: relay has no channel {channel} (channels 1..{self.channels})",
                instrument=self.name,
                channel=channel,
            )
        return channel

    # -- lifecycle -----------------------------------------------------------------------------

    def open(self) -> Self:
        """Connect, then check the bench's ``channels`` and ``safe_state`` fit the board."""
        with self._lock:
            was_open = self._is_open
            super().open()
            if not was_open:
                try:
                    self._check_fits_board()
                except BaseException:
                    # Nothing was switched yet: drop the link without touching the contacts.
                    self._is_open = False
                    self._close_internal()
                    raise
        return self

    def _check_fits_board(self) -> None:
        board = self._board_channels()
        option = self.config.options.get("channels")
        if option is not None and not 1 <= int(option) <= board:
            raise BenchConfigError(
                f"{self.name}: bench says {option} channels but the board has {board}",
                key_path=f"instruments.{self.name}.options.channels",
                expected=f"1..{board}",
            )
        beyond = [ch for ch in self._safe_closed if ch > self.channels]
        if beyond:
            raise BenchConfigError(
                f"{self.name}: safe_state closes channel(s) {beyond} the relay does not have",
                key_path=f"instruments.{self.name}.safe_state.closed",
                expected=f"channels in 1..{self.channels}",
            )

    # -- switching -----------------------------------------------------------------------------

    def set(self, channel: int, on: bool) -> None:
        """Close (``on``) or open a contact, then read the board back to confirm it moved."""
        self._require_open()
        channel = self._check_channel(channel)
        with self._lock:
            self._set_channel(channel, bool(on))
            self._verify({channel: bool(on)})
        self.log.info("channel %d %s", channel, "closed" if on else "open")

    def on(self, channel: int) -> None:
        """Close a contact."""
        self.set(channel, True)

    def off(self, channel: int) -> None:
        """Open a contact."""
        self.set(channel, False)

    def states(self) -> dict[int, bool]:
        """Each channel's contact as the board reports it: ``True`` closed, ``False`` open."""
        self._require_open()
        with self._lock:
            return self._states()

    def pulse(
        self, channel: int, seconds: float, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        """Press a button: close, hold ``seconds``, open again (also if the wait is interrupted).

        ``sleep`` is injectable so tests and simulated clocks do not wait.
        """
        if seconds < 0:
            raise OperationError(
                f"{self.name}: pulse length must be >= 0 s, got {seconds}",
                instrument=self.name,
                channel=channel,
            )
        self.on(channel)
        try:
            sleep(seconds)
        finally:
            self.off(channel)

    def _states(self) -> dict[int, bool]:
        raw = self._read_states()
        return {ch: bool(raw.get(ch, False)) for ch in range(1, self.channels + 1)}

    def _verify(self, wanted: dict[int, bool]) -> None:
        """Read back and raise naming every channel that is not where it was sent."""
        actual = self._states()
        stuck = [ch for ch, on in sorted(wanted.items()) if actual.get(ch) != on]
        if stuck:
            detail = ", ".join(
                f"channel {ch} did not switch {'closed' if wanted[ch] else 'open'} "
                f"(reads {'closed' if actual.get(ch) else 'open'})"
                for ch in stuck
            )
            raise OperationError(
                f"{self.name}: {detail}; the relay may be stuck or unpowered",
                instrument=self.name,
                channels=stuck,
            )

    # -- safe state ----------------------------------------------------------------------------

    def _safe_state_internal(self, safe_state: dict[str, Any]) -> None:
        """Every contact open except the bench's ``closed`` list, confirmed by read-back."""
        closed = _parse_safe_state(self.name, safe_state)
        for ch in closed:
            self._check_channel(ch)
        wanted = {ch: ch in closed for ch in range(1, self.channels + 1)}
        if not closed:
            self._set_all(False)
        else:
            for ch, on in wanted.items():
                self._set_channel(ch, on)
        self._verify(wanted)

    # -- hooks for backends --------------------------------------------------------------------

    @abc.abstractmethod
    def _board_channels(self) -> int:
        """How many channels the connected board has (known once open)."""

    @abc.abstractmethod
    def _set_channel(self, channel: int, on: bool) -> None:
        """Send the command that closes (``on``) or opens one contact; no read-back."""

    @abc.abstractmethod
    def _read_states(self) -> dict[int, bool]:
        """Read every contact's state from the board (channel → closed)."""

    def _set_all(self, on: bool) -> None:
        """Switch every used contact; backends with an all-channels command override this."""
        for ch in range(1, self.channels + 1):
            self._set_channel(ch, on)


def _parse_safe_state(name: str, safe_state: dict[str, Any]) -> frozenset[int]:
    """The channels the bench wants closed in the safe state; a typo is an error, not open."""
    unknown = sorted(set(safe_state) - _SAFE_STATE_KEYS)
    if unknown:
        raise BenchConfigError(
            f"{name}: unknown relay safe_state key(s) {unknown}",
            key_path=f"instruments.{name}.safe_state",
            expected="{ closed = [channel, ...] } or nothing (every contact open)",
        )
    closed = safe_state.get("closed", [])
    if not isinstance(closed, list | tuple) or not all(
        isinstance(ch, int) and not isinstance(ch, bool) and ch >= 1 for ch in closed
    ):
        raise BenchConfigError(
            f"{name}: safe_state.closed must list channel numbers, got {closed!r}",
            key_path=f"instruments.{name}.safe_state.closed",
            expected="a list of channel numbers from 1",
        )
    return frozenset(closed)
