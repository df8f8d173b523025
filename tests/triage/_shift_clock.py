"""pytest plugin for the clock rule test: the first device of the batch has sat in a van for
weeks, its clock three days off (set on the emulated device as its field history would)."""

from __future__ import annotations

import datetime

import pytest

from harness.plugin.triage_run import RUN_KEY

OFFSET = datetime.timedelta(days=3)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """Before item1's first diagnostics read, put its clock three days ahead."""
    run = item.config.stash.get(RUN_KEY, None)
    if run is None or run.current != "item1" or run.session.emulator is None:
        return
    device = run.session.emulator.devices[run.slot_for("item1")]
    if not getattr(device, "_shifted", False):
        device.rtc.set(device.rtc.now() + OFFSET)
        device._shifted = True
