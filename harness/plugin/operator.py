"""The person at the bench: prompts to place a device, scan its label and seat the probe.

On a physical bench each device is loaded by hand, so before a device's first stage the
campaign asks the operator (on the terminal, past pytest's capture) and waits with a
timeout; the operator may skip the device or abort the campaign, and either is recorded as
the device's verdict. A Communications Hub is also inspected (TRI-ID-03: case, connector,
seals, LEDs, environmental damage; ``harness.triage.inspection``). On an all-emulated bench the
same prompts are answered by the bench itself (the label, and a hub's physical damage, are
read off the emulated device), so CI never waits on a person.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import weakref
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, TextIO

from harness.plugin.device import Label
from harness.triage.inspection import HUB_INSPECTION, parse_failed

if TYPE_CHECKING:
    from harness.bench.session import BenchSession


class Answer(StrEnum):
    """What the operator said."""

    DONE = "done"
    SKIP = "skip"  # this device is not triaged now: recorded SKIPPED, the campaign goes on
    ABORT = "abort"  # stop the campaign here: the device is recorded ABORTED


@dataclass(frozen=True)
class Loading:
    """The outcome of loading one device: the answer, why, and the label read."""

    answer: Answer
    why: str = ""
    label: Label | None = None
    prompts: tuple[str, ...] = ()
    inspection: dict[str, bool] | None = None  # TRI-ID-03 measurement -> sound, if inspected


class Operator(Protocol):
    """Asks for one device to be loaded in a slot (and inspected, for a hub); returns what
    happened."""

    uses_terminal: bool
    """Whether its prompts are asked on the terminal (which live displays must leave free)."""

    def load(self, key: str, slot: str, hint: str, needs_probe: bool, *,
             inspect: bool = False) -> Loading: ...


class EmulatedOperator:
    """The emulated bench answers its own prompts: the device is already in the slot, the
    label is read off the emulated device, the (emulated) probe is always seated."""

    uses_terminal = False

    def __init__(self, session: BenchSession) -> None:
        self.session = session

    def load(self, key: str, slot: str, hint: str, needs_probe: bool, *,
             inspect: bool = False) -> Loading:
        """The emulated answers; an inspected hub shows the physical damage the emulated device
        was given (``harness.emulator.world.faults.SEEN_BY_EYE``)."""
        prompts = [f"place {hint} in slot {slot}: done (emulated)"]
        device = self.session.emulator.devices.get(slot) if self.session.emulator else None
        label = Label(device.label.serial, device.label.eui64, device.label.install_code) \
            if device is not None else Label(None, None)
        prompts.append(f"scan the label: {label.serial} (emulated)")
        if needs_probe:
            prompts.append("seat the optical probe: done (emulated)")
        inspection = None
        if inspect:  # what a person would type: the damage the emulated device has
            seen = " ".join(device.seen_by_eye) if device is not None else ""
            prompts.append(f"inspect the hub: {seen or 'all sound'} (emulated)")
            inspection = parse_failed(seen)
        return Loading(Answer.DONE, label=label, prompts=tuple(prompts), inspection=inspection)


class ConsoleOperator:
    """Prompts on the terminal; each prompt waits ``timeout_s`` (no answer: skip).

    Enter confirms, ``s`` skips the device, ``a`` aborts the campaign. The label prompt takes
    what a barcode scanner types: the serial number, optionally followed by the EUI-64 and
    the install code, separated by spaces.
    """

    uses_terminal = True

    def __init__(self, timeout_s: float = 300.0, stream_in: TextIO | None = None,
                 stream_out: TextIO | None = None) -> None:
        self.timeout_s = timeout_s
        # The process's own terminal, not pytest's capture (suspended while a prompt waits);
        # None when the process has none (started with it closed): then no answer comes.
        self.stream_in = stream_in or sys.__stdin__
        self.stream_out = stream_out or sys.__stderr__

    def ask(self, text: str) -> str | None:
        """One prompt; the line typed (stripped), or None after the timeout."""
        if self.stream_out is not None:
            self.stream_out.write(f"\n>>> {text}\n    [Enter] done  [s] skip device  "
                                  f"[a] abort campaign  ({self.timeout_s:g} s): ")
            self.stream_out.flush()
        return self._line()

    def _line(self) -> str | None:
        """The next line typed within the timeout (lines typed ahead are kept, in order)."""
        if self.stream_in is None:  # no terminal: like the end of input, no answer
            return None
        return _feed(self.stream_in).next_line(self.timeout_s)

    def load(self, key: str, slot: str, hint: str, needs_probe: bool, *,
             inspect: bool = False) -> Loading:
        """Ask each prompt in turn; a hub's inspection reply names what failed (Enter: all
        sound), asked again while it names something that is no inspection item."""
        asked: list[str] = []
        label: Label | None = None
        inspection: dict[str, bool] | None = None
        steps = [("place", f"Place {hint} ({key}) in slot {slot}"),
                 ("label", f"Scan or type the label of the device in slot {slot}")]
        if needs_probe:
            steps.append(("probe", f"Seat the optical probe on the meter in slot {slot}"))
        if inspect:
            items = "; ".join(f"{o.word}: {o.what}" for o in HUB_INSPECTION)
            steps.append(("inspect", f"Inspect the hub in slot {slot} ({items}). Enter if all "
                                     "are sound, else type the words of those that are not"))
        for step, text in steps:
            reply = self.ask(text)
            asked.append(f"{text}: {reply if reply is not None else '(no answer)'}")
            if reply is None:
                return Loading(Answer.SKIP, f"no answer within {self.timeout_s:g} s to "
                               f"'{text}'", prompts=tuple(asked))
            if reply.lower() in ("s", "skip"):
                return Loading(Answer.SKIP, f"skipped by the operator at '{text}'",
                               prompts=tuple(asked))
            if reply.lower() in ("a", "abort"):
                return Loading(Answer.ABORT, f"aborted by the operator at '{text}'",
                               prompts=tuple(asked))
            if step == "inspect":
                try:
                    inspection = parse_failed(reply)
                except ValueError as exc:
                    return Loading(Answer.SKIP, f"inspection not recorded: {exc}",
                                   prompts=tuple(asked))
            if step == "label":
                fields = reply.split()
                if not fields:
                    return Loading(Answer.SKIP, "no label given", prompts=tuple(asked))
                label = Label(fields[0], fields[1] if len(fields) > 1 else None,
                              fields[2] if len(fields) > 2 else None)
        return Loading(Answer.DONE, label=label, prompts=tuple(asked), inspection=inspection)


class _LineFeed:
    """The lines typed on one input, read by a daemon thread, so a prompt waits with a timeout
    on every platform (``select`` polls only sockets on Windows, not a console or a pipe)."""

    def __init__(self, fd: int) -> None:
        self._lines: queue.Queue[str | None] = queue.Queue()  # None: the input ended
        self._ended = False
        # A descriptor of its own: if the stream is closed and its number reused by another
        # file, this thread still reads the input it was made for, never the newcomer.
        own = os.dup(fd)
        threading.Thread(target=self._read, args=(own,), daemon=True,
                         name=f"meterbench-operator-input-{fd}").start()

    def _read(self, fd: int) -> None:
        """Read the descriptor itself (a buffered readline would hold typed-ahead lines back)
        until the input ends, queueing each whole line."""
        pending = b""
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # unreadable: as the end of input
                chunk = b""
            if not chunk:
                os.close(fd)
                self._lines.put(None)
                return
            pending += chunk
            while b"\n" in pending:
                line, _, pending = pending.partition(b"\n")
                self._lines.put(line.decode("utf-8", errors="replace").strip())

    def next_line(self, timeout_s: float) -> str | None:
        """The next line (stripped), or None after ``timeout_s`` or once the input ended."""
        if self._ended:
            return None
        try:
            line = self._lines.get(timeout=max(timeout_s, 0.0))
        except queue.Empty:
            return None
        if line is None:
            self._ended = True
        return line


_FEEDS: weakref.WeakKeyDictionary[TextIO, _LineFeed] = weakref.WeakKeyDictionary()
_FEEDS_LOCK = threading.Lock()


def _feed(stream: TextIO) -> _LineFeed:
    """The one reader of ``stream`` in this process (two would steal each other's lines)."""
    with _FEEDS_LOCK:
        feed = _FEEDS.get(stream)
        if feed is None:
            feed = _FEEDS[stream] = _LineFeed(stream.fileno())
        return feed
