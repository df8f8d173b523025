"""The campaign's live progress display (rich) and its closing summary table.

A pytest plugin object that ``meterbench triage`` passes to ``pytest.main``: it follows the
run through the reports (so it works the same with xdist workers, whose reports reach the
controller) and shows devices done out of the batch, the devices on the benches now and
the stage each is in, verdict counts, the rate and the time left. On a terminal it
refreshes in place; in a CI log it prints its final state once.

It draws on a duplicate of the process's stderr taken before pytest starts: on one bench the
tests run in this process, and pytest's capture redirects descriptor 2 while each test runs,
so a display drawing to ``sys.stderr`` then would draw into the capture and seem frozen.
While an operator prompt holds the terminal (``pytest_meterbench_terminal``) it stops
drawing, and starts a fresh frame below the answer.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Iterator
from typing import IO, Any

import pytest
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from harness.plugin.parallel import device_of
from harness.plugin.triage_run import RUN_KEY, VERDICT_PROP

SHOWN = ("item", "device_type", "device_id", "verdict", "category", "reset", "why")
"""What the display and its closing tables show of a device's verdict line."""
ATTENTION_PAGE = 500
"""Devices a table of the closing "needing attention" list: one table up to this many."""
SHARED = ("device_type", "verdict", "category", "why")
"""Of those, the values many devices share (every fault-free device has the same why)."""
VERDICT_STYLE = {"NO_FAULT_FOUND": "green", "FAULT": "red", "INCONCLUSIVE": "yellow",
                 "SKIPPED": "magenta", "ABORTED": "magenta", "INTERRUPTED": "bold magenta"}


def stage_of(nodeid: str) -> str:
    """The stage a test belongs to, from its file (``test_30_diagnostics.py`` → diagnostics)."""
    name = nodeid.split("::", 1)[0].rsplit("/", 1)[-1].removesuffix(".py")
    parts = name.split("_", 2)
    return parts[2] if len(parts) == 3 and parts[1].isdigit() else name


def uncaptured_stderr() -> tuple[Console, IO[str] | None]:
    """A console on a duplicate of descriptor 2 as it is now (the terminal, before pytest's
    capture redirects it), and the stream to close after; stderr itself where no descriptor
    can be duplicated (an embedding host's stream)."""
    try:
        original = sys.__stderr__
        if original is None or sys.stderr.fileno() != original.fileno():
            raise OSError("stderr is not the process's own")  # a host (a test runner) swapped it
        fd = os.dup(original.fileno())
    except (AttributeError, OSError, ValueError):
        return Console(stderr=True), None
    stream = os.fdopen(fd, "w", buffering=1, encoding="utf-8", errors="replace")
    # The width now: while pytest captures, descriptors 0-2 are no terminal to ask.
    width = shutil.get_terminal_size().columns if stream.isatty() else None
    return Console(file=stream, width=width), stream


class CampaignProgress:
    """Live progress for one campaign run; ``summary()`` renders the table for the end."""

    def __init__(self, console: Console | None = None) -> None:
        self._stream: IO[str] | None = None
        if console is None:
            console, self._stream = uncaptured_stderr()
        self.console = console
        self.total = 0
        self.resumed = 0
        self.started = time.monotonic()
        self.active: dict[str, str] = {}  # device -> stage it is in
        self.counts: Counter[str] = Counter()
        self.lines: list[dict[str, Any]] = []
        self.interrupted = False  # Ctrl-C, SIGTERM or SIGHUP stopped the campaign
        self._live: Live | None = None
        self._stopped = False
        self._held = False  # more pytest sessions of the campaign follow (see hold)
        self._sessions = 0

    # -- pytest hooks -------------------------------------------------------------------------

    def hold(self, more: bool) -> None:
        """Whether more pytest sessions of this campaign follow (harness.cli.segments): the
        display then stays up past this session's end, and counts on."""
        self._held = more

    @pytest.hookimpl(trylast=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self._sessions += 1
        if self._sessions > 1:
            return  # a later session of the campaign: its total and start are the first's
        run = session.config.stash.get(RUN_KEY, None)
        if run is not None:
            keys = run.device_keys()
            self.resumed = len(set(keys) & run.already_done)
            self.total = len(keys) - self.resumed
        self.started = time.monotonic()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> None:
        """The first frame once the devices are about to be triaged: a run stopped before
        (the bench unavailable, a suite that does not collect) says why with no frame."""
        if not self._stopped and session.items and self._live is None:  # nothing selected:
            self._start_live()                                         # said by the command

    def _start_live(self) -> None:
        """Draw (and keep redrawing) a frame below whatever the terminal shows now."""
        # Not redirecting sys.stdout/err: pytest swaps them per test; we draw on our own.
        self._live = Live(console=self.console, refresh_per_second=4, transient=False,
                          get_renderable=self.render, redirect_stdout=False,
                          redirect_stderr=False)
        self._live.start()

    def pytest_meterbench_terminal(self, config: pytest.Config, taken: bool) -> None:
        """A prompt takes the terminal: leave the last frame and stop drawing; given back:
        a fresh frame below the prompt and its answer."""
        if taken:
            self._pause()
        elif self._live is None and not self._stopped:
            self._start_live()

    def _pause(self) -> None:
        if self._live is not None:
            live, self._live = self._live, None
            live.stop()
            if not self.console.is_terminal:  # a log: end the last frame's line
                self.console.line()

    def pytest_runtest_logstart(self, nodeid: str, location: object) -> None:
        device = device_of(nodeid)
        if device:
            self.active[device] = stage_of(nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == VERDICT_PROP:
                assert isinstance(value, dict)  # a verdict line (harness.plugin.triage's outbox)
                self._add(value)
                self.active.pop(value["item"], None)

    def _add(self, line: dict[str, Any]) -> None:
        """Count a verdict and keep what the summary shows of it: not its measurements and
        findings, which the store and the verdicts file keep (10,000 devices' would be MBs)."""
        kept = {key: line.get(key) for key in SHOWN}
        for key in SHARED:  # one copy of each value however many devices share it
            value = kept[key]
            if isinstance(value, str):
                kept[key] = sys.intern(value)
        self.lines.append(kept)
        self.counts[line["verdict"]] += 1

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        if isinstance(excinfo.value, KeyboardInterrupt):  # not pytest.exit
            self.interrupted = True

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        run = session.config.stash.get(RUN_KEY, None)
        seen = {line["item"] for line in self.lines}
        for line in run.summary if run is not None else ():
            if line["item"] not in seen:  # an interrupted device's line rode in no report
                self._add(line)
        self.active.clear()
        if not self._held:
            self.stop()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        if not self._held:
            self.stop()

    def stop(self) -> None:
        """Stop refreshing (the last frame stays on screen); safe to call twice."""
        self._stopped = True
        self._pause()
        if self._stream is not None:
            stream, self._stream = self._stream, None
            stream.close()

    # -- rendering ----------------------------------------------------------------------------

    @property
    def done(self) -> int:
        """Devices given a verdict in this run (one cut short by an interrupt is not done: it
        is triaged again on resume)."""
        return sum(line["verdict"] != "INTERRUPTED" for line in self.lines)

    @property
    def cut_short(self) -> int:
        """Devices whose triage an interrupt cut short in this run."""
        return len(self.lines) - self.done

    def rate_per_min(self) -> float | None:
        """Devices per minute so far (None before the first verdict)."""
        elapsed = time.monotonic() - self.started
        return self.done / elapsed * 60 if self.done and elapsed > 0 else None

    def eta_s(self) -> float | None:
        """Seconds left at the rate so far."""
        rate = self.rate_per_min()
        return max(0, self.total - self.done) / rate * 60 if rate else None

    def render(self) -> RenderableType:
        """One frame: the bar line, the verdict counts, the devices on the benches now."""
        total = max(self.total, len(self.lines))
        width = 30
        filled = int(width * self.done / total) if total else width
        bar = Text("━" * filled, style="green") + Text("━" * (width - filled), style="grey37")
        rate, eta = self.rate_per_min(), self.eta_s()
        head = Text.assemble(
            ("triage ", "bold"), bar, f" {self.done}/{total} devices",
            f"  {rate:.1f}/min" if rate else "  -/min",
            f"  {_clock(eta)} left" if eta is not None else "",
            f"  {_clock(time.monotonic() - self.started)} elapsed",
            f"  ({self.resumed} done before: resumed)" if self.resumed else "")
        counts = Text("  ").join(
            Text(f"{kind} {n}", style=VERDICT_STYLE.get(kind, ""))
            for kind, n in sorted(self.counts.items())) if self.counts else Text("no verdict yet")
        now = Text("now: " + ", ".join(f"{d} ({s})" for d, s in sorted(self.active.items()))
                   if self.active else "now: -", style="cyan")
        return Group(head, counts, now)

    def summary(self) -> Table:
        """The closing table: verdicts by device type, then the devices that need attention."""
        kinds = sorted({line["verdict"] for line in self.lines})
        types = sorted({line["device_type"] for line in self.lines})
        cut = f", {self.cut_short} interrupted" if self.cut_short else ""
        table = Table(title=("triage INTERRUPTED: " if self.interrupted else "triage: ")
                            + f"{self.done} devices{cut} in "
                            + _clock(time.monotonic() - self.started)
                            + (f" ({self.resumed} recorded before)" if self.resumed else ""))
        table.add_column("device type")
        for kind in kinds:
            table.add_column(kind, justify="right", style=VERDICT_STYLE.get(kind, ""))
        # Devices whose reset was done and verified, whatever their verdict: not the
        # report's "needed reset" (reset to be reused: reset and not found faulty).
        table.add_column("reset done", justify="right")
        table.add_column("total", justify="right", style="bold")
        for kind_row in [*types, "all"]:
            rows = [ln for ln in self.lines if kind_row in ("all", ln["device_type"])]
            table.add_row(kind_row, *(str(sum(ln["verdict"] == k for ln in rows))
                                      for k in kinds),
                          str(sum(bool(ln["reset"]) for ln in rows)), str(len(rows)))
        return table

    def attention(self, page: int = ATTENTION_PAGE) -> Iterator[Table]:
        """Every device not found fault-free, with its category and why, in tables of ``page``
        devices (none when there is none): rich lays a whole table out in memory before
        printing it, tens of MB for thousands of faulty devices."""
        rows = [ln for ln in self.lines if ln["verdict"] != "NO_FAULT_FOUND"]
        for start in range(0, len(rows), page):
            table = Table(title="devices needing attention" + (
                f" (continued: {start + 1} to {min(start + page, len(rows))} of {len(rows)})"
                if start else ""))
            for col in ("item", "type", "device", "verdict", "category", "why"):
                table.add_column(col, overflow="fold")
            for ln in rows[start:start + page]:
                table.add_row(ln["item"], ln["device_type"], ln["device_id"] or "?",
                              Text(ln["verdict"], style=VERDICT_STYLE.get(ln["verdict"], "")),
                              ln["category"] or "", ln["why"])
            yield table


def _clock(seconds: float) -> str:
    """``h:mm:ss`` or ``m:ss``."""
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
