"""pytest plugin for benchmarks/bench_trouble.py (and the bench trouble test): arms bench
trouble on the emulated bench when each device's first test of one stage file starts.

``MB_TROUBLE=<stage file stem>[::<test name>]:<kind>[,...]``, kind one of ``timeout`` (the
optical line loses more answers than the probe's retries cover), ``garble`` (one byte flipped in
the first answer after a baud switch), ``supply`` (the supply does not answer one query) or
``dongle`` (the slot's ZigBee dongle hangs: it answers nothing more in this run). With
``::<test name>`` it is armed when that test starts, else at the stage file's first test. The
trouble is the bench's, on the wire, never the device's.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.plugin.triage_run import RUN_KEY

KINDS = ("timeout", "garble", "supply", "dongle")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """Arm the trouble once per device, at the start of the chosen stage file (or test)."""
    run = item.config.stash.get(RUN_KEY, None)
    if run is None or run.current is None or run.session.emulator is None:
        return
    for spec in filter(None, os.environ.get("MB_TROUBLE", "").split(",")):
        stage, _, kind = spec.rpartition(":")
        if kind not in KINDS:
            raise pytest.UsageError(f"MB_TROUBLE kind {kind!r}: expected one of {KINDS}")
        armed = run.__dict__.setdefault("_trouble_armed", set())
        stage, _, test = stage.partition("::")
        at = Path(str(item.fspath)).stem == stage and (
            not test or getattr(item, "originalname", item.name) == test)
        if at and (run.current, spec) not in armed:
            armed.add((run.current, spec))
            _arm(run, kind)


def _arm(run: object, kind: str) -> None:
    """Arm ``kind`` on the instruments of the device now on the bench."""
    emulator = run.session.emulator  # type: ignore[attr-defined]
    slot = emulator.config.slots[run.slot_for(run.current)]  # type: ignore[attr-defined]
    if kind == "supply":
        emulator.supplies[slot.instruments["power"].instrument].trouble.drop += 1
        return
    if kind == "dongle":
        emulator.servers[slot.instruments["han"].instrument].muted = True
        return
    server = emulator.servers[slot.instruments["optical"].instrument]
    if kind == "timeout":
        server.trouble.drop += 4  # more than the probe's 3 attempts: the step itself fails
    else:
        server.trouble.after_baud_switch = True
        server.trouble.garble += 1
