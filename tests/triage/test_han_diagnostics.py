"""HAN diagnostics (channel survey, join test, link quality) on an emulated bench's dongle.

The bench is built by ``EmulatedBench`` from a bench mapping with a zigbee instrument, so
the dongle's radio world is the bench's own devices, powered through the emulated supply.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest

from harness.config.models import BenchConfig
from harness.drivers.silence import Silence
from harness.drivers.zigbee.telegesis import TelegesisDongle
from harness.emulator.bench import EmulatedBench
from harness.emulator.world.models import create_device
from harness.errors import BenchConfigError
from harness.triage import han
from harness.triage.han import JoinDiagnosis, channel_survey, join_test, link_quality


def config(esme_faults: list[str], backend: str = "telegesis") -> BenchConfig:
    meter: dict[str, Any] = {"device_type": "ESME", "instruments": {"power": "psu:1",
                                                                      "han": "dongle"},
                             "emulation": {"seed": 1, "faults": esme_faults}}
    return BenchConfig.model_validate({
        "bench": {"name": "han"},
        "instruments": {
            "psu": {"kind": "power", "backend": "scpi", "emulated": True,
                    "options": {"channels": 3}},
            "dongle": {"kind": "zigbee", "backend": backend, "emulated": True,
                       "options": {"seed": 7, "join_delay_s": 0.1}},
        },
        "slots": {"esme": meter,
                  "gsme": {"device_type": "GSME", "supply_voltage": 3.6,
                           "instruments": {"power": "psu:2", "han": "dongle"},
                           "emulation": {"seed": 2}},
                  "ch": {"device_type": "CHF", "instruments": {"power": "psu:3"},
                         "emulation": {"seed": 3}}},
    })


def open_bench(faults: list[str]) -> tuple[EmulatedBench, TelegesisDongle]:
    bench = EmulatedBench(config(faults)).start()
    bench.power_slots()
    deadline = time.monotonic() + 5
    while not all(d.ready for d in bench.devices.values()) and time.monotonic() < deadline:
        time.sleep(0.02)
    inst = bench.config.instruments["dongle"]
    return bench, TelegesisDongle("dongle", inst, bench.addresses["dongle"]).open()


@contextlib.contextmanager
def opened(faults: list[str]) -> Iterator[tuple[EmulatedBench, TelegesisDongle]]:
    """A bench whose ESME has ``faults``, and its dongle, closed and stopped after."""
    bench, dongle = open_bench(faults)
    try:
        yield bench, dongle
    finally:
        dongle.close()
        bench.stop()


@pytest.fixture
def healthy() -> Iterator[tuple[EmulatedBench, TelegesisDongle]]:
    with opened([]) as both:
        yield both


def test_the_emulated_bench_serves_a_telegesis_dongle() -> None:
    bench = EmulatedBench(config([]))
    assert bench.start().addresses["dongle"].startswith("socket://127.0.0.1:")
    bench.stop()
    with pytest.raises(BenchConfigError, match=r"no emulated twin .* backend 'znp'") as info:
        EmulatedBench(config([], backend="znp")).start()
    assert info.value.key_path == "instruments.dongle.backend"


def test_channel_survey(healthy: tuple[EmulatedBench, TelegesisDongle]) -> None:
    bench, dongle = healthy
    survey = channel_survey(dongle)
    hub = bench.devices["ch"]
    assert hub.channel in survey.busy(-80)  # type: ignore[attr-defined]
    assert survey.quietest() not in survey.busy(-90)
    assert [n.extended_pan_id for n in survey.networks] == [hub.eui64]


def test_a_healthy_esme_joins_with_its_label_install_code(
        healthy: tuple[EmulatedBench, TelegesisDongle]) -> None:
    bench, dongle = healthy
    esme = bench.devices["esme"]
    result = join_test(dongle, esme.label.eui64_duis, esme.label.install_code, timeout=5)
    assert result.joined and result.diagnosis is JoinDiagnosis.JOINED
    assert result.lqi is not None and result.lqi > 100
    assert result.unjoined and not esme.han_status().joined
    assert result.channel == channel_survey(dongle, pan_scan=False).quietest()
    assert dongle.network_info() is None  # the test network is gone
    code = esme.label.install_code
    for secret in (code.reveal(), code.reveal(with_crc=False), code.link_key().hex()):
        assert secret not in repr(result)


def test_the_install_code_text_from_a_label_scan_works(
        healthy: tuple[EmulatedBench, TelegesisDongle]) -> None:
    bench, dongle = healthy
    gsme = bench.devices["gsme"]
    scanned = "-".join(gsme.label.install_code.reveal()[i:i + 4] for i in range(0, 36, 4))
    result = join_test(dongle, gsme.label.eui64, scanned, timeout=5, channel=25, unjoin=False)
    assert result.joined and result.channel == 25 and not result.unjoined
    assert gsme.han_status().joined  # left joined (to a network that is gone)


def test_a_device_swapped_in_is_the_one_on_the_air(
        healthy: tuple[EmulatedBench, TelegesisDongle]) -> None:
    bench, dongle = healthy
    other = create_device("esme", bench.devices["esme"].device_type, seed=99,
                          clock=bench.clock)
    bench.present("esme", other)
    bench.power_slots()
    time.sleep(0.5)
    result = join_test(dongle, other.label.eui64, other.label.install_code, timeout=5)
    assert result.joined


@pytest.mark.parametrize(("fault", "diagnosis"), [
    ("han_join_fails", JoinDiagnosis.WRONG_KEY),
    ("wrong_install_code_label", JoinDiagnosis.WRONG_KEY),
    ("han_radio_dead", JoinDiagnosis.NO_RADIO_ACTIVITY),
    ("label_mismatch", JoinDiagnosis.OTHER_EUI64),
])
def test_faulted_meters_fail_with_the_right_diagnosis(fault: str,
                                                      diagnosis: JoinDiagnosis) -> None:
    with opened([fault]) as (bench, dongle):
        esme = bench.devices["esme"]
        result = join_test(dongle, esme.label.eui64, esme.label.install_code, timeout=1.5)
        assert (result.diagnosis, result.lqi) == (diagnosis, None), result.detail
        assert not result.joined and not esme.han_status().joined
        if fault == "label_mismatch":
            assert result.other_nodes == (esme.eui64,)  # it joined as itself, and was removed


def test_an_unpowered_meter_shows_no_radio_activity(
        healthy: tuple[EmulatedBench, TelegesisDongle]) -> None:
    bench, dongle = healthy
    esme = bench.devices["esme"]
    esme.supply(0.0)
    result = join_test(dongle, esme.label.eui64, esme.label.install_code, timeout=1.0)
    assert result.diagnosis is JoinDiagnosis.NO_RADIO_ACTIVITY


def test_link_quality_of_an_absent_node_is_none(
        healthy: tuple[EmulatedBench, TelegesisDongle]) -> None:
    _, dongle = healthy
    dongle.form_network(11)
    assert link_quality(dongle, "00DB000000000001") is None


def test_join_test_timeout_is_bounded(healthy: tuple[EmulatedBench, TelegesisDongle]) -> None:
    _, dongle = healthy
    with pytest.raises(ValueError, match="timeout"):
        join_test(dongle, "00DB000000000001", "83FED3407A939723A5C639B26916D505C3B5",
                  timeout=300)


class _FreeHost(Silence):
    """A host whose tasks never waited for a CPU and whose process did nothing else."""

    def __init__(self, device_s: float, floor_s: float) -> None:
        super().__init__(device_s, floor_s, stall_clock=lambda: 0.0, busy_clock=lambda: 0.0)


class _BusyHost(Silence):
    """A host whose tasks waited for a CPU a fifth of the time: no silence judged early."""

    def __init__(self, device_s: float, floor_s: float) -> None:
        super().__init__(device_s, floor_s, stall_clock=lambda: time.monotonic() / 5,
                         busy_clock=lambda: 0.0)


@pytest.mark.parametrize(("host", "low", "high"), [(_FreeHost, 0.0, 1.0), (_BusyHost, 2.0, 5.0)])
def test_a_dead_radio_costs_the_scaled_timeout_on_a_free_host_and_the_floor_on_a_busy_one(
        monkeypatch: pytest.MonkeyPatch, host: type[Silence], low: float, high: float) -> None:
    """A fast bench's join wait (``floor_s``) is a silence as an optical port's: judged the
    device's at the scaled timeout when the host was free, heard out to the wall-clock floor
    when it was not (a loaded CI machine must not make a slow join a HAN fault)."""
    monkeypatch.setattr(han, "Silence", host)
    with opened(["han_radio_dead"]) as (bench, dongle):
        esme = bench.devices["esme"]
        result = join_test(dongle, esme.label.eui64, esme.label.install_code, timeout=0.2,
                           floor_s=2.0)
        assert result.diagnosis is JoinDiagnosis.NO_RADIO_ACTIVITY
        assert low <= result.elapsed_s < high, result.elapsed_s


def test_a_healthy_meter_joins_at_once_with_a_floor(
        healthy: tuple[EmulatedBench, TelegesisDongle]) -> None:
    """The floor is never waited out by a device that joins: its join ends the wait."""
    bench, dongle = healthy
    esme = bench.devices["esme"]
    result = join_test(dongle, esme.label.eui64, esme.label.install_code, timeout=5.0,
                       floor_s=30.0)
    assert result.joined and result.elapsed_s < 5.0, result.detail


def test_a_join_floor_is_bounded_by_the_longest_permit(
        healthy: tuple[EmulatedBench, TelegesisDongle]) -> None:
    """A busy host may hear a silence out to three times the floor: the permit to join must
    cover that, so a floor past a third of the longest permit is refused."""
    _, dongle = healthy
    with pytest.raises(ValueError, match="floor"):
        join_test(dongle, "00DB000000000001", "83FED3407A939723A5C639B26916D505C3B5",
                  timeout=1.0, floor_s=100.0)
