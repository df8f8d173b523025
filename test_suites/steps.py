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


def fact(dut: Dut, name: str, clause: str, entry: ModelManifest | None = None) -> Any:
    """One fact the model's catalogue entry declares (e.g. ``firmware_versions``); skip (not
    assessed, with why) when the entry leaves it out: never a silent pass. ``entry``: the
    entry to read (default: the device's, :func:`manifest`)."""
    value = getattr(entry if entry is not None else manifest(dut), name)
    if value is None or value == {}:
        model = dut.record.identity.model if dut.record.identity else \
            dut.row.model if dut.row is not None else "?"
        reason = f"{clause}: the model catalogue declares no {name} for model {model}"
        dut.record.not_assessed.append(reason)
        pytest.skip(f"not assessed: {reason}")
    return value


def declared_manifest(dut: Dut) -> ModelManifest:
    """The model's manifest without talking to the device: what it identified as, else the
    model its label (the returns manifest) declares. The power stage needs no optical port,
    so a dead port does not hide a supply fault (issue 14 §2); skip (not assessed) when
    neither names a declared model."""
    if dut.manifest is not None:
        return dut.manifest
    model = dut.record.identity.model if dut.record.identity else \
        dut.row.model if dut.row is not None else None
    declared = dut.manifests.for_model(model) if model else None
    if declared is None:
        reason = f"no manifest for model {model}" if model else "the model is not known " \
            "without the device's identity"
        dut.record.not_assessed.append(reason)
        pytest.skip(f"not assessed: {reason}")
    return declared


def diagnostics(dut: Dut) -> Diagnostics:
    """Everything the device reports, read once per device over one session."""
    reachable(dut)
    cached = dut.record.notes.get("diagnostics")
    if cached is None:
        dut.power_up()
        try:
            try:
                cached = dut.profile().read_diagnostics()
            except LINK_ERRORS:  # reading changes nothing: read again once the port answers
                from harness.plugin.triage import port_answers

                again = port_answers(dut)
                if again is not None:
                    dut.record.notes["port_repeat"] = again
                    raise
                try:
                    cached = dut.profile().read_diagnostics()
                except LINK_ERRORS:
                    dut.record.notes["port_repeat"] = "the diagnosis failed again after a " \
                        "fresh readout answered"
                    raise
        except NotObservableError as exc:  # its route cannot reach it: nothing to assess
            dut.record.notes["unreachable"] = str(exc)
            reachable(dut)
            raise
        dut.record.notes["diagnostics"] = cached
    return cached


def sample_current(dut: Dut, samples: int, every_s: float) -> list[float]:
    """``samples`` supply current samples, each begun ``every_s`` device seconds after the one
    before (shorter in fast mode), or as soon as the supply has answered it if it is slower."""
    scale = dut.slot.bench.time_scale
    start = time.monotonic()
    taken = []
    for i in range(samples):
        pause = start + i * every_s / scale - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        taken.append(dut.power.current())
    return taken


def median_current(dut: Dut, samples: int, every_s: float) -> float:
    """Median of ``samples`` supply current samples ``every_s`` device seconds apart: robust
    against the radio bursts a healthy device makes (TRI-PWR-02)."""
    if samples < 1 or every_s <= 0:
        raise ValueError(f"TRI-PWR-02: samples ({samples}) and sample_every_s ({every_s} s) "
                         "must be positive")
    return statistics.median(sample_current(dut, samples, every_s))


def peak_current_during(dut: Dut, action: Callable[[], T], after_s: float = 0.3, *,
                        until_a: float | None = None) -> tuple[T, float, float]:
    """Run ``action`` while sampling the supply, and for ``after_s`` device seconds after it
    (the pulse may outlast the answer); return its result, the peak current and the longest
    time between two samples (wall seconds: a pulse shorter than that may fall between
    them). ``until_a``: the pulse looked for; sampling stops as soon as it is seen."""
    peak = 0.0
    gap = 0.0
    failed: list[BaseException] = []
    stop = threading.Event()
    seen = threading.Event()  # the pulse looked for was seen (or the sampler died)

    def sampler() -> None:
        nonlocal peak, gap
        last = time.monotonic()
        try:
            while not stop.is_set():
                peak = max(peak, dut.power.current())
                now = time.monotonic()
                gap, last = max(gap, now - last), now
                if until_a is not None and peak >= until_a:
                    seen.set()
        except BaseException as exc:  # e.g. the supply timed out: raised in the test below
            failed.append(exc)
            seen.set()

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    try:
        result = action()
        if until_a is None:
            dut.wait(after_s)
        else:  # event-driven: the rest of after_s only while the pulse is not yet seen
            seen.wait(after_s / dut.slot.bench.time_scale)
    finally:
        stop.set()
        thread.join()
    if failed:  # a sampler that died saw nothing: never judge a pulse on it
        raise failed[0]
    return result, peak, gap


LINK_ERRORS = (InstrumentTimeoutError, ProtocolError)
