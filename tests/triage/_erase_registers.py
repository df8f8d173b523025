"""pytest plugin for the metrology rule test: item2 is a meter whose reset erases its
cumulative registers (a non-compliant firmware), made so on the emulated device after its
reset, before the verification reads them back."""

from __future__ import annotations

import pytest

from harness.emulator.world.consumer import ConsumerData
from harness.plugin.triage_run import RUN_KEY


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """Before item2's verification, its registers are gone, in RAM and non-volatile memory."""
    run = item.config.stash.get(RUN_KEY, None)
    if run is None or run.current != "item2" or "test_70_verify" not in str(item.fspath):
        return
    device = run.session.emulator.devices[run.slot_for("item2")]
    device._ram.consumer = device._nv.consumer = ConsumerData()
