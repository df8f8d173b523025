"""What a bench owned facility-wide is doing, written to the store as the run goes: the stage
its device enters and, between two tests, the current that device draws; so every console on
the facility's store shows the bench live (``harness.results.facility_status.live_benches``).

Registered by the triage plugin only for a run that owns its bench through the PostgreSQL
store (``FacilityBenchLock``); a failed write never disturbs the triage.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from harness.cli.progress import stage_of
from harness.plugin.parallel import device_of

if TYPE_CHECKING:
    from harness.plugin.triage_run import TriageRun

PLUGIN_NAME = "meterbench-bench-live"
AMPS_EVERY_S = 1.0
"""At most one current reading a second goes to the store."""


def current_of(run: Any, device: str) -> float | None:
    """The current the device's slot draws now, read from its supply between two tests (the
    instrument is idle then); None where it cannot be read (no open bench, no supply)."""
    bench = run.session.bench
    if bench is None:
        return None
    try:
        amps = bench.slot(run.slot_for(device)).power.current()
    except Exception:  # a reading for a display never disturbs the triage
        return None
    return float(amps)


class BenchLive:
    """The pytest hooks writing a run's stage and current draw to its bench's holder row."""

    def __init__(self, run: TriageRun, amps_every_s: float = AMPS_EVERY_S) -> None:
        self.run = run
        self.amps_every_s = amps_every_s
        self._stage: tuple[str, str] | None = None
        self._last_amps = 0.0

    def _write(self, **values: Any) -> None:
        owner = self.run.bench_owner
        if owner is None:
            return
        try:
            owner.set_live(**values)
        except Exception as exc:  # the database is away: the next write tries again
            sys.stderr.write(f"meterbench: bench status not written: {exc}\n")

    def pytest_runtest_logstart(self, nodeid: str, location: object) -> None:
        """A device enters a stage: written when it changes."""
        device = device_of(nodeid)
        if device and self._stage != (device, stage_of(nodeid)):
            self._stage = (device, stage_of(nodeid))
            self._write(stage=self._stage[1])

    def pytest_runtest_logfinish(self, nodeid: str, location: object) -> None:
        """Between two tests of a device: its live current draw, read off its supply."""
        device = device_of(nodeid)
        if not device or time.monotonic() - self._last_amps < self.amps_every_s:
            return
        self._last_amps = time.monotonic()
        amps = current_of(self.run, device)
        if amps is not None:
            self._write(amps=amps)
