"""benchmarks/stage_floor.py's floors: what each recorded exchange and wait adds to a test's
floor (the pure parts; the triage runs themselves are the benchmark's)."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import stage_floor as sf
from _phase_bound import window_floor_s

FACTS = sf.Facts(window_s=10.0, commit_s={"EMU-ESME-1": 2.5},
                 wake_window_s={"EMU-GSME-1": 20.0, "EMU-ESME-1": None})
SIGN_ON = bytes.fromhex("2f3f210d0a")  # /?! CR LF
IDENT = b"/EMh5EMU-ESME-1\r\n"  # lower-case h: a 20 ms reaction


def _entry(t: float, direction: str, data: bytes, baud: int = 300) -> dict:
    return {"t": t, "dir": direction, "n": len(data), "baud": baud,
            "nul": data.count(0) == len(data), "head": data[:24].hex()}


def _line(optical: list[dict], events: list[dict] | None = None, **extra: object) -> dict:
    return {"stage": "test_20_identity", "test": "t", "key": "item1", "t0": 0.0, "t1": 9.0,
            "device_type": "ESME", "model": "EMU-ESME-1", "boot_s": 0.6, "time_scale": 1.0,
            "optical": optical, "events": events or [], **extra}


def test_bytes_count_at_their_baud_with_the_announced_reaction_before_each_answer() -> None:
    # The identification comes in two pieces (a slow line): one answer, one reaction.
    optical = [_entry(0.0, ">", SIGN_ON), _entry(0.2, "<", IDENT[:2]),
               _entry(0.3, "<", IDENT[2:]), _entry(1.0, ">", b"\x06051\r\n"),
               _entry(1.3, "<", b"\x02" + b"x" * 95 + b"\x03\x00", baud=9600)]
    floor = sf.floor_of_test(_line(optical), sf.DeviceState(), FACTS)
    wire_300 = (len(SIGN_ON) + len(IDENT) + 6) * 10 / 300
    assert floor.parts["optical bytes"] == pytest.approx(wire_300 + 98 * 10 / 9600)
    assert floor.parts["reaction"] == pytest.approx(2 * 0.020)


def test_a_slow_meter_reacts_in_200_ms() -> None:
    optical = [_entry(0.0, ">", SIGN_ON), _entry(0.2, "<", b"/EMH5EMU-ESME-1\r\n")]
    floor = sf.floor_of_test(_line(optical), sf.DeviceState(), FACTS)
    assert floor.parts["reaction"] == pytest.approx(0.200)


def test_a_wake_up_counts_only_when_the_port_was_asleep() -> None:
    nuls = b"\x00" * 66  # 2.2 s at 300 Bd
    state = sf.DeviceState()
    first = _line([_entry(100.0, ">", nuls), _entry(101.6, ">", SIGN_ON)], model="EMU-GSME-1",
                  wakeup={"wakeup_pause_s": 1.6})
    floor = sf.floor_of_test(first, state, FACTS)
    assert floor.parts["wake-up"] == pytest.approx(2.2 + 1.6)
    again = _line([_entry(105.0, ">", nuls), _entry(106.6, ">", SIGN_ON)], model="EMU-GSME-1")
    floor = sf.floor_of_test(again, state, FACTS)  # 3.4 s after its last byte: still awake
    assert floor.parts["wake-up"] == 0 and floor.notes


def test_boot_clock_window_commit_and_power_cycle() -> None:
    events = [{"kind": "power", "state": "on", "t": 0.0, "channel": 1},
              {"kind": "wait", "t": 11.0, "start": 1.0, "seconds": 9.5, "scale": 1.0,
               "where": "test_suites/clock.py:118 (sample_rate)"},
              {"kind": "wait", "t": 15.5, "start": 13.0, "seconds": 2.5, "scale": 1.0,
               "where": "test_suites/test_70_verify.py:29 (_after_reset)"},
              {"kind": "power", "state": "off", "t": 15.6, "channel": 1},
              {"kind": "wait", "t": 15.8, "start": 15.6, "seconds": 0.2, "scale": 1.0,
               "where": "test_suites/test_70_verify.py:31 (_after_reset)"},
              {"kind": "power", "state": "on", "t": 15.9, "channel": 1}]
    state = sf.DeviceState(last_sent=12.0)  # the reset's last byte 1 s before the commit wait
    inside = _entry(5.0, ">", SIGN_ON)  # within the clock window: not counted twice
    floor = sf.floor_of_test(_line([inside], events), state, FACTS)
    assert floor.parts["boot"] == pytest.approx(1.2)
    assert floor.parts["clock window"] == pytest.approx(10.0)
    assert floor.parts["commit"] == pytest.approx(1.5)
    assert floor.parts["power-cycle off"] == pytest.approx(0.2)
    assert floor.parts["optical bytes"] == 0


def test_floors_are_divided_by_the_time_scale() -> None:
    events = [{"kind": "power", "state": "on", "t": 0.0, "channel": 1}]
    optical = [_entry(0.0, ">", SIGN_ON), _entry(0.2, "<", IDENT)]
    floor = sf.floor_of_test(_line(optical, events, time_scale=10.0), sf.DeviceState(), FACTS)
    assert floor.parts["boot"] == pytest.approx(0.06)
    assert floor.parts["optical bytes"] == pytest.approx((5 + len(IDENT)) * 10 / 300 / 10)
    assert floor.parts["reaction"] == pytest.approx(0.002)


def test_the_standby_samples_count_for_the_clause_that_takes_them() -> None:
    """TRI-PWR-02's samples span what the spec says (the shipped spec: 15 samples 0.05 s
    apart, 0.7 s first to last), a test of another clause adds nothing for them, and a fast
    bench divides them by its scale."""
    facts = sf.spec_facts(sf.SHIPPED)
    assert facts.standby_s == pytest.approx(0.70)
    standby = sf.floor_of_test(_line([], clauses=["TRI-PWR-02"]), sf.DeviceState(), facts)
    assert standby.parts["standby samples"] == pytest.approx(0.70)
    fast = sf.floor_of_test(_line([], clauses=["TRI-PWR-02"], time_scale=10.0),
                            sf.DeviceState(), facts)
    assert fast.parts["standby samples"] == pytest.approx(0.070)
    other = sf.floor_of_test(_line([], clauses=["TRI-PWR-01"]), sf.DeviceState(), facts)
    assert other.parts["standby samples"] == 0


def test_the_tables_sum_per_stage_and_type_with_the_gaps_between_tests() -> None:
    lines = [_line([], [{"kind": "power", "state": "on", "t": 0.0, "channel": 1}],
                   stage="test_10_power", t0=0.0, t1=1.0),
             _line([], stage="test_25_standby", t0=1.5, t1=2.0)]
    table = sf.tabulate(lines, FACTS, wall=2.5)
    assert table.measured[("test_10_power", "ESME")] == pytest.approx(1.0)
    assert table.floor[("test_10_power", "ESME")] == pytest.approx(0.6)
    assert table.measured[("(between tests)", "ESME")] == pytest.approx(0.5)
    assert table.devices["ESME"] == 1


def test_the_baud_accurate_copy_makes_every_emulated_probe_baud_accurate(tmp_path: Path
                                                                        ) -> None:
    copy = sf.baud_accurate_copy(sf.SHIPPED, tmp_path)
    instruments = tomllib.loads(copy.read_text())["instruments"]
    probes = {n: i for n, i in instruments.items() if i["kind"] == "optical_probe"}
    assert probes and all(i["options"]["baud_accurate"] is True for i in probes.values())
    original = tomllib.loads(sf.SHIPPED.read_text())["instruments"]
    assert all(i["options"].items() - {("baud_accurate", True)} <=
               original[n]["options"].items() for n, i in probes.items())


def test_the_clock_window_counts_the_phase_a_whole_second_clock_makes_the_sampler_learn(
        ) -> None:
    """reaction / resolution, and what learning where the device's second turns costs at the
    clock read's own cycle (request and answer at 9600 Bd, the reaction between:
    benchmarks/_phase_bound.py); exchanges inside all of it are not counted twice."""
    facts = sf.Facts(window_s=10.0, commit_s={}, wake_window_s={}, resolution_ppm=1000.0)
    request, answer = b"\x01R1\x020.9.0()\x03Z", b"\x020.9.0(2026-12-06T00:24:50Z)\x035"
    events, optical = [], []
    for k in range(3):  # a wait, then a clock read (its answer in two pieces)
        at = 1.0 + k
        events.append({"kind": "wait", "t": at + 0.9, "start": at, "seconds": 0.9, "scale": 1.0,
                       "where": "test_suites/clock.py:205 (_next)"})
        optical += [_entry(at + 0.9, ">", request, 9600), _entry(at + 0.97, "<", answer[:19], 9600),
                    _entry(at + 0.98, "<", answer[19:], 9600)]
    optical.append(_entry(22.0, ">", request, 9600))  # past reaction / resolution, in the phase
    floor = sf.floor_of_test(_line(optical, events), sf.DeviceState(reaction_s=0.02), facts)
    cycle = (len(request) + len(answer)) * 10 / 9600 + 0.02
    assert floor.parts["clock window"] == pytest.approx(20.0)
    assert floor.parts["clock phase"] == pytest.approx(
        window_floor_s(cycle, 0.02, 1000.0) - 20.0)
    assert floor.parts["clock phase"] == 4.0  # 24 whole seconds
    assert floor.parts["optical bytes"] == 0


def test_the_window_starts_no_sooner_than_the_last_read_of_the_old_second_had_landed() -> None:
    """The sampler reads back to back until the second turns, then waits: the change came
    after the read before the last had landed (its send plus its wire time), so the window
    is counted from there, and the last read, inside it, is not counted twice."""
    facts = sf.Facts(window_s=10.0, commit_s={}, wake_window_s={}, resolution_ppm=1000.0)
    request, answer = b"\x01R1\x020.9.0()\x03Z", b"\x020.9.0(2026-12-06T00:24:50Z)\x035"
    optical = [_entry(0.5, ">", request, 9600), _entry(0.56, "<", answer, 9600),
               _entry(0.6, ">", request, 9600), _entry(0.66, "<", answer, 9600)]
    events = [{"kind": "wait", "t": 1.6, "start": 0.7, "seconds": 0.9, "scale": 1.0,
               "where": "test_suites/clock.py:205 (_next)"}]
    line = _line(optical, events)
    landed = 0.5 + len(request) * 10 / 9600
    assert sf._first_change(line, 0.7, 1.0) == pytest.approx(landed)
    floor = sf.floor_of_test(line, sf.DeviceState(reaction_s=0.02), facts)
    # only the first request's bytes went before the window; its answer came inside it
    assert floor.parts["optical bytes"] == pytest.approx(len(request) * 10 / 9600)
    assert sf._first_change(_line(optical[2:], events), 0.7, 1.0) == 0.7  # one read: the wait
