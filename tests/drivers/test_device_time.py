"""Device-paced waits follow the device's pace: an emulated bench in fast mode hands its time
scale to its emulated instruments, whose timeouts, retry pauses and wake-up pauses shrink by
it (never below what the host may itself take); hardware keeps them as configured."""

from __future__ import annotations

import pytest

from harness.bench.session import BenchSession
from harness.config.loader import default_bench_path, load_bench
from harness.config.models import InstrumentConfig
from harness.drivers.optical.base import MIN_TIMEOUT_S
from harness.drivers.optical.serial_probe import SerialOpticalProbe

FAST = default_bench_path().parent / "emulated-fast.toml"


def _probe(timeout_s: float, **options: object) -> SerialOpticalProbe:
    config = InstrumentConfig(kind="optical_probe", backend="serial", address="socket://x:1",
                              timeout_s=timeout_s, options=dict(options))
    return SerialOpticalProbe("probe", config)


def test_hardware_waits_as_configured() -> None:
    probe = _probe(2.0, retry_wait_s=0.3)
    assert probe.time_scale == 1.0
    assert probe.timeout_s() == 2.0 and probe.device_s(0.3) == 0.3


def test_a_fast_device_is_waited_for_less_but_never_below_the_host_floor() -> None:
    probe = _probe(2.0)
    probe.time_scale = 10.0
    assert probe.device_s(1.6) == pytest.approx(0.16)  # the GSME's wake-up pause
    assert probe.timeout_s() == pytest.approx(MIN_TIMEOUT_S)  # 0.2 s would be below it
    probe.time_scale = 2.0
    assert probe.timeout_s() == pytest.approx(1.0)
    assert _probe(0.1).device_s(0.1, MIN_TIMEOUT_S) == pytest.approx(0.1)  # never above as set


def test_the_fast_bench_hands_its_scale_to_its_emulated_instruments() -> None:
    with BenchSession(load_bench(FAST)) as session:
        assert session.bench is not None
        scales = {name: inst.time_scale for name, inst in session.bench.instruments.items()}
    assert set(scales.values()) == {10.0}, scales
