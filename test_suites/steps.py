"""Shared steps of the triage suites: the device's diagnostics read once, its catalogue
entry and the facts it declares, gates.

Kept out of the test files so each stage reads as the procedure it is.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from harness.devices.profile import Capability, NotObservableError
from harness.devices.records import Diagnostics
from harness.errors import InstrumentTimeoutError, ProtocolError
from harness.plugin.device import Dut
from harness.triage.manifest import ModelManifest

T = TypeVar("T")


def reachable(dut: Dut) -> None:
    """Skip (not assessed) when the device cannot be talked to at all."""
    reason = dut.record.notes.get("unreachable")
    if reason:
        dut.record.not_assessed.append(reason)
        pytest.skip(f"not assessed: {reason}")


def observable(dut: Dut, what: Capability, clause: str) -> None:
    """Skip (not assessed) when the device's profile cannot observe ``what`` on its route
    (e.g. the ``duis`` profile has no local port and reads no clock)."""
    reason = dut.profile().cannot_observe(what)
    if reason:
        dut.record.not_assessed.append(f"{clause}: {reason}")
        pytest.skip(f"not assessed: {reason}")


def manifest(dut: Dut) -> ModelManifest:
    """The model's manifest; skip (not assessed) when no manufacturer declared the model."""
    reachable(dut)
    if dut.manifest is None:
        model = dut.record.identity.model if dut.record.identity else "?"
        pytest.skip(f"not assessed: no manifest for model {model}")
    return dut.manifest


def fact(dut: Dut, name: str, clause: str) -> Any:
    """One fact the model's catalogue entry declares (e.g. ``firmware_versions``); skip (not
    assessed, with why) when the entry leaves it out: never a silent pass."""
    value = getattr(manifest(dut), name)
    if value is None or value == {}:
        model = dut.record.identity.model if dut.record.identity else "?"
        reason = f"{clause}: the model catalogue declares no {name} for model {model}"
        dut.record.not_assessed.append(reason)
        pytest.skip(f"not assessed: {reason}")
    return value


def diagnostics(dut: Dut) -> Diagnostics:
    """Everything the device reports, read once per device over one session."""
    reachable(dut)
    cached = dut.record.notes.get("diagnostics")
    if cached is None:
        dut.power_up()
        try:
            cached = dut.profile().read_diagnostics()
        except NotObservableError as exc:  # its route cannot reach it: nothing to assess
            dut.record.notes["unreachable"] = str(exc)
            reachable(dut)
            raise
        dut.record.notes["diagnostics"] = cached
    return cached


def sample_current(dut: Dut, seconds: float, every: float = 0.02) -> list[float]:
    """Supply current samples over ``seconds`` of device time (shorter in fast mode)."""
    scale = dut.slot.bench.time_scale
    samples = []
    deadline = time.monotonic() + seconds / scale
    while time.monotonic() < deadline:
        samples.append(dut.power.current())
        time.sleep(every / scale)
    return samples


def median_current(dut: Dut, samples: int = 15) -> float:
    """Median idle current: robust against the radio bursts a healthy device makes."""
    return statistics.median(sample_current(dut, samples * 0.05, 0.05))


def peak_current_during(dut: Dut, action: Callable[[], T], after_s: float = 0.3
                        ) -> tuple[T, float]:
    """Run ``action`` while sampling the supply; return its result and the peak current."""
    peak = 0.0
    stop = threading.Event()

    def sampler() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, dut.power.current())

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    try:
        result = action()
        dut.wait(after_s)
    finally:
        stop.set()
        thread.join()
    return result, peak


LINK_ERRORS = (InstrumentTimeoutError, ProtocolError)
