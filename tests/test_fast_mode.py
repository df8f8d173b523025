"""Fast mode: emulated time runs N times faster, the harness waits N times less, the device
clocks still keep wall time, and only an all-emulated bench may use it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.bench.bench import Bench
from harness.bench.session import BenchSession
from harness.config.loader import load_bench
from harness.emulator.world.clock import Clock, ManualClock, ScaledClock
from harness.emulator.world.rtc import RealTimeClock
from harness.errors import BenchConfigError

LAB = """
[bench]
name = "lab-1"
{extra}

[instruments.psu]
kind = "power"
backend = "scpi"
address = "TCPIP::10.0.0.5::5025::SOCKET"

[slots.a]
device_type = "ESME"
instruments = {{ power = "psu:1" }}
"""


def test_scaled_clock_runs_scale_times_faster() -> None:
    clock = ScaledClock(20.0)
    t0, w0 = clock.now(), time.monotonic()
    time.sleep(0.1)
    ratio = (clock.now() - t0) / (time.monotonic() - w0)
    assert ratio == pytest.approx(20.0, rel=0.01)


def test_a_drivers_monotonic_stamp_maps_onto_the_benchs_seconds() -> None:
    """A probe stamps its port's events with time.monotonic(); the bench reads them in its
    own seconds (TRI-DIAG-01's bounds): exactly on a scaled clock, as is on the wall's, and
    not at all on a clock that moves only when told to."""
    clock = ScaledClock(20.0)
    stamp = time.monotonic()
    before = clock.now()
    mapped = clock.at_monotonic(stamp)
    assert mapped <= before and clock.at_monotonic(stamp + 0.5) == pytest.approx(mapped + 10.0)
    assert Clock().at_monotonic(stamp) == stamp
    assert ManualClock(5.0).at_monotonic(stamp) is None
    bench = Bench(load_bench(Path(__file__).parents[1] / "benches" / "emulated-fast.toml"))
    assert bench.seconds_at(stamp) == stamp  # no emulated clock: the wall's own
    bench.clock = clock
    assert bench.seconds_at(stamp) == mapped


def test_a_scale_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ScaledClock(0.5)


def test_device_clock_keeps_the_benchs_time_on_a_fast_emulator() -> None:
    """On a fast bench a device's clock runs on emulated time, as the bench's own clock does
    (so reading its rate needs no wall seconds): together, and 50 times the wall's pace."""
    clock = ScaledClock(50.0)
    rtc = RealTimeClock(clock, drift_ppm=0.0)

    def error() -> tuple[float, float]:
        """The device clock's error, and how far it can be off because the bench's reading
        and the device's were taken apart (a busy host: 50 emulated seconds a wall second)."""
        start = time.monotonic()
        found = rtc.error_s(clock.utc(clock.now()))
        return found, (time.monotonic() - start) * 50.0

    before, apart_before = error()
    time.sleep(0.2)  # 10 s of emulated time
    after, apart_after = error()
    assert abs(after - before) < 0.05 + apart_before + apart_after
    start = rtc.now()
    time.sleep(0.1)
    assert (rtc.now() - start).total_seconds() >= 4.5  # 5 s of device time in 0.1 s


def test_bench_file_refuses_fast_mode_with_real_instruments(tmp_path: Path) -> None:
    path = tmp_path / "lab.toml"
    path.write_text(LAB.format(extra="time_scale = 10"))
    with pytest.raises(BenchConfigError) as err:
        load_bench(path)
    assert "bench.time_scale" in str(err.value) and "psu" in str(err.value)


def test_session_fast_refuses_a_physical_bench(tmp_path: Path) -> None:
    path = tmp_path / "lab.toml"
    path.write_text(LAB.format(extra=""))
    session = BenchSession.from_file(path)
    with pytest.raises(BenchConfigError, match="all-emulated"):
        session.fast(10)


def test_fast_emulated_bench_boots_devices_in_scaled_time() -> None:
    """The slot's boot wait, divided by the scale, is enough for the emulated device."""
    session = BenchSession.from_file()
    session.fast(20)
    with session as s:
        bench = s.bench
        assert bench is not None and bench.time_scale == 20
        device = s.emulator.devices["esme"]
        slot = bench.slot("esme")
        slot.power.set_voltage(slot.config.supply_voltage)
        slot.power.on()
        start = time.monotonic()
        bench.wait(device.profile.settle_s + 0.1)
        assert time.monotonic() - start < (device.profile.settle_s + 0.1) / 10
        assert device.ready


def test_the_fastest_fast_mode_is_the_one_whose_verdicts_were_shown_to_hold(
        tmp_path: Path) -> None:
    """x200 (benchmarks/scale_parity.py gave real time's verdicts there); beyond it a bench
    file says what and where, and the command line refuses the option."""
    from typer.testing import CliRunner

    from harness.cli import app
    from harness.config.models import MAX_TIME_SCALE

    assert MAX_TIME_SCALE == 200.0
    text = (Path(__file__).parents[1] / "benches" / "emulated-fast.toml").read_text()
    for scale, ok in ((200, True), (201, False)):
        path = tmp_path / f"x{scale}.toml"
        path.write_text(text.replace("time_scale = 10", f"time_scale = {scale}"))
        if ok:
            assert load_bench(path).bench.time_scale == 200.0
        else:
            with pytest.raises(BenchConfigError, match=r"x201\.toml.*time_scale"):
                load_bench(path)
    refused = CliRunner().invoke(app, ["triage", "--time-scale", "201", "--devices", "1"])
    assert refused.exit_code == 2 and "--time-scale" in refused.output and "200" in refused.output
