"""The Telegesis dongle driver against the emulated dongle and radio world, on the wire."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from harness.config.models import InstrumentConfig
from harness.config.secrets import resolve_references
from harness.domain.types import DeviceType
from harness.drivers.zigbee import (
    DongleEvent,
    JoinFailed,
    NetworkDown,
    NetworkUp,
    NodeJoined,
    NodeLeft,
)
from harness.drivers.zigbee.telegesis import TelegesisCommandError, TelegesisDongle
from harness.emulator.world.device import EmulatedDevice
from harness.emulator.world.models import create_device
from harness.emulator.zigbee import RadioWorld, TelegesisDongleServer, TelegesisEngine
from harness.errors import BenchConfigError, InstrumentTimeoutError

DONGLE_EUI = "000D6F0000ABCDEF"


def powered(**slots: tuple[DeviceType, int, tuple[str, ...]]) -> dict[str, EmulatedDevice]:
    """Devices by slot, supplied and booted (on the real clock the server also uses)."""
    devices = {name: create_device(name, kind, seed=seed, faults=faults)
               for name, (kind, seed, faults) in slots.items()}
    for device in devices.values():
        device.supply(device.nominal_voltage)
    deadline = time.monotonic() + 5
    while not all(d.ready for d in devices.values()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return devices


def serve(devices: dict[str, EmulatedDevice], seed: int = 0) -> TelegesisDongleServer:
    server = TelegesisDongleServer(TelegesisEngine(RadioWorld(devices, seed=seed), DONGLE_EUI,
                                                   join_delay_s=0.1))
    server.start()
    return server


def dongle(address: str, **options: object) -> TelegesisDongle:
    config = InstrumentConfig(kind="zigbee", backend="telegesis", address=address,
                              timeout_s=1.0, options=options)
    # As the bench does: the secret references resolved, the values handed to the driver.
    secrets = resolve_references(options, key_path="instruments.dongle.options")
    return TelegesisDongle("dongle", config, secrets=secrets)


@pytest.fixture
def bench() -> Iterator[tuple[dict[str, EmulatedDevice], TelegesisDongleServer]]:
    devices = powered(esme=(DeviceType.ESME, 1, ()), gsme=(DeviceType.GSME, 2, ()),
                      ch=(DeviceType.CHF, 3, ()))
    server = serve(devices)
    yield devices, server
    server.stop()


def joined(eui: str) -> object:
    return lambda e: isinstance(e, NodeJoined) and e.eui64 == eui


def test_identify_and_identity(bench: tuple[dict, TelegesisDongleServer]) -> None:
    _, server = bench
    with dongle(server.resource) as d:
        assert d.identify() == f"Telegesis ETRX357 R309C {DONGLE_EUI}"
        assert d.identity().eui64 == DONGLE_EUI


def test_energy_scan_shows_noise_wifi_and_the_hub(bench: tuple[dict, TelegesisDongleServer]
                                                  ) -> None:
    devices, server = bench
    world = server.engine.world
    with dongle(server.resource) as d:
        energy = d.energy_scan()
        assert sorted(energy) == list(range(11, 27))
        assert all(-100 <= dbm <= -30 for dbm in energy.values())
        hub_channel = devices["ch"].channel  # type: ignore[attr-defined]
        quiet = [ch for ch in range(11, 27) if world.noise_dbm[ch] < -90]
        assert energy[hub_channel] > max(energy[ch] for ch in quiet if ch != hub_channel)
        pans = d.pan_scan()
    assert [(p.channel, p.extended_pan_id) for p in pans] == [(hub_channel,
                                                               devices["ch"].eui64)]
    assert pans[0].lqi is not None and pans[0].lqi > 100


def test_a_hub_with_a_dead_radio_is_not_on_the_air() -> None:
    devices = powered(ch=(DeviceType.CHF, 3, ("han_radio_dead",)))
    server = serve(devices)
    try:
        with dongle(server.resource) as d:
            energy = d.energy_scan()
            assert d.pan_scan() == []
        world = server.engine.world
        assert energy == {ch: round(world.noise_dbm[ch]) for ch in range(11, 27)}
    finally:
        server.stop()


def test_form_network_then_info_then_leave(bench: tuple[dict, TelegesisDongleServer]) -> None:
    _, server = bench
    seen: list[DongleEvent] = []
    with dongle(server.resource) as d:
        d.add_listener(seen.append)
        assert d.network_info() is None
        info = d.form_network(15, pan_id=0x1A2B, extended_pan_id="00-11-22-33-44-55-66-77")
        assert (info.channel, info.pan_id, info.extended_pan_id, info.role) == (
            15, 0x1A2B, "0011223344556677", "COO")
        assert d.network_info() == info
        again = d.form_network(20)  # leaves the first network, forms another
        assert again.channel == 20 and again.pan_id != 0x1A2B
        assert d.leave_network() is True
        assert d.leave_network() is False
    assert [type(e) for e in seen] == [NetworkUp, NetworkDown, NetworkUp, NetworkDown]


def test_esme_joins_with_its_label_install_code_and_has_an_lqi(
        bench: tuple[dict, TelegesisDongleServer]) -> None:
    devices, server = bench
    esme, gsme = devices["esme"], devices["gsme"]
    with dongle(server.resource) as d:
        d.form_network(25)
        mark = d.mark()
        d.add_install_code(esme.label.eui64, esme.label.install_code)
        d.permit_join(30)
        event = d.wait_for(joined(esme.eui64), 3, since=mark)
        # The GSME waits with its own install code: it tries the window too, and fails.
        failed = d.wait_for(lambda e: isinstance(e, JoinFailed), 3, since=mark)
        assert failed.eui64 == gsme.eui64
        (entry,) = d.neighbours()
        assert (entry.eui64, entry.node_id, entry.device_type) == (esme.eui64, event.node_id,
                                                                   "FFD")
        world = server.engine.world
        assert entry.lqi == world.lqi(world.signal_dbm("esme", esme), 25) > 150
        status = esme.han_status()
        assert status.joined and (status.channel, status.coordinator) == (25, DONGLE_EUI)
        mark = d.mark()
        d.remove_node(esme.eui64)
        left = d.wait_for(NodeLeft, 2, since=mark)
        assert (left.eui64, left.node_id) == (esme.eui64, event.node_id)
        assert d.neighbours() == []
    assert not esme.han_status().joined


def test_a_weak_link_shows_a_low_lqi_and_a_lost_one_is_not_heard(
        bench: tuple[dict, TelegesisDongleServer]) -> None:
    devices, server = bench
    esme = devices["esme"]
    world = server.engine.world
    with dongle(server.resource) as d:
        d.form_network(26)
        d.add_install_code(esme.label.eui64, esme.label.install_code)
        world.set_signal("esme", world.noise_dbm[26] + 1.0)  # below the decoding margin
        mark = d.mark()
        d.permit_join(30)
        with pytest.raises(InstrumentTimeoutError):
            d.wait_for(joined(esme.eui64), 0.6, since=mark)
        world.set_signal("esme", world.noise_dbm[26] + 8.0)
        d.permit_join(30)  # a new window: the meter tries again, now just heard
        d.wait_for(joined(esme.eui64), 3, since=mark)
        (entry,) = d.neighbours()
        assert entry.lqi < 60


def test_no_install_code_or_link_key_in_transcript_or_log(
        bench: tuple[dict, TelegesisDongleServer], caplog: pytest.LogCaptureFixture) -> None:
    devices, server = bench
    esme = devices["esme"]
    code = esme.label.install_code
    secrets = [code.reveal(), code.reveal(with_crc=False), code.link_key().hex()]
    caplog.set_level(logging.DEBUG)
    with dongle(server.resource) as d:
        d.form_network(11)
        d.add_install_code(esme.label.eui64, code)
        d.permit_join(30)
        d.wait_for(joined(esme.eui64), 3)
        text = d.transcript.render()
    assert "ATS09=****:****" in text  # sent, and its echo received, both masked
    assert text.count("41 54 53 30 39 3d 2a 2a 2a 2a 3a 2a 2a 2a 2a") == 2
    assert "ATS0A=0110:****" in text  # S0A bit 8 set with the password
    for secret in [*secrets, "password"]:
        for shown in (text, caplog.text):
            assert secret not in shown
            assert secret.encode().hex(" ") not in shown


def test_wrong_password_is_a_clear_error_naming_no_secret(
        bench: tuple[dict, TelegesisDongleServer], monkeypatch: pytest.MonkeyPatch) -> None:
    devices, server = bench
    esme = devices["esme"]
    monkeypatch.setenv("MB_TEST_DONGLE_PASSWORD", "not-the-password")
    with (dongle(server.resource, password_secret="env:MB_TEST_DONGLE_PASSWORD") as d,
          pytest.raises(TelegesisCommandError) as info):
        d.add_install_code(esme.label.eui64, esme.label.install_code)
    assert info.value.context["code"] == 0x20
    assert str(info.value) == "ATS09=****:****: ERROR:20 (Invalid password)"


def test_a_literal_password_in_the_bench_is_refused(bench: tuple[dict, TelegesisDongleServer]
                                                    ) -> None:
    devices, server = bench
    esme = devices["esme"]
    with dongle(server.resource, password="password") as d, pytest.raises(
            BenchConfigError, match="password_secret"):
        d.add_install_code(esme.label.eui64, esme.label.install_code)


def test_command_errors_map_to_telegesis_errors(bench: tuple[dict, TelegesisDongleServer]
                                                ) -> None:
    _, server = bench
    with dongle(server.resource) as d:
        with pytest.raises(TelegesisCommandError, match=r"ERROR:93 \(Node is not part of"):
            d.permit_join(10)  # no network yet
        with pytest.raises(TelegesisCommandError, match="Unknown command"):
            d._command(b"AT+NOPE\r")


def test_safe_state_stops_joins_and_leaves_on_close(bench: tuple[dict, TelegesisDongleServer]
                                                    ) -> None:
    _, server = bench
    d = dongle(server.resource).open()
    d.form_network(18)
    d.permit_join(60)
    assert server.engine.permit_until > time.monotonic()
    d.close()
    assert server.engine.network is None and server.engine.permit_until == 0.0
    d.close()  # idempotent


def test_safe_state_can_keep_the_network(bench: tuple[dict, TelegesisDongleServer]) -> None:
    _, server = bench
    config = InstrumentConfig(kind="zigbee", backend="telegesis", address=server.resource,
                              safe_state={"leave": False})
    with TelegesisDongle("dongle", config) as d:
        d.form_network(18)
        d.permit_join(60)
    assert server.engine.network is not None and server.engine.permit_until == 0.0


def test_wait_for_times_out(bench: tuple[dict, TelegesisDongleServer]) -> None:
    _, server = bench
    with dongle(server.resource) as d, pytest.raises(InstrumentTimeoutError,
                                                     match=r"no NodeJoined within 0\.2 s"):
        d.wait_for(NodeJoined, 0.2)
